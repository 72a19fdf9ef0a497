/*
 * The directory: an immutable snapshot of users, devices, lines, trunks and
 * routes built here for the SIP thread, which never reads the database.
 */
#include "autoconfig.h"

#include "store/store.h"
#include "store/db.h"

#include <ctype.h>
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

static char const SQL_DIR_USERS[] = "SELECT name, ha1_md5, ha1_sha256 FROM user";
static char const SQL_DIR_DEVICES[] =
	"SELECT d.name, d.model, m.lines, m.vendor, m.cucm_mode, d.digest_user, "
	"d.auth, d.qop, d.digest_algs, d.dnd, d.transport FROM device d "
	"JOIN model m ON m.name = d.model";
static char const SQL_DIR_LINES[] =
	"SELECT l.dn, l.device, l.idx, l.display, f.cfwd_all, f.cfwd_busy, "
	"f.cfwd_noanswer, f.noanswer_timeout FROM line l "
	"LEFT JOIN feature f ON f.dn = l.dn";
static char const SQL_DIR_TRUNKS[] =
	"SELECT name, registrar, proxy, username, auth_user, secret, realm, "
	"transport, expires, do_register, caller_id, default_dn, emergency, "
	"contact_user FROM trunk";
static char const SQL_DIR_DIDS[] = "SELECT number, trunk, dn FROM trunk_did";
static char const SQL_DIR_ROUTES[] =
	"SELECT id, pattern, trunk, strip, prepend, priority, allow_restricted "
	"FROM route";
/* ---- the SIP thread's view ---- */

static enum dir_algs algs_from_text(char const *t)
{
	if (!t)
		return DIR_ALGS_DEFAULT;
	if (!strcmp(t, "md5"))
		return DIR_ALGS_MD5;
	if (!strcmp(t, "sha256"))
		return DIR_ALGS_SHA256;
	if (!strcmp(t, "both"))
		return DIR_ALGS_BOTH;
	return DIR_ALGS_DEFAULT;
}

/*
 * Trunks (passwords opened), DIDs and routes into d. Host names are not
 * resolved here: the SIP thread keeps them resolved (sip/hosts.c), so no
 * change waits behind a slow resolver.
 */
static int directory_load_trunks(store_t *s, directory_t *d, struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = db_stmt(s, SQL_DIR_TRUNKS);
	while (err == 0 && db_row(s, st, &err, e, "read the trunks")) {
		char pw[STORE_PASSWORD_MAX + 1] = "", aad[128];
		char const *name = db_col_text(st, 0);
		bool has_pw = sqlite3_column_type(st, 5) == SQLITE_BLOB;
		store_trunk_aad(aad, sizeof(aad), name);
		if (has_pw && secret_open(pw, sizeof(pw), s->key, aad, sqlite3_column_blob(st, 5),
					  (size_t)sqlite3_column_bytes(st, 5)) < 0) {
			log_error("cannot decrypt the password of trunk %s", name);
			has_pw = false;
		}
		struct dir_trunk t = {
			.name = (char *)name,
			.registrar = (char *)db_col_text(st, 1),
			.proxy = (char *)db_col_text(st, 2),
			.user = (char *)db_col_text(st, 3),
			.auth_user = (char *)db_col_text(st, 4),
			.password = has_pw ? pw : NULL,
			.realm = (char *)db_col_text(st, 6),
			.transport = (char *)db_col_text(st, 7),
			.expires = (unsigned)sqlite3_column_int(st, 8),
			.do_register = sqlite3_column_int(st, 9) != 0,
			.caller_id = (char *)db_col_text(st, 10),
			.default_dn = (char *)db_col_text(st, 11),
			.emergency = sqlite3_column_int(st, 12) != 0,
			.contact_user = (char *)db_col_text(st, 13),
		};
		err = directory_add_trunk(d, &t);
		OPENSSL_cleanse(pw, sizeof(pw));
	}
	sqlite3_reset(st);
	st = db_stmt(s, SQL_DIR_DIDS);
	while (err == 0 && db_row(s, st, &err, e, "read the trunks"))
		err = directory_add_did(d, db_col_text(st, 0), db_col_text(st, 1),
					db_col_text(st, 2));
	sqlite3_reset(st);
	st = db_stmt(s, SQL_DIR_ROUTES);
	while (err == 0 && db_row(s, st, &err, e, "read the trunks"))
		err = directory_add_route(d, sqlite3_column_int64(st, 0), db_col_text(st, 1),
					  db_col_text(st, 2), (unsigned)sqlite3_column_int(st, 3),
					  db_col_text(st, 4), sqlite3_column_int(st, 5),
					  sqlite3_column_int(st, 6) != 0);
	sqlite3_reset(st);
	return err < 0 ? store_seterr(e, err, "cannot load the trunks") : 0;
}

int store_directory_load(store_t *s, directory_t **out, struct store_err *e)
{
	directory_t *d = directory_create();
	int err = 0;
	sqlite3_stmt *st;

	if (!d)
		return store_seterr(e, -ENOMEM, "out of memory");
	st = db_stmt(s, SQL_DIR_USERS);
	while (err == 0 && db_row(s, st, &err, e, "read the directory"))
		err = directory_add_user(d, db_col_text(st, 0), db_col_text(st, 1),
					 db_col_text(st, 2));
	sqlite3_reset(st);
	st = db_stmt(s, SQL_DIR_DEVICES);
	while (err == 0 && db_row(s, st, &err, e, "read the directory")) {
		char const *vendor = db_col_text(st, 3);
		struct dir_device_spec ds = {
			.name = db_col_text(st, 0),
			.model = db_col_text(st, 1),
			.lines = (unsigned)sqlite3_column_int(st, 2),
			.cisco = vendor && !strcmp(vendor, "cisco"),
			.cucm_mode = sqlite3_column_int(st, 4) != 0,
			.digest_user = db_col_text(st, 5),
			.identify = !strcmp(db_col_text(st, 6), "identify"),
			.qop_required = !strcmp(db_col_text(st, 7), "auth"),
			.algs = algs_from_text(db_col_text(st, 8)),
			.dnd = sqlite3_column_int(st, 9) != 0,
			.transport = directory_transport_from_text(db_col_text(st, 10)),
		};
		err = directory_add_device(d, &ds);
	}
	sqlite3_reset(st);
	st = db_stmt(s, SQL_DIR_LINES);
	while (err == 0 && db_row(s, st, &err, e, "read the directory")) {
		struct dir_forward fwd = {
			.all = db_col_text(st, 4),
			.busy = db_col_text(st, 5),
			.noanswer = db_col_text(st, 6),
			.noanswer_timeout = (unsigned)sqlite3_column_int(st, 7),
		};
		err = directory_add_line(d, db_col_text(st, 0), db_col_text(st, 1),
					 (unsigned)sqlite3_column_int(st, 2), db_col_text(st, 3),
					 &fwd);
	}
	sqlite3_reset(st);
	if (err == 0)
		err = directory_load_trunks(s, d, e);
	if (err == 0)
		err = directory_seal(d);
	if (err < 0) {
		directory_destroy(d);
		return store_seterr(e, err, "cannot build the directory");
	}
	*out = d;
	return 0;
}
