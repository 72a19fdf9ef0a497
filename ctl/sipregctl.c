/*
 * sipregctl: the administrator's command line for sipregd. It sends one
 * request over the control socket and prints the answer.
 *
 * Exit status: 0 done, 1 refused by sipregd, 2 usage error, 3 sipregd not
 * reachable.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl/cli.h"
#include "store/validate.h"
/* ---- commands ---- */

static int cmd_status(int argc, char **argv)
{
	cli_parse_args(argc, argv, "status", NULL, 0, NULL, 0);
	json_t *d = cli_call("status", NULL);
	if (cli_opt_json) {
		cli_print_json(d);
		json_decref(d);
		return 0;
	}
	json_t *counts = json_object_get(d, "counts");
	json_t *sip = json_object_get(d, "sip");
	printf("sipregd %s, pid %lld, up %llds\n", json_string_value(json_object_get(d, "version")),
	       (long long)json_integer_value(json_object_get(d, "pid")),
	       (long long)json_integer_value(json_object_get(d, "uptime")));
	printf("realm         %s\n", json_string_value(json_object_get(d, "realm")));
	printf("database      %s (schema %lld)\n", json_string_value(json_object_get(d, "store")),
	       (long long)json_integer_value(json_object_get(d, "schema")));
	printf("log level     %s%s\n", json_string_value(json_object_get(d, "log_level")),
	       json_is_true(json_object_get(sip, "trace")) ? ", SIP trace on" : "");
	size_t i;
	json_t *l;
	json_array_foreach (json_object_get(sip, "listeners"), i, l)
		printf("%-13s %s\n", i ? "" : "listening", json_string_value(l));
	printf("users         %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "users")));
	printf("devices       %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "devices")));
	printf("lines         %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "lines")));
	printf("bindings      %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "bindings")));
	printf("SIP requests  %lld\n",
	       (long long)json_integer_value(json_object_get(sip, "requests")));
	if (json_integer_value(json_object_get(sip, "not_allowed")))
		printf("not allowed   %lld requests from outside [sip] allow, unanswered\n",
		       (long long)json_integer_value(json_object_get(sip, "not_allowed")));
	json_t *tls = json_object_get(d, "tls");
	json_t *days = json_object_get(tls, "expires_in_days");
	if (json_is_integer(days))
		printf("certificates  %s expires in %lld days%s\n",
		       json_string_value(json_object_get(tls, "expires_first")),
		       (long long)json_integer_value(days),
		       json_is_true(json_object_get(tls, "expiry_warning"))
			       ? " (renew: sipregctl tls renew)"
			       : "");
	if (json_is_true(json_object_get(tls, "legacy")))
		printf("TLS           legacy (TLS 1.0, security level 0) allowed\n");
	json_t *ha = json_object_get(d, "ha");
	char const *role = json_string_value(json_object_get(ha, "role"));
	if (role && strcmp(role, "standalone"))
		printf("node          %s, %s; peer %s %s (sipregctl ha status)\n",
		       json_string_value(json_object_get(ha, "node")), role,
		       json_string_value(json_object_get(ha, "peer_node")),
		       json_string_value(json_object_get(ha, "peer_state")));
	json_decref(d);
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	cli_parse_args(argc, argv, "config", NULL, 0, NULL, 0);
	json_t *d = cli_call("config", NULL);
	if (cli_opt_json) {
		cli_print_json(d);
	} else {
		char const *section, *key;
		json_t *keys, *v;
		json_object_foreach (d, section, keys) {
			if (!json_is_object(keys)) {
				char buf[512];
				cli_cell(buf, sizeof(buf), keys);
				printf("%-26s %s\n", section, buf);
				continue;
			}
			json_object_foreach (keys, key, v) {
				char buf[512] = "", name[128];
				if (json_is_array(v)) {
					size_t i, n = 0;
					json_t *x;
					json_array_foreach (v, i, x) {
						if (n < sizeof(buf))
							n += (size_t)snprintf(
								buf + n, sizeof(buf) - n, "%s%s",
								i ? " " : "", json_string_value(x));
					}
				} else {
					cli_cell(buf, sizeof(buf), v);
				}
				snprintf(name, sizeof(name), "[%s] %s", section, key);
				printf("%-26s %s\n", name, buf);
			}
		}
	}
	json_decref(d);
	return 0;
}

static int cmd_log(int argc, char **argv)
{
	char const *pos[2];
	cli_parse_args(argc, argv, "log", pos, 2, NULL, 0);
	if (strcmp(pos[0], "level") != 0)
		cli_usage_error("log: unknown subcommand '%s'", pos[0]);
	json_t *d = cli_call("log.level", json_pack("{s:s}", "level", pos[1]));
	return cli_done(d, "log level set to %s", pos[1]);
}

static int cmd_trace(int argc, char **argv)
{
	char const *pos[1];
	cli_parse_args(argc, argv, "trace", pos, 1, NULL, 0);
	bool on = strcmp(pos[0], "on") == 0;
	if (!on && strcmp(pos[0], "off") != 0)
		cli_usage_error("trace: say on or off, not '%s'", pos[0]);
	json_t *d = cli_call("trace", json_pack("{s:b}", "on", on));
	return cli_done(d, "SIP message trace %s", on ? "on" : "off");
}

static int user_password_cmd(int argc, char **argv, char const *what, char const *cmd)
{
	char const *pos[1];
	struct opt opts[] = { { "--password-stdin", false, NULL, false },
			      { "--weak", false, NULL, false } };
	char pw[256];
	cli_parse_args(argc, argv, what, pos, 1, opts, NCOLS(opts));
	/* A name sipregd would refuse is refused before the password is asked for. */
	struct store_err e = { 0 };
	if (store_check_user_name(pos[0], &e) < 0) {
		fprintf(stderr, "sipregctl: %s\n", e.msg);
		return EXIT_REFUSED;
	}
	if (cli_read_password(opts[0].set, what, pos[0], pw, sizeof(pw)) < 0)
		return EXIT_REFUSED;
	json_t *d = cli_call(cmd, json_pack("{s:s, s:s, s:b}", "name", pos[0], "password", pw,
					    "weak", opts[1].set));
	memset(pw, 0, sizeof(pw));
	if (strcmp(cmd, "user.add") == 0)
		return cli_done(d, "user %s added", pos[0]);
	return cli_done(d, "password of user %s changed", pos[0]);
}

static int cmd_user(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("user: add, passwd, del or list?");
	char const *sub = argv[0];
	argc--, argv++;
	if (strcmp(sub, "add") == 0)
		return user_password_cmd(argc, argv, "user add", "user.add");
	if (strcmp(sub, "passwd") == 0)
		return user_password_cmd(argc, argv, "user passwd", "user.passwd");
	if (strcmp(sub, "del") == 0) {
		char const *pos[1];
		cli_parse_args(argc, argv, "user del", pos, 1, NULL, 0);
		return cli_done(cli_call("user.del", json_pack("{s:s}", "name", pos[0])),
				"user %s deleted", pos[0]);
	}
	if (strcmp(sub, "list") == 0) {
		static struct column const cols[] = { { "NAME", "name" }, { "DEVICE", "device" } };
		cli_parse_args(argc, argv, "user list", NULL, 0, NULL, 0);
		return cli_show(cli_call("user.list", NULL), cols, NCOLS(cols));
	}
	cli_usage_error("user: unknown subcommand '%s'", sub);
}

void cli_set_opt(json_t *args, char const *key, struct opt const *o)
{
	if (o->set)
		json_object_set_new(args, key, json_string(o->value));
}

static int cmd_device(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("device: add, set, del, list, show or models?");
	char const *sub = argv[0];
	char const *pos[1];
	argc--, argv++;
	if (strcmp(sub, "add") == 0 || strcmp(sub, "set") == 0) {
		bool add = strcmp(sub, "add") == 0;
		struct opt opts[] = { { "--model", true, NULL, false },
				      { "--digest-user", true, NULL, false },
				      { "--auth", true, NULL, false },
				      { "--digest-algs", true, NULL, false },
				      { "--qop", true, NULL, false },
				      { "--transport", true, NULL, false } };
		cli_parse_args(argc, argv, add ? "device add" : "device set", pos, 1, opts,
			       NCOLS(opts));
		if (add && (!opts[0].set || !opts[1].set))
			cli_usage_error("device add: --model and --digest-user are required");
		if (!add && !opts[0].set && !opts[1].set && !opts[2].set && !opts[3].set &&
		    !opts[4].set && !opts[5].set)
			cli_usage_error("device set: nothing to change");
		for (int i = 0; i < 6; i++) {
			if (opts[i].set && !opts[i].value[0])
				cli_usage_error("%s: %s needs a value", sub, opts[i].name);
		}
		if (opts[2].set && strcmp(opts[2].value, "verify") &&
		    strcmp(opts[2].value, "identify"))
			cli_usage_error("device %s: --auth is verify or identify", sub);
		if (opts[3].set && strcmp(opts[3].value, "md5") &&
		    strcmp(opts[3].value, "sha256") && strcmp(opts[3].value, "both") &&
		    strcmp(opts[3].value, "default"))
			cli_usage_error("device %s: --digest-algs is md5, sha256, both or default",
					sub);
		if (opts[4].set && strcmp(opts[4].value, "auth") &&
		    strcmp(opts[4].value, "optional"))
			cli_usage_error("device %s: --qop is auth or optional", sub);
		if (opts[5].set && strcmp(opts[5].value, "udp") && strcmp(opts[5].value, "tcp") &&
		    strcmp(opts[5].value, "tls") && strcmp(opts[5].value, "any"))
			cli_usage_error("device %s: --transport is udp, tcp, tls or any", sub);
		json_t *args = json_pack("{s:s}", "name", pos[0]);
		cli_set_opt(args, "model", &opts[0]);
		cli_set_opt(args, "digest_user", &opts[1]);
		cli_set_opt(args, "auth", &opts[2]);
		cli_set_opt(args, "digest_algs", &opts[3]);
		cli_set_opt(args, "qop", &opts[4]);
		cli_set_opt(args, "transport", &opts[5]);
		json_t *d = cli_call(add ? "device.add" : "device.set", args);
		char const *canon = json_string_value(json_object_get(d, "name"));
		return cli_done(d, "device %s %s", canon ? canon : pos[0],
				add ? "added" : "changed");
	}
	if (strcmp(sub, "del") == 0) {
		cli_parse_args(argc, argv, "device del", pos, 1, NULL, 0);
		return cli_done(cli_call("device.del", json_pack("{s:s}", "name", pos[0])),
				"device %s deleted with its lines", pos[0]);
	}
	if (strcmp(sub, "list") == 0) {
		static struct column const cols[] = {
			{ "NAME", "name" }, { "MODEL", "model" }, { "DIGEST USER", "digest_user" },
			{ "AUTH", "auth" }, { "TRANSPORT", "transport" }, { "LINES", "lines" },
			{ "BINDINGS", "bindings" },
		};
		cli_parse_args(argc, argv, "device list", NULL, 0, NULL, 0);
		return cli_show(cli_call("device.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(sub, "show") == 0) {
		cli_parse_args(argc, argv, "device show", pos, 1, NULL, 0);
		json_t *d = cli_call("device.show", json_pack("{s:s}", "name", pos[0]));
		if (cli_opt_json)
			return cli_show(d, NULL, 0);
		static struct column const fields[] = {
			{ "name", "name" },
			{ "model", "model" },
			{ "model lines", "model_lines" },
			{ "digest user", "digest_user" },
			{ "auth", "auth" },
			{ "digest algs", "digest_algs" },
			{ "qop", "qop" },
			{ "transport", "transport" },
			{ "dnd", "dnd" },
		};
		static struct column const cols[] = { { "INDEX", "index" },
						      { "DN", "dn" },
						      { "DISPLAY", "display" },
						      { "LABEL", "label" } };
		cli_print_fields(d, fields, NCOLS(fields));
		json_t *lines = json_object_get(d, "lines");
		if (json_array_size(lines)) {
			printf("\n");
			cli_print_table(lines, cols, NCOLS(cols));
		} else {
			printf("lines          none\n");
		}
		json_decref(d);
		return 0;
	}
	if (strcmp(sub, "models") == 0) {
		static struct column const cols[] = { { "MODEL", "name" },
						      { "LINES", "lines" },
						      { "VENDOR", "vendor" },
						      { "LINE 1 ONLY", "cucm_mode" } };
		cli_parse_args(argc, argv, "device models", NULL, 0, NULL, 0);
		return cli_show(cli_call("device.models", NULL), cols, NCOLS(cols));
	}
	cli_usage_error("device: unknown subcommand '%s'", sub);
}

static int cmd_line(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("line: add, del, list, show or set?");
	char const *sub = argv[0];
	argc--, argv++;
	static struct column const cols[] = {
		{ "DN", "dn" },		  { "DEVICE", "device" }, { "INDEX", "index" },
		{ "DISPLAY", "display" }, { "LABEL", "label" },	  { "BINDINGS", "bindings" },
	};
	if (strcmp(sub, "add") == 0) {
		char const *pos[2];
		struct opt opts[] = { { "--index", true, NULL, false },
				      { "--display", true, NULL, false },
				      { "--label", true, NULL, false } };
		cli_parse_args(argc, argv, "line add", pos, 2, opts, NCOLS(opts));
		json_t *args = json_pack("{s:s, s:s}", "device", pos[0], "dn", pos[1]);
		long long want;
		if (opts[0].set) {
			if (!cli_whole_number(opts[0].value, 1, 64, &want))
				cli_usage_error("line add: --index is a whole number from 1 to 64");
			json_object_set_new(args, "index", json_integer(want));
		}
		cli_set_opt(args, "display", &opts[1]);
		cli_set_opt(args, "label", &opts[2]);
		json_t *d = cli_call("line.add", args);
		int idx = (int)json_integer_value(json_object_get(d, "index"));
		return cli_done(d, "line %d of device %s is DN %s", idx, pos[0], pos[1]);
	}
	if (strcmp(sub, "del") == 0) {
		char const *pos[1];
		cli_parse_args(argc, argv, "line del", pos, 1, NULL, 0);
		return cli_done(cli_call("line.del", json_pack("{s:s}", "dn", pos[0])),
				"line %s deleted", pos[0]);
	}
	if (strcmp(sub, "list") == 0) {
		cli_parse_args(argc, argv, "line list", NULL, 0, NULL, 0);
		return cli_show(cli_call("line.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(sub, "show") == 0) {
		char const *pos[1];
		static struct column const fields[] = {
			{ "dn", "dn" },
			{ "device", "device" },
			{ "model", "model" },
			{ "index", "index" },
			{ "display", "display" },
			{ "label", "label" },
			{ "bindings", "bindings" },
			{ "dnd", "dnd" },
			{ "cfwd all", "cfwd_all" },
			{ "cfwd busy", "cfwd_busy" },
			{ "cfwd noanswer", "cfwd_noanswer" },
			{ "noanswer time", "noanswer_timeout" },
		};
		cli_parse_args(argc, argv, "line show", pos, 1, NULL, 0);
		return cli_show(cli_call("line.show", json_pack("{s:s}", "dn", pos[0])), fields,
				NCOLS(fields));
	}
	if (strcmp(sub, "set") == 0) {
		char const *pos[1];
		struct opt opts[] = { { "--dnd", true, NULL, false },
				      { "--cfwd-all", true, NULL, false },
				      { "--cfwd-busy", true, NULL, false },
				      { "--cfwd-noanswer", true, NULL, false },
				      { "--noanswer-timeout", true, NULL, false } };
		cli_parse_args(argc, argv, "line set", pos, 1, opts, NCOLS(opts));
		bool any = false;
		for (int i = 0; i < NCOLS(opts); i++) {
			any |= opts[i].set;
			if (opts[i].set && !opts[i].value[0])
				cli_usage_error("line set: %s needs a value", opts[i].name);
		}
		if (!any)
			cli_usage_error("line set: nothing to change");
		if (opts[0].set && strcmp(opts[0].value, "on") && strcmp(opts[0].value, "off"))
			cli_usage_error("line set: --dnd is on or off");
		json_t *args = json_pack("{s:s}", "dn", pos[0]);
		cli_set_opt(args, "dnd", &opts[0]);
		cli_set_opt(args, "cfwd_all", &opts[1]);
		cli_set_opt(args, "cfwd_busy", &opts[2]);
		cli_set_opt(args, "cfwd_noanswer", &opts[3]);
		long long t;
		if (opts[4].set) {
			if (!cli_whole_number(opts[4].value, 0, 600, &t))
				cli_usage_error("line set: --noanswer-timeout is 0 to 600 seconds");
			json_object_set_new(args, "noanswer_timeout", json_integer(t));
		}
		return cli_done(cli_call("line.set", args), "line %s changed", pos[0]);
	}
	cli_usage_error("line: unknown subcommand '%s'", sub);
}

/* Registrations: with the node column when sipregd is one of a pair (entries name their node). */
static int show_regs(json_t *data)
{
	static struct column const cols[] = {
		{ "NODE", "node" },
		{ "DEVICE", "device" },
		{ "LINE", "index" },
		{ "DN", "dn" },
		{ "CONTACT", "contact" },
		{ "TRANSPORT", "transport" },
		{ "SOURCE", "source" },
		{ "USER AGENT", "user_agent" },
		{ "EXPIRES", "expires_in" },
	};
	bool paired = json_object_get(json_array_get(data, 0), "node") != NULL;
	return cli_show(data, paired ? cols : cols + 1, NCOLS(cols) - (paired ? 0 : 1));
}

static int cmd_reg(int argc, char **argv)
{
	char const *pos[1];
	if (argc < 1)
		cli_usage_error("reg: list, show or flush?");
	if (strcmp(argv[0], "list") == 0) {
		cli_parse_args(argc - 1, argv + 1, "reg list", NULL, 0, NULL, 0);
		return show_regs(cli_call("reg.list", NULL));
	}
	if (strcmp(argv[0], "show") == 0) {
		cli_parse_args(argc - 1, argv + 1, "reg show", pos, 1, NULL, 0);
		return show_regs(cli_call("reg.show", json_pack("{s:s}", "device", pos[0])));
	}
	if (strcmp(argv[0], "flush") == 0) {
		cli_parse_args(argc - 1, argv + 1, "reg flush", pos, 1, NULL, 0);
		json_t *d = cli_call("reg.flush", json_pack("{s:s}", "what", pos[0]));
		long long n = (long long)json_integer_value(json_object_get(d, "removed"));
		return cli_done(d, "%lld registration%s of %s removed", n, n == 1 ? "" : "s",
				pos[0]);
	}
	cli_usage_error("reg: unknown subcommand '%s'", argv[0]);
}

static int cmd_ban(int argc, char **argv)
{
	static struct column const cols[] = { { "KIND", "kind" },
					      { "WHAT", "what" },
					      { "FAILURES", "failures" },
					      { "SECONDS LEFT", "seconds_left" },
					      { "WHY", "reason" } };
	char const *pos[1];
	if (argc < 1)
		cli_usage_error("ban: list or del?");
	if (strcmp(argv[0], "list") == 0) {
		cli_parse_args(argc - 1, argv + 1, "ban list", NULL, 0, NULL, 0);
		return cli_show(cli_call("ban.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(argv[0], "del") == 0) {
		cli_parse_args(argc - 1, argv + 1, "ban del", pos, 1, NULL, 0);
		return cli_done(cli_call("ban.del", json_pack("{s:s}", "address", pos[0])),
				"ban on %s lifted", pos[0]);
	}
	cli_usage_error("ban: unknown subcommand '%s'", argv[0]);
}

/* NODE-RUN-N (NODE: letters, digits, '-', '.'), or N alone. */
static bool is_call_id(char const *s)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789");
	if (n == 0 || n > 63 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-.") != n)
		return false;
	if (digits == n)
		return true;
	/* ...-RUN-N: two dash-separated numbers at the end, after a node name. */
	char const *last = strrchr(s, '-');
	if (!last || last == s || !last[1] || strspn(last + 1, "0123456789") != strlen(last + 1))
		return false;
	char const *run = last - 1;
	while (run > s && *run != '-')
		run--;
	return run > s && *run == '-' && run + 1 < last &&
	       strspn(run + 1, "0123456789") == (size_t)(last - run - 1);
}

static int cmd_call(int argc, char **argv)
{
	static struct column const cols[] = {
		{ "ID", "id" },		  { "STATE", "state" },	  { "CALLER", "caller" },
		{ "DEVICE", "device" },	  { "CALLEE", "callee" }, { "ANSWERED BY", "answered_by" },
		{ "SECONDS", "seconds" },
	};
	char const *pos[1];
	if (argc < 1)
		cli_usage_error("call: list or hangup?");
	if (strcmp(argv[0], "list") == 0) {
		cli_parse_args(argc - 1, argv + 1, "call list", NULL, 0, NULL, 0);
		return cli_show(cli_call("call.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(argv[0], "hangup") == 0) {
		cli_parse_args(argc - 1, argv + 1, "call hangup", pos, 1, NULL, 0);
		if (!is_call_id(pos[0]))
			cli_usage_error(
				"call hangup: '%s' is not a call id (NODE-RUN-N as call list shows "
				"it, or N for a call of this run)",
				pos[0]);
		return cli_done(cli_call("call.hangup", json_pack("{s:s}", "id", pos[0])),
				"call %s hung up", pos[0]);
	}
	cli_usage_error("call: unknown subcommand '%s'", argv[0]);
}

/*
 * A point in time for --since: seconds since the epoch, a local date
 * (YYYY-MM-DD) or date and time (YYYY-MM-DD HH:MM[:SS], or with a T), or
 * an age such as 90s, 30m, 12h or 7d. -1 when it is none of these.
 */
static long long parse_since(char const *v)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (end != v && !errno && n >= 0) {
		if (!*end)
			return n;
		if (!end[1]) {
			long long unit = end[0] == 's'	 ? 1
					 : end[0] == 'm' ? 60
					 : end[0] == 'h' ? 3600
					 : end[0] == 'd' ? 86400
							 : 0;
			if (unit && n < (1LL << 32))
				return (long long)time(NULL) - n * unit;
		}
	}
	struct tm tm = { 0 };
	char const *p = strptime(v, "%Y-%m-%d", &tm);
	if (p && *p && (*p == ' ' || *p == 'T')) {
		char const *q = strptime(p + 1, "%H:%M:%S", &tm);
		if (!q)
			q = strptime(p + 1, "%H:%M", &tm);
		p = q;
	}
	if (!p || *p)
		return -1;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	return t < 0 ? -1 : (long long)t;
}

/* Replaces the epoch seconds under key with local time text, for the table. */
void cli_local_time(json_t *row, char const *key)
{
	json_t *v = json_object_get(row, key);
	if (!json_is_integer(v))
		return;
	time_t t = (time_t)json_integer_value(v);
	struct tm tm;
	char buf[32];
	if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		json_object_set_new(row, key, json_string(buf));
}

/* cli_local_time() in each row of a listing. */
void cli_local_times(json_t *rows, char const *key)
{
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row)
		cli_local_time(row, key);
}

static int cmd_cdr(int argc, char **argv)
{
	static struct column const cols[] = {
		{ "CALL ID", "call_id" }, { "STARTED", "started_at" }, { "CALLER", "caller" },
		{ "CALLEE", "callee" },	  { "TAKEN BY", "target" },    { "FORWARD", "forwarded" },
		{ "RESULT", "result" },	  { "SECONDS", "duration" },
	};
	if (argc < 1 || strcmp(argv[0], "list") != 0)
		cli_usage_error(argc < 1 ? "cdr: list?" : "cdr: unknown subcommand '%s'", argv[0]);
	struct opt opts[] = { { "--since", true, NULL, false }, { "--limit", true, NULL, false } };
	cli_parse_args(argc - 1, argv + 1, "cdr list", NULL, 0, opts, NCOLS(opts));
	json_t *args = json_object();
	if (opts[0].set) {
		long long since = parse_since(opts[0].value);
		if (since < 0)
			cli_usage_error("cdr list: --since takes seconds since 1970, YYYY-MM-DD[ "
					"HH:MM[:SS]] "
					"or an age such as 30m, 12h, 7d");
		json_object_set_new(args, "since", json_integer(since));
	}
	long long n;
	if (opts[1].set) {
		if (!cli_whole_number(opts[1].value, 1, 1000000, &n))
			cli_usage_error("cdr list: --limit is a whole number from 1 to 1000000");
		json_object_set_new(args, "limit", json_integer(n));
	}
	json_t *d = cli_call("cdr.list", args);
	if (!cli_opt_json)
		cli_local_times(d, "started_at");
	return cli_show(d, cols, NCOLS(cols));
}

static struct {
	char const *name;
	int (*fn)(int argc, char **argv);
} const commands[] = {
	{ "status", cmd_status }, { "config", cmd_config }, { "log", cmd_log },
	{ "trace", cmd_trace },	  { "user", cmd_user },	    { "device", cmd_device },
	{ "line", cmd_line },	  { "reg", cmd_reg },	    { "ban", cmd_ban },
	{ "call", cmd_call },	  { "cdr", cmd_cdr },	    { "trunk", cmd_trunk },
	{ "route", cmd_route },	  { "tls", cmd_tls },	    { "ha", cmd_ha },
};

int main(int argc, char **argv)
{
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	bool dashdash = false;

	/* Global options may stand anywhere; the rest is the command. */
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (dashdash) {
			rest[nrest++] = a;
		} else if (strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (strcmp(a, "--json") == 0) {
			cli_opt_json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(cli_usage_text, stdout);
			free(rest);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("sipregctl %s\n", PACKAGE_VERSION);
			free(rest);
			return 0;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc)
				cli_usage_error("%s needs a path", a);
			cli_opt_socket = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			cli_opt_socket = a + 9;
		} else {
			rest[nrest++] = a;
		}
	}
	if (nrest == 0)
		cli_usage_error("no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(rest[0], commands[i].name) == 0) {
			int rc = commands[i].fn(nrest - 1, rest + 1);
			free(rest);
			return rc;
		}
	}
	cli_usage_error("unknown command '%s'", rest[0]);
}
