/*
 * Fuzz harness: what the other node sends on the node link, once its
 * certificate passed. The input is a stream of frames (ha/wire.h): each is
 * cut out as the link does, hellos and join requests are decoded (and a
 * hello encoded again must decode the same), and changesets (a change from
 * the primary, or a change a backup sends up) are applied to a real store
 * the way each side applies them, conflict rules included.
 */
#include "autoconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "ha/wire.h"
#include "store/replica.h"
#include "store/store.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_store.h"

static store_t *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct store_err e = { 0 };
	store = fuzz_store_open("ha");
	if (store_replica_mode(store, REPLICA_SOURCE, "fuzz", &e) < 0) {
		fprintf(stderr, "ha fuzz: %s\n", e.msg);
		abort();
	}
	return 0;
}

static void ignore(void *arg, char const *sentence)
{
	(void)arg;
	if (!sentence[0])
		abort();
}

static void frame(struct ha_frame const *f)
{
	char why[160];
	uint64_t a, b;
	struct store_err e = { 0 };
	switch (f->type) {
	case HA_HELLO: {
		struct ha_hello h, again;
		if (ha_hello_decode((char const *)f->body, f->len, &h, why, sizeof(why)) < 0)
			return;
		char *text = ha_hello_encode(&h);
		if (!text || ha_hello_decode(text, strlen(text), &again, why, sizeof(why)) < 0 ||
		    memcmp(&h, &again, sizeof(h)))
			abort(); /* what sipregd writes it must read back */
		free(text);
		return;
	}
	case HA_REGS: {
		struct ha_regs r, again;
		if (ha_regs_decode((char const *)f->body, f->len, &r, why, sizeof(why)) < 0)
			return;
		char *text = ha_regs_encode(&r);
		if (!text || ha_regs_decode(text, strlen(text), &again, why, sizeof(why)) < 0 ||
		    again.n != r.n || again.full != r.full ||
		    (r.full && (again.port != r.port || strcmp(again.host, r.host))) ||
		    (r.n && memcmp(r.regs, again.regs, r.n * sizeof(*r.regs))))
			abort(); /* what sipregd writes it must read back */
		free(again.regs);
		free(r.regs);
		free(text);
		return;
	}
	case HA_JOIN: {
		struct ha_join j;
		void *root = NULL;
		if (ha_join_decode((char const *)f->body, f->len, &j, &root, why, sizeof(why)) ==
			    0 &&
		    (!root || !j.csr_node || !j.csr_sip || !ha_node_ok(j.node)))
			abort();
		json_decref(root);
		return;
	}
	case HA_CHANGE:
	case HA_UP: {
		size_t skip = f->type == HA_CHANGE ? 16 : 8;
		if (ha_wire_u64(f, 0, &a) < 0 || f->len < skip)
			return;
		struct store_change ch = { 0 };
		store_replica_apply(store, f->type == HA_CHANGE, f->body + skip, f->len - skip, a,
				    "peer", ignore, NULL, &e);
		if (store_replica_capture(store, &ch, &e) == 1)
			free(ch.data);
		return;
	}
	default:
		(void)ha_wire_u64(f, 0, &a);
		(void)ha_wire_u64(f, 1, &b);
	}
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	size_t off = 0, used;
	char why[128];
	struct ha_frame f;
	for (unsigned n = 0; off < size && n < 64; n++) {
		if (ha_wire_frame(data + off, size - off, &f, &used, why, sizeof(why)) <= 0)
			break;
		frame(&f);
		off += used;
	}
	store_replica_journal_trim(store, 100, 86400);
	return 0;
}
