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
#include "tests/fuzz/fuzz.h"

static store_t *store;
static char dir[] = "/tmp/sipreg-fuzz-ctl-XXXXXX";

/* The temporary store goes when the process ends. */
static void remove_dir(void)
{
	char path[64];
	char const *files[] = { "sipreg.db", "sipreg.db-wal", "sipreg.db-shm", "sipreg.db.key" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[64];
	struct store_err e = { 0 };
	log_set_level(LOG_LVL_ERROR);
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	snprintf(path, sizeof(path), "%s/sipreg.db", dir);
	if (store_open(&store, path, "sipreg", &e) < 0 ||
	    store_user_add(store, "alice", "fuzz-secret-1", &e) < 0) {
		fprintf(stderr, "ctl fuzz: %s\n", e.msg);
		abort();
	}
	struct store_device_spec d = { .name = "SEP001122334455",
				       .model = "cisco-7965",
				       .digest_user = "alice" };
	struct store_line_spec l = { .device = "SEP001122334455", .dn = "100" };
	struct store_trunk_spec t = { .name = "provider",
				      .registrar = "127.0.0.3:5060",
				      .do_register = 0 };
	if (store_device_add(store, &d, &e) < 0 || store_line_add(store, &l, NULL, &e) < 0 ||
	    store_trunk_add(store, &t, &e) < 0) {
		fprintf(stderr, "ctl fuzz: %s\n", e.msg);
		abort();
	}
	return 0;
}

/* True when a key or value other than the password holds pw. */
static bool elsewhere(json_t *args, char const *pw)
{
	char const *key;
	json_t *v;
	json_object_foreach (args, key, v) {
		if (strstr(key, pw) || (strcmp(key, "password") && json_is_string(v) &&
					strstr(json_string_value(v), pw)))
			return true;
	}
	return false;
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
	/* No password on its way to the log (unless the request also says it elsewhere). */
	char const *pw = json_string_value(json_object_get(j->args, "password"));
	if (strstr(line, "\"password\"=") || (pw && strlen(pw) >= 4 && strstr(line, pw) &&
					      !strstr(j->cmd, pw) && !elsewhere(j->args, pw)))
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
