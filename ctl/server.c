#include "autoconfig.h"

#include "ctl/server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "b2bua/b2bua.h"
#include "daemon/log.h"
#include "registrar/registrar.h"
#include "store/store.h"

#define LOG_TAG "ctl"

/* A request line longer than this closes the connection. */
#define MAX_REQUEST (64 * 1024)

struct ctl_server {
	struct event_base *base;
	struct evconnlistener *listener;
	store_worker_t *store;
	struct ctl_handlers h;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns;
};

struct conn {
	struct conn *next, *prev;
	ctl_server_t *srv;
	struct bufferevent *bev;
	bool busy;   /* a store job for this connection is under way */
	bool closed; /* the peer went away while busy */
};

struct job;
typedef int (*store_cmd_f)(store_t *s, struct job *j);

struct job {
	struct conn *conn;
	char cmd[32];
	store_cmd_f fn;
	json_t *args;
	json_t *data;
	struct store_err err;
	bool status;  /* merge the daemon's status into data */
	bool changes; /* a change: the SIP thread gets a new directory */
	directory_t *dir;
	/* for SIP-thread commands */
	void (*sip_fn)(struct job *j, sip_thread_t *t);
};

/* ---- replies ---- */

static char const *code_name(int code)
{
	switch (code) {
	case -EEXIST:
		return "exists";
	case -ENOENT:
		return "not_found";
	case -EINVAL:
		return "invalid";
	case -EBUSY:
		return "in_use";
	default:
		return "internal";
	}
}

static void send_json(struct conn *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	if (text) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		evbuffer_add(out, text, strlen(text));
		evbuffer_add(out, "\n", 1);
		free(text);
	}
	json_decref(reply);
}

static void reply_ok(struct conn *c, json_t *data)
{
	send_json(c, json_pack("{s:b, s:o}", "ok", 1, "data", data ? data : json_null()));
}

static void reply_err(struct conn *c, char const *code, char const *msg)
{
	send_json(c, json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", msg));
}

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

/* Describes the request for the log: its string arguments, never a password. */
static void describe(char *buf, size_t len, char const *cmd, json_t *args)
{
	char const *key;
	json_t *v;
	size_t n = (size_t)snprintf(buf, len, "%s", cmd);
	json_object_foreach (args, key, v) {
		if (n >= len)
			break;
		if (strcmp(key, "password") == 0)
			continue;
		if (json_is_string(v))
			n += (size_t)snprintf(buf + n, len - n, " %s=%s", key,
					      json_string_value(v));
		else if (json_is_integer(v))
			n += (size_t)snprintf(buf + n, len - n, " %s=%lld", key,
					      (long long)json_integer_value(v));
	}
}

/* ---- store commands (run on the store thread) ---- */

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
static int arg_int(struct job *j, char const *key, long long lo, long long hi, long long def,
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
static int password_allowed(store_t *s, struct job *j, char const *name, char const *password)
{
	int err = store_password_policy(s, name, password, &j->err);
	if (err < 0 && json_is_true(json_object_get(j->args, "weak"))) {
		log_warning("user %s: a weak password accepted as asked (%s)", name, j->err.msg);
		memset(&j->err, 0, sizeof(j->err));
		err = 0;
	}
	return err;
}

static int cmd_user_add(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	REQUIRE(password, "password");
	int err = password_allowed(s, j, name, password);
	return err < 0 ? err : store_user_add(s, name, password, &j->err);
}

static int cmd_user_passwd(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	REQUIRE(password, "password");
	int err = password_allowed(s, j, name, password);
	return err < 0 ? err : store_user_passwd(s, name, password, &j->err);
}

static int cmd_user_del(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	return store_user_del(s, name, &j->err);
}

static int cmd_user_list(store_t *s, struct job *j)
{
	return store_user_list(s, &j->data, &j->err);
}

static int cmd_device_add(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	REQUIRE(model, "model");
	REQUIRE(user, "digest_user");
	OPTIONAL(auth, "auth");
	OPTIONAL(algs, "digest_algs");
	OPTIONAL(qop, "qop");
	struct store_device_spec spec = { name, model, user, auth, algs, qop };
	int err = store_device_add(s, &spec, &j->err);
	if (err == 0) {
		char canon[STORE_NAME_MAX + 1];
		store_device_name_canon(canon, sizeof(canon), name);
		j->data = json_pack("{s:s}", "name", canon);
	}
	return err;
}

static int cmd_device_set(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	OPTIONAL(model, "model");
	OPTIONAL(user, "digest_user");
	OPTIONAL(auth, "auth");
	OPTIONAL(algs, "digest_algs");
	OPTIONAL(qop, "qop");
	struct store_device_spec spec = { name, model, user, auth, algs, qop };
	return store_device_set(s, &spec, &j->err);
}

static int cmd_device_del(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	return store_device_del(s, name, &j->err);
}

static int cmd_device_list(store_t *s, struct job *j)
{
	return store_device_list(s, &j->data, &j->err);
}

static int cmd_device_show(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	return store_device_show(s, name, &j->data, &j->err);
}

static int cmd_device_models(store_t *s, struct job *j)
{
	return store_model_list(s, &j->data, &j->err);
}

static int cmd_line_add(store_t *s, struct job *j)
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

static int cmd_line_del(store_t *s, struct job *j)
{
	REQUIRE(dn, "dn");
	return store_line_del(s, dn, &j->err);
}

static int cmd_line_list(store_t *s, struct job *j)
{
	return store_line_list(s, &j->data, &j->err);
}

static int cmd_line_show(store_t *s, struct job *j)
{
	REQUIRE(dn, "dn");
	return store_line_show(s, dn, &j->data, &j->err);
}

static int cmd_line_set(store_t *s, struct job *j)
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

static int cmd_cdr_list(store_t *s, struct job *j)
{
	long long since, limit;
	if (arg_int(j, "since", 0, 1LL << 40, 0, &since) < 0 ||
	    arg_int(j, "limit", 0, 1000000, 0, &limit) < 0)
		return j->err.code;
	return store_cdr_list(s, since, (unsigned)limit, &j->data, &j->err);
}

/* An optional yes|no argument: 1, 0, or def when absent; -1 (error set) when neither. */
static int arg_yesno(struct job *j, char const *key, int def, int *out)
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

static int trunk_cmd(store_t *s, struct job *j, bool add)
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

static int cmd_trunk_add(store_t *s, struct job *j)
{
	return trunk_cmd(s, j, true);
}

static int cmd_trunk_set(store_t *s, struct job *j)
{
	return trunk_cmd(s, j, false);
}

static int cmd_trunk_del(store_t *s, struct job *j)
{
	REQUIRE(name, "name");
	return store_trunk_del(s, name, &j->err);
}

static int cmd_route_add(store_t *s, struct job *j)
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

static int cmd_route_del(store_t *s, struct job *j)
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

static int cmd_status(store_t *s, struct job *j)
{
	return store_counts(s, &j->data, &j->err);
}

static struct {
	char const *name;
	store_cmd_f fn;
	bool changes; /* logged at notice level when it succeeds */
} const store_cmds[] = {
	{ "user.add", cmd_user_add, true },	   { "user.passwd", cmd_user_passwd, true },
	{ "user.del", cmd_user_del, true },	   { "user.list", cmd_user_list, false },
	{ "device.add", cmd_device_add, true },	   { "device.set", cmd_device_set, true },
	{ "device.del", cmd_device_del, true },	   { "device.list", cmd_device_list, false },
	{ "device.show", cmd_device_show, false }, { "device.models", cmd_device_models, false },
	{ "line.add", cmd_line_add, true },	   { "line.del", cmd_line_del, true },
	{ "line.list", cmd_line_list, false },	   { "line.show", cmd_line_show, false },
	{ "line.set", cmd_line_set, true },	   { "cdr.list", cmd_cdr_list, false },
	{ "status", cmd_status, false },	   { "trunk.add", cmd_trunk_add, true },
	{ "trunk.del", cmd_trunk_del, true },	   { "trunk.set", cmd_trunk_set, true },
	{ "route.add", cmd_route_add, true },	   { "route.del", cmd_route_del, true },
};

static void job_run(store_t *s, void *arg)
{
	struct job *j = arg;
	j->err.code = 0;
	j->err.msg[0] = '\0';
	int err = j->fn(s, j);
	if (err < 0 && !j->err.code)
		j->err.code = err;
	if (err == 0 && j->changes) {
		struct store_err e = { 0 };
		if (store_directory_load(s, &j->dir, &e) < 0)
			log_error("the change is stored but the registrar keeps the old view: %s",
				  e.msg);
	}
}

static void conn_free(struct conn *c);
static void conn_process(struct conn *c);

/* Answers the client of a finished job and frees the job. */
static void job_finish(void *arg)
{
	struct job *j = arg;
	struct conn *c = j->conn;
	char what[512];

	describe(what, sizeof(what), j->cmd, j->args);
	if (j->err.code < 0) {
		log_info("%s: refused: %s", what, j->err.msg);
	} else if (j->changes) {
		log_notice("%s: done", what);
	}
	if (c->closed) {
		json_decref(j->data);
	} else if (j->err.code < 0) {
		json_decref(j->data);
		reply_err(c, code_name(j->err.code), j->err.msg);
	} else {
		if (j->status && c->srv->h.status) {
			json_t *st = c->srv->h.status(c->srv->h.arg);
			json_object_set_new(st, "counts", j->data ? j->data : json_object());
			j->data = st;
		}
		reply_ok(c, j->data);
	}
	json_decref(j->args);
	directory_destroy(j->dir);
	free(j);
	c->busy = false;
	if (c->closed) {
		conn_free(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

static void install_directory(sip_thread_t *t, void *arg)
{
	struct job *j = arg;
	sip_thread_install_directory(t, j->dir);
	j->dir = NULL;
}

/*
 * After a change the SIP thread gets the new directory before the client
 * hears "done", so a phone registering right after sees the change.
 */
static void job_done(void *arg)
{
	struct job *j = arg;
	ctl_server_t *srv = j->conn->srv;
	sip_thread_t *t = srv->h.sip ? srv->h.sip(srv->h.arg) : NULL;
	if (j->dir && t && sip_thread_call(t, install_directory, job_finish, j) == 0)
		return;
	job_finish(j);
}

/* ---- commands run on the SIP thread ---- */

static void sip_job_run(sip_thread_t *t, void *arg)
{
	struct job *j = arg;
	j->sip_fn(j, t);
}

static void sip_reg_list(struct job *j, sip_thread_t *t)
{
	registrar_t *r = sip_thread_registrar(t);
	j->data = registrar_list(r, NULL);
}

static void sip_reg_show(struct job *j, sip_thread_t *t)
{
	registrar_t *r = sip_thread_registrar(t);
	char const *name = json_string_value(json_object_get(j->args, "device"));
	char canon[STORE_NAME_MAX + 1];
	store_device_name_canon(canon, sizeof(canon), name);
	j->data = registrar_list(r, canon);
}

static void sip_reg_flush(struct job *j, sip_thread_t *t)
{
	registrar_t *r = sip_thread_registrar(t);
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

static void sip_ban_list(struct job *j, sip_thread_t *t)
{
	registrar_t *r = sip_thread_registrar(t);
	j->data = registrar_bans(r);
}

static void sip_ban_del(struct job *j, sip_thread_t *t)
{
	registrar_t *r = sip_thread_registrar(t);
	char const *addr = json_string_value(json_object_get(j->args, "address"));
	if (!registrar_unban(r, addr)) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "%s is not banned", addr);
	}
}

static void sip_call_list(struct job *j, sip_thread_t *t)
{
	j->data = b2bua_list(sip_thread_b2bua(t));
}

static void sip_call_hangup(struct job *j, sip_thread_t *t)
{
	/* A call id (NODE-RUN-N), or N alone for a call of this run. */
	json_t *id = json_object_get(j->args, "id");
	char buf[64];
	if (json_is_integer(id))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(id));
	else
		snprintf(buf, sizeof(buf), "%s", json_is_string(id) ? json_string_value(id) : "");
	if (!buf[0] || b2bua_hangup(sip_thread_b2bua(t), buf) < 0) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "no call %s", buf[0] ? buf : "(no id)");
	}
}

static void sip_trunk_list(struct job *j, sip_thread_t *t)
{
	j->data = b2bua_trunks(sip_thread_b2bua(t), NULL);
}

static void sip_trunk_show(struct job *j, sip_thread_t *t)
{
	char const *name = json_string_value(json_object_get(j->args, "name"));
	j->data = b2bua_trunks(sip_thread_b2bua(t), name);
	if (!j->data) {
		j->err.code = -ENOENT;
		snprintf(j->err.msg, sizeof(j->err.msg), "no trunk %s", name);
	}
}

static void sip_route_list(struct job *j, sip_thread_t *t)
{
	j->data = b2bua_routes(sip_thread_b2bua(t));
}

static struct {
	char const *name;
	void (*fn)(struct job *j, sip_thread_t *t);
	char const *required; /* a string argument it needs, or NULL */
	bool changes;
} const sip_cmds[] = {
	{ "reg.list", sip_reg_list, NULL, false },
	{ "reg.show", sip_reg_show, "device", false },
	{ "reg.flush", sip_reg_flush, "what", true },
	{ "ban.list", sip_ban_list, NULL, false },
	{ "ban.del", sip_ban_del, "address", true },
	{ "call.list", sip_call_list, NULL, false },
	{ "call.hangup", sip_call_hangup, NULL, false },
	{ "trunk.list", sip_trunk_list, NULL, false },
	{ "trunk.show", sip_trunk_show, "name", false },
	{ "route.list", sip_route_list, NULL, false },
};

static bool handle_sip(struct conn *c, char const *cmd, json_t *args)
{
	ctl_server_t *srv = c->srv;
	for (size_t i = 0; i < sizeof(sip_cmds) / sizeof(sip_cmds[0]); i++) {
		if (strcmp(sip_cmds[i].name, cmd))
			continue;
		char const *req = sip_cmds[i].required;
		if (req && !json_is_string(json_object_get(args, req))) {
			char msg[128];
			snprintf(msg, sizeof(msg), "argument '%s' (a string) is required", req);
			reply_err(c, "invalid", msg);
			return true;
		}
		sip_thread_t *t = srv->h.sip ? srv->h.sip(srv->h.arg) : NULL;
		struct job *j = calloc(1, sizeof(*j));
		if (!j || !t) {
			free(j);
			reply_err(c, "internal", "the SIP thread is not running");
			return true;
		}
		j->conn = c;
		snprintf(j->cmd, sizeof(j->cmd), "%s", cmd);
		j->sip_fn = sip_cmds[i].fn;
		j->args = args ? json_incref(args) : json_object();
		j->changes = sip_cmds[i].changes;
		if (sip_thread_call(t, sip_job_run, job_finish, j) < 0) {
			json_decref(j->args);
			free(j);
			reply_err(c, "internal", "sipregd is shutting down");
			return true;
		}
		c->busy = true;
		bufferevent_disable(c->bev, EV_READ);
		return true;
	}
	return false;
}

/* ---- commands handled on the main thread ---- */

static bool handle_local(struct conn *c, char const *cmd, json_t *args)
{
	ctl_server_t *srv = c->srv;

	if (strcmp(cmd, "config") == 0) {
		reply_ok(c, srv->h.config ? srv->h.config(srv->h.arg) : json_object());
		return true;
	}
	if (strcmp(cmd, "log.level") == 0) {
		bool bad = false;
		char const *level = arg_str(args, "level", &bad);
		enum log_level l;
		if (!level || log_level_parse(&l, level) < 0) {
			reply_err(c, "invalid",
				  "level must be one of error, warning, notice, info, debug");
			return true;
		}
		if (srv->h.set_log_level)
			srv->h.set_log_level(srv->h.arg, l);
		log_notice("log level set to %s", log_level_name(l));
		reply_ok(c, json_pack("{s:s}", "level", log_level_name(l)));
		return true;
	}
	if (strcmp(cmd, "trace") == 0) {
		json_t *on = json_object_get(args, "on");
		if (!json_is_boolean(on)) {
			reply_err(c, "invalid", "argument 'on' (true or false) is required");
			return true;
		}
		if (!srv->h.set_trace || srv->h.set_trace(srv->h.arg, json_is_true(on)) < 0) {
			reply_err(c, "internal", "the SIP thread did not take the command");
			return true;
		}
		reply_ok(c, json_pack("{s:b}", "trace", json_is_true(on)));
		return true;
	}
	return false;
}

static void handle_line(struct conn *c, char const *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *args;
	char const *cmd;

	if (!req || !json_is_object(req)) {
		reply_err(c, "invalid", "the request is not a JSON object");
		goto out;
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	args = json_object_get(req, "args");
	if (!cmd) {
		reply_err(c, "invalid", "the request has no \"cmd\" string");
		goto out;
	}
	if (args && !json_is_object(args)) {
		reply_err(c, "invalid", "\"args\" must be an object");
		goto out;
	}
	if (handle_local(c, cmd, args) || handle_sip(c, cmd, args))
		goto out;
	for (size_t i = 0; i < sizeof(store_cmds) / sizeof(store_cmds[0]); i++) {
		if (strcmp(store_cmds[i].name, cmd))
			continue;
		struct job *j = calloc(1, sizeof(*j));
		if (!j) {
			reply_err(c, "internal", "out of memory");
			goto out;
		}
		j->conn = c;
		snprintf(j->cmd, sizeof(j->cmd), "%s", cmd);
		j->fn = store_cmds[i].fn;
		j->args = args ? json_incref(args) : json_object();
		j->status = strcmp(cmd, "status") == 0;
		j->changes = store_cmds[i].changes;
		if (store_worker_submit(c->srv->store, job_run, job_done, j) < 0) {
			json_decref(j->args);
			free(j);
			reply_err(c, "internal", "sipregd is shutting down");
			goto out;
		}
		c->busy = true;
		bufferevent_disable(c->bev, EV_READ);
		goto out;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "unknown command '%.60s'", cmd);
	reply_err(c, "invalid", msg);
out:
	json_decref(req);
}

/* Handles buffered request lines, one at a time. */
static void conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->busy) {
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (!line) {
			if (evbuffer_get_length(in) > MAX_REQUEST) {
				reply_err(c, "invalid", "request too long");
				bufferevent_disable(c->bev, EV_READ);
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			return;
		}
		if (len > MAX_REQUEST)
			reply_err(c, "invalid", "request too long");
		else if (len > 0)
			handle_line(c, line, len);
		free(line);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void conn_free(struct conn *c)
{
	ctl_server_t *srv = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->busy) {
		/* The job still points here: free once it completes. */
		c->closed = true;
		return;
	}
	conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	ctl_server_t *srv = arg;
	(void)l, (void)sa, (void)salen;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c);
		return;
	}
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* True when something already answers on the socket path. */
static bool socket_alive(struct sockaddr_un const *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool alive = connect(fd, (struct sockaddr const *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int ctl_server_start(ctl_server_t **out, struct event_base *base, char const *path,
		     store_worker_t *store, struct ctl_handlers const *h, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is longer than %zu characters", path,
			 sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (socket_alive(&sun)) {
			snprintf(err, errlen, "another sipregd already serves control socket %s",
				 path);
			return -EADDRINUSE;
		}
		unlink(path); /* left over from a sipregd that did not stop cleanly */
	}

	ctl_server_t *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->base = base;
	srv->store = store;
	srv->h = *h;
	snprintf(srv->path, sizeof(srv->path), "%s", path);

	mode_t old = umask(0117);
	srv->listener = evconnlistener_new_bind(base, on_accept, srv,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
						(struct sockaddr *)&sun, sizeof(sun));
	int e = errno;
	umask(old);
	if (!srv->listener) {
		snprintf(err, errlen, "cannot listen on control socket %s: %s", path, strerror(e));
		free(srv);
		return -e;
	}
	chmod(path, 0660);
	*out = srv;
	return 0;
}

void ctl_server_stop(ctl_server_t *srv)
{
	if (!srv)
		return;
	evconnlistener_free(srv->listener);
	unlink(srv->path);
	struct conn *c = srv->conns;
	while (c) {
		struct conn *next = c->next;
		conn_close(c);
		c = next;
	}
	/* Busy connections are freed by their job's completion. */
	free(srv);
}
