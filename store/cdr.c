/*
 * Call records: written in batches by the SIP thread's write-behind, listed
 * for the administrator.
 */
#include "autoconfig.h"

#include "store/store.h"
#include "store/db.h"
#include "store/replica.h"

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

static char const SQL_CDR_INSERT[] =
	"INSERT INTO cdr (started_at, answered_at, ended_at, caller, caller_device, "
	"callee, target, forwarded, result, duration, call_id) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
/*
 * On a backup: below every id so far, so a record made here never takes the
 * number of one the primary makes (the primary numbers upwards).
 */
static char const SQL_CDR_INSERT_BACKUP[] =
	"INSERT INTO cdr (started_at, answered_at, ended_at, caller, caller_device, "
	"callee, target, forwarded, result, duration, call_id, id) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	"(SELECT min(coalesce(min(id), 0), 0) - 1 FROM cdr))";
static char const SQL_CDR_LIST[] =
	"SELECT id, started_at, answered_at, ended_at, caller, caller_device, "
	"callee, target, forwarded, result, duration, call_id FROM cdr "
	"WHERE started_at >= ?1 ORDER BY ended_at DESC, id DESC LIMIT ?2";
/* ---- call records ---- */

static void bind_time(sqlite3_stmt *st, int i, long long t)
{
	if (t > 0)
		sqlite3_bind_int64(st, i, (sqlite3_int64)t);
	else
		sqlite3_bind_null(st, i);
}

int store_cdr_add(store_t *s, struct store_cdr const *c, size_t n, struct store_err *e)
{
	int err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		sqlite3_stmt *st = db_stmt(
			s, s->replica_mode == REPLICA_UPSTREAM ? SQL_CDR_INSERT_BACKUP : SQL_CDR_INSERT);
		bind_time(st, 1, c[i].started_at);
		bind_time(st, 2, c[i].answered_at);
		bind_time(st, 3, c[i].ended_at);
		db_bind_text(st, 4, c[i].caller);
		db_bind_text(st, 5, c[i].caller_device[0] ? c[i].caller_device : NULL);
		db_bind_text(st, 6, c[i].callee);
		db_bind_text(st, 7, c[i].target[0] ? c[i].target : NULL);
		db_bind_text(st, 8, c[i].forwarded[0] ? c[i].forwarded : NULL);
		db_bind_text(st, 9, c[i].result);
		long long d = c[i].answered_at > 0 && c[i].ended_at >= c[i].answered_at
				      ? c[i].ended_at - c[i].answered_at
				      : 0;
		sqlite3_bind_int64(st, 10, (sqlite3_int64)d);
		db_bind_text(st, 11, c[i].call_id[0] ? c[i].call_id : NULL);
		err = db_run(s, st, e, "write a call record");
	}
	return db_tx_end(s, err, e);
}

static json_t *int_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? json_null()
		       : json_integer((json_int_t)sqlite3_column_int64(st, i));
}

int store_cdr_list(store_t *s, long long since, unsigned limit, json_t **out, struct store_err *e)
{
	int err = 0;
	json_t *arr = json_array();
	sqlite3_stmt *st = db_stmt(s, SQL_CDR_LIST);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	while (db_row(s, st, &err, e, "list the call records")) {
		json_t *o = json_pack(
			"{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "id",
			(json_int_t)sqlite3_column_int64(st, 0), "call_id",
			db_json_text_or_null(st, 11), "started_at", int_or_null(st, 1),
			"answered_at", int_or_null(st, 2), "ended_at", int_or_null(st, 3), "caller",
			db_json_text_or_null(st, 4), "caller_device", db_json_text_or_null(st, 5),
			"callee", db_json_text_or_null(st, 6), "target",
			db_json_text_or_null(st, 7), "forwarded", db_json_text_or_null(st, 8),
			"result", db_json_text_or_null(st, 9), "duration",
			(json_int_t)sqlite3_column_int64(st, 10));
		json_array_append_new(arr, o);
	}
	return db_list_done(st, err, arr, out);
}
