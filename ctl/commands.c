/*
 * The control protocol's commands and their one table (see ctl/commands.h).
 * The arguments are checked here; listings come as JSON from the modules
 * that own the data (store, registrar, b2bua).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua/b2bua.h"
#include "ctl/commands.h"

#include "ctl/cmd_ha.h"
#include "ctl/cmd_tls.h"
#include "daemon/app.h"
#include "daemon/log.h"
#include "daemon/text.h"
#include "registrar/registrar.h"
#include "store/store.h"

#define LOG_TAG "ctl"

/* ---- arguments ---- */

/* A string argument; NULL when absent. *bad is set when present but not a string. */
static char const *arg_str(json_t *args, char const *key, bool *bad)
{
	json_t *v = json_object_get(args, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

/* Describes the request for the log: its string arguments, quoted, never a password. */
void ctl_describe(char *buf, size_t len, char const *cmd, json_t *args)
{
	char const *key;
	json_t *v;
	size_t n = (size_t)snprintf(buf, len, "%s", cmd);
	json_object_foreach (args, key, v) {
		if (n >= len)
			break;
		if (strcmp(key, "password") == 0 || strcmp(key, "token") == 0)
			continue; /* secrets: a password, a join token */
		/* Keys and values quoted: a request cannot write a log line of its own. */
		if (json_is_string(v))
			n += (size_t)snprintf(buf + n, len - n, " %s=%s", LOGQ(key),
					      LOGQ(json_string_value(v)));
		else if (json_is_integer(v))
			n += (size_t)snprintf(buf + n, len - n, " %s=%lld", LOGQ(key),
					      (long long)json_integer_value(v));
	}
}

/* ---- commands run on the store thread ---- */

#define REQUIRE(var, key)                                                                          \
	bool bad_##var = false;                                                                    \
	char const *var = arg_str(j->args, key, &bad_##var);                                       \
	if (!var || bad_##var) {                                                                   \
		snprintf(j->err.msg, sizeof(j->err.msg), "argument '%s' (a string) is required",   \
			 key);                                                                     \
		return j->err.code = -EINVAL;                                                      \
	}

#define OPTIONAL(var, key)                                                                         \
	bool bad_##var = false;                                                                    \
	char const *var = arg_str(j->args, key, &bad_##var);                                       \
	if (bad_##var) {                                                                           \
		snprintf(j->err.msg, sizeof(j->err.msg), "argument '%s' must be a string", key);   \
		return j->err.code = -EINVAL;                                                      \
	}

/* An optional integer argument within [lo, hi]; def when absent. */
static int arg_int(struct ctl_job *j, char const *key, long long lo, long long hi, long long def,
		   long long *out)
{
	json_t *v = json_object_get(j->args, key);
	*out = def;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(j->err.msg, sizeof(j->err.msg),
			 "argument '%s' must be a whole number from %lld to %lld", key, lo, hi);
		return j->err.code = -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

/*
 * The password policy, unless the request says "weak": true (a lab may
 * want short passwords; the log says so).
 */
static int password_allowed(store_t *s, struct ctl_job *j, char const *name, char const *password)
{
	int err = store_password_policy(s, name, password, &j->err);
	if (err < 0 && json_is_true(json_object_get(j->args, "weak"))) {
		log_warning("user %s: a weak password accepted as asked (%s)", name, j->err.msg);
		memset(&j->err, 0, sizeof(j->err));
		err = 0;
	}
	return err;
}

static int cmd_user_add(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	REQUIRE(password, "password");
	int err = password_allowed(s, j, name, password);
	return err < 0 ? err : store_user_add(s, name, password, &j->err);
}

static int cmd_user_passwd(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	REQUIRE(password, "password");
	int err = password_allowed(s, j, name, password);
	return err < 0 ? err : store_user_passwd(s, name, password, &j->err);
}

static int cmd_user_del(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	return store_user_del(s, name, &j->err);
}

static int cmd_user_list(store_t *s, struct ctl_job *j)
{
	return store_user_list(s, &j->data, &j->err);
}

static int cmd_device_add(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	REQUIRE(model, "model");
	REQUIRE(user, "digest_user");
	OPTIONAL(auth, "auth");
	OPTIONAL(algs, "digest_algs");
	OPTIONAL(qop, "qop");
	OPTIONAL(transport, "transport");
	struct store_device_spec spec = { name, model, user, auth, algs, qop, transport };
	int err = store_device_add(s, &spec, &j->err);
	if (err == 0) {
		char canon[STORE_NAME_MAX + 1];
		store_device_name_canon(canon, sizeof(canon), name);
		j->data = json_pack("{s:s}", "name", canon);
	}
	return err;
}

static int cmd_device_set(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	OPTIONAL(model, "model");
	OPTIONAL(user, "digest_user");
	OPTIONAL(auth, "auth");
	OPTIONAL(algs, "digest_algs");
	OPTIONAL(qop, "qop");
	OPTIONAL(transport, "transport");
	struct store_device_spec spec = { name, model, user, auth, algs, qop, transport };
	return store_device_set(s, &spec, &j->err);
}

static int cmd_device_del(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	return store_device_del(s, name, &j->err);
}

static int cmd_device_list(store_t *s, struct ctl_job *j)
{
	return store_device_list(s, &j->data, &j->err);
}

static int cmd_device_show(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	return store_device_show(s, name, &j->data, &j->err);
}

static int cmd_device_models(store_t *s, struct ctl_job *j)
{
	return store_model_list(s, &j->data, &j->err);
}

static int cmd_line_add(store_t *s, struct ctl_job *j)
{
	REQUIRE(device, "device");
	REQUIRE(dn, "dn");
	OPTIONAL(display, "display");
	OPTIONAL(label, "label");
	long long idx;
	if (arg_int(j, "index", 1, 64, 0, &idx) < 0)
		return j->err.code;
	struct store_line_spec spec = { device, dn, (unsigned)idx, display, label };
	unsigned got = 0;
	int err = store_line_add(s, &spec, &got, &j->err);
	if (err == 0)
		j->data = json_pack("{s:s, s:i}", "dn", dn, "index", (int)got);
	return err;
}

static int cmd_line_del(store_t *s, struct ctl_job *j)
{
	REQUIRE(dn, "dn");
	return store_line_del(s, dn, &j->err);
}

static int cmd_line_list(store_t *s, struct ctl_job *j)
{
	return store_line_list(s, &j->data, &j->err);
}

static int cmd_line_show(store_t *s, struct ctl_job *j)
{
	REQUIRE(dn, "dn");
	return store_line_show(s, dn, &j->data, &j->err);
}

static int cmd_line_set(store_t *s, struct ctl_job *j)
{
	REQUIRE(dn, "dn");
	OPTIONAL(dnd, "dnd");
	OPTIONAL(all, "cfwd_all");
	OPTIONAL(busy, "cfwd_busy");
	OPTIONAL(noanswer, "cfwd_noanswer");
	long long timeout;
	if (arg_int(j, "noanswer_timeout", 0, 600, -1, &timeout) < 0)
		return j->err.code;
	if (dnd && strcmp(dnd, "on") && strcmp(dnd, "off")) {
		snprintf(j->err.msg, sizeof(j->err.msg), "argument 'dnd' is on or off");
		return j->err.code = -EINVAL;
	}
	struct store_line_features f = {
		.dn = dn,
		.dnd = dnd ? !strcmp(dnd, "on") : -1,
		.cfwd_all = all,
		.cfwd_busy = busy,
		.cfwd_noanswer = noanswer,
		.noanswer_timeout = (int)timeout,
	};
	int err = store_line_set(s, &f, &j->err);
	if (err == 0)
		err = store_line_show(s, dn, &j->data, &j->err);
	return err;
}

static int cmd_cdr_list(store_t *s, struct ctl_job *j)
{
	long long since, limit;
	if (arg_int(j, "since", 0, 1LL << 40, 0, &since) < 0 ||
	    arg_int(j, "limit", 0, 1000000, 0, &limit) < 0)
		return j->err.code;
	return store_cdr_list(s, since, (unsigned)limit, &j->data, &j->err);
}

/* An optional yes|no argument: 1, 0, or def when absent; -1 (error set) when neither. */
static int arg_yesno(struct ctl_job *j, char const *key, int def, int *out)
{
	OPTIONAL(v, key);
	*out = def;
	if (!v)
		return 0;
	if (strcmp(v, "yes") && strcmp(v, "no")) {
		snprintf(j->err.msg, sizeof(j->err.msg), "argument '%s' is yes or no", key);
		return j->err.code = -EINVAL;
	}
	*out = !strcmp(v, "yes");
	return 0;
}

static int trunk_cmd(store_t *s, struct ctl_job *j, bool add)
{
	REQUIRE(name, "name");
	OPTIONAL(registrar, "registrar");
	if (add && !registrar) {
		snprintf(j->err.msg, sizeof(j->err.msg),
			 "argument 'registrar' (a string) is required");
		return j->err.code = -EINVAL;
	}
	OPTIONAL(proxy, "proxy");
	OPTIONAL(user, "user");
	OPTIONAL(auth_user, "auth_user");
	OPTIONAL(password, "password");
	OPTIONAL(realm, "realm");
	OPTIONAL(transport, "transport");
	OPTIONAL(caller_id, "caller_id");
	OPTIONAL(default_dn, "default_dn");
	long long expires;
	int reg, emergency;
	if (arg_int(j, "expires", 60, 86400, 0, &expires) < 0 ||
	    arg_yesno(j, "register", -1, &reg) < 0 ||
	    arg_yesno(j, "emergency", add ? 0 : -1, &emergency) < 0)
		return j->err.code;
	json_t *dids = json_object_get(j->args, "dids");
	char const *list[64];
	size_t n = 0;
	if (dids && !json_is_null(dids)) {
		size_t i;
		json_t *v;
		if (!json_is_array(dids) || json_array_size(dids) > 64) {
			snprintf(j->err.msg, sizeof(j->err.msg),
				 "argument 'dids' is a list of at most 64 strings");
			return j->err.code = -EINVAL;
		}
		json_array_foreach (dids, i, v) {
			if (!json_is_string(v)) {
				snprintf(j->err.msg, sizeof(j->err.msg),
					 "argument 'dids' is a list of strings");
				return j->err.code = -EINVAL;
			}
			list[n++] = json_string_value(v);
		}
	}
	struct store_trunk_spec t = {
		.name = name,
		.registrar = registrar,
		.proxy = proxy,
		.user = user,
		.auth_user = auth_user,
		.password = password,
		.realm = realm,
		.transport = transport,
		.caller_id = caller_id,
		.default_dn = default_dn,
		.expires = expires,
		.do_register = reg,
		.emergency = emergency,
		.dids = list,
		.n_dids = n,
	};
	if (add)
		return store_trunk_add(s, &t, &j->err);
	return store_trunk_set(s, &t, dids && !json_is_null(dids), &j->err);
}

static int cmd_trunk_add(store_t *s, struct ctl_job *j)
{
	return trunk_cmd(s, j, true);
}

static int cmd_trunk_set(store_t *s, struct ctl_job *j)
{
	return trunk_cmd(s, j, false);
}

static int cmd_trunk_del(store_t *s, struct ctl_job *j)
{
	REQUIRE(name, "name");
	return store_trunk_del(s, name, &j->err);
}

static int cmd_route_add(store_t *s, struct ctl_job *j)
{
	REQUIRE(pattern, "pattern");
	OPTIONAL(trunk, "trunk");
	OPTIONAL(prepend, "prepend");
	long long strip, priority;
	int block, allow;
	if (arg_int(j, "strip", 0, 32, 0, &strip) < 0 ||
	    arg_int(j, "priority", 0, 1000000, 100, &priority) < 0 ||
	    arg_yesno(j, "block", 0, &block) < 0 || arg_yesno(j, "allow_restricted", 0, &allow) < 0)
		return j->err.code;
	if (!trunk == !block) {
		snprintf(j->err.msg, sizeof(j->err.msg),
			 "a route names a trunk or blocks, one of the two");
		return j->err.code = -EINVAL;
	}
	struct store_route_spec r = { pattern, trunk,	      (unsigned)strip,
				      prepend, (int)priority, allow != 0 };
	long long id = 0;
	int err = store_route_add(s, &r, &id, &j->err);
	if (err == 0)
		j->data = json_pack("{s:I}", "id", (json_int_t)id);
	return err;
}

static int cmd_route_del(store_t *s, struct ctl_job *j)
{
	long long id;
	if (arg_int(j, "id", 1, 1LL << 62, 0, &id) < 0)
		return j->err.code;
	if (!id) {
		snprintf(j->err.msg, sizeof(j->err.msg), "argument 'id' (a number) is required");
		return j->err.code = -EINVAL;
	}
	return store_route_del(s, id, &j->err);
}

static int cmd_status(store_t *s, struct ctl_job *j)
{
	return store_counts(s, &j->data, &j->err);
}

/* ---- commands run on the SIP thread ---- */

static void sip_reg_list(struct ctl_job *j, sip_thread_t *t)
{
	registrar_t *r = app_registrar(t);
	j->data = registrar_list(r, NULL);
}

static void sip_reg_show(struct ctl_job *j, sip_thread_t *t)
{
	registrar_t *r = app_registrar(t);
	char const *name = json_string_value(json_object_get(j->args, "device"));
	char canon[STORE_NAME_MAX + 1];
	store_device_name_canon(canon, sizeof(canon), name);
	j->data = registrar_list(r, canon);
}

static void sip_reg_flush(struct ctl_job *j, sip_thread_t *t)
{
	registrar_t *r = app_registrar(t);
	char const *what = json_string_value(json_object_get(j->args, "what"));
	char canon[STORE_NAME_MAX + 1];
	size_t n = 0;
	store_device_name_canon(canon, sizeof(canon), what);
	if (registrar_flush(r, canon, &n) < 0 && registrar_flush(r, what, &n) < 0) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "no device or DN %s", what);
		return;
	}
	j->data = json_pack("{s:I}", "removed", (json_int_t)n);
}

static void sip_ban_list(struct ctl_job *j, sip_thread_t *t)
{
	registrar_t *r = app_registrar(t);
	j->data = registrar_bans(r);
}

static void sip_ban_del(struct ctl_job *j, sip_thread_t *t)
{
	registrar_t *r = app_registrar(t);
	char const *addr = json_string_value(json_object_get(j->args, "address"));
	if (!registrar_unban(r, addr)) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "%s is not banned", addr);
	}
}

static void sip_call_list(struct ctl_job *j, sip_thread_t *t)
{
	j->data = b2bua_list(app_b2bua(t));
}

static void sip_call_hangup(struct ctl_job *j, sip_thread_t *t)
{
	/* A call id (NODE-RUN-N), or N alone for a call of this run. */
	json_t *id = json_object_get(j->args, "id");
	char buf[64];
	if (json_is_integer(id))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(id));
	else
		snprintf(buf, sizeof(buf), "%s", json_is_string(id) ? json_string_value(id) : "");
	if (!buf[0] || b2bua_hangup(app_b2bua(t), buf) < 0) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "no call %s", buf[0] ? buf : "(no id)");
	}
}

static void sip_trunk_list(struct ctl_job *j, sip_thread_t *t)
{
	j->data = b2bua_trunks(app_b2bua(t), NULL);
}

static void sip_trunk_show(struct ctl_job *j, sip_thread_t *t)
{
	char const *name = json_string_value(json_object_get(j->args, "name"));
	j->data = b2bua_trunks(app_b2bua(t), name);
	if (!j->data) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "no trunk %s", name);
	}
}

static void sip_route_list(struct ctl_job *j, sip_thread_t *t)
{
	j->data = b2bua_routes(app_b2bua(t));
}

/* ---- commands run on the main thread ---- */

int ctl_job_fail(struct ctl_job *j, int code, char const *msg)
{
	j->err.code = code;
	text_copy(j->err.msg, sizeof(j->err.msg), msg);
	return code;
}

static int local_config(struct ctl_job *j, struct ctl_handlers const *h)
{
	j->data = h->config ? h->config(h->arg) : json_object();
	return 0;
}

static int local_log_level(struct ctl_job *j, struct ctl_handlers const *h)
{
	bool bad = false;
	char const *level = arg_str(j->args, "level", &bad);
	enum log_level l;
	if (!level || log_level_parse(&l, level) < 0)
		return ctl_job_fail(j, -EINVAL, "level must be one of error, warning, notice, info, debug");
	if (h->set_log_level)
		h->set_log_level(h->arg, l);
	log_notice("log level set to %s", log_level_name(l));
	j->data = json_pack("{s:s}", "level", log_level_name(l));
	return 0;
}

static int local_trace(struct ctl_job *j, struct ctl_handlers const *h)
{
	json_t *on = json_object_get(j->args, "on");
	if (!json_is_boolean(on))
		return ctl_job_fail(j, -EINVAL, "argument 'on' (true or false) is required");
	if (!h->set_trace || h->set_trace(h->arg, json_is_true(on)) < 0)
		return ctl_job_fail(j, -EIO, "the SIP thread did not take the command");
	j->data = json_pack("{s:b}", "trace", json_is_true(on));
	return 0;
}

/* ---- the table ---- */

#define MAIN(name, fn)                                                                             \
	{                                                                                          \
		name, THREAD_MAIN, fn, NULL, NULL, NULL, false, false                              \
	}
#define STORE(name, fn, changes)                                                                   \
	{                                                                                          \
		name, THREAD_STORE, NULL, fn, NULL, NULL, changes, false                           \
	}
#define SIP(name, fn, req, changes)                                                                \
	{                                                                                          \
		name, THREAD_SIP, NULL, NULL, fn, req, changes, false                              \
	}

static struct ctl_command const commands[] = {
	MAIN("config", local_config),
	MAIN("log.level", local_log_level),
	MAIN("trace", local_trace),
	MAIN("tls.init", ctl_tls_init),
	MAIN("tls.renew", ctl_tls_renew),
	MAIN("tls.show", ctl_tls_show),
	MAIN("tls.itl", ctl_tls_itl),
	MAIN("trunk.test", ctl_trunk_test),
	MAIN("ha.status", ctl_ha_status),
	MAIN("ha.invite", ctl_ha_invite),
	MAIN("ha.join", ctl_ha_join),
	MAIN("ha.promote", ctl_ha_promote),
	{ "status", THREAD_STORE, NULL, cmd_status, NULL, NULL, false, true },
	STORE("user.add", cmd_user_add, true),
	STORE("user.passwd", cmd_user_passwd, true),
	STORE("user.del", cmd_user_del, true),
	STORE("user.list", cmd_user_list, false),
	STORE("device.add", cmd_device_add, true),
	STORE("device.set", cmd_device_set, true),
	STORE("device.del", cmd_device_del, true),
	STORE("device.list", cmd_device_list, false),
	STORE("device.show", cmd_device_show, false),
	STORE("device.models", cmd_device_models, false),
	STORE("line.add", cmd_line_add, true),
	STORE("line.del", cmd_line_del, true),
	STORE("line.list", cmd_line_list, false),
	STORE("line.show", cmd_line_show, false),
	STORE("line.set", cmd_line_set, true),
	STORE("cdr.list", cmd_cdr_list, false),
	STORE("trunk.add", cmd_trunk_add, true),
	STORE("trunk.del", cmd_trunk_del, true),
	STORE("trunk.set", cmd_trunk_set, true),
	STORE("route.add", cmd_route_add, true),
	STORE("route.del", cmd_route_del, true),
	SIP("reg.list", sip_reg_list, NULL, false),
	SIP("reg.show", sip_reg_show, "device", false),
	SIP("reg.flush", sip_reg_flush, "what", true),
	SIP("ban.list", sip_ban_list, NULL, false),
	SIP("ban.del", sip_ban_del, "address", true),
	SIP("call.list", sip_call_list, NULL, false),
	SIP("call.hangup", sip_call_hangup, NULL, false),
	SIP("trunk.list", sip_trunk_list, NULL, false),
	SIP("trunk.show", sip_trunk_show, "name", false),
	SIP("route.list", sip_route_list, NULL, false),
};

struct ctl_command const *ctl_command_find(char const *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

struct ctl_job *ctl_request_parse(char const *line, size_t len, char const **code, char *msg,
				  size_t msglen)
{
	*code = "invalid";
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	struct ctl_job *j = NULL;

	if (!req || !json_is_object(req)) {
		snprintf(msg, msglen, "the request is not a JSON object");
		goto out;
	}
	char const *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *args = json_object_get(req, "args");
	if (!cmd) {
		snprintf(msg, msglen, "the request has no \"cmd\" string");
		goto out;
	}
	if (args && !json_is_object(args)) {
		snprintf(msg, msglen, "\"args\" must be an object");
		goto out;
	}
	struct ctl_command const *def = ctl_command_find(cmd);
	if (!def) {
		snprintf(msg, msglen, "unknown command '%.60s'", cmd);
		goto out;
	}
	if (def->required && !json_is_string(json_object_get(args, def->required))) {
		snprintf(msg, msglen, "argument '%s' (a string) is required", def->required);
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		*code = "internal";
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	j->def = def;
	snprintf(j->cmd, sizeof(j->cmd), "%s", cmd);
	j->args = args ? json_incref(args) : json_object();
out:
	json_decref(req);
	return j;
}
