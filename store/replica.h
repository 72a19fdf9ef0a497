/*
 * Replication between two nodes, the store's side: SQLite session
 * changesets of the replicated tables, numbered in a journal on the
 * primary and queued in an outbox on a backup; a consistent snapshot
 * (VACUUM INTO) and its restore; applying a peer's changeset with the
 * conflict rule (the primary's changes win on a backup; on the primary a
 * backup's change to a phone's feature wins when it is later); the node's
 * replication state (role, epoch, pinned peer, last applied change) and
 * the data key.
 *
 * A session sees only its own connection's writes: every replicated write
 * goes through the store thread's connection, so capture after each store
 * job sees all of them.
 *
 * Thread: the store thread only.
 * Ownership: changes returned are malloc'd; store_changes_free() frees them.
 */
#ifndef SIPREG_STORE_REPLICA_H
#define SIPREG_STORE_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum store_replica_mode {
	REPLICA_OFF,	  /* standalone: nothing recorded */
	REPLICA_SOURCE,	  /* primary: every replicated table, into the journal */
	REPLICA_UPSTREAM, /* backup: phones' features and call records, into the outbox */
};

/* One change: a journal entry (seq) or an outbox entry (seq is its id). */
struct store_change {
	uint64_t seq;
	int64_t at_ms;
	size_t len;
	uint8_t *data;
};

void store_changes_free(struct store_change *c, size_t n);

/* Wall-clock milliseconds. */
int64_t store_now_ms(void);

/*
 * Starts recording in mode m (REPLICA_OFF stops). node names this node in
 * the rows it changes (changed_by). 0 or -errno with e.
 */
int store_replica_mode(store_t *s, enum store_replica_mode m, char const *node,
		       struct store_err *e);

/*
 * After a write: what the session recorded since the last call, kept in the
 * journal (with the next number) or the outbox, and copied into *out. 1 when
 * there was a change, 0 none, or a negative errno with e.
 */
int store_replica_capture(store_t *s, struct store_change *out, struct store_err *e);

/* The journal: the newest number and the oldest kept (0 when empty). */
void store_replica_journal_span(store_t *s, uint64_t *head, uint64_t *oldest);

/*
 * Journal entries after `after`, at most max. -ERANGE when the journal no
 * longer reaches back to after + 1 (a snapshot is needed).
 */
int store_replica_journal_read(store_t *s, uint64_t after, unsigned max, struct store_change **out,
			       size_t *n, struct store_err *e);

/* Keeps at most keep entries, none older than max_age_s seconds; how many went. */
int store_replica_journal_trim(store_t *s, unsigned keep, long long max_age_s);

/* A consistent copy of the database at path (mode 0600), and the journal number it holds. */
int store_replica_snapshot(store_t *s, char const *path, uint64_t *seq, struct store_err *e);

/*
 * Replaces the replicated tables with those of the snapshot at path (the
 * same schema version), records seq as applied, and drops the bindings of
 * lines that are gone. The local tables (bindings, meta, journal, outbox)
 * stay.
 */
int store_replica_restore(store_t *s, char const *path, uint64_t seq, struct store_err *e);

/* A conflict, in one sentence, for the log. */
typedef void store_conflict_f(void *arg, char const *sentence);

/*
 * Applies a peer's changeset. from_primary: on a backup, the primary's
 * change number seq, recorded as applied in the same transaction; the
 * primary's rows win. Otherwise (on the primary, a backup's change): a
 * phone's feature row changed on both sides keeps the later write (the node
 * id breaks ties); each conflict is reported through conflict. origin
 * names the node the change comes from (a change records changed_by only
 * when it differs from the row's earlier writer).
 */
int store_replica_apply(store_t *s, bool from_primary, uint8_t const *data, size_t len,
			uint64_t seq, char const *origin, store_conflict_f *conflict, void *arg,
			struct store_err *e);

/*
 * Walks a peer's changeset before SQLite reads it: only tables the sender
 * may change (from_primary: every replicated one; from a backup: DND on a
 * device, a line's forwards, new call records), this schema's column
 * counts and keys, well-formed values to the last byte. 0, or -1 with why.
 */
int store_changeset_check(store_t *s, uint8_t const *data, size_t len, bool from_primary, char *why,
			  size_t whylen);

/* Outbox entries after `after`, at most max. */
int store_replica_outbox(store_t *s, uint64_t after, unsigned max, struct store_change **out,
			 size_t *n, struct store_err *e);
/* The primary took every entry up to id. */
int store_replica_outbox_ack(store_t *s, uint64_t upto, struct store_err *e);
/* Entries waiting. */
unsigned store_replica_outbox_count(store_t *s);

/* Replication state kept in the database (keys without prefix: role, epoch, peer_fp, ...). */
bool store_replica_get(store_t *s, char const *key, char *out, size_t outsize);
int store_replica_set(store_t *s, char const *key, char const *value, struct store_err *e);

/* The key that seals secrets: read it (to send it to a joining backup) or replace it. */
void store_replica_key(store_t *s, uint8_t key[32]);
int store_replica_set_key(store_t *s, uint8_t const key[32], struct store_err *e);

#endif
