/*
 * What the files of the store share: the connection, its statements (each
 * prepared once, on first use, and kept), transactions, errors, and the
 * validation of names and values. Store thread only; no file outside
 * store/ includes it.
 */
#ifndef SIPREG_STORE_DB_H
#define SIPREG_STORE_DB_H

/* A line's features, five columns (d: its device, f: its feature row). */
#define LINE_FEATURES                                                                              \
	"d.dnd, f.cfwd_all, f.cfwd_busy, f.cfwd_noanswer, coalesce(f.noanswer_timeout, 0)"
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/secret.h"
#include "store/store.h"
#include "store/validate.h"

/* Prepared statements by the address of their text (twice the statements the store has). */
#define DB_STMT_SLOTS 128
struct db_stmt_slot {
	char const *sql;
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
	struct db_stmt_slot stmts[DB_STMT_SLOTS];
	uint8_t key[SECRET_KEY_LEN];
	char realm[128];
	char keypath[1100];
	/* replication (store/replica.c) */
	void *session;	  /* sqlite3_session *, NULL when not recording */
	int replica_mode; /* enum store_replica_mode */
	char node[33];	  /* this node's id, for changed_by */
	uint64_t head;	  /* the journal's newest number */
};

struct device_row {
	char name[STORE_NAME_MAX + 1];
	char model[STORE_NAME_MAX + 1];
	char digest_user[STORE_NAME_MAX + 1];
	char auth[16];
	long long created_at, updated_at;
	int model_lines;
	char digest_algs[16];
	char qop[16];
	bool dnd;
	char transport[8];
};

/* store/replica.c: frees the session (store_close). */
void db_replica_close(store_t *s);

/* store/db.c */
/* Runs sql (no rows); a failure is logged and set in e as "cannot WHAT: ...". */
int db_exec(store_t *s, char const *sql, struct store_err *e, char const *what);
/* Seals the key check with s->key (what tells a wrong key file at open). */
int db_key_check_write(store_t *s, struct store_err *e);
int db_error(store_t *s, struct store_err *e, char const *what);
sqlite3_stmt *db_stmt(store_t *s, char const *sql);
void db_bind_text(sqlite3_stmt *st, int i, char const *v);
int db_run(store_t *s, sqlite3_stmt *st, struct store_err *e, char const *what);
int db_tx_begin(store_t *s, struct store_err *e);
int db_tx_end(store_t *s, int err, struct store_err *e);
/*
 * Steps st: true while it gives a row. At the end *err is untouched when
 * every row was read, or a database error (logged, e set) when a step failed.
 */
bool db_row(store_t *s, sqlite3_stmt *st, int *err, struct store_err *e, char const *what);
/* The end of a listing: st reset; arr in *out (0), or freed when err is an error (err). */
int db_list_done(sqlite3_stmt *st, int err, json_t *arr, json_t **out);
char const *db_col_text(sqlite3_stmt *st, int i);
json_t *db_json_text_or_null(sqlite3_stmt *st, int i);
int db_meta_get(store_t *s, char const *key, char *out, size_t outsize);
int db_meta_set(store_t *s, char const *key, char const *value, struct store_err *e);

/* store/devices.c */
bool store_device_get(store_t *s, char const *name, struct device_row *row);
int store_model_lines(store_t *s, char const *model);

/* store/trunks.c */
int store_trunk_aad(char *out, size_t n, char const *name);

/* store/users.c */
int store_users_apply_realm(store_t *s, char const *realm, struct store_err *e);
bool store_user_exists(store_t *s, char const *name);
bool store_device_of_user(store_t *s, char const *user, char *out, size_t outsize);

#endif
