/*
 * The store's side of replication between two real stores: what a primary
 * records reaches a backup intact, the journal's reach and trimming,
 * snapshots, the conflict rule, what a backup may send up, the outbox, and
 * the structural check of a peer's changeset.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/replica.h"
#include "store/store.h"
#include "tests/unit/tap.h"

static char dir[64];
static store_t *p, *b; /* primary, backup */
static struct store_err e;
static unsigned conflicts;
static char last_conflict[512];

static store_t *open_store(char const *name)
{
	char path[128];
	store_t *s = NULL;
	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, "sipreg", &e), 0);
	return s;
}

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sipreg-test-replica-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	char cmd[128];
	store_close(p);
	store_close(b);
	p = b = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A primary with a phone on line 100 and an empty backup. */
static void pair(void)
{
	char cmd[160];
	store_close(p);
	store_close(b);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
	p = open_store("p");
	b = open_store("b");
	CU_ASSERT_EQUAL_FATAL(store_replica_mode(p, REPLICA_SOURCE, "node-a", &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_replica_mode(b, REPLICA_UPSTREAM, "node-b", &e), 0);
	conflicts = 0;
	last_conflict[0] = '\0';
}

static void on_conflict(void *arg, char const *sentence)
{
	(void)arg;
	conflicts++;
	snprintf(last_conflict, sizeof(last_conflict), "%s", sentence);
}

/* The primary's last change, applied on the backup. */
static void ship(void)
{
	struct store_change c = { 0 };
	CU_ASSERT_EQUAL_FATAL(store_replica_capture(p, &c, &e), 1);
	CU_ASSERT_EQUAL(
		store_replica_apply(b, true, c.data, c.len, c.seq, "node-a", on_conflict, NULL, &e),
		0);
	free(c.data);
}

static void add_phone(store_t *s)
{
	struct store_device_spec d = { .name = "SEP001122334455",
				       .model = "cisco-7965",
				       .digest_user = "alice" };
	struct store_line_spec l = { .device = "SEP001122334455", .dn = "100" };
	CU_ASSERT_EQUAL(store_user_add(s, "alice", "secret-pw-1", &e), 0);
	CU_ASSERT_EQUAL(store_device_add(s, &d, &e), 0);
	CU_ASSERT_EQUAL(store_line_add(s, &l, NULL, &e), 0);
}

static bool dnd_of(store_t *s)
{
	json_t *o = NULL;
	CU_ASSERT_EQUAL_FATAL(store_device_show(s, "SEP001122334455", &o, &e), 0);
	char const *v = json_string_value(json_object_get(o, "dnd"));
	bool on = v && !strcmp(v, "on");
	json_decref(o);
	return on;
}

static void test_changes_reach_backup(void)
{
	pair();
	add_phone(p);
	ship(); /* user, device and line: one job's writes, one change */
	json_t *lines = NULL;
	CU_ASSERT_EQUAL(store_line_list(b, &lines, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(lines), 1);
	json_decref(lines);
	char v[32] = "";
	CU_ASSERT_TRUE(store_replica_get(b, "applied", v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "1");
	struct store_change c = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(p, &c, &e), 0); /* nothing new */
	CU_ASSERT_EQUAL(store_replica_capture(b, &c, &e), 0); /* applied: not sent back */
}

static void test_journal_reach_and_trim(void)
{
	pair();
	add_phone(p);
	struct store_change c = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(p, &c, &e), 1);
	free(c.data);
	for (int i = 0; i < 5; i++) {
		struct store_line_features f = { .dn = "100",
						 .dnd = i % 2,
						 .noanswer_timeout = -1 };
		CU_ASSERT_EQUAL(store_line_set(p, &f, &e), 0);
		CU_ASSERT_EQUAL(store_replica_capture(p, &c, &e), 1);
		CU_ASSERT_EQUAL(c.seq, (uint64_t)i + 2);
		free(c.data);
	}
	struct store_change *ch = NULL;
	size_t n = 0;
	CU_ASSERT_EQUAL(store_replica_journal_read(p, 2, 100, &ch, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(ch[0].seq, 3);
	store_changes_free(ch, n);
	CU_ASSERT_EQUAL(store_replica_journal_read(p, 6, 100, &ch, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(store_replica_journal_read(p, 9, 100, &ch, &n, &e), -ERANGE);
	CU_ASSERT_EQUAL(store_replica_journal_trim(p, 2, 86400), 4);
	CU_ASSERT_EQUAL(store_replica_journal_read(p, 1, 100, &ch, &n, &e), -ERANGE);
	CU_ASSERT_EQUAL(store_replica_journal_read(p, 4, 100, &ch, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 2);
	store_changes_free(ch, n);
}

static void test_snapshot_restore(void)
{
	char snap[128];
	uint64_t seq = 0;
	pair();
	add_phone(p);
	struct store_change c = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(p, &c, &e), 1);
	free(c.data);
	snprintf(snap, sizeof(snap), "%s/snap", dir);
	CU_ASSERT_EQUAL(store_replica_snapshot(p, snap, &seq, &e), 0);
	CU_ASSERT_EQUAL(seq, 1);
	CU_ASSERT_EQUAL(access(snap, R_OK), 0);
	CU_ASSERT_EQUAL(store_replica_snapshot(p, snap, &seq, &e), -EEXIST); /* never over a file */
	/* the backup had a line of its own: gone; its meta stays */
	struct store_device_spec d = { .name = "own",
				       .model = "third-party-basic",
				       .digest_user = "bob" };
	CU_ASSERT_EQUAL(store_user_add(b, "bob", "secret-pw-2", &e), 0);
	CU_ASSERT_EQUAL(store_device_add(b, &d, &e), 0);
	CU_ASSERT_EQUAL(store_replica_set(b, "role", "backup", &e), 0);
	CU_ASSERT_EQUAL(store_replica_restore(b, snap, seq, &e), 0);
	json_t *devs = NULL;
	CU_ASSERT_EQUAL(store_device_list(b, &devs, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(devs), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(devs, 0), "name")),
			       "SEP001122334455");
	json_decref(devs);
	char v[32] = "";
	CU_ASSERT_TRUE(store_replica_get(b, "role", v, sizeof(v)));
	CU_ASSERT_STRING_EQUAL(v, "backup");
	unlink(snap);
}

/* Both change DND apart; the backup's later write wins on the primary, with a sentence. */
static void test_conflict_later_wins(void)
{
	pair();
	add_phone(p);
	ship();
	struct store_line_features on = { .dn = "100", .dnd = 1, .noanswer_timeout = -1 };
	struct store_line_features off = { .dn = "100", .dnd = 0, .noanswer_timeout = -1 };
	CU_ASSERT_EQUAL(store_line_set(p, &on, &e), 0); /* primary first */
	struct store_change pc = { 0 }, bc = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(p, &pc, &e), 1);
	usleep(5000);
	/* the backup later: each phone change is a store job of its own, a change of its own */
	struct store_change bc2 = { 0 };
	CU_ASSERT_EQUAL(store_line_set(b, &on, &e), 0);
	CU_ASSERT_EQUAL(store_replica_capture(b, &bc, &e), 1);
	CU_ASSERT_EQUAL(store_line_set(b, &off, &e), 0);
	CU_ASSERT_EQUAL(store_replica_capture(b, &bc2, &e), 1);
	CU_ASSERT_EQUAL(store_replica_outbox_count(b), 2);
	CU_ASSERT_EQUAL(
		store_replica_apply(p, false, bc.data, bc.len, 0, "node-b", on_conflict, NULL, &e),
		0);
	CU_ASSERT_TRUE(conflicts >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_conflict, "on node node-b over the one of"));
	CU_ASSERT_EQUAL(store_replica_apply(p, false, bc2.data, bc2.len, 0, "node-b", on_conflict,
					    NULL, &e),
			0);
	CU_ASSERT_FALSE(dnd_of(p));
	/* the primary's older change reaches the backup: the primary wins there */
	CU_ASSERT_EQUAL(store_replica_apply(b, true, pc.data, pc.len, pc.seq, "node-a", on_conflict,
					    NULL, &e),
			0);
	CU_ASSERT_TRUE(dnd_of(b));
	/* and what the primary took (journaled again) brings the backup back to the later write */
	struct store_change again = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(p, &again, &e), 1);
	CU_ASSERT_EQUAL(store_replica_apply(b, true, again.data, again.len, again.seq, "node-a",
					    on_conflict, NULL, &e),
			0);
	CU_ASSERT_FALSE(dnd_of(b));
	/* an older write from the backup loses */
	unsigned before = conflicts;
	CU_ASSERT_EQUAL(store_line_set(p, &on, &e), 0);
	CU_ASSERT_EQUAL(
		store_replica_apply(p, false, bc.data, bc.len, 0, "node-b", on_conflict, NULL, &e),
		0);
	CU_ASSERT_TRUE(dnd_of(p));
	CU_ASSERT_TRUE(conflicts > before);
	CU_ASSERT_EQUAL(store_replica_outbox_ack(b, bc2.seq, &e), 0);
	CU_ASSERT_EQUAL(store_replica_outbox_count(b), 0);
	free(pc.data);
	free(bc.data);
	free(bc2.data);
	free(again.data);
}

/* A backup's call records take ids below the primary's: no collision going up. */
static void test_backup_call_records(void)
{
	pair();
	add_phone(p);
	ship();
	struct store_cdr r = { .call_id = "node-b-1-1", .started_at = 100, .ended_at = 101 };
	snprintf(r.callee, sizeof(r.callee), "200");
	snprintf(r.result, sizeof(r.result), "unavailable");
	CU_ASSERT_EQUAL(store_cdr_add(p, &r, 1, &e), 0); /* the primary's: id 1 */
	struct store_change pc = { 0 }, bc = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(p, &pc, &e), 1);
	CU_ASSERT_EQUAL(store_cdr_add(b, &r, 1, &e), 0); /* the backup's: id -1 */
	CU_ASSERT_EQUAL(store_replica_capture(b, &bc, &e), 1);
	CU_ASSERT_EQUAL(
		store_replica_apply(p, false, bc.data, bc.len, 0, "node-b", on_conflict, NULL, &e),
		0);
	CU_ASSERT_EQUAL(store_replica_apply(b, true, pc.data, pc.len, pc.seq, "node-a", on_conflict,
					    NULL, &e),
			0);
	json_t *pl = NULL, *bl = NULL;
	CU_ASSERT_EQUAL(store_cdr_list(p, 0, 0, &pl, &e), 0);
	CU_ASSERT_EQUAL(store_cdr_list(b, 0, 0, &bl, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(pl), 2);
	CU_ASSERT_EQUAL(json_array_size(bl), 2);
	json_decref(pl);
	json_decref(bl);
	free(pc.data);
	free(bc.data);
}

/* A backup sends up only phones' changes; anything else is refused whole. */
static void test_upstream_limits(void)
{
	pair();
	CU_ASSERT_EQUAL(store_replica_mode(b, REPLICA_SOURCE, "node-b", &e), 0);
	add_phone(b); /* as if a backup had added a user, a device and a line */
	struct store_change bc = { 0 };
	CU_ASSERT_EQUAL(store_replica_capture(b, &bc, &e), 1);
	char why[160];
	CU_ASSERT_EQUAL(store_changeset_check(p, bc.data, bc.len, false, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not replicated that way"));
	CU_ASSERT_EQUAL(
		store_replica_apply(p, false, bc.data, bc.len, 0, "node-b", on_conflict, NULL, &e),
		-EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "was refused"));
	CU_ASSERT_EQUAL(store_changeset_check(p, bc.data, bc.len, true, why, sizeof(why)), 0);
	/* cuts of a valid changeset: read to their end, never past it; most refused */
	size_t refused = 0;
	for (size_t n = 0; n < bc.len; n++)
		refused += store_changeset_check(p, bc.data, n, true, why, sizeof(why)) < 0;
	CU_ASSERT_TRUE(refused > bc.len * 9 / 10);
	free(bc.data);
}

static void test_data_key(void)
{
	uint8_t kp[32], kb[32];
	pair();
	add_phone(p);
	ship();
	store_replica_key(p, kp);
	CU_ASSERT_EQUAL(store_replica_set_key(b, kp, &e), 0);
	store_replica_key(b, kb);
	CU_ASSERT_EQUAL(memcmp(kp, kb, 32), 0);
	/* the password sealed by the primary opens on the backup: its digest is derived again */
	char path[128];
	store_close(b);
	b = NULL;
	snprintf(path, sizeof(path), "%s/b.db", dir);
	CU_ASSERT_EQUAL(store_open(&b, path, "other-realm", &e), 0);
}

static CU_TestInfo tests[] = {
	{ "a primary's change applied on a backup", test_changes_reach_backup },
	{ "the journal: numbers, reach, trim", test_journal_reach_and_trim },
	{ "snapshot and restore keep the backup's own state", test_snapshot_restore },
	{ "a conflict: the later write wins, said in a sentence", test_conflict_later_wins },
	{ "a backup's call records do not collide going up", test_backup_call_records },
	{ "a backup may send up only phones' changes", test_upstream_limits },
	{ "the data key moves with the join", test_data_key },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("replica", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
