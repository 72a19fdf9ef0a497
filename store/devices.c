/*
 * Devices (phones) and their models: which digest user a device
 * authenticates as, how (verify or identify) and with which digest policy.
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

static char const SQL_MODEL_LINES[] = "SELECT lines FROM model WHERE name = ?1";
static char const SQL_MODEL_LIST[] =
	"SELECT name, lines, vendor, cucm_mode FROM model ORDER BY name";
static char const SQL_DEVICE_GET[] =
	"SELECT d.name, d.model, d.digest_user, d.auth, d.created_at, "
	"d.updated_at, m.lines, coalesce(d.digest_algs, 'default'), d.qop, d.dnd, d.transport "
	"FROM device d JOIN model m ON m.name = d.model WHERE d.name = ?1";
static char const SQL_DEVICE_INSERT[] =
	"INSERT INTO device (name, model, digest_user, auth, created_at, "
	"updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
static char const SQL_DEVICE_UPDATE[] =
	"UPDATE device SET model = ?2, digest_user = ?3, auth = ?4, "
	"updated_at = ?5, digest_algs = ?6, qop = ?7, transport = ?8 WHERE name = ?1";
static char const SQL_DEVICE_DELETE[] = "DELETE FROM device WHERE name = ?1";
static char const SQL_DEVICE_LIST[] = "SELECT d.name, d.model, d.digest_user, d.auth, "
				      "coalesce(d.digest_algs, 'default'), d.qop, "
				      "(SELECT count(*) FROM line l WHERE l.device = d.name), "
				      "(SELECT count(*) FROM binding b WHERE b.device = d.name), "
				      "d.transport FROM device d ORDER BY d.name";
static char const SQL_DEVICE_MAX_INDEX[] = "SELECT max(idx) FROM line WHERE device = ?1";
static char const SQL_LINE_OF_DEVICE[] =
	"SELECT dn, idx, display, label FROM line WHERE device = ?1 "
	"ORDER BY idx";
/* ---- devices ---- */

bool store_device_get(store_t *s, char const *name, struct device_row *row)
{
	sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_GET);
	db_bind_text(st, 1, name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		snprintf(row->name, sizeof(row->name), "%s", db_col_text(st, 0));
		snprintf(row->model, sizeof(row->model), "%s", db_col_text(st, 1));
		snprintf(row->digest_user, sizeof(row->digest_user), "%s", db_col_text(st, 2));
		snprintf(row->auth, sizeof(row->auth), "%s", db_col_text(st, 3));
		row->created_at = sqlite3_column_int64(st, 4);
		row->updated_at = sqlite3_column_int64(st, 5);
		row->model_lines = sqlite3_column_int(st, 6);
		snprintf(row->digest_algs, sizeof(row->digest_algs), "%s", db_col_text(st, 7));
		snprintf(row->qop, sizeof(row->qop), "%s", db_col_text(st, 8));
		row->dnd = sqlite3_column_int(st, 9) != 0;
		snprintf(row->transport, sizeof(row->transport), "%s", db_col_text(st, 10));
	}
	sqlite3_reset(st);
	return found;
}

int store_model_lines(store_t *s, char const *model)
{
	sqlite3_stmt *st = db_stmt(s, SQL_MODEL_LINES);
	db_bind_text(st, 1, model);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

static int check_model(store_t *s, char const *model, struct store_err *e)
{
	if (!model || store_model_lines(s, model) < 0)
		return store_seterr(e, -EINVAL,
				    "unknown model '%s' (sipregctl device models lists them)",
				    model ? model : "");
	return 0;
}

/* The digest user must exist and belong to no other device. */
static int check_digest_user(store_t *s, char const *user, char const *device, struct store_err *e)
{
	char other[STORE_NAME_MAX + 1];
	if (!store_user_exists(s, user))
		return store_seterr(e, -ENOENT, "no user %s (add it with sipregctl user add %s)",
				    user, user);
	if (store_device_of_user(s, user, other, sizeof(other)) && strcmp(other, device) != 0)
		return store_seterr(e, -EEXIST, "digest user %s is already assigned to device %s",
				    user, other);
	return 0;
}

static int device_update(store_t *s, struct store_device_spec const *spec, struct store_err *e);

int store_device_add(store_t *s, struct store_device_spec const *spec, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	struct device_row row;
	int err;

	if ((err = store_check_device_name(spec->name, e)) < 0 ||
	    (err = store_check_auth(spec->auth, e)) < 0 || (err = store_check_policy(spec, e)) < 0)
		return err;
	if (!spec->digest_user || (err = store_check_user_name(spec->digest_user, e)) < 0)
		return err ? err : store_seterr(e, -EINVAL, "a digest user is required");
	store_device_name_canon(name, sizeof(name), spec->name);
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (store_device_get(s, name, &row))
		err = store_seterr(e, -EEXIST, "device %s already exists", name);
	else if ((err = check_model(s, spec->model, e)) == 0 &&
		 (err = check_digest_user(s, spec->digest_user, name, e)) == 0) {
		sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_INSERT);
		db_bind_text(st, 1, name);
		db_bind_text(st, 2, spec->model);
		db_bind_text(st, 3, spec->digest_user);
		db_bind_text(st, 4, spec->auth ? spec->auth : "verify");
		sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
		err = db_run(s, st, e, "add the device");
		if (err == 0 && (spec->digest_algs || spec->qop || spec->transport)) {
			struct store_device_spec set = *spec;
			set.name = name;
			set.model = set.digest_user = set.auth = NULL;
			err = device_update(s, &set, e);
		}
	}
	return db_tx_end(s, err, e);
}

/* Applies a device change; the caller holds a transaction. */
static int device_update(store_t *s, struct store_device_spec const *spec, struct store_err *e)
{
	struct device_row row;
	int err;

	if (!store_device_get(s, spec->name, &row))
		return store_seterr(e, -ENOENT, "no device %s", spec->name);
	if (spec->model && (err = check_model(s, spec->model, e)) < 0)
		return err;
	if (spec->model) {
		int lines = store_model_lines(s, spec->model);
		sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_MAX_INDEX);
		db_bind_text(st, 1, spec->name);
		int maxidx = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_reset(st);
		if (maxidx > lines)
			return store_seterr(
				e, -EINVAL,
				"device %s has a line at index %d, beyond the %d line%s of "
				"model %s: delete that line first",
				spec->name, maxidx, lines, lines == 1 ? "" : "s", spec->model);
	}
	if (spec->digest_user && (err = check_digest_user(s, spec->digest_user, spec->name, e)) < 0)
		return err;
	char const *algs = spec->digest_algs ? spec->digest_algs : row.digest_algs;
	sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_UPDATE);
	db_bind_text(st, 1, spec->name);
	db_bind_text(st, 2, spec->model ? spec->model : row.model);
	db_bind_text(st, 3, spec->digest_user ? spec->digest_user : row.digest_user);
	db_bind_text(st, 4, spec->auth ? spec->auth : row.auth);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	db_bind_text(st, 6, strcmp(algs, "default") ? algs : NULL);
	db_bind_text(st, 7, spec->qop ? spec->qop : row.qop);
	db_bind_text(st, 8, spec->transport ? spec->transport : row.transport);
	return db_run(s, st, e, "update the device");
}

int store_device_set(store_t *s, struct store_device_spec const *spec, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	int err;

	if ((err = store_check_auth(spec->auth, e)) < 0 || (err = store_check_policy(spec, e)) < 0)
		return err;
	store_device_name_canon(name, sizeof(name), spec->name);
	struct store_device_spec canon = *spec;
	canon.name = name;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	err = device_update(s, &canon, e);
	return db_tx_end(s, err, e);
}

int store_device_del(store_t *s, char const *name_in, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	struct device_row row;
	int err;

	store_device_name_canon(name, sizeof(name), name_in);
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (!store_device_get(s, name, &row)) {
		err = store_seterr(e, -ENOENT, "no device %s", name);
	} else {
		sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_DELETE);
		db_bind_text(st, 1, name);
		err = db_run(s, st, e, "delete the device");
	}
	return db_tx_end(s, err, e);
}

int store_device_list(store_t *s, json_t **out, struct store_err *e)
{
	int err = 0;
	json_t *arr = json_array();
	sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_LIST);
	while (db_row(s, st, &err, e, "list the devices")) {
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "name",
				       db_col_text(st, 0), "model", db_col_text(st, 1),
				       "digest_user", db_col_text(st, 2), "auth",
				       db_col_text(st, 3), "digest_algs", db_col_text(st, 4), "qop",
				       db_col_text(st, 5), "lines", sqlite3_column_int(st, 6),
				       "bindings", sqlite3_column_int(st, 7), "transport",
				       db_col_text(st, 8)));
	}
	return db_list_done(st, err, arr, out);
}

int store_device_show(store_t *s, char const *name_in, json_t **out, struct store_err *e)
{
	int err = 0;
	char name[STORE_NAME_MAX + 1];
	struct device_row row;

	store_device_name_canon(name, sizeof(name), name_in);
	if (!store_device_get(s, name, &row))
		return store_seterr(e, -ENOENT, "no device %s", name);
	json_t *lines = json_array();
	sqlite3_stmt *st = db_stmt(s, SQL_LINE_OF_DEVICE);
	db_bind_text(st, 1, name);
	while (db_row(s, st, &err, e, "read a device's lines")) {
		json_array_append_new(lines,
				      json_pack("{s:i, s:s, s:o, s:o}", "index",
						sqlite3_column_int(st, 1), "dn", db_col_text(st, 0),
						"display", db_json_text_or_null(st, 2), "label",
						db_json_text_or_null(st, 3)));
	}
	sqlite3_reset(st);
	if (err < 0) {
		json_decref(lines);
		return err;
	}
	*out = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "name",
			 row.name, "model", row.model, "model_lines", row.model_lines,
			 "digest_user", row.digest_user, "auth", row.auth, "digest_algs",
			 row.digest_algs, "qop", row.qop, "dnd", row.dnd ? "on" : "off", "transport",
			 row.transport,
			 "created_at", (json_int_t)row.created_at, "updated_at",
			 (json_int_t)row.updated_at, "lines", lines);
	return 0;
}

int store_model_list(store_t *s, json_t **out, struct store_err *e)
{
	int err = 0;
	json_t *arr = json_array();
	sqlite3_stmt *st = db_stmt(s, SQL_MODEL_LIST);
	while (db_row(s, st, &err, e, "list the models")) {
		json_array_append_new(
			arr, json_pack("{s:s, s:i, s:s, s:b}", "name", db_col_text(st, 0), "lines",
				       sqlite3_column_int(st, 1), "vendor", db_col_text(st, 2),
				       "cucm_mode", sqlite3_column_int(st, 3)));
	}
	return db_list_done(st, err, arr, out);
}
