/*
 * A store for the harnesses that need one: in a fresh directory under
 * /dev/shm where there is one (every change commits and syncs: memory is
 * quicker than disk), else /tmp, with alice's phone on line 100; removed
 * when the process ends.
 */
#ifndef SIPREG_FUZZ_STORE_H
#define SIPREG_FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "store/store.h"

static char fuzz_store_dir[64];

static void fuzz_store_remove(void)
{
	char path[96];
	char const *files[] = { "sipreg.db", "sipreg.db-wal", "sipreg.db-shm", "sipreg.db.key" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_store_dir, files[i]);
		unlink(path);
	}
	rmdir(fuzz_store_dir);
}

static inline store_t *fuzz_store_open(char const *name)
{
	char path[96];
	store_t *s = NULL;
	struct store_err e = { 0 };
	log_set_level(LOG_LVL_ERROR);
	snprintf(fuzz_store_dir, sizeof(fuzz_store_dir), "/dev/shm/sipreg-fuzz-%s-XXXXXX", name);
	if (!mkdtemp(fuzz_store_dir)) {
		snprintf(fuzz_store_dir, sizeof(fuzz_store_dir), "/tmp/sipreg-fuzz-%s-XXXXXX",
			 name);
		if (!mkdtemp(fuzz_store_dir))
			abort();
	}
	atexit(fuzz_store_remove);
	snprintf(path, sizeof(path), "%s/sipreg.db", fuzz_store_dir);
	struct store_device_spec d = { .name = "SEP001122334455",
				       .model = "cisco-7965",
				       .digest_user = "alice" };
	struct store_line_spec l = { .device = "SEP001122334455", .dn = "100" };
	if (store_open(&s, path, "sipreg", &e) < 0 ||
	    store_user_add(s, "alice", "fuzz-secret-1", &e) < 0 ||
	    store_device_add(s, &d, &e) < 0 || store_line_add(s, &l, NULL, &e) < 0) {
		fprintf(stderr, "%s fuzz: %s\n", name, e.msg);
		abort();
	}
	return s;
}

#endif
