/*
 * sipregctl's trunk and route commands: the upstream providers with their
 * DIDs, and the dial plan.
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

/* Takes every --did VALUE (or --did=VALUE) out of argv into dids (comma lists split). */
static int take_dids(int argc, char **argv, json_t *dids)
{
	int out = 0;
	for (int i = 0; i < argc; i++) {
		char const *v = NULL;
		if (!strcmp(argv[i], "--did")) {
			if (i + 1 >= argc)
				cli_usage_error("trunk add: option --did needs a value");
			v = argv[++i];
		} else if (!strncmp(argv[i], "--did=", 6)) {
			v = argv[i] + 6;
		} else {
			argv[out++] = argv[i];
			continue;
		}
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			json_array_append_new(dids, json_string(t));
		if (!v[0])
			cli_usage_error("trunk add: --did needs a number");
	}
	return out;
}

static bool yes_no(char const *v)
{
	return !strcmp(v, "yes") || !strcmp(v, "no");
}

static int trunk_add(int argc, char **argv, bool add)
{
	char const *what = add ? "trunk add" : "trunk set";
	char const *pos[1];
	struct opt opts[] = {
		{ "--registrar", true, NULL, false },
		{ "--proxy", true, NULL, false },
		{ "--user", true, NULL, false },
		{ "--auth-user", true, NULL, false },
		{ "--password-stdin", false, NULL, false },
		{ "--realm", true, NULL, false },
		{ "--transport", true, NULL, false },
		{ "--expires", true, NULL, false },
		{ "--register", true, NULL, false },
		{ "--caller-id", true, NULL, false },
		{ "--default-dn", true, NULL, false },
		{ "--emergency", true, NULL, false },
	};
	static char const *const keys[] = { "registrar", "proxy",     "user",	    "auth_user",
					    NULL,	 "realm",     "transport",  NULL,
					    "register",	 "caller_id", "default_dn", "emergency" };
	json_t *dids = json_array();
	argc = take_dids(argc, argv, dids);
	cli_parse_args(argc, argv, what, pos, 1, opts, NCOLS(opts));
	bool any = json_array_size(dids) > 0;
	for (int i = 0; i < NCOLS(opts); i++) {
		any |= opts[i].set;
		if (opts[i].has_value && opts[i].set && !opts[i].value[0])
			cli_usage_error("%s: %s needs a value", what, opts[i].name);
	}
	if (add && !opts[0].set)
		cli_usage_error("trunk add: --registrar is required");
	if (!add && !any)
		cli_usage_error("trunk set: nothing to change");
	if (opts[6].set && strcmp(opts[6].value, "udp") && strcmp(opts[6].value, "tcp") &&
	    strcmp(opts[6].value, "tls"))
		cli_usage_error("%s: --transport is udp, tcp or tls", what);
	if ((opts[8].set && !yes_no(opts[8].value)) || (opts[11].set && !yes_no(opts[11].value)))
		cli_usage_error("%s: --register and --emergency are yes or no", what);
	if (add && opts[4].set && !opts[2].set && !opts[3].set)
		cli_usage_error("trunk add: a password needs --user or --auth-user");
	json_t *args = json_pack("{s:s}", "name", pos[0]);
	if (add || json_array_size(dids))
		json_object_set(args, "dids", dids);
	json_decref(dids);
	for (int i = 0; i < NCOLS(opts); i++) {
		if (!keys[i] || !opts[i].set)
			continue;
		/* trunk set: "off" clears an optional setting. */
		bool clear = !add && !strcmp(opts[i].value, "off") && i != 0 && i != 6 && i != 8 &&
			     i != 11;
		json_object_set_new(args, keys[i], json_string(clear ? "" : opts[i].value));
	}
	long long n;
	if (opts[7].set) {
		if (!cli_whole_number(opts[7].value, 60, 86400, &n))
			cli_usage_error("%s: --expires is 60 to 86400 seconds", what);
		json_object_set_new(args, "expires", json_integer(n));
	}
	char pw[256];
	if (opts[4].set) {
		if (cli_read_password_stdin(pw, sizeof(pw)) < 0) {
			json_decref(args);
			return EXIT_REFUSED;
		}
		json_object_set_new(args, "password", json_string(pw));
		memset(pw, 0, sizeof(pw));
	}
	return cli_done(cli_call(add ? "trunk.add" : "trunk.set", args), "trunk %s %s", pos[0],
			add ? "added" : "changed");
}

/*
 * trunk test NAME: sipregd connects to the trunk's registrar over TLS with
 * its own code and says what is wrong with the provider's certificate.
 */
static int trunk_test(char const *name)
{
	json_t *t = cli_call("trunk.show", json_pack("{s:s}", "name", name));
	char const *reg = json_string_value(json_object_get(t, "registrar"));
	char const *tp = json_string_value(json_object_get(t, "transport"));
	if (!reg || !tp || strcmp(tp, "tls")) {
		fprintf(stderr, "sipregctl: trunk %s uses %s, not TLS: nothing to test\n", name,
			tp ? tp : "?");
		json_decref(t);
		return EXIT_REFUSED;
	}
	/* host[:port] or [v6]:port; 5061 by default */
	char host[256];
	long long port = 5061;
	char const *end = reg[0] == '[' ? strchr(reg, ']') : NULL;
	char const *colon = end ? strchr(end, ':') : strrchr(reg, ':');
	size_t hl = end ? (size_t)(end - reg - 1) : colon ? (size_t)(colon - reg) : strlen(reg);
	snprintf(host, sizeof(host), "%.*s", (int)hl, end ? reg + 1 : reg);
	if (colon && !cli_whole_number(colon + 1, 1, 65535, &port))
		port = 5061;
	json_t *args = json_pack("{s:s, s:s, s:I, s:O}", "name", name, "host", host, "port",
				 (json_int_t)port, "addresses", json_object_get(t, "addresses"));
	json_decref(t);
	json_t *d = cli_call("trunk.test", args);
	bool good = json_is_true(json_object_get(d, "verified"));
	if (cli_opt_json)
		cli_print_json(d);
	else
		printf("trunk %s (%s port %lld%s%s): %s\n", name, host, port,
		       json_string_value(json_object_get(d, "address")) ? ", address " : "",
		       json_string_value(json_object_get(d, "address"))
			       ? json_string_value(json_object_get(d, "address"))
			       : "",
		       json_string_value(json_object_get(d, "result")));
	json_decref(d);
	return good ? 0 : EXIT_REFUSED;
}

int cmd_trunk(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("trunk: add, set, del, list or show?");
	char const *sub = argv[0], *pos[1];
	argc--, argv++;
	if (!strcmp(sub, "add") || !strcmp(sub, "set"))
		return trunk_add(argc, argv, !strcmp(sub, "add"));
	if (!strcmp(sub, "del")) {
		cli_parse_args(argc, argv, "trunk del", pos, 1, NULL, 0);
		return cli_done(cli_call("trunk.del", json_pack("{s:s}", "name", pos[0])),
				"trunk %s deleted with its DIDs and routes", pos[0]);
	}
	if (!strcmp(sub, "test")) {
		cli_parse_args(argc, argv, "trunk test", pos, 1, NULL, 0);
		return trunk_test(pos[0]);
	}
	if (!strcmp(sub, "list")) {
		static struct column const cols[] = {
			{ "NAME", "name" },	 { "REGISTRAR", "registrar" },
			{ "USER", "user" },	 { "STATE", "state" },
			{ "REASON", "reason" },	 { "NEXT", "next_attempt" },
			{ "DIDS", "did_count" }, { "TLS CHECK", "tls_check" },
		};
		cli_parse_args(argc, argv, "trunk list", NULL, 0, NULL, 0);
		json_t *d = cli_call("trunk.list", NULL);
		if (!cli_opt_json)
			cli_local_times(d, "next_attempt");
		return cli_show(d, cols, NCOLS(cols));
	}
	if (!strcmp(sub, "show")) {
		static struct column const fields[] = {
			{ "name", "name" },
			{ "registrar", "registrar" },
			{ "proxy", "proxy" },
			{ "transport", "transport" },
			{ "user", "user" },
			{ "auth user", "auth_user" },
			{ "password", "password" },
			{ "realm", "realm" },
			{ "register", "register" },
			{ "expires", "expires" },
			{ "caller id", "caller_id" },
			{ "default dn", "default_dn" },
			{ "emergency", "emergency" },
			{ "addresses", "addresses_text" },
			{ "dids", "dids_text" },
			{ "state", "state" },
			{ "reason", "reason" },
			{ "algorithm", "algorithm" },
			{ "granted", "granted" },
			{ "failures", "failures" },
			{ "stale answers", "stale_challenges" },
			{ "next attempt", "next_attempt" },
			{ "retry in", "retry_interval" },
			{ "seen as", "seen_as" },
			{ "keep-alive", "keepalive" },
			{ "tls check", "tls_check" },
		};
		cli_parse_args(argc, argv, "trunk show", pos, 1, NULL, 0);
		json_t *d = cli_call("trunk.show", json_pack("{s:s}", "name", pos[0]));
		if (!cli_opt_json) {
			char buf[1024] = "";
			size_t i, len = 0;
			json_t *v;
			json_array_foreach (json_object_get(d, "addresses"), i, v)
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
							i ? ", " : "", json_string_value(v));
			json_object_set_new(d, "addresses_text", json_string(len ? buf : "-"));
			len = 0;
			buf[0] = '\0';
			json_array_foreach (json_object_get(d, "dids"), i, v) {
				char const *dn = json_string_value(json_object_get(v, "dn"));
				if (len < sizeof(buf))
					len += (size_t)snprintf(
						buf + len, sizeof(buf) - len, "%s%s -> %s",
						i ? ", " : "",
						json_string_value(json_object_get(v, "number")),
						dn ? dn : "(default line)");
			}
			json_object_set_new(d, "dids_text", json_string(len ? buf : "-"));
			cli_local_time(d, "next_attempt");
		}
		return cli_show(d, fields, NCOLS(fields));
	}
	cli_usage_error("trunk: unknown subcommand '%s'", sub);
}

int cmd_route(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("route: add, del or list?");
	char const *sub = argv[0], *pos[1];
	argc--, argv++;
	if (!strcmp(sub, "add")) {
		struct opt opts[] = {
			{ "--trunk", true, NULL, false },
			{ "--block", false, NULL, false },
			{ "--strip", true, NULL, false },
			{ "--prepend", true, NULL, false },
			{ "--priority", true, NULL, false },
			{ "--allow-restricted", false, NULL, false },
		};
		cli_parse_args(argc, argv, "route add", pos, 1, opts, NCOLS(opts));
		if (opts[0].set == opts[1].set)
			cli_usage_error("route add: give --trunk NAME or --block");
		json_t *args = json_pack("{s:s}", "pattern", pos[0]);
		cli_set_opt(args, "trunk", &opts[0]);
		cli_set_opt(args, "prepend", &opts[3]);
		if (opts[1].set)
			json_object_set_new(args, "block", json_string("yes"));
		if (opts[5].set)
			json_object_set_new(args, "allow_restricted", json_string("yes"));
		long long n;
		if (opts[2].set) {
			if (!cli_whole_number(opts[2].value, 0, 32, &n))
				cli_usage_error("route add: --strip is 0 to 32 digits");
			json_object_set_new(args, "strip", json_integer(n));
		}
		if (opts[4].set) {
			if (!cli_whole_number(opts[4].value, 0, 1000000, &n))
				cli_usage_error("route add: --priority is 0 to 1000000");
			json_object_set_new(args, "priority", json_integer(n));
		}
		json_t *d = cli_call("route.add", args);
		long long id = (long long)json_integer_value(json_object_get(d, "id"));
		return cli_done(d, "route %lld: %s %s%s", id, pos[0],
				opts[1].set ? "blocked" : "to ", opts[1].set ? "" : opts[0].value);
	}
	if (!strcmp(sub, "del")) {
		cli_parse_args(argc, argv, "route del", pos, 1, NULL, 0);
		long long id;
		if (!cli_whole_number(pos[0], 1, 1LL << 62, &id))
			cli_usage_error("route del: '%s' is not a route id", pos[0]);
		return cli_done(cli_call("route.del", json_pack("{s:I}", "id", (json_int_t)id)),
				"route %lld deleted", id);
	}
	if (!strcmp(sub, "list")) {
		static struct column const cols[] = {
			{ "ID", "id" },
			{ "PATTERN", "pattern" },
			{ "TRUNK", "trunk" },
			{ "STRIP", "strip" },
			{ "PREPEND", "prepend" },
			{ "PRIORITY", "priority" },
			{ "RESTRICTED", "allow_restricted" },
		};
		cli_parse_args(argc, argv, "route list", NULL, 0, NULL, 0);
		return cli_show(cli_call("route.list", NULL), cols, NCOLS(cols));
	}
	cli_usage_error("route: unknown subcommand '%s'", sub);
}
