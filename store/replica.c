/*
 * Replication, the store's side (see store/replica.h). SQLite's session
 * extension records the rows the store thread's connection changes; after
 * each store job the recorded changeset is numbered into ha_journal (on
 * the primary) or queued in ha_outbox (on a backup). Applying a peer's
 * changeset goes through the same connection, so a backup's change the
 * primary takes is recorded again there and flows back like any other.
 *
 * The session extension is in Debian's libsqlite3; its declarations need
 * the two defines below before sqlite3.h.
 */
#include "autoconfig.h"

#define SQLITE_ENABLE_SESSION	     1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

#include "store/replica.h"
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

#define LOG_TAG "store"

/* The tables both nodes share, in the order a restore fills them (parents first). */
static char const *const REPLICATED[] = { "user",  "device",	"line",	 "feature",
					  "trunk", "trunk_did", "route", "cdr" };
#define N_REPLICATED (sizeof(REPLICATED) / sizeof(REPLICATED[0]))
/* What a backup sends up: what phones change there, and its call records. */
static char const *const UPSTREAM[] = { "device", "feature", "cdr" };
#define N_UPSTREAM (sizeof(UPSTREAM) / sizeof(UPSTREAM[0]))

static char const SQL_JOURNAL_ADD[] = "INSERT INTO ha_journal (seq, at, data) VALUES (?1, ?2, ?3)";
static char const SQL_JOURNAL_SPAN[] = "SELECT coalesce(max(seq), 0), coalesce(min(seq), 0) FROM "
				       "ha_journal";
static char const SQL_JOURNAL_READ[] =
	"SELECT seq, at, data FROM ha_journal WHERE seq > ?1 ORDER BY seq LIMIT ?2";
static char const SQL_JOURNAL_TRIM[] = "DELETE FROM ha_journal WHERE seq <= ?1 - ?2 OR at < ?3";
static char const SQL_OUTBOX_ADD[] = "INSERT INTO ha_outbox (at, data) VALUES (?1, ?2)";
static char const SQL_OUTBOX_READ[] =
	"SELECT id, at, data FROM ha_outbox WHERE id > ?1 ORDER BY id LIMIT ?2";
static char const SQL_OUTBOX_ACK[] = "DELETE FROM ha_outbox WHERE id <= ?1";
static char const SQL_OUTBOX_COUNT[] = "SELECT count(*) FROM ha_outbox";

int64_t store_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_changes_free(struct store_change *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++)
		free(c[i].data);
	free(c);
}

void db_replica_close(store_t *s)
{
	if (s->session)
		sqlite3session_delete(s->session);
	s->session = NULL;
}

/* A new session on the tables of the mode. */
static int session_open(store_t *s, struct store_err *e)
{
	sqlite3_session *ss = NULL;
	char const *const *tables = s->replica_mode == REPLICA_SOURCE ? REPLICATED : UPSTREAM;
	size_t n = s->replica_mode == REPLICA_SOURCE ? N_REPLICATED : N_UPSTREAM;
	if (sqlite3session_create(s->db, "main", &ss) != SQLITE_OK)
		return store_seterr(e, -ENOMEM, "cannot start recording changes");
	for (size_t i = 0; i < n; i++)
		if (sqlite3session_attach(ss, tables[i]) != SQLITE_OK) {
			sqlite3session_delete(ss);
			return store_seterr(e, -EIO, "cannot record changes of table %s",
					    tables[i]);
		}
	s->session = ss;
	return 0;
}

int store_replica_mode(store_t *s, enum store_replica_mode m, char const *node, struct store_err *e)
{
	uint64_t oldest;
	db_replica_close(s);
	s->replica_mode = m;
	snprintf(s->node, sizeof(s->node), "%s", node ? node : "");
	store_replica_journal_span(s, &s->head, &oldest);
	if (m == REPLICA_SOURCE) {
		/* A promoted backup numbers on from the last change it applied. */
		char v[32];
		if (store_replica_get(s, "applied", v, sizeof(v))) {
			uint64_t applied = strtoull(v, NULL, 10);
			if (applied > s->head)
				s->head = applied;
		}
	}
	return m == REPLICA_OFF ? 0 : session_open(s, e);
}

static int blob_change(sqlite3_stmt *st, struct store_change *c)
{
	int len = sqlite3_column_bytes(st, 2);
	c->seq = (uint64_t)sqlite3_column_int64(st, 0);
	c->at_ms = sqlite3_column_int64(st, 1);
	c->len = (size_t)len;
	c->data = malloc(len > 0 ? (size_t)len : 1);
	if (!c->data)
		return -ENOMEM;
	if (len > 0)
		memcpy(c->data, sqlite3_column_blob(st, 2), (size_t)len);
	return 0;
}

int store_replica_capture(store_t *s, struct store_change *out, struct store_err *e)
{
	int len = 0, err = 0;
	void *data = NULL;
	if (!s->session || sqlite3session_isempty(s->session))
		return 0;
	if (sqlite3session_changeset(s->session, &len, &data) != SQLITE_OK) {
		/* What was recorded cannot be read: start again rather than send half. */
		log_error("the changes just stored cannot be read for replication");
		db_replica_close(s);
		session_open(s, e);
		return store_seterr(e, -EIO, "cannot read the recorded changes");
	}
	db_replica_close(s);
	if ((err = session_open(s, e)) < 0 || len <= 0) {
		sqlite3_free(data);
		return err;
	}
	int64_t now = store_now_ms();
	sqlite3_stmt *st;
	if (s->replica_mode == REPLICA_SOURCE) {
		st = db_stmt(s, SQL_JOURNAL_ADD);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(s->head + 1));
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_blob(st, 3, data, len, SQLITE_STATIC);
	} else {
		st = db_stmt(s, SQL_OUTBOX_ADD);
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_blob(st, 2, data, len, SQLITE_STATIC);
	}
	err = db_run(s, st, e, "keep a change for the other node");
	if (err < 0) {
		sqlite3_free(data);
		return err;
	}
	out->seq = s->replica_mode == REPLICA_SOURCE ? ++s->head
						     : (uint64_t)sqlite3_last_insert_rowid(s->db);
	out->at_ms = now;
	out->len = (size_t)len;
	out->data = malloc((size_t)len);
	if (!out->data) {
		sqlite3_free(data);
		return store_seterr(e, -ENOMEM, "out of memory");
	}
	memcpy(out->data, data, (size_t)len);
	sqlite3_free(data);
	return 1;
}

void store_replica_journal_span(store_t *s, uint64_t *head, uint64_t *oldest)
{
	sqlite3_stmt *st = db_stmt(s, SQL_JOURNAL_SPAN);
	*head = *oldest = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		*head = (uint64_t)sqlite3_column_int64(st, 0);
		*oldest = (uint64_t)sqlite3_column_int64(st, 1);
	}
	if (st)
		sqlite3_reset(st);
	if (s->head > *head)
		*head = s->head;
}

static int read_changes(store_t *s, char const *sql, uint64_t after, unsigned max,
			struct store_change **out, size_t *n, struct store_err *e)
{
	int err = 0;
	size_t cap = max ? max : 1;
	struct store_change *c = calloc(cap, sizeof(*c));
	*n = 0;
	*out = NULL;
	if (!c)
		return store_seterr(e, -ENOMEM, "out of memory");
	sqlite3_stmt *st = db_stmt(s, sql);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	sqlite3_bind_int(st, 2, (int)max);
	while (*n < cap && db_row(s, st, &err, e, "read the changes kept for the other node"))
		if ((err = blob_change(st, &c[(*n)++])) < 0)
			break;
	sqlite3_reset(st);
	if (err < 0) {
		store_changes_free(c, *n);
		*n = 0;
		return err;
	}
	*out = c;
	return 0;
}

int store_replica_journal_read(store_t *s, uint64_t after, unsigned max, struct store_change **out,
			       size_t *n, struct store_err *e)
{
	uint64_t head, oldest;
	store_replica_journal_span(s, &head, &oldest);
	*out = NULL;
	*n = 0;
	if (after > head)
		return store_seterr(e, -ERANGE, "the backup has changes this node never made");
	if (after == head)
		return 0;
	if (!oldest || oldest > after + 1)
		return store_seterr(e, -ERANGE, "the journal no longer reaches back to change %llu",
				    (unsigned long long)(after + 1));
	return read_changes(s, SQL_JOURNAL_READ, after, max, out, n, e);
}

int store_replica_journal_trim(store_t *s, unsigned keep, long long max_age_s)
{
	sqlite3_stmt *st = db_stmt(s, SQL_JOURNAL_TRIM);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->head);
	sqlite3_bind_int64(st, 2, keep);
	sqlite3_bind_int64(st, 3, store_now_ms() - max_age_s * 1000);
	if (db_run(s, st, NULL, "trim the journal") < 0)
		return 0;
	return sqlite3_changes(s->db);
}

int store_replica_snapshot(store_t *s, char const *path, uint64_t *seq, struct store_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return store_seterr(e, -errno, "cannot create the snapshot file %s: %s", path,
				    strerror(errno));
	close(fd);
	/* VACUUM INTO wants an empty file or none: the one made 0600 above is empty. */
	sqlite3_stmt *st = NULL;
	int err = 0;
	if (sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK) {
		err = db_error(s, e, "prepare a snapshot");
	} else {
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			err = db_error(s, e, "write a snapshot");
	}
	sqlite3_finalize(st);
	if (err < 0) {
		unlink(path);
		return err;
	}
	*seq = s->head;
	return 0;
}

int store_replica_restore(store_t *s, char const *path, uint64_t seq, struct store_err *e)
{
	char sql[256];
	int err = 0, version = -1;
	sqlite3_stmt *st;

	if (s->session)
		sqlite3session_enable(s->session, 0);
	if ((err = db_exec(s, "PRAGMA foreign_keys = OFF", e, "prepare the restore")) < 0)
		goto out;
	st = db_stmt(s, "ATTACH DATABASE ?1 AS snap");
	sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
	if ((err = db_run(s, st, e, "open the snapshot")) < 0)
		goto fk;
	if (sqlite3_prepare_v2(s->db, "PRAGMA snap.user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(s->db, "PRAGMA snap.quick_check", -1, &st, NULL) == SQLITE_OK) {
		char const *r = sqlite3_step(st) == SQLITE_ROW
					? (char const *)sqlite3_column_text(st, 0)
					: NULL;
		bool ok = r && !strcmp(r, "ok");
		sqlite3_finalize(st);
		if (!ok) {
			err = store_seterr(e, -EPROTO, "the snapshot is not a sound database");
			goto detach;
		}
	}
	if (version != store_schema_version(s)) {
		err = store_seterr(e, -EPROTO, "the snapshot has schema version %d, this node %d",
				   version, store_schema_version(s));
		goto detach;
	}
	if ((err = db_tx_begin(s, e)) < 0)
		goto detach;
	for (size_t i = N_REPLICATED; i-- > 0 && err == 0;) {
		snprintf(sql, sizeof(sql), "DELETE FROM main.\"%s\"", REPLICATED[i]);
		err = db_exec(s, sql, e, "empty a table for the snapshot");
	}
	for (size_t i = 0; i < N_REPLICATED && err == 0; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO main.\"%s\" SELECT * FROM snap.\"%s\"",
			 REPLICATED[i], REPLICATED[i]);
		err = db_exec(s, sql, e, "copy a table from the snapshot");
	}
	if (err == 0)
		err = db_exec(s, "DELETE FROM binding WHERE dn NOT IN (SELECT dn FROM line)", e,
			   "drop the bindings of lines that are gone");
	if (err == 0) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)seq);
		err = store_replica_set(s, "applied", v, e);
	}
	err = db_tx_end(s, err, e);
detach:
	db_exec(s, "DETACH DATABASE snap", NULL, "close the snapshot");
fk:
	db_exec(s, "PRAGMA foreign_keys = ON", NULL, "enable foreign keys");
out:
	if (s->session)
		sqlite3session_enable(s->session, 1);
	return err;
}

/* ---- applying a peer's changes ---- */

#define MAX_RESTAMP 64

struct apply_ctx {
	store_t *s;
	bool from_primary;
	char const *origin;
	store_conflict_f *conflict;
	void *arg;
	/* rows taken from the backup whose change did not name its writer */
	struct {
		char table[8];
		char key[80];
	} restamp[MAX_RESTAMP];
	size_t n_restamp;
};

/* The column numbers of changed_at and changed_by in table, or -1. */
static void stamp_columns(store_t *s, char const *table, int *at, int *by)
{
	char sql[128];
	sqlite3_stmt *st;
	*at = *by = -1;
	if (strcmp(table, "device") && strcmp(table, "feature"))
		return;
	snprintf(sql, sizeof(sql), "SELECT cid, name FROM pragma_table_info('%s')", table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char const *name = (char const *)sqlite3_column_text(st, 1);
		if (name && !strcmp(name, "changed_at"))
			*at = sqlite3_column_int(st, 0);
		else if (name && !strcmp(name, "changed_by"))
			*by = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
}

static void stamp_text(char *out, size_t len, long long at, char const *by)
{
	time_t t = (time_t)(at / 1000);
	struct tm tm;
	char when[32] = "never";
	if (at > 0 && gmtime_r(&t, &tm))
		snprintf(when + strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm),
			 sizeof(when) - 19, ".%03lld", at % 1000);
	snprintf(out, len, "%s UTC on node %s", when, by && by[0] ? by : "(none)");
}

/* The value of column i in the incoming change (new values, else old ones). */
static sqlite3_value *incoming(sqlite3_changeset_iter *it, int op, int i)
{
	sqlite3_value *v = NULL;
	if (op != SQLITE_DELETE && sqlite3changeset_new(it, i, &v) == SQLITE_OK && v)
		return v;
	if (op != SQLITE_INSERT && sqlite3changeset_old(it, i, &v) == SQLITE_OK)
		return v;
	return NULL;
}

static int on_conflict(void *ctx, int type, sqlite3_changeset_iter *it)
{
	struct apply_ctx *a = ctx;
	char const *table;
	int ncol, op, indirect;
	char key[80] = "", msg[512];
	sqlite3_value *pk = NULL;

	sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
	pk = incoming(it, op, 0);
	if (pk && sqlite3_value_text(pk))
		log_quote(key, sizeof(key), (char const *)sqlite3_value_text(pk));
	if (type == SQLITE_CHANGESET_NOTFOUND)
		return SQLITE_CHANGESET_OMIT; /* removed here meanwhile: nothing to change */
	if (type == SQLITE_CHANGESET_CONSTRAINT || type == SQLITE_CHANGESET_FOREIGN_KEY) {
		snprintf(msg, sizeof(msg),
			 "a replicated change of %s %s breaks a constraint here: "
			 "left out",
			 table, key[0] ? key : "");
		if (a->conflict)
			a->conflict(a->arg, msg);
		return SQLITE_CHANGESET_OMIT;
	}
	/* DATA or CONFLICT: the row here differs from what the change expects. */
	if (a->from_primary)
		return SQLITE_CHANGESET_REPLACE;
	int at_col, by_col;
	stamp_columns(a->s, table, &at_col, &by_col);
	if (at_col < 0 || by_col < 0)
		return SQLITE_CHANGESET_OMIT; /* a call record already taken: once is enough */
	sqlite3_value *here_at = NULL, *here_by = NULL;
	sqlite3changeset_conflict(it, at_col, &here_at);
	sqlite3changeset_conflict(it, by_col, &here_by);
	sqlite3_value *in_at = incoming(it, op, at_col), *in_by = incoming(it, op, by_col);
	long long t_here = here_at ? sqlite3_value_int64(here_at) : 0;
	long long t_in = in_at ? sqlite3_value_int64(in_at) : 0;
	char const *n_here = here_by ? (char const *)sqlite3_value_text(here_by) : NULL;
	char const *n_in = in_by ? (char const *)sqlite3_value_text(in_by) : NULL;
	if (!n_in || !*n_in)
		n_in = a->origin;
	int cmp = t_in != t_here ? (t_in > t_here ? 1 : -1)
				 : strcmp(n_in ? n_in : "", n_here ? n_here : "");
	char s_here[96], s_in[96];
	stamp_text(s_here, sizeof(s_here), t_here, n_here);
	stamp_text(s_in, sizeof(s_in), t_in, n_in);
	if (cmp == 0)
		return SQLITE_CHANGESET_OMIT; /* the same write seen twice */
	snprintf(msg, sizeof(msg),
		 "conflict on %s %s: kept the change of %s over the one of %s (the later write "
		 "wins)",
		 table, key, cmp > 0 ? s_in : s_here, cmp > 0 ? s_here : s_in);
	if (a->conflict)
		a->conflict(a->arg, msg);
	if (cmp > 0 && !in_by && pk && a->n_restamp < MAX_RESTAMP) {
		snprintf(a->restamp[a->n_restamp].table, sizeof(a->restamp[0].table), "%s", table);
		snprintf(a->restamp[a->n_restamp].key, sizeof(a->restamp[0].key), "%s",
			 (char const *)sqlite3_value_text(pk));
		a->n_restamp++;
	}
	return cmp > 0 ? SQLITE_CHANGESET_REPLACE : SQLITE_CHANGESET_OMIT;
}

/* The rows taken from the backup now name it as their writer. */
static int restamp(struct apply_ctx *a, struct store_err *e)
{
	static char const SQL_DEVICE[] = "UPDATE device SET changed_by = ?2 WHERE name = ?1";
	static char const SQL_FEATURE[] = "UPDATE feature SET changed_by = ?2 WHERE dn = ?1";
	int err = 0;
	for (size_t i = 0; i < a->n_restamp && err == 0; i++) {
		sqlite3_stmt *st = db_stmt(
			a->s, !strcmp(a->restamp[i].table, "device") ? SQL_DEVICE : SQL_FEATURE);
		db_bind_text(st, 1, a->restamp[i].key);
		db_bind_text(st, 2, a->origin);
		err = db_run(a->s, st, e, "record who changed a row");
	}
	return err;
}

int store_replica_apply(store_t *s, bool from_primary, uint8_t const *data, size_t len,
			uint64_t seq, char const *origin, store_conflict_f *conflict, void *arg,
			struct store_err *e)
{
	struct apply_ctx a = { .s = s,
			       .from_primary = from_primary,
			       .origin = origin ? origin : "",
			       .conflict = conflict,
			       .arg = arg };
	int err;
	char why[160];
	if (len > (size_t)INT32_MAX)
		return store_seterr(e, -EINVAL, "a change too large");
	if (store_changeset_check(s, data, len, from_primary, why, sizeof(why)) < 0)
		return store_seterr(e, -EPROTO, "a change from node %s was refused: %s",
				    origin && *origin ? origin : "(unknown)", why);
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	/* On a backup the primary's changes are not sent back up. */
	if (from_primary && s->session)
		sqlite3session_enable(s->session, 0);
	int rc = sqlite3changeset_apply(s->db, (int)len, (void *)data, NULL, on_conflict, &a);
	if (from_primary && s->session)
		sqlite3session_enable(s->session, 1);
	if (rc != SQLITE_OK)
		err = store_seterr(e, rc == SQLITE_CORRUPT ? -EINVAL : -EIO,
				   "a change from the other node cannot be applied: %s",
				   sqlite3_errstr(rc));
	if (err == 0 && a.n_restamp)
		err = restamp(&a, e);
	if (err == 0 && from_primary) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)seq);
		err = store_replica_set(s, "applied", v, e);
	}
	return db_tx_end(s, err, e);
}

int store_replica_outbox(store_t *s, uint64_t after, unsigned max, struct store_change **out,
			 size_t *n, struct store_err *e)
{
	return read_changes(s, SQL_OUTBOX_READ, after, max, out, n, e);
}

int store_replica_outbox_ack(store_t *s, uint64_t upto, struct store_err *e)
{
	sqlite3_stmt *st = db_stmt(s, SQL_OUTBOX_ACK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
	return db_run(s, st, e, "forget the changes the primary took");
}

unsigned store_replica_outbox_count(store_t *s)
{
	sqlite3_stmt *st = db_stmt(s, SQL_OUTBOX_COUNT);
	unsigned n = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = (unsigned)sqlite3_column_int(st, 0);
	if (st)
		sqlite3_reset(st);
	return n;
}

bool store_replica_get(store_t *s, char const *key, char *out, size_t outsize)
{
	char k[64];
	snprintf(k, sizeof(k), "ha:%s", key);
	return db_meta_get(s, k, out, outsize);
}

int store_replica_set(store_t *s, char const *key, char const *value, struct store_err *e)
{
	char k[64];
	snprintf(k, sizeof(k), "ha:%s", key);
	return db_meta_set(s, k, value, e);
}

void store_replica_key(store_t *s, uint8_t key[32])
{
	memcpy(key, s->key, SECRET_KEY_LEN);
}

int store_replica_set_key(store_t *s, uint8_t const key[32], struct store_err *e)
{
	char tmp[1200];
	int err;
	if (!memcmp(key, s->key, SECRET_KEY_LEN))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.new", s->keypath);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return store_seterr(e, -errno, "cannot write key file %s: %s", tmp,
				    strerror(errno));
	ssize_t w = write(fd, key, SECRET_KEY_LEN);
	if (w != SECRET_KEY_LEN || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return store_seterr(e, -EIO, "cannot write key file %s", tmp);
	}
	close(fd);
	uint8_t old[SECRET_KEY_LEN];
	memcpy(old, s->key, sizeof(old));
	memcpy(s->key, key, SECRET_KEY_LEN);
	if ((err = db_key_check_write(s, e)) < 0 || rename(tmp, s->keypath) < 0) {
		if (err == 0)
			err = store_seterr(e, -errno, "cannot replace key file %s: %s", s->keypath,
					   strerror(errno));
		memcpy(s->key, old, sizeof(old));
		db_key_check_write(s, NULL);
		unlink(tmp);
	}
	OPENSSL_cleanse(old, sizeof(old));
	return err;
}
