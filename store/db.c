/*
 * The connection: opening (files of mode 0600, WAL, foreign keys), the
 * migrations, the key that seals secrets, the meta table, prepared
 * statements and transactions. Every table has a file of its own with its
 * own statements; this one holds only what they all use.
 */
#include "autoconfig.h"

#include "store/store.h"
#include "store/db.h"

#include <ctype.h>
#include <netdb.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "store/migrations.h"
#include "store/secret.h"

#define LOG_TAG "store"

static char const SQL_META_GET[] = "SELECT value FROM meta WHERE key = ?1";
static char const SQL_META_SET[] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
				   "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
static char const SQL_COUNTS[] =
	"SELECT (SELECT count(*) FROM user), (SELECT count(*) FROM device), "
	"(SELECT count(*) FROM line), (SELECT count(*) FROM binding)";
static char const SQL_BEGIN[] = "BEGIN IMMEDIATE";
static char const SQL_COMMIT[] = "COMMIT";
static char const SQL_ROLLBACK[] = "ROLLBACK";
int db_error(store_t *s, struct store_err *e, char const *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	log_error("%s: %s (%d)", what, sqlite3_errmsg(s->db), rc);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		if (rc == SQLITE_CONSTRAINT_TRIGGER)
			return store_seterr(e, -EINVAL, "%s", sqlite3_errmsg(s->db));
		return store_seterr(e, -EEXIST, "refused by the database: %s",
				    sqlite3_errmsg(s->db));
	}
	return store_seterr(e, -EIO, "database error while trying to %s: %s", what,
			    sqlite3_errmsg(s->db));
}

/*
 * The statement for sql (a string constant of one of the store's files:
 * its address is the key), reset and with no bindings; prepared on its
 * first use and kept until the store closes. NULL when it cannot be
 * prepared (logged once per attempt): SQLite answers SQLITE_MISUSE to every
 * call on it, which the callers report as a database error.
 */
sqlite3_stmt *db_stmt(store_t *s, char const *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % DB_STMT_SLOTS;
	for (size_t i = 0; i < DB_STMT_SLOTS; i++, h = (h + 1) % DB_STMT_SLOTS) {
		struct db_stmt_slot *slot = &s->stmts[h];
		if (slot->sql == sql) {
			sqlite3_reset(slot->st);
			sqlite3_clear_bindings(slot->st);
			return slot->st;
		}
		if (slot->sql)
			continue;
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st,
				       NULL) != SQLITE_OK) {
			log_error("cannot prepare \"%s\": %s", sql, sqlite3_errmsg(s->db));
			slot->st = NULL;
			return NULL;
		}
		slot->sql = sql;
		return slot->st;
	}
	log_error("more than %d statements: \"%s\" is not prepared", DB_STMT_SLOTS, sql);
	return NULL;
}

void db_bind_text(sqlite3_stmt *st, int i, char const *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows. */
int db_run(store_t *s, sqlite3_stmt *st, struct store_err *e, char const *what)
{
	int rc = sqlite3_step(st);
	int err = 0;
	if (rc != SQLITE_DONE)
		err = db_error(s, e, what);
	sqlite3_reset(st);
	return err;
}

int db_tx_begin(store_t *s, struct store_err *e)
{
	return db_run(s, db_stmt(s, SQL_BEGIN), e, "begin a transaction");
}

int db_tx_end(store_t *s, int err, struct store_err *e)
{
	if (err < 0) {
		db_run(s, db_stmt(s, SQL_ROLLBACK), NULL, "roll back");
		return err;
	}
	return db_run(s, db_stmt(s, SQL_COMMIT), e, "commit");
}

bool db_row(store_t *s, sqlite3_stmt *st, int *err, struct store_err *e, char const *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE && *err == 0)
		*err = db_error(s, e, what);
	return false;
}

int db_list_done(sqlite3_stmt *st, int err, json_t *arr, json_t **out)
{
	sqlite3_reset(st);
	if (err < 0) {
		json_decref(arr);
		return err;
	}
	*out = arr;
	return 0;
}

char const *db_col_text(sqlite3_stmt *st, int i)
{
	return (char const *)sqlite3_column_text(st, i);
}

json_t *db_json_text_or_null(sqlite3_stmt *st, int i)
{
	char const *v = db_col_text(st, i);
	return v ? json_string(v) : json_null();
}

/* ---- meta ---- */

int db_meta_get(store_t *s, char const *key, char *out, size_t outsize)
{
	sqlite3_stmt *st = db_stmt(s, SQL_META_GET);
	int found = 0;
	db_bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, outsize, "%s", db_col_text(st, 0) ? db_col_text(st, 0) : "");
		found = 1;
	}
	sqlite3_reset(st);
	return found;
}

int db_meta_set(store_t *s, char const *key, char const *value, struct store_err *e)
{
	sqlite3_stmt *st = db_stmt(s, SQL_META_SET);
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	return db_run(s, st, e, "write store metadata");
}

/* ---- open, migrations, key ---- */

int db_exec(store_t *s, char const *sql, struct store_err *e, char const *what)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_seterr(e, -EIO, "cannot %s: %s", what, msg ? msg : "unknown error");
		log_error("cannot %s: %s", what, msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int pragma_int(store_t *s, char const *sql)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_schema_version(store_t *s)
{
	return pragma_int(s, "PRAGMA user_version");
}

static int migrate(store_t *s, struct store_err *e)
{
	int version = store_schema_version(s);
	if (version < 0)
		return store_seterr(e, -EIO, "cannot read the schema version");
	if (version > (int)store_n_migrations)
		return store_seterr(e, -EINVAL,
				    "the database has schema version %d, newer than this sipregd "
				    "knows (%u)",
				    version, store_n_migrations);
	for (unsigned v = (unsigned)version; v < store_n_migrations; v++) {
		char setv[64];
		int err;
		snprintf(setv, sizeof(setv), "PRAGMA user_version = %u", v + 1);
		if ((err = db_exec(s, "BEGIN IMMEDIATE", e, "begin a migration")) < 0)
			return err;
		if ((err = db_exec(s, store_migrations[v], e, "apply a schema migration")) < 0 ||
		    (err = db_exec(s, setv, e, "record the schema version")) < 0) {
			db_exec(s, "ROLLBACK", NULL, "roll back");
			return err;
		}
		if ((err = db_exec(s, "COMMIT", e, "commit a migration")) < 0)
			return err;
		log_notice("database schema migrated to version %u", v + 1);
	}
	return 0;
}

#define KEY_CHECK_TEXT "sipreg key check"

static int load_key(store_t *s, char const *dbpath, struct store_err *e)
{
	char keypath[1100], check[512], why[256];
	uint8_t blob[256];
	int have_check, err;

	snprintf(keypath, sizeof(keypath), "%s.key", dbpath);
	snprintf(s->keypath, sizeof(s->keypath), "%s", keypath);
	have_check = db_meta_get(s, "key_check", check, sizeof(check));
	/* A new key is made only while nothing has been sealed with an old one. */
	err = secret_key_load(s->key, keypath, !have_check, why, sizeof(why));
	if (err == -ENOENT)
		return store_seterr(e, err,
				    "key file %s is missing: the stored passwords cannot be read "
				    "without it (restore it from a backup)",
				    keypath);
	if (err < 0)
		return store_seterr(e, err, "%s", why);
	if (have_check) {
		char plain[64];
		int n = text_unhex(blob, sizeof(blob), check);
		if (n < 0 ||
		    secret_open(plain, sizeof(plain), s->key, "key-check", blob, (size_t)n) < 0)
			return store_seterr(e, -EINVAL,
					    "key file %s does not belong to database %s", keypath,
					    dbpath);
		return 0;
	}
	return db_key_check_write(s, e);
}

int db_key_check_write(store_t *s, struct store_err *e)
{
	char check[512];
	uint8_t *sealed;
	size_t len;
	int err;
	if ((err = secret_seal(&sealed, &len, s->key, "key-check", KEY_CHECK_TEXT,
			       strlen(KEY_CHECK_TEXT))) < 0)
		return store_seterr(e, err, "cannot seal the key check");
	text_hex(check, sealed, len);
	free(sealed);
	return db_meta_set(s, "key_check", check, e);
}

static int ensure_nonce_secret(store_t *s, struct store_err *e)
{
	char hex[80];
	uint8_t raw[32];
	if (db_meta_get(s, "nonce_secret", hex, sizeof(hex)))
		return 0;
	if (secret_random(raw, sizeof(raw)) < 0)
		return store_seterr(e, -EIO, "cannot get random bytes");
	text_hex(hex, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return db_meta_set(s, "nonce_secret", hex, e);
}

/*
 * The database and its journal hold the password digests (HA1), which are as
 * good as the passwords, and the key file unseals the passwords: none may
 * be open to the group or others. A new database is created 0600 (SQLite
 * gives its -wal and -shm files the database's mode).
 */
static int check_private(char const *path, char const *what, struct store_err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : store_seterr(e, -errno, "cannot read %s %s: %s", what,
						      path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return store_seterr(e, -EINVAL, "%s %s is not a regular file", what, path);
	if (st.st_mode & 077)
		return store_seterr(
			e, -EPERM,
			"%s %s is open to the group or others (mode %04o): it holds secrets. "
			"Fix it with: chmod 600 %s",
			what, path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

static int check_files(char const *path, struct store_err *e)
{
	/* The key file's mode is secret_key_load()'s to check. */
	static char const *const suffix[] = { "", "-wal", "-shm" };
	static char const *const what[] = { "database", "database journal", "database journal" };
	char name[PATH_MAX];
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", path, suffix[i]) >= sizeof(name))
			return store_seterr(e, -ENAMETOOLONG, "the database path is too long");
		int err = check_private(name, what[i], e);
		if (err < 0)
			return err;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return store_seterr(e, -errno, "cannot create database %s: %s", path,
				    strerror(errno));
	return 0;
}

int store_open(store_t **out, char const *path, char const *realm, struct store_err *e)
{
	int err = 0;
	store_t *s = calloc(1, sizeof(*s));

	if (!s)
		return store_seterr(e, -ENOMEM, "out of memory");
	if (strcmp(path, ":memory:") != 0 && (err = check_files(path, e)) < 0)
		goto out;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		err = store_seterr(e, -EIO, "cannot open database %s: %s", path,
				   s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	if ((err = db_exec(s, "PRAGMA journal_mode = WAL", e, "switch to WAL")) < 0 ||
	    (err = db_exec(s, "PRAGMA synchronous = FULL", e, "set synchronous")) < 0 ||
	    (err = db_exec(s, "PRAGMA foreign_keys = ON", e, "enable foreign keys")) < 0)
		goto out;
	if ((err = migrate(s, e)) < 0)
		goto out;
	if ((err = load_key(s, path, e)) < 0 || (err = store_users_apply_realm(s, realm, e)) < 0 ||
	    (err = ensure_nonce_secret(s, e)) < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	store_close(s);
	return err;
}

void store_close(store_t *s)
{
	if (!s)
		return;
	db_replica_close(s);
	for (size_t i = 0; i < DB_STMT_SLOTS; i++)
		sqlite3_finalize(s->stmts[i].st);
	if (s->db) {
		/* Folds the WAL back into the database so the file stands alone. */
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (sqlite3_close(s->db) != SQLITE_OK)
			log_error("closing the database: %s", sqlite3_errmsg(s->db));
	}
	OPENSSL_cleanse(s->key, sizeof(s->key));
	free(s);
}

int store_counts(store_t *s, json_t **out, struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = db_stmt(s, SQL_COUNTS);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = json_pack("{s:i, s:i, s:i, s:i}", "users", sqlite3_column_int(st, 0),
				 "devices", sqlite3_column_int(st, 1), "lines",
				 sqlite3_column_int(st, 2), "bindings", sqlite3_column_int(st, 3));
	else
		err = db_error(s, e, "count rows");
	sqlite3_reset(st);
	return err;
}

int store_nonce_secret(store_t *s, char *out, size_t outsize, struct store_err *e)
{
	if (!db_meta_get(s, "nonce_secret", out, outsize))
		return store_seterr(e, -ENOENT, "no nonce secret");
	return 0;
}

int store_next_run(store_t *s, char const *node, unsigned long long *run, struct store_err *e)
{
	char key[96], value[32];
	snprintf(key, sizeof(key), "runs:%s", node);
	unsigned long long n =
		db_meta_get(s, key, value, sizeof(value)) ? strtoull(value, NULL, 10) : 0;
	snprintf(value, sizeof(value), "%llu", ++n);
	int err = db_meta_set(s, key, value, e);
	if (err == 0)
		*run = n;
	return err;
}
