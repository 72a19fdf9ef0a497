/*
 * Fuzz harness: the control protocol. The input is one request line as a
 * client writes it to the control socket; it is checked as the server
 * checks it and, when it names a command that runs on the store thread,
 * run against a store with users, devices, lines and a trunk (in a
 * temporary directory). Commands of the main and SIP threads stop at the
 * check (the e2e suites run them).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "daemon/log.h"
#include "store/store.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz.h"

static store_t *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct store_err e = { 0 };
	store = fuzz_store_open("ctl");
	struct store_trunk_spec t = { .name = "provider",
				      .registrar = "127.0.0.3:5060",
				      .do_register = 0 };
	if (store_trunk_add(store, &t, &e) < 0) {
		fprintf(stderr, "ctl fuzz: %s\n", e.msg);
		abort();
	}
	return 0;
}

/*
 * Whether the log line depends on the password: the request described again
 * with another password must give the same line. (Looking for the password's
 * text in the line gave false alarms: a password equal to the command, to a
 * key, or to the command and the space after it is in the line anyway.)
 */
static bool line_shows_password(struct ctl_job *j, char const *line)
{
	json_t *pw = json_object_get(j->args, "password");
	if (!pw)
		return false;
	char const *now = json_string_value(pw);
	json_t *copy = json_deep_copy(j->args);
	if (!copy)
		return false;
	json_object_set_new(copy, "password",
			    json_string(now && !strcmp(now, "other") ? "else" : "other"));
	char again[512];
	ctl_describe(again, sizeof(again), j->cmd, copy);
	json_decref(copy);
	return strcmp(line, again) != 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	static unsigned long n;
	if (size > 65536)
		return 0;
	char msg[128];
	char const *code;
	struct ctl_job *j = ctl_request_parse((char const *)data, size, &code, msg, sizeof(msg));
	if (!j)
		return 0;
	char line[512];
	ctl_describe(line, sizeof(line), j->cmd, j->args);
	/*
	 * No password on its way to the log: not its key (a key is logged as
	 * ` "KEY"=`; one that merely ends in `"password` shows as
	 * `\"password"=`, which is not it), and nothing that changes with it.
	 */
	if (strstr(line, " \"password\"=") || line_shows_password(j, line))
		abort();
	/* Nothing a request holds can start a log line of its own. */
	if (strpbrk(line, "\r\n"))
		abort();
	if (j->def->store)
		j->def->store(store, j);
	json_decref(j->args);
	json_decref(j->data);
	free(j);
	if (++n % 4096 == 0) {
		struct store_err e = { 0 };
		/* What the fuzzer added goes; the fixture stays. */
		json_t *users = NULL;
		if (store_user_list(store, &users, &e) == 0) {
			size_t i;
			json_t *u;
			json_array_foreach (users, i, u) {
				char const *name = json_string_value(json_object_get(u, "name"));
				if (name && strcmp(name, "alice"))
					store_user_del(store, name, &e);
			}
		}
		json_decref(users);
	}
	return 0;
}
