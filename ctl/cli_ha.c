/*
 * sipregctl's ha commands: the state of a pair, an invitation on the
 * primary, joining on the backup, and promoting the backup.
 */
#include "autoconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ctl/cli.h"

static char const *str(json_t *o, char const *key)
{
	char const *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : "-";
}

static long long num(json_t *o, char const *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static int ha_show(int argc, char **argv)
{
	cli_parse_args(argc, argv, "ha status", NULL, 0, NULL, 0);
	json_t *d = cli_call("ha.status", NULL);
	if (cli_opt_json) {
		cli_print_json(d);
		json_decref(d);
		return 0;
	}
	printf("node          %s\n", str(d, "node"));
	printf("role          %s", str(d, "role"));
	if (json_object_get(d, "epoch"))
		printf(" (epoch %lld)", num(d, "epoch"));
	printf("\n");
	if (!strcmp(str(d, "role"), "standalone")) {
		json_decref(d);
		return 0;
	}
	printf("listen        %s\n", str(d, "listen"));
	printf("peer          %s %s, %s\n", str(d, "peer_node"), str(d, "peer"),
	       str(d, "peer_state"));
	printf("certificate   %s\n", str(d, "fingerprint"));
	printf("peer's        %s\n", str(d, "peer_fingerprint"));
	printf("schema        %lld\n", num(d, "schema"));
	printf("trunks        %s\n", !strcmp(str(d, "trunks"), "standby")
					 ? "standby (the primary registers them)"
					 : "registered by this node");
	if (!strcmp(str(d, "role"), "primary")) {
		printf("changes       %lld made, backup applied %lld (behind by %lld)\n",
		       num(d, "head"), num(d, "backup_applied"), num(d, "lag_changes"));
		printf("invitation    %s\n",
		       json_is_true(json_object_get(d, "invite_open")) ? "open" : "none");
		printf("conflicts     %lld\n", num(d, "conflicts"));
	} else {
		json_t *lag = json_object_get(d, "lag_ms");
		printf("applied       change %lld of %lld (behind by %lld)\n", num(d, "applied"),
		       num(d, "primary_head"), num(d, "lag_changes"));
		printf("lag           last %lld ms, median %lld ms, 90%% %lld ms, 99%% %lld ms "
		       "(%lld changes)\n",
		       num(lag, "last"), num(lag, "p50"), num(lag, "p90"), num(lag, "p99"),
		       num(lag, "samples"));
	}
	json_t *m = json_object_get(d, "config_match");
	printf("configuration %s (fingerprint %s)\n",
	       json_is_null(m) || !m ? "not compared (no link)"
	       : json_is_true(m)     ? "matches the peer's"
				     : "DIFFERS from the peer's",
	       str(d, "config_fingerprint"));
	if (json_object_get(d, "config_warning"))
		printf("warning       %s\n", str(d, "config_warning"));
	if (json_object_get(d, "note"))
		printf("note          %s\n", str(d, "note"));
	json_decref(d);
	return 0;
}

int cmd_ha(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("ha: say status, invite, join or promote");
	if (!strcmp(argv[0], "status"))
		return ha_show(argc - 1, argv + 1);
	if (!strcmp(argv[0], "invite")) {
		struct opt opts[] = { { "--valid", true, NULL, false } };
		cli_parse_args(argc - 1, argv + 1, "ha invite", NULL, 0, opts, 1);
		json_t *args = json_object();
		if (opts[0].set) {
			long long v;
			if (!cli_whole_number(opts[0].value, 1, 600, &v))
				cli_usage_error("ha invite: --valid is 1 to 600 seconds");
			json_object_set_new(args, "valid", json_integer(v));
		}
		json_t *d = cli_call("ha.invite", args);
		if (cli_opt_json) {
			cli_print_json(d);
		} else {
			printf("%s\n", str(d, "token"));
			fprintf(stderr,
				"valid for %lld seconds, once: on the backup run sipregctl ha join "
				"TOKEN\n(the token names this node's CA %s)\n",
				num(d, "expires_in"), str(d, "ca_fingerprint"));
		}
		json_decref(d);
		return 0;
	}
	if (!strcmp(argv[0], "join")) {
		char const *token = NULL;
		cli_parse_args(argc - 1, argv + 1, "ha join", &token, 1, NULL, 0);
		json_t *d = cli_call("ha.join", json_pack("{s:s}", "token", token));
		return cli_done(d, "joined primary %s as its backup (its certificate %s)",
				str(d, "primary"), str(d, "fingerprint"));
	}
	if (!strcmp(argv[0], "promote")) {
		cli_parse_args(argc - 1, argv + 1, "ha promote", NULL, 0, NULL, 0);
		json_t *d = cli_call("ha.promote", NULL);
		return cli_done(d, "this node is the primary now (epoch %lld)", num(d, "epoch"));
	}
	cli_usage_error("ha: unknown subcommand '%s'", argv[0]);
}
