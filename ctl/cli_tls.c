/*
 * sipregctl's tls commands: the lab CA made and renewed by sipregd in its
 * [tls] dir, the certificates shown, the Cisco trust list written.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/cli.h"

static int tls_make(int argc, char **argv, bool init)
{
	char const *what = init ? "tls init" : "tls renew";
	struct opt opts[] = { { "--cn", true, NULL, false },
			      { "--san", true, NULL, false },
			      { "--days", true, NULL, false },
			      { "--force", false, NULL, false } };
	cli_parse_args(argc, argv, what, NULL, 0, opts, init ? 4 : 3);
	json_t *args = json_object();
	cli_set_opt(args, "cn", &opts[0]);
	cli_set_opt(args, "san", &opts[1]);
	if (opts[2].set) {
		long long days;
		if (!cli_whole_number(opts[2].value, 1, 36500, &days))
			cli_usage_error("%s: --days must be a whole number from 1 to 36500", what);
		json_object_set_new(args, "days", json_integer(days));
	}
	if (opts[3].set)
		json_object_set_new(args, "force", json_true());
	json_t *d = cli_call(init ? "tls.init" : "tls.renew", args);
	if (cli_opt_json) {
		cli_print_json(d);
		json_decref(d);
		return 0;
	}
	printf("%s: certificates in %s\n", init ? "lab CA created" : "server certificates renewed",
	       json_string_value(json_object_get(d, "dir")));
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(d, "certificates"), i, c) {
		if (json_integer_value(json_object_get(c, "index")))
			continue;
		printf("  %-12s %s, %s, until %s\n", json_string_value(json_object_get(c, "file")),
		       json_string_value(json_object_get(c, "subject")),
		       json_string_value(json_object_get(c, "key")),
		       json_string_value(json_object_get(c, "not_after")));
	}
	if (json_is_true(json_object_get(d, "restart_needed")))
		printf("restart sipregd for its TLS listener to use them\n");
	printf("phones: give them ITLFile.tlv from that directory (a phone holding another "
	       "trust list must have it erased first)\n");
	json_decref(d);
	return 0;
}

static int tls_show(int argc, char **argv)
{
	cli_parse_args(argc, argv, "tls show", NULL, 0, NULL, 0);
	json_t *d = cli_call("tls.show", NULL);
	if (cli_opt_json) {
		cli_print_json(d);
		json_decref(d);
		return 0;
	}
	size_t i;
	json_t *c;
	printf("directory  %s\n", json_string_value(json_object_get(json_object_get(d, "tls"),
								    "dir")));
	json_array_foreach (json_object_get(d, "certificates"), i, c) {
		long long left = json_integer_value(json_object_get(c, "days_left"));
		printf("\n%s%s\n", json_string_value(json_object_get(c, "file")),
		       json_integer_value(json_object_get(c, "index")) ? " (chain)" : "");
		printf("  use          %s\n", json_string_value(json_object_get(c, "use")));
		printf("  subject      %s\n", json_string_value(json_object_get(c, "subject")));
		printf("  issuer       %s\n", json_string_value(json_object_get(c, "issuer")));
		char const *san = json_string_value(json_object_get(c, "san"));
		if (san && *san)
			printf("  names        %s\n", san);
		printf("  key          %s%s\n", json_string_value(json_object_get(c, "key")),
		       json_is_true(json_object_get(c, "has_key")) ? " (private key in the file)"
								    : "");
		printf("  sha256       %s\n", json_string_value(json_object_get(c, "sha256")));
		printf("  sha1         %s\n", json_string_value(json_object_get(c, "sha1")));
		printf("  expires      %s (%s%lld days)\n",
		       json_string_value(json_object_get(c, "not_after")),
		       left < 0 ? "EXPIRED " : left < 30 ? "SOON, in " : "in ", left < 0 ? -left : left);
	}
	json_decref(d);
	return 0;
}

static int tls_itl(int argc, char **argv)
{
	struct opt opts[] = { { "--out", true, NULL, false },
			      { "--hash", true, NULL, false },
			      { "--device", true, NULL, false } };
	cli_parse_args(argc, argv, "tls itl", NULL, 0, opts, NCOLS(opts));
	if (opts[1].set && strcmp(opts[1].value, "sha1") && strcmp(opts[1].value, "sha512"))
		cli_usage_error("tls itl: --hash is sha1 or sha512");
	json_t *args = json_object();
	cli_set_opt(args, "hash", &opts[1]);
	cli_set_opt(args, "device", &opts[2]);
	json_t *d = cli_call("tls.itl", args);
	int rc = 0;
	if (opts[0].set) {
		char const *b64 = json_string_value(json_object_get(d, "data"));
		size_t len = b64 ? strlen(b64) : 0;
		unsigned char *bin = malloc(len / 4 * 3 + 3);
		int n = bin ? EVP_DecodeBlock(bin, (unsigned char const *)b64, (int)len) : -1;
		n -= len >= 1 && b64[len - 1] == '=';
		n -= len >= 2 && b64[len - 2] == '=';
		int fd = n >= 0 ? open(opts[0].value, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
				: -1;
		if (fd < 0 || write(fd, bin, (size_t)n) != n || close(fd) < 0) {
			fprintf(stderr, "sipregctl: cannot write %s: %s\n", opts[0].value,
				n < 0 ? "the answer holds no trust list" : strerror(errno));
			rc = EXIT_REFUSED;
		}
		free(bin);
	}
	if (cli_opt_json) {
		json_object_del(d, "data");
		cli_print_json(d);
	} else if (!rc) {
		printf("%s: %lld bytes, %s header hash", json_string_value(json_object_get(d, "file")),
		       (long long)json_integer_value(json_object_get(d, "size")),
		       json_string_value(json_object_get(d, "hash")));
		char const *path = json_string_value(json_object_get(d, "path"));
		if (path && *path)
			printf(", in %s", path);
		if (opts[0].set)
			printf(", written to %s", opts[0].value);
		printf("\n");
	}
	json_decref(d);
	return rc;
}

int cmd_tls(int argc, char **argv)
{
	if (argc < 1)
		cli_usage_error("tls: say init, renew, show or itl");
	if (!strcmp(argv[0], "init"))
		return tls_make(argc - 1, argv + 1, true);
	if (!strcmp(argv[0], "renew"))
		return tls_make(argc - 1, argv + 1, false);
	if (!strcmp(argv[0], "show"))
		return tls_show(argc - 1, argv + 1);
	if (!strcmp(argv[0], "itl"))
		return tls_itl(argc - 1, argv + 1);
	cli_usage_error("tls: unknown subcommand '%s'", argv[0]);
}
