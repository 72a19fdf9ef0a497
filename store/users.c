/*
 * Digest users: name, HA1 for MD5 and SHA-256, the password sealed with the
 * store's key; HA1s derived again when the realm changes.
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

static char const SQL_USER_INSERT[] =
	"INSERT INTO user (name, ha1_md5, ha1_sha256, secret, created_at, "
	"updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
static char const SQL_USER_UPDATE[] = "UPDATE user SET ha1_md5 = ?2, ha1_sha256 = ?3, secret = ?4, "
				      "updated_at = ?5 WHERE name = ?1";
static char const SQL_USER_EXISTS[] = "SELECT 1 FROM user WHERE name = ?1";
static char const SQL_USER_DELETE[] = "DELETE FROM user WHERE name = ?1";
static char const SQL_USER_ALL_SECRETS[] = "SELECT name, secret FROM user";
static char const SQL_USER_LIST[] = "SELECT u.name, u.created_at, d.name FROM user u "
				    "LEFT JOIN device d ON d.digest_user = u.name ORDER BY u.name";
static char const SQL_DEVICE_BY_USER[] = "SELECT name FROM device WHERE digest_user = ?1";
static int user_aad(char *out, size_t n, char const *name)
{
	return snprintf(out, n, "user:%s", name);
}

/* Computes both HA1 and the sealed password for a user. */
static int user_secrets(store_t *s, char const *name, char const *password, char md5[65],
			char sha[65], uint8_t **sealed, size_t *sealedlen)
{
	char aad[128];
	int err;
	if ((err = digest_ha1(md5, DIGEST_MD5, name, s->realm, password)) < 0 ||
	    (err = digest_ha1(sha, DIGEST_SHA256, name, s->realm, password)) < 0)
		return err;
	user_aad(aad, sizeof(aad), name);
	return secret_seal(sealed, sealedlen, s->key, aad, password, strlen(password));
}

static int user_write(store_t *s, char const *sql, char const *name, char const *password,
		      struct store_err *e)
{
	char md5[DIGEST_HEX_SIZE], sha[DIGEST_HEX_SIZE];
	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	int err = user_secrets(s, name, password, md5, sha, &sealed, &sealedlen);
	if (err < 0)
		return store_seterr(e, err, "cannot compute the user's digests");
	sqlite3_stmt *st = db_stmt(s, sql);
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, md5);
	db_bind_text(st, 3, sha);
	sqlite3_bind_blob(st, 4, sealed, (int)sealedlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	err = db_run(s, st, e, "write the user");
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	free(sealed);
	return err;
}

/* The realm is part of every HA1: derive them again when it changes. */
int store_users_apply_realm(store_t *s, char const *realm, struct store_err *e)
{
	char old[128];
	int err, n = 0;

	snprintf(s->realm, sizeof(s->realm), "%s", realm);
	if (!db_meta_get(s, "realm", old, sizeof(old)))
		return db_meta_set(s, "realm", realm, e);
	if (strcmp(old, realm) == 0)
		return 0;

	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *all;
	if (sqlite3_prepare_v2(s->db, SQL_USER_ALL_SECRETS, -1, &all, NULL) != SQLITE_OK)
		return db_tx_end(s, db_error(s, e, "read users"), e);
	while (err == 0 && db_row(s, all, &err, e, "read the users' secrets")) {
		char name[STORE_NAME_MAX + 1], pw[STORE_PASSWORD_MAX + 1], aad[128];
		snprintf(name, sizeof(name), "%s", db_col_text(all, 0));
		user_aad(aad, sizeof(aad), name);
		if (secret_open(pw, sizeof(pw), s->key, aad, sqlite3_column_blob(all, 1),
				(size_t)sqlite3_column_bytes(all, 1)) < 0) {
			err = store_seterr(e, -EINVAL, "cannot decrypt the password of user %s",
					   name);
			break;
		}
		err = user_write(s, SQL_USER_UPDATE, name, pw, e);
		OPENSSL_cleanse(pw, sizeof(pw));
		n++;
	}
	sqlite3_finalize(all);
	if (err == 0)
		err = db_meta_set(s, "realm", realm, e);
	if ((err = db_tx_end(s, err, e)) == 0)
		log_notice("realm changed from '%s' to '%s': digests of %d user%s derived again",
			   old, realm, n, n == 1 ? "" : "s");
	return err;
}

/* ---- users ---- */

bool store_user_exists(store_t *s, char const *name)
{
	sqlite3_stmt *st = db_stmt(s, SQL_USER_EXISTS);
	db_bind_text(st, 1, name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* The device a digest user is assigned to, if any. */
bool store_device_of_user(store_t *s, char const *user, char *out, size_t outsize)
{
	sqlite3_stmt *st = db_stmt(s, SQL_DEVICE_BY_USER);
	db_bind_text(st, 1, user);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(out, outsize, "%s", db_col_text(st, 0));
	sqlite3_reset(st);
	return found;
}

int store_password_policy(store_t *s, char const *name, char const *password, struct store_err *e)
{
	char dev[STORE_NAME_MAX + 1];
	if (!password || strlen(password) < STORE_PASSWORD_MIN)
		return store_seterr(e, -EINVAL,
				    "the password is shorter than %d characters (--weak allows it)",
				    STORE_PASSWORD_MIN);
	if (name && strcasecmp(password, name) == 0)
		return store_seterr(e, -EINVAL,
				    "the password is the user's name (--weak allows it)");
	if (name && store_device_of_user(s, name, dev, sizeof(dev)) &&
	    strcasecmp(password, dev) == 0)
		return store_seterr(e, -EINVAL,
				    "the password is the name of the user's device %s "
				    "(--weak allows it)",
				    dev);
	return 0;
}

int store_user_add(store_t *s, char const *name, char const *password, struct store_err *e)
{
	int err;
	if ((err = store_check_user_name(name, e)) < 0 ||
	    (err = store_check_password(password, e)) < 0)
		return err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (store_user_exists(s, name))
		err = store_seterr(e, -EEXIST, "user %s already exists", name);
	else
		err = user_write(s, SQL_USER_INSERT, name, password, e);
	return db_tx_end(s, err, e);
}

int store_user_passwd(store_t *s, char const *name, char const *password, struct store_err *e)
{
	int err;
	if ((err = store_check_password(password, e)) < 0)
		return err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (!store_user_exists(s, name))
		err = store_seterr(e, -ENOENT, "no user %s", name);
	else
		err = user_write(s, SQL_USER_UPDATE, name, password, e);
	return db_tx_end(s, err, e);
}

int store_user_del(store_t *s, char const *name, struct store_err *e)
{
	char dev[STORE_NAME_MAX + 1];
	int err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (!store_user_exists(s, name)) {
		err = store_seterr(e, -ENOENT, "no user %s", name);
	} else if (store_device_of_user(s, name, dev, sizeof(dev))) {
		err = store_seterr(
			e, -EBUSY,
			"user %s is the digest user of device %s: delete the device or give "
			"it another digest user first",
			name, dev);
	} else {
		sqlite3_stmt *st = db_stmt(s, SQL_USER_DELETE);
		db_bind_text(st, 1, name);
		err = db_run(s, st, e, "delete the user");
	}
	return db_tx_end(s, err, e);
}

int store_user_list(store_t *s, json_t **out, struct store_err *e)
{
	int err = 0;
	json_t *arr = json_array();
	sqlite3_stmt *st = db_stmt(s, SQL_USER_LIST);
	while (db_row(s, st, &err, e, "list the users")) {
		json_array_append_new(arr, json_pack("{s:s, s:I, s:o}", "name", db_col_text(st, 0),
						     "created_at",
						     (json_int_t)sqlite3_column_int64(st, 1),
						     "device", db_json_text_or_null(st, 2)));
	}
	return db_list_done(st, err, arr, out);
}
