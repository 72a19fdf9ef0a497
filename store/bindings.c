/*
 * Registrations written behind: the SIP thread's batches applied in one
 * transaction, read back at start, listed for the administrator.
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

static char const SQL_BINDING_UPSERT[] =
	"INSERT INTO binding (dn, device, contact, received, transport, "
	"instance, user_agent, call_id, cseq, expires_at, updated_at, derived) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
	"ON CONFLICT (dn, contact) DO UPDATE SET device = excluded.device, "
	"received = excluded.received, transport = excluded.transport, "
	"instance = excluded.instance, user_agent = excluded.user_agent, "
	"call_id = excluded.call_id, cseq = excluded.cseq, "
	"expires_at = excluded.expires_at, updated_at = excluded.updated_at, "
	"derived = excluded.derived";
static char const SQL_BINDING_DELETE[] = "DELETE FROM binding WHERE dn = ?1 AND contact = ?2";
static char const SQL_BINDING_PURGE[] = "DELETE FROM binding WHERE expires_at <= ?1 OR "
					"lower(coalesce(transport, 'udp')) <> 'udp'";
static char const SQL_BINDING_ALL[] =
	"SELECT dn, device, contact, received, transport, instance, user_agent, "
	"call_id, cseq, expires_at, derived FROM binding";
int store_binding_apply(store_t *s, struct store_binding const *b, size_t n, struct store_err *e)
{
	int err;
	long long now = (long long)time(NULL);
	if (n == 0)
		return 0;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		sqlite3_stmt *st;
		if (b[i].op == STORE_BINDING_DELETE) {
			st = db_stmt(s, SQL_BINDING_DELETE);
			db_bind_text(st, 1, b[i].dn);
			db_bind_text(st, 2, b[i].contact);
			err = db_run(s, st, e, "delete a binding");
			continue;
		}
		st = db_stmt(s, SQL_BINDING_UPSERT);
		db_bind_text(st, 1, b[i].dn);
		db_bind_text(st, 2, b[i].device);
		db_bind_text(st, 3, b[i].contact);
		db_bind_text(st, 4, b[i].source[0] ? b[i].source : NULL);
		db_bind_text(st, 5, b[i].transport[0] ? b[i].transport : NULL);
		db_bind_text(st, 6, b[i].instance[0] ? b[i].instance : NULL);
		db_bind_text(st, 7, b[i].user_agent[0] ? b[i].user_agent : NULL);
		db_bind_text(st, 8, b[i].call_id);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)b[i].cseq);
		sqlite3_bind_int64(st, 10, b[i].expires_at);
		sqlite3_bind_int64(st, 11, now);
		sqlite3_bind_int(st, 12, b[i].derived);
		err = db_run(s, st, e, "write a binding");
		/* A line deleted meanwhile: its binding has nowhere to go. */
		if (err == -EEXIST) {
			err = 0;
			e->code = 0;
		}
	}
	return db_tx_end(s, err, e);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int i)
{
	text_copy(dst, n, db_col_text(st, i));
}

int store_binding_load(store_t *s, long long now,
		       void (*fn)(struct store_binding const *b, void *arg), void *arg,
		       struct store_err *e)
{
	int err;
	sqlite3_stmt *st = db_stmt(s, SQL_BINDING_PURGE);
	sqlite3_bind_int64(st, 1, now);
	if ((err = db_run(s, st, e, "purge old bindings")) < 0)
		return err;
	st = db_stmt(s, SQL_BINDING_ALL);
	while (db_row(s, st, &err, e, "read the bindings")) {
		struct store_binding b = { .op = STORE_BINDING_UPSERT };
		copy_col(b.dn, sizeof(b.dn), st, 0);
		copy_col(b.device, sizeof(b.device), st, 1);
		copy_col(b.contact, sizeof(b.contact), st, 2);
		copy_col(b.source, sizeof(b.source), st, 3);
		copy_col(b.transport, sizeof(b.transport), st, 4);
		copy_col(b.instance, sizeof(b.instance), st, 5);
		copy_col(b.user_agent, sizeof(b.user_agent), st, 6);
		copy_col(b.call_id, sizeof(b.call_id), st, 7);
		b.cseq = (unsigned long)sqlite3_column_int64(st, 8);
		b.expires_at = sqlite3_column_int64(st, 9);
		b.derived = sqlite3_column_int(st, 10) != 0;
		fn(&b, arg);
	}
	sqlite3_reset(st);
	return err;
}
