/*
 * Lines: a DN on a device at an index, and its features (DND, call
 * forwarding), set by the administrator or by the phone.
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

static char const SQL_LINE_GET[] =
	"SELECT l.dn, l.device, l.idx, l.display, l.label, d.model, "
	"(SELECT count(*) FROM binding b WHERE b.dn = l.dn), " LINE_FEATURES
	" FROM line l JOIN device d ON d.name = l.device "
	"LEFT JOIN feature f ON f.dn = l.dn WHERE l.dn = ?1";
static char const SQL_LINE_AT_INDEX[] = "SELECT dn FROM line WHERE device = ?1 AND idx = ?2";
static char const SQL_LINE_INDEXES[] = "SELECT idx FROM line WHERE device = ?1 ORDER BY idx";
static char const SQL_LINE_INSERT[] =
	"INSERT INTO line (dn, device, idx, display, label, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static char const SQL_LINE_DELETE[] = "DELETE FROM line WHERE dn = ?1";
static char const SQL_LINE_LIST[] =
	"SELECT l.dn, l.device, l.idx, l.display, l.label, "
	"(SELECT count(*) FROM binding b WHERE b.dn = l.dn), " LINE_FEATURES
	" FROM line l JOIN device d ON d.name = l.device "
	"LEFT JOIN feature f ON f.dn = l.dn ORDER BY l.device, l.idx";
static char const SQL_FEATURE_GET[] =
	"SELECT " LINE_FEATURES ", l.device FROM line l "
	"JOIN device d ON d.name = l.device LEFT JOIN feature f ON f.dn = l.dn "
	"WHERE l.dn = ?1";
static char const SQL_FEATURE_UPSERT[] =
	"INSERT INTO feature (dn, cfwd_all, cfwd_busy, cfwd_noanswer, "
	"noanswer_timeout, changed_at, changed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	"ON CONFLICT (dn) DO UPDATE SET cfwd_all = excluded.cfwd_all, cfwd_busy = "
	"excluded.cfwd_busy, cfwd_noanswer = excluded.cfwd_noanswer, "
	"noanswer_timeout = excluded.noanswer_timeout, changed_at = excluded.changed_at, "
	"changed_by = excluded.changed_by";
static char const SQL_DEVICE_DND[] = "UPDATE device SET dnd = ?2, updated_at = ?3, "
				     "changed_at = ?4, changed_by = ?5 WHERE name = ?1";
/* ---- lines ---- */

static json_t *line_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:i, s:o, s:o}", "dn", db_col_text(st, 0), "device",
			 db_col_text(st, 1), "index", sqlite3_column_int(st, 2), "display",
			 db_json_text_or_null(st, 3), "label", db_json_text_or_null(st, 4));
}

/* Adds the five LINE_FEATURES columns from column i on. */
static void features_json(json_t *o, sqlite3_stmt *st, int i)
{
	json_object_set_new(o, "dnd", json_string(sqlite3_column_int(st, i) ? "on" : "off"));
	json_object_set_new(o, "cfwd_all", db_json_text_or_null(st, i + 1));
	json_object_set_new(o, "cfwd_busy", db_json_text_or_null(st, i + 2));
	json_object_set_new(o, "cfwd_noanswer", db_json_text_or_null(st, i + 3));
	json_object_set_new(o, "noanswer_timeout", json_integer(sqlite3_column_int(st, i + 4)));
}

/* The lowest index from 1 to lines not yet used on the device, or 0. */
static unsigned free_index(store_t *s, char const *device, int lines)
{
	unsigned want = 1;
	sqlite3_stmt *st = db_stmt(s, SQL_LINE_INDEXES);
	db_bind_text(st, 1, device);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((unsigned)sqlite3_column_int(st, 0) != want)
			break;
		want++;
	}
	sqlite3_reset(st);
	return want <= (unsigned)lines ? want : 0;
}

int store_line_add(store_t *s, struct store_line_spec const *spec, unsigned *index_out,
		   struct store_err *e)
{
	char device[STORE_NAME_MAX + 1];
	struct device_row row;
	int err;

	if ((err = store_check_dn(spec->dn, e)) < 0 ||
	    (err = store_check_text("display", spec->display, e)) < 0 ||
	    (err = store_check_text("label", spec->label, e)) < 0)
		return err;
	store_device_name_canon(device, sizeof(device), spec->device);
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (!store_device_get(s, device, &row)) {
		err = store_seterr(e, -ENOENT, "no device %s", device);
		goto out;
	}
	sqlite3_stmt *st = db_stmt(s, SQL_LINE_GET);
	db_bind_text(st, 1, spec->dn);
	if (sqlite3_step(st) == SQLITE_ROW) {
		err = store_seterr(e, -EEXIST, "DN %s is already line %d of device %s", spec->dn,
				   sqlite3_column_int(st, 2), db_col_text(st, 1));
		sqlite3_reset(st);
		goto out;
	}
	sqlite3_reset(st);
	unsigned idx = spec->index;
	if (idx == 0) {
		idx = free_index(s, device, row.model_lines);
		if (!idx) {
			err = store_seterr(e, -EINVAL,
					   "device %s has no free line: model %s has %d line%s",
					   device, row.model, row.model_lines,
					   row.model_lines == 1 ? "" : "s");
			goto out;
		}
	} else if (idx > (unsigned)row.model_lines) {
		err = store_seterr(e, -EINVAL, "line index %u is beyond the %d line%s of model %s",
				   idx, row.model_lines, row.model_lines == 1 ? "" : "s",
				   row.model);
		goto out;
	} else {
		st = db_stmt(s, SQL_LINE_AT_INDEX);
		db_bind_text(st, 1, device);
		sqlite3_bind_int(st, 2, (int)idx);
		if (sqlite3_step(st) == SQLITE_ROW) {
			err = store_seterr(e, -EEXIST, "line %u of device %s is already DN %s", idx,
					   device, db_col_text(st, 0));
			sqlite3_reset(st);
			goto out;
		}
		sqlite3_reset(st);
	}
	st = db_stmt(s, SQL_LINE_INSERT);
	db_bind_text(st, 1, spec->dn);
	db_bind_text(st, 2, device);
	sqlite3_bind_int(st, 3, (int)idx);
	db_bind_text(st, 4, spec->display && spec->display[0] ? spec->display : NULL);
	db_bind_text(st, 5, spec->label && spec->label[0] ? spec->label : NULL);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	if ((err = db_run(s, st, e, "add the line")) == 0 && index_out)
		*index_out = idx;
out:
	return db_tx_end(s, err, e);
}

int store_line_del(store_t *s, char const *dn, struct store_err *e)
{
	int err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = db_stmt(s, SQL_LINE_DELETE);
	db_bind_text(st, 1, dn);
	if ((err = db_run(s, st, e, "delete the line")) == 0 && sqlite3_changes(s->db) == 0)
		err = store_seterr(e, -ENOENT, "no line with DN %s", dn);
	return db_tx_end(s, err, e);
}

int store_line_list(store_t *s, json_t **out, struct store_err *e)
{
	int err = 0;
	json_t *arr = json_array();
	sqlite3_stmt *st = db_stmt(s, SQL_LINE_LIST);
	while (db_row(s, st, &err, e, "list the lines")) {
		json_t *o = line_json(st);
		json_object_set_new(o, "bindings", json_integer(sqlite3_column_int(st, 5)));
		features_json(o, st, 6);
		json_array_append_new(arr, o);
	}
	return db_list_done(st, err, arr, out);
}

int store_line_show(store_t *s, char const *dn, json_t **out, struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = db_stmt(s, SQL_LINE_GET);
	db_bind_text(st, 1, dn);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = line_json(st);
		json_object_set_new(*out, "model", json_string(db_col_text(st, 5)));
		json_object_set_new(*out, "bindings", json_integer(sqlite3_column_int(st, 6)));
		features_json(*out, st, 7);
	} else {
		err = store_seterr(e, -ENOENT, "no line with DN %s", dn);
	}
	sqlite3_reset(st);
	return err;
}

/* ---- other listings ---- */

/* One forwarding setting: NULL keeps old, "" or "off" clears, else a DN. */
static int forward_value(char const *what, char const *dn, char const *v, char const *old,
			 char const **out, struct store_err *e)
{
	if (!v) {
		*out = old;
		return 0;
	}
	if (!v[0] || !strcmp(v, "off")) {
		*out = NULL;
		return 0;
	}
	if (store_check_dn(v, e) < 0)
		return store_seterr(e, -EINVAL, "%s: '%s' is not a DN (digits, letters or +*._-)",
				    what, v);
	if (!strcmp(v, dn))
		return store_seterr(e, -EINVAL, "%s: line %s cannot forward to itself", what, dn);
	*out = v;
	return 0;
}

int store_line_set(store_t *s, struct store_line_features const *f, struct store_err *e)
{
	int err;
	char all[40] = "", busy[40] = "", noans[40] = "", device[STORE_NAME_MAX + 1] = "";
	char const *n_all, *n_busy, *n_noans;
	int timeout;
	bool dnd;

	if (f->noanswer_timeout > 600)
		return store_seterr(e, -EINVAL, "the no-answer timeout is 0 to 600 seconds");
	if (f->dnd > 1)
		return store_seterr(e, -EINVAL, "dnd is on or off");
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = db_stmt(s, SQL_FEATURE_GET);
	db_bind_text(st, 1, f->dn);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_tx_end(s, store_seterr(e, -ENOENT, "no line with DN %s", f->dn), e);
	}
	dnd = sqlite3_column_int(st, 0) != 0;
	snprintf(all, sizeof(all), "%s", db_col_text(st, 1) ? db_col_text(st, 1) : "");
	snprintf(busy, sizeof(busy), "%s", db_col_text(st, 2) ? db_col_text(st, 2) : "");
	snprintf(noans, sizeof(noans), "%s", db_col_text(st, 3) ? db_col_text(st, 3) : "");
	timeout = sqlite3_column_int(st, 4);
	snprintf(device, sizeof(device), "%s", db_col_text(st, 5));
	sqlite3_reset(st);

	if ((err = forward_value("call forward all", f->dn, f->cfwd_all, all[0] ? all : NULL,
				 &n_all, e)) < 0 ||
	    (err = forward_value("call forward busy", f->dn, f->cfwd_busy, busy[0] ? busy : NULL,
				 &n_busy, e)) < 0 ||
	    (err = forward_value("call forward no answer", f->dn, f->cfwd_noanswer,
				 noans[0] ? noans : NULL, &n_noans, e)) < 0)
		return db_tx_end(s, err, e);
	if (f->noanswer_timeout >= 0)
		timeout = f->noanswer_timeout;

	st = db_stmt(s, SQL_FEATURE_UPSERT);
	db_bind_text(st, 1, f->dn);
	db_bind_text(st, 2, n_all);
	db_bind_text(st, 3, n_busy);
	db_bind_text(st, 4, n_noans);
	sqlite3_bind_int(st, 5, timeout);
	sqlite3_bind_int64(st, 6, store_now_ms());
	db_bind_text(st, 7, s->node);
	if ((err = db_run(s, st, e, "store the line's features")) < 0)
		return db_tx_end(s, err, e);
	if (f->dnd >= 0 && (f->dnd != 0) != dnd) {
		st = db_stmt(s, SQL_DEVICE_DND);
		db_bind_text(st, 1, device);
		sqlite3_bind_int(st, 2, f->dnd);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
		sqlite3_bind_int64(st, 4, store_now_ms());
		db_bind_text(st, 5, s->node);
		err = db_run(s, st, e, "store do not disturb");
	}
	return db_tx_end(s, err, e);
}
