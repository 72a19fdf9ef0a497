#include "autoconfig.h"

#include "store/store.h"

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

/* A line's features, five columns (d: its device, f: its feature row). */
#define LINE_FEATURES                                                                              \
	"d.dnd, f.cfwd_all, f.cfwd_busy, f.cfwd_noanswer, coalesce(f.noanswer_timeout, 0)"

/* Every statement, prepared once at open and named here. */
#define STATEMENTS(X)                                                                              \
	X(META_GET, "SELECT value FROM meta WHERE key = ?1")                                       \
	X(META_SET, "INSERT INTO meta (key, value) VALUES (?1, ?2) "                               \
		    "ON CONFLICT (key) DO UPDATE SET value = excluded.value")                      \
	X(USER_INSERT, "INSERT INTO user (name, ha1_md5, ha1_sha256, secret, created_at, "         \
		       "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)")                              \
	X(USER_UPDATE, "UPDATE user SET ha1_md5 = ?2, ha1_sha256 = ?3, secret = ?4, "              \
		       "updated_at = ?5 WHERE name = ?1")                                          \
	X(USER_EXISTS, "SELECT 1 FROM user WHERE name = ?1")                                       \
	X(USER_DELETE, "DELETE FROM user WHERE name = ?1")                                         \
	X(USER_SECRET, "SELECT secret FROM user WHERE name = ?1")                                  \
	X(USER_HA1, "SELECT ha1_md5, ha1_sha256 FROM user WHERE name = ?1")                        \
	X(USER_ALL_SECRETS, "SELECT name, secret FROM user")                                       \
	X(USER_LIST, "SELECT u.name, u.created_at, d.name FROM user u "                            \
		     "LEFT JOIN device d ON d.digest_user = u.name ORDER BY u.name")               \
	X(MODEL_LINES, "SELECT lines FROM model WHERE name = ?1")                                  \
	X(MODEL_LIST, "SELECT name, lines, vendor, cucm_mode FROM model ORDER BY name")            \
	X(DEVICE_BY_USER, "SELECT name FROM device WHERE digest_user = ?1")                        \
	X(DEVICE_GET, "SELECT d.name, d.model, d.digest_user, d.auth, d.created_at, "              \
		      "d.updated_at, m.lines, coalesce(d.digest_algs, 'default'), d.qop, d.dnd "   \
		      "FROM device d JOIN model m ON m.name = d.model WHERE d.name = ?1")          \
	X(DEVICE_INSERT, "INSERT INTO device (name, model, digest_user, auth, created_at, "        \
			 "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)")                            \
	X(DEVICE_UPDATE, "UPDATE device SET model = ?2, digest_user = ?3, auth = ?4, "             \
			 "updated_at = ?5, digest_algs = ?6, qop = ?7 WHERE name = ?1")            \
	X(DEVICE_DELETE, "DELETE FROM device WHERE name = ?1")                                     \
	X(DEVICE_LIST, "SELECT d.name, d.model, d.digest_user, d.auth, "                           \
		       "coalesce(d.digest_algs, 'default'), d.qop, "                               \
		       "(SELECT count(*) FROM line l WHERE l.device = d.name), "                   \
		       "(SELECT count(*) FROM binding b WHERE b.device = d.name) "                 \
		       "FROM device d ORDER BY d.name")                                            \
	X(DEVICE_MAX_INDEX, "SELECT max(idx) FROM line WHERE device = ?1")                         \
	X(LINE_GET, "SELECT l.dn, l.device, l.idx, l.display, l.label, d.model, "                  \
		    "(SELECT count(*) FROM binding b WHERE b.dn = l.dn), " LINE_FEATURES           \
		    " FROM line l JOIN device d ON d.name = l.device "                             \
		    "LEFT JOIN feature f ON f.dn = l.dn WHERE l.dn = ?1")                          \
	X(LINE_AT_INDEX, "SELECT dn FROM line WHERE device = ?1 AND idx = ?2")                     \
	X(LINE_INDEXES, "SELECT idx FROM line WHERE device = ?1 ORDER BY idx")                     \
	X(LINE_INSERT, "INSERT INTO line (dn, device, idx, display, label, created_at) "           \
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                          \
	X(LINE_DELETE, "DELETE FROM line WHERE dn = ?1")                                           \
	X(LINE_LIST, "SELECT l.dn, l.device, l.idx, l.display, l.label, "                          \
		     "(SELECT count(*) FROM binding b WHERE b.dn = l.dn), " LINE_FEATURES          \
		     " FROM line l JOIN device d ON d.name = l.device "                            \
		     "LEFT JOIN feature f ON f.dn = l.dn ORDER BY l.device, l.idx")                \
	X(FEATURE_GET, "SELECT " LINE_FEATURES ", l.device FROM line l "                           \
		       "JOIN device d ON d.name = l.device LEFT JOIN feature f ON f.dn = l.dn "    \
		       "WHERE l.dn = ?1")                                                          \
	X(FEATURE_UPSERT, "INSERT INTO feature (dn, cfwd_all, cfwd_busy, cfwd_noanswer, "          \
			  "noanswer_timeout) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (dn) DO "     \
			  "UPDATE SET cfwd_all = excluded.cfwd_all, cfwd_busy = "                  \
			  "excluded.cfwd_busy, cfwd_noanswer = excluded.cfwd_noanswer, "           \
			  "noanswer_timeout = excluded.noanswer_timeout")                          \
	X(DEVICE_DND, "UPDATE device SET dnd = ?2, updated_at = ?3 WHERE name = ?1")               \
	X(CDR_INSERT,                                                                              \
	  "INSERT INTO cdr (started_at, answered_at, ended_at, caller, caller_device, "            \
	  "callee, target, forwarded, result, duration, call_id) "                                 \
	  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")                                 \
	X(CDR_LIST, "SELECT id, started_at, answered_at, ended_at, caller, caller_device, "        \
		    "callee, target, forwarded, result, duration, call_id FROM cdr "               \
		    "WHERE started_at >= ?1 ORDER BY id DESC LIMIT ?2")                            \
	X(LINE_OF_DEVICE, "SELECT dn, idx, display, label FROM line WHERE device = ?1 "            \
			  "ORDER BY idx")                                                          \
	X(BINDING_LIST, "SELECT b.device, l.idx, b.dn, b.contact, b.transport, b.received, "       \
			"b.user_agent, b.expires_at FROM binding b JOIN line l ON l.dn = b.dn "    \
			"ORDER BY b.device, l.idx, b.contact")                                     \
	X(COUNTS, "SELECT (SELECT count(*) FROM user), (SELECT count(*) FROM device), "            \
		  "(SELECT count(*) FROM line), (SELECT count(*) FROM binding)")                   \
	X(DIR_USERS, "SELECT name, ha1_md5, ha1_sha256 FROM user")                                 \
	X(DIR_DEVICES,                                                                             \
	  "SELECT d.name, d.model, m.lines, m.vendor, m.cucm_mode, d.digest_user, "                \
	  "d.auth, d.qop, d.digest_algs, d.dnd FROM device d JOIN model m ON m.name = d.model")    \
	X(DIR_LINES, "SELECT l.dn, l.device, l.idx, l.display, f.cfwd_all, f.cfwd_busy, "          \
		     "f.cfwd_noanswer, f.noanswer_timeout FROM line l "                            \
		     "LEFT JOIN feature f ON f.dn = l.dn")                                         \
	X(BINDING_UPSERT, "INSERT INTO binding (dn, device, contact, received, transport, "        \
			  "instance, user_agent, call_id, cseq, expires_at, updated_at, derived) " \
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "            \
			  "ON CONFLICT (dn, contact) DO UPDATE SET device = excluded.device, "     \
			  "received = excluded.received, transport = excluded.transport, "         \
			  "instance = excluded.instance, user_agent = excluded.user_agent, "       \
			  "call_id = excluded.call_id, cseq = excluded.cseq, "                     \
			  "expires_at = excluded.expires_at, updated_at = excluded.updated_at, "   \
			  "derived = excluded.derived")                                            \
	X(BINDING_DELETE, "DELETE FROM binding WHERE dn = ?1 AND contact = ?2")                    \
	X(BINDING_PURGE, "DELETE FROM binding WHERE expires_at <= ?1 OR "                          \
			 "lower(coalesce(transport, 'udp')) <> 'udp'")                             \
	X(BINDING_ALL, "SELECT dn, device, contact, received, transport, instance, user_agent, "   \
		       "call_id, cseq, expires_at, derived FROM binding")                          \
	X(TRUNK_EXISTS, "SELECT 1 FROM trunk WHERE name = ?1")                                     \
	X(TRUNK_INSERT, "INSERT INTO trunk (name, registrar, proxy, username, auth_user, secret, " \
			"realm, transport, expires, do_register, created_at, caller_id, "          \
			"default_dn, emergency, contact_user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "    \
			"?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")                               \
	X(TRUNK_DELETE, "DELETE FROM trunk WHERE name = ?1")                                       \
	X(TRUNK_GET, "SELECT registrar, proxy, username, auth_user, secret, realm, transport, "    \
		     "expires, do_register, caller_id, default_dn, emergency, contact_user, name " \
		     "FROM trunk WHERE name = ?1")                                                 \
	X(TRUNK_UPDATE, "UPDATE trunk SET registrar = ?2, proxy = ?3, username = ?4, "             \
			"auth_user = ?5, secret = ?6, realm = ?7, transport = ?8, expires = ?9, "  \
			"do_register = ?10, caller_id = ?11, default_dn = ?12, emergency = ?13, "  \
			"contact_user = ?14 WHERE name = ?1")                                      \
	X(DID_CLEAR, "DELETE FROM trunk_did WHERE trunk = ?1")                                     \
	X(DID_OWNER, "SELECT trunk FROM trunk_did WHERE number = ?1")                              \
	X(DID_INSERT, "INSERT INTO trunk_did (number, trunk, dn) VALUES (?1, ?2, ?3)")             \
	X(LINE_EXISTS, "SELECT 1 FROM line WHERE dn = ?1")                                         \
	X(ROUTE_INSERT, "INSERT INTO route (pattern, trunk, strip, prepend, priority, "            \
			"allow_restricted, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")       \
	X(ROUTE_DELETE, "DELETE FROM route WHERE id = ?1")                                         \
	X(DIR_TRUNKS, "SELECT name, registrar, proxy, username, auth_user, secret, realm, "        \
		      "transport, expires, do_register, caller_id, default_dn, emergency, "        \
		      "contact_user FROM trunk")                                                   \
	X(DIR_DIDS, "SELECT number, trunk, dn FROM trunk_did")                                     \
	X(DIR_ROUTES, "SELECT id, pattern, trunk, strip, prepend, priority, allow_restricted "     \
		      "FROM route")                                                                \
	X(BEGIN, "BEGIN IMMEDIATE")                                                                \
	X(COMMIT, "COMMIT")                                                                        \
	X(ROLLBACK, "ROLLBACK")

#define STMT_ENUM(name, sql) ST_##name,
#define STMT_SQL(name, sql)  [ST_##name] = sql,
enum stmt_id { STATEMENTS(STMT_ENUM) ST__COUNT };
static char const *const stmt_sql[ST__COUNT] = { STATEMENTS(STMT_SQL) };

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	uint8_t key[SECRET_KEY_LEN];
	char realm[128];
};

static int seterr(struct store_err *e, int code, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int seterr(struct store_err *e, int code, char const *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static int db_error(store_t *s, struct store_err *e, char const *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	log_error("%s: %s (%d)", what, sqlite3_errmsg(s->db), rc);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		if (rc == SQLITE_CONSTRAINT_TRIGGER)
			return seterr(e, -EINVAL, "%s", sqlite3_errmsg(s->db));
		return seterr(e, -EEXIST, "refused by the database: %s", sqlite3_errmsg(s->db));
	}
	return seterr(e, -EIO, "database error while trying to %s: %s", what,
		      sqlite3_errmsg(s->db));
}

/* Returns the statement reset and with no bindings. */
static sqlite3_stmt *stmt(store_t *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, char const *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows. */
static int run(store_t *s, sqlite3_stmt *st, struct store_err *e, char const *what)
{
	int rc = sqlite3_step(st);
	int err = 0;
	if (rc != SQLITE_DONE)
		err = db_error(s, e, what);
	sqlite3_reset(st);
	return err;
}

static int tx_begin(store_t *s, struct store_err *e)
{
	return run(s, stmt(s, ST_BEGIN), e, "begin a transaction");
}

static int tx_end(store_t *s, int err, struct store_err *e)
{
	if (err < 0) {
		run(s, stmt(s, ST_ROLLBACK), NULL, "roll back");
		return err;
	}
	return run(s, stmt(s, ST_COMMIT), e, "commit");
}

static char const *col_text(sqlite3_stmt *st, int i)
{
	return (char const *)sqlite3_column_text(st, i);
}

static json_t *json_text_or_null(sqlite3_stmt *st, int i)
{
	char const *v = col_text(st, i);
	return v ? json_string(v) : json_null();
}

/* ---- validation ---- */

static bool valid_chars(char const *v, size_t max, char const *extra)
{
	size_t n = v ? strlen(v) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!isalnum(c) && !strchr(extra, c))
			return false;
	}
	return true;
}

static int check_user_name(char const *name, struct store_err *e)
{
	/* The SIP user characters that survive in a quoted digest username. */
	if (!valid_chars(name, STORE_NAME_MAX, "-_.!~*'()+&=$,;?/"))
		return seterr(e, -EINVAL,
			      "user name must be 1 to %d letters, digits or -_.!~*'()+&=$,;?/",
			      STORE_NAME_MAX);
	return 0;
}

static int check_device_name(char const *name, struct store_err *e)
{
	if (!valid_chars(name, STORE_NAME_MAX, "-_."))
		return seterr(e, -EINVAL, "device name must be 1 to %d letters, digits or -_.",
			      STORE_NAME_MAX);
	return 0;
}

static int check_dn(char const *dn, struct store_err *e)
{
	if (!valid_chars(dn, 32, "+*._-"))
		return seterr(e, -EINVAL, "DN must be 1 to 32 digits, letters or +*._-");
	return 0;
}

static int check_text(char const *what, char const *v, struct store_err *e)
{
	if (!v)
		return 0;
	size_t n = strlen(v);
	if (n > STORE_TEXT_MAX)
		return seterr(e, -EINVAL, "%s must be at most %d bytes", what, STORE_TEXT_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return seterr(e, -EINVAL,
				      "%s may not hold control characters, quotes or backslashes",
				      what);
	}
	return 0;
}

static int check_password(char const *pw, struct store_err *e)
{
	size_t n = pw ? strlen(pw) : 0;
	if (n == 0 || n > STORE_PASSWORD_MAX)
		return seterr(e, -EINVAL, "password must be 1 to %d characters",
			      STORE_PASSWORD_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pw[i];
		if (c < 0x20 || c == 0x7f)
			return seterr(e, -EINVAL, "password may not hold control characters");
	}
	return 0;
}

static int check_auth(char const *auth, struct store_err *e)
{
	if (auth && strcmp(auth, "verify") && strcmp(auth, "identify"))
		return seterr(e, -EINVAL, "auth must be verify or identify, not '%s'", auth);
	return 0;
}

static int check_policy(struct store_device_spec const *spec, struct store_err *e)
{
	char const *a = spec->digest_algs, *q = spec->qop;
	if (a && strcmp(a, "md5") && strcmp(a, "sha256") && strcmp(a, "both") &&
	    strcmp(a, "default"))
		return seterr(e, -EINVAL,
			      "digest algorithms must be md5, sha256, both or default, "
			      "not '%s'",
			      a);
	if (q && strcmp(q, "auth") && strcmp(q, "optional"))
		return seterr(e, -EINVAL, "qop must be auth or optional, not '%s'", q);
	return 0;
}

void store_device_name_canon(char *out, size_t outsize, char const *name)
{
	snprintf(out, outsize, "%s", name ? name : "");
	size_t n = strlen(out);
	if (n != 15 || strncasecmp(out, "SEP", 3) != 0)
		return;
	for (size_t i = 3; i < n; i++) {
		if (!isxdigit((unsigned char)out[i]))
			return;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/* ---- meta ---- */

static int meta_get(store_t *s, char const *key, char *out, size_t outsize)
{
	sqlite3_stmt *st = stmt(s, ST_META_GET);
	int found = 0;
	bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, outsize, "%s", col_text(st, 0) ? col_text(st, 0) : "");
		found = 1;
	}
	sqlite3_reset(st);
	return found;
}

static int meta_set(store_t *s, char const *key, char const *value, struct store_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_META_SET);
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return run(s, st, e, "write store metadata");
}

static int hex_decode(uint8_t *out, size_t outsize, char const *in)
{
	size_t n = strlen(in);
	if (n % 2 || n / 2 > outsize)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* ---- open, migrations, key ---- */

static int exec(store_t *s, char const *sql, struct store_err *e, char const *what)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		seterr(e, -EIO, "cannot %s: %s", what, msg ? msg : "unknown error");
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

int store_schema_latest(void)
{
	return (int)store_n_migrations;
}

static int migrate(store_t *s, struct store_err *e)
{
	int version = store_schema_version(s);
	if (version < 0)
		return seterr(e, -EIO, "cannot read the schema version");
	if (version > (int)store_n_migrations)
		return seterr(e, -EINVAL,
			      "the database has schema version %d, newer than this sipregd "
			      "knows (%u)",
			      version, store_n_migrations);
	for (unsigned v = (unsigned)version; v < store_n_migrations; v++) {
		char setv[64];
		int err;
		snprintf(setv, sizeof(setv), "PRAGMA user_version = %u", v + 1);
		if ((err = exec(s, "BEGIN IMMEDIATE", e, "begin a migration")) < 0)
			return err;
		if ((err = exec(s, store_migrations[v], e, "apply a schema migration")) < 0 ||
		    (err = exec(s, setv, e, "record the schema version")) < 0) {
			exec(s, "ROLLBACK", NULL, "roll back");
			return err;
		}
		if ((err = exec(s, "COMMIT", e, "commit a migration")) < 0)
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
	have_check = meta_get(s, "key_check", check, sizeof(check));
	/* A new key is made only while nothing has been sealed with an old one. */
	err = secret_key_load(s->key, keypath, !have_check, why, sizeof(why));
	if (err == -ENOENT)
		return seterr(e, err,
			      "key file %s is missing: the stored passwords cannot be read "
			      "without it (restore it from a backup)",
			      keypath);
	if (err < 0)
		return seterr(e, err, "%s", why);
	if (have_check) {
		char plain[64];
		int n = hex_decode(blob, sizeof(blob), check);
		if (n < 0 ||
		    secret_open(plain, sizeof(plain), s->key, "key-check", blob, (size_t)n) < 0)
			return seterr(e, -EINVAL, "key file %s does not belong to database %s",
				      keypath, dbpath);
		return 0;
	}
	uint8_t *sealed;
	size_t len;
	if ((err = secret_seal(&sealed, &len, s->key, "key-check", KEY_CHECK_TEXT,
			       strlen(KEY_CHECK_TEXT))) < 0)
		return seterr(e, err, "cannot seal the key check");
	text_hex(check, sealed, len);
	free(sealed);
	return meta_set(s, "key_check", check, e);
}

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

static int user_write(store_t *s, enum stmt_id id, char const *name, char const *password,
		      struct store_err *e)
{
	char md5[DIGEST_HEX_SIZE], sha[DIGEST_HEX_SIZE];
	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	int err = user_secrets(s, name, password, md5, sha, &sealed, &sealedlen);
	if (err < 0)
		return seterr(e, err, "cannot compute the user's digests");
	sqlite3_stmt *st = stmt(s, id);
	bind_text(st, 1, name);
	bind_text(st, 2, md5);
	bind_text(st, 3, sha);
	sqlite3_bind_blob(st, 4, sealed, (int)sealedlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	err = run(s, st, e, "write the user");
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	free(sealed);
	return err;
}

/* The realm is part of every HA1: derive them again when it changes. */
static int apply_realm(store_t *s, char const *realm, struct store_err *e)
{
	char old[128];
	int err, n = 0;

	snprintf(s->realm, sizeof(s->realm), "%s", realm);
	if (!meta_get(s, "realm", old, sizeof(old)))
		return meta_set(s, "realm", realm, e);
	if (strcmp(old, realm) == 0)
		return 0;

	if ((err = tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *all;
	if (sqlite3_prepare_v2(s->db, stmt_sql[ST_USER_ALL_SECRETS], -1, &all, NULL) != SQLITE_OK)
		return tx_end(s, db_error(s, e, "read users"), e);
	while (err == 0 && sqlite3_step(all) == SQLITE_ROW) {
		char name[STORE_NAME_MAX + 1], pw[STORE_PASSWORD_MAX + 1], aad[128];
		snprintf(name, sizeof(name), "%s", col_text(all, 0));
		user_aad(aad, sizeof(aad), name);
		if (secret_open(pw, sizeof(pw), s->key, aad, sqlite3_column_blob(all, 1),
				(size_t)sqlite3_column_bytes(all, 1)) < 0) {
			err = seterr(e, -EINVAL, "cannot decrypt the password of user %s", name);
			break;
		}
		err = user_write(s, ST_USER_UPDATE, name, pw, e);
		OPENSSL_cleanse(pw, sizeof(pw));
		n++;
	}
	sqlite3_finalize(all);
	if (err == 0)
		err = meta_set(s, "realm", realm, e);
	if ((err = tx_end(s, err, e)) == 0)
		log_notice("realm changed from '%s' to '%s': digests of %d user%s derived again",
			   old, realm, n, n == 1 ? "" : "s");
	return err;
}

static int ensure_nonce_secret(store_t *s, struct store_err *e)
{
	char hex[80];
	uint8_t raw[32];
	if (meta_get(s, "nonce_secret", hex, sizeof(hex)))
		return 0;
	if (secret_random(raw, sizeof(raw)) < 0)
		return seterr(e, -EIO, "cannot get random bytes");
	text_hex(hex, raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	return meta_set(s, "nonce_secret", hex, e);
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
				       : seterr(e, -errno, "cannot read %s %s: %s", what, path,
						strerror(errno));
	if (!S_ISREG(st.st_mode))
		return seterr(e, -EINVAL, "%s %s is not a regular file", what, path);
	if (st.st_mode & 077)
		return seterr(e, -EPERM,
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
			return seterr(e, -ENAMETOOLONG, "the database path is too long");
		int err = check_private(name, what[i], e);
		if (err < 0)
			return err;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return seterr(e, -errno, "cannot create database %s: %s", path, strerror(errno));
	return 0;
}

int store_open(store_t **out, char const *path, char const *realm, struct store_err *e)
{
	int err = 0;
	store_t *s = calloc(1, sizeof(*s));

	if (!s)
		return seterr(e, -ENOMEM, "out of memory");
	if (strcmp(path, ":memory:") != 0 && (err = check_files(path, e)) < 0)
		goto out;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		err = seterr(e, -EIO, "cannot open database %s: %s", path,
			     s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	if ((err = exec(s, "PRAGMA journal_mode = WAL", e, "switch to WAL")) < 0 ||
	    (err = exec(s, "PRAGMA synchronous = FULL", e, "set synchronous")) < 0 ||
	    (err = exec(s, "PRAGMA foreign_keys = ON", e, "enable foreign keys")) < 0)
		goto out;
	if ((err = migrate(s, e)) < 0)
		goto out;
	for (int i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			err = seterr(e, -EIO, "cannot prepare statement %d: %s", i,
				     sqlite3_errmsg(s->db));
			goto out;
		}
	}
	if ((err = load_key(s, path, e)) < 0 || (err = apply_realm(s, realm, e)) < 0 ||
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
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db) {
		/* Folds the WAL back into the database so the file stands alone. */
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (sqlite3_close(s->db) != SQLITE_OK)
			log_error("closing the database: %s", sqlite3_errmsg(s->db));
	}
	OPENSSL_cleanse(s->key, sizeof(s->key));
	free(s);
}

/* ---- users ---- */

static bool user_exists(store_t *s, char const *name)
{
	sqlite3_stmt *st = stmt(s, ST_USER_EXISTS);
	bind_text(st, 1, name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* The device a digest user is assigned to, if any. */
static bool device_of_user(store_t *s, char const *user, char *out, size_t outsize)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_BY_USER);
	bind_text(st, 1, user);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(out, outsize, "%s", col_text(st, 0));
	sqlite3_reset(st);
	return found;
}

int store_password_policy(store_t *s, char const *name, char const *password, struct store_err *e)
{
	char dev[STORE_NAME_MAX + 1];
	if (!password || strlen(password) < STORE_PASSWORD_MIN)
		return seterr(e, -EINVAL,
			      "the password is shorter than %d characters (--weak allows it)",
			      STORE_PASSWORD_MIN);
	if (name && strcasecmp(password, name) == 0)
		return seterr(e, -EINVAL, "the password is the user's name (--weak allows it)");
	if (name && device_of_user(s, name, dev, sizeof(dev)) && strcasecmp(password, dev) == 0)
		return seterr(e, -EINVAL,
			      "the password is the name of the user's device %s "
			      "(--weak allows it)",
			      dev);
	return 0;
}

int store_user_add(store_t *s, char const *name, char const *password, struct store_err *e)
{
	int err;
	if ((err = check_user_name(name, e)) < 0 || (err = check_password(password, e)) < 0)
		return err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (user_exists(s, name))
		err = seterr(e, -EEXIST, "user %s already exists", name);
	else
		err = user_write(s, ST_USER_INSERT, name, password, e);
	return tx_end(s, err, e);
}

int store_user_passwd(store_t *s, char const *name, char const *password, struct store_err *e)
{
	int err;
	if ((err = check_password(password, e)) < 0)
		return err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (!user_exists(s, name))
		err = seterr(e, -ENOENT, "no user %s", name);
	else
		err = user_write(s, ST_USER_UPDATE, name, password, e);
	return tx_end(s, err, e);
}

int store_user_del(store_t *s, char const *name, struct store_err *e)
{
	char dev[STORE_NAME_MAX + 1];
	int err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (!user_exists(s, name)) {
		err = seterr(e, -ENOENT, "no user %s", name);
	} else if (device_of_user(s, name, dev, sizeof(dev))) {
		err = seterr(e, -EBUSY,
			     "user %s is the digest user of device %s: delete the device or give "
			     "it another digest user first",
			     name, dev);
	} else {
		sqlite3_stmt *st = stmt(s, ST_USER_DELETE);
		bind_text(st, 1, name);
		err = run(s, st, e, "delete the user");
	}
	return tx_end(s, err, e);
}

int store_user_list(store_t *s, json_t **out, struct store_err *e)
{
	(void)e;
	json_t *arr = json_array();
	sqlite3_stmt *st = stmt(s, ST_USER_LIST);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(arr, json_pack("{s:s, s:I, s:o}", "name", col_text(st, 0),
						     "created_at",
						     (json_int_t)sqlite3_column_int64(st, 1),
						     "device", json_text_or_null(st, 2)));
	}
	sqlite3_reset(st);
	*out = arr;
	return 0;
}

int store_user_password(store_t *s, char const *name, char *out, size_t outsize,
			struct store_err *e)
{
	char aad[128];
	int err = 0;
	sqlite3_stmt *st = stmt(s, ST_USER_SECRET);
	bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err = seterr(e, -ENOENT, "no user %s", name);
	} else {
		user_aad(aad, sizeof(aad), name);
		if (secret_open(out, outsize, s->key, aad, sqlite3_column_blob(st, 0),
				(size_t)sqlite3_column_bytes(st, 0)) < 0)
			err = seterr(e, -EINVAL, "cannot decrypt the password of user %s", name);
	}
	sqlite3_reset(st);
	return err;
}

int store_user_ha1(store_t *s, char const *name, enum digest_alg alg, char out[DIGEST_HEX_SIZE],
		   struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = stmt(s, ST_USER_HA1);
	bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_ROW)
		err = seterr(e, -ENOENT, "no user %s", name);
	else
		snprintf(out, DIGEST_HEX_SIZE, "%s", col_text(st, alg == DIGEST_SHA256 ? 1 : 0));
	sqlite3_reset(st);
	return err;
}

/* ---- devices ---- */

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
};

static bool device_get(store_t *s, char const *name, struct device_row *row)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_GET);
	bind_text(st, 1, name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		snprintf(row->name, sizeof(row->name), "%s", col_text(st, 0));
		snprintf(row->model, sizeof(row->model), "%s", col_text(st, 1));
		snprintf(row->digest_user, sizeof(row->digest_user), "%s", col_text(st, 2));
		snprintf(row->auth, sizeof(row->auth), "%s", col_text(st, 3));
		row->created_at = sqlite3_column_int64(st, 4);
		row->updated_at = sqlite3_column_int64(st, 5);
		row->model_lines = sqlite3_column_int(st, 6);
		snprintf(row->digest_algs, sizeof(row->digest_algs), "%s", col_text(st, 7));
		snprintf(row->qop, sizeof(row->qop), "%s", col_text(st, 8));
		row->dnd = sqlite3_column_int(st, 9) != 0;
	}
	sqlite3_reset(st);
	return found;
}

static int model_lines(store_t *s, char const *model)
{
	sqlite3_stmt *st = stmt(s, ST_MODEL_LINES);
	bind_text(st, 1, model);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

static int check_model(store_t *s, char const *model, struct store_err *e)
{
	if (!model || model_lines(s, model) < 0)
		return seterr(e, -EINVAL, "unknown model '%s' (sipregctl device models lists them)",
			      model ? model : "");
	return 0;
}

/* The digest user must exist and belong to no other device. */
static int check_digest_user(store_t *s, char const *user, char const *device, struct store_err *e)
{
	char other[STORE_NAME_MAX + 1];
	if (!user_exists(s, user))
		return seterr(e, -ENOENT, "no user %s (add it with sipregctl user add %s)", user,
			      user);
	if (device_of_user(s, user, other, sizeof(other)) && strcmp(other, device) != 0)
		return seterr(e, -EEXIST, "digest user %s is already assigned to device %s", user,
			      other);
	return 0;
}

static int device_update(store_t *s, struct store_device_spec const *spec, struct store_err *e);

int store_device_add(store_t *s, struct store_device_spec const *spec, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	struct device_row row;
	int err;

	if ((err = check_device_name(spec->name, e)) < 0 || (err = check_auth(spec->auth, e)) < 0 ||
	    (err = check_policy(spec, e)) < 0)
		return err;
	if (!spec->digest_user || (err = check_user_name(spec->digest_user, e)) < 0)
		return err ? err : seterr(e, -EINVAL, "a digest user is required");
	store_device_name_canon(name, sizeof(name), spec->name);
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (device_get(s, name, &row))
		err = seterr(e, -EEXIST, "device %s already exists", name);
	else if ((err = check_model(s, spec->model, e)) == 0 &&
		 (err = check_digest_user(s, spec->digest_user, name, e)) == 0) {
		sqlite3_stmt *st = stmt(s, ST_DEVICE_INSERT);
		bind_text(st, 1, name);
		bind_text(st, 2, spec->model);
		bind_text(st, 3, spec->digest_user);
		bind_text(st, 4, spec->auth ? spec->auth : "verify");
		sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
		err = run(s, st, e, "add the device");
		if (err == 0 && (spec->digest_algs || spec->qop)) {
			struct store_device_spec set = *spec;
			set.name = name;
			set.model = set.digest_user = set.auth = NULL;
			err = device_update(s, &set, e);
		}
	}
	return tx_end(s, err, e);
}

/* Applies a device change; the caller holds a transaction. */
static int device_update(store_t *s, struct store_device_spec const *spec, struct store_err *e)
{
	struct device_row row;
	int err;

	if (!device_get(s, spec->name, &row))
		return seterr(e, -ENOENT, "no device %s", spec->name);
	if (spec->model && (err = check_model(s, spec->model, e)) < 0)
		return err;
	if (spec->model) {
		int lines = model_lines(s, spec->model);
		sqlite3_stmt *st = stmt(s, ST_DEVICE_MAX_INDEX);
		bind_text(st, 1, spec->name);
		int maxidx = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_reset(st);
		if (maxidx > lines)
			return seterr(e, -EINVAL,
				      "device %s has a line at index %d, beyond the %d line%s of "
				      "model %s: delete that line first",
				      spec->name, maxidx, lines, lines == 1 ? "" : "s",
				      spec->model);
	}
	if (spec->digest_user && (err = check_digest_user(s, spec->digest_user, spec->name, e)) < 0)
		return err;
	char const *algs = spec->digest_algs ? spec->digest_algs : row.digest_algs;
	sqlite3_stmt *st = stmt(s, ST_DEVICE_UPDATE);
	bind_text(st, 1, spec->name);
	bind_text(st, 2, spec->model ? spec->model : row.model);
	bind_text(st, 3, spec->digest_user ? spec->digest_user : row.digest_user);
	bind_text(st, 4, spec->auth ? spec->auth : row.auth);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	bind_text(st, 6, strcmp(algs, "default") ? algs : NULL);
	bind_text(st, 7, spec->qop ? spec->qop : row.qop);
	return run(s, st, e, "update the device");
}

int store_device_set(store_t *s, struct store_device_spec const *spec, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	int err;

	if ((err = check_auth(spec->auth, e)) < 0 || (err = check_policy(spec, e)) < 0)
		return err;
	store_device_name_canon(name, sizeof(name), spec->name);
	struct store_device_spec canon = *spec;
	canon.name = name;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	err = device_update(s, &canon, e);
	return tx_end(s, err, e);
}

int store_device_del(store_t *s, char const *name_in, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	struct device_row row;
	int err;

	store_device_name_canon(name, sizeof(name), name_in);
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (!device_get(s, name, &row)) {
		err = seterr(e, -ENOENT, "no device %s", name);
	} else {
		sqlite3_stmt *st = stmt(s, ST_DEVICE_DELETE);
		bind_text(st, 1, name);
		err = run(s, st, e, "delete the device");
	}
	return tx_end(s, err, e);
}

int store_device_list(store_t *s, json_t **out, struct store_err *e)
{
	(void)e;
	json_t *arr = json_array();
	sqlite3_stmt *st = stmt(s, ST_DEVICE_LIST);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "name",
				       col_text(st, 0), "model", col_text(st, 1), "digest_user",
				       col_text(st, 2), "auth", col_text(st, 3), "digest_algs",
				       col_text(st, 4), "qop", col_text(st, 5), "lines",
				       sqlite3_column_int(st, 6), "bindings",
				       sqlite3_column_int(st, 7)));
	}
	sqlite3_reset(st);
	*out = arr;
	return 0;
}

int store_device_show(store_t *s, char const *name_in, json_t **out, struct store_err *e)
{
	char name[STORE_NAME_MAX + 1];
	struct device_row row;

	store_device_name_canon(name, sizeof(name), name_in);
	if (!device_get(s, name, &row))
		return seterr(e, -ENOENT, "no device %s", name);
	json_t *lines = json_array();
	sqlite3_stmt *st = stmt(s, ST_LINE_OF_DEVICE);
	bind_text(st, 1, name);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(
			lines, json_pack("{s:i, s:s, s:o, s:o}", "index", sqlite3_column_int(st, 1),
					 "dn", col_text(st, 0), "display", json_text_or_null(st, 2),
					 "label", json_text_or_null(st, 3)));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "name",
			 row.name, "model", row.model, "model_lines", row.model_lines,
			 "digest_user", row.digest_user, "auth", row.auth, "digest_algs",
			 row.digest_algs, "qop", row.qop, "dnd", row.dnd ? "on" : "off",
			 "created_at", (json_int_t)row.created_at, "updated_at",
			 (json_int_t)row.updated_at, "lines", lines);
	return 0;
}

/* ---- lines ---- */

static json_t *line_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:i, s:o, s:o}", "dn", col_text(st, 0), "device",
			 col_text(st, 1), "index", sqlite3_column_int(st, 2), "display",
			 json_text_or_null(st, 3), "label", json_text_or_null(st, 4));
}

/* Adds the five LINE_FEATURES columns from column i on. */
static void features_json(json_t *o, sqlite3_stmt *st, int i)
{
	json_object_set_new(o, "dnd", json_string(sqlite3_column_int(st, i) ? "on" : "off"));
	json_object_set_new(o, "cfwd_all", json_text_or_null(st, i + 1));
	json_object_set_new(o, "cfwd_busy", json_text_or_null(st, i + 2));
	json_object_set_new(o, "cfwd_noanswer", json_text_or_null(st, i + 3));
	json_object_set_new(o, "noanswer_timeout", json_integer(sqlite3_column_int(st, i + 4)));
}

/* The lowest index from 1 to lines not yet used on the device, or 0. */
static unsigned free_index(store_t *s, char const *device, int lines)
{
	unsigned want = 1;
	sqlite3_stmt *st = stmt(s, ST_LINE_INDEXES);
	bind_text(st, 1, device);
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

	if ((err = check_dn(spec->dn, e)) < 0 ||
	    (err = check_text("display", spec->display, e)) < 0 ||
	    (err = check_text("label", spec->label, e)) < 0)
		return err;
	store_device_name_canon(device, sizeof(device), spec->device);
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (!device_get(s, device, &row)) {
		err = seterr(e, -ENOENT, "no device %s", device);
		goto out;
	}
	sqlite3_stmt *st = stmt(s, ST_LINE_GET);
	bind_text(st, 1, spec->dn);
	if (sqlite3_step(st) == SQLITE_ROW) {
		err = seterr(e, -EEXIST, "DN %s is already line %d of device %s", spec->dn,
			     sqlite3_column_int(st, 2), col_text(st, 1));
		sqlite3_reset(st);
		goto out;
	}
	sqlite3_reset(st);
	unsigned idx = spec->index;
	if (idx == 0) {
		idx = free_index(s, device, row.model_lines);
		if (!idx) {
			err = seterr(e, -EINVAL,
				     "device %s has no free line: model %s has %d line%s", device,
				     row.model, row.model_lines, row.model_lines == 1 ? "" : "s");
			goto out;
		}
	} else if (idx > (unsigned)row.model_lines) {
		err = seterr(e, -EINVAL, "line index %u is beyond the %d line%s of model %s", idx,
			     row.model_lines, row.model_lines == 1 ? "" : "s", row.model);
		goto out;
	} else {
		st = stmt(s, ST_LINE_AT_INDEX);
		bind_text(st, 1, device);
		sqlite3_bind_int(st, 2, (int)idx);
		if (sqlite3_step(st) == SQLITE_ROW) {
			err = seterr(e, -EEXIST, "line %u of device %s is already DN %s", idx,
				     device, col_text(st, 0));
			sqlite3_reset(st);
			goto out;
		}
		sqlite3_reset(st);
	}
	st = stmt(s, ST_LINE_INSERT);
	bind_text(st, 1, spec->dn);
	bind_text(st, 2, device);
	sqlite3_bind_int(st, 3, (int)idx);
	bind_text(st, 4, spec->display && spec->display[0] ? spec->display : NULL);
	bind_text(st, 5, spec->label && spec->label[0] ? spec->label : NULL);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	if ((err = run(s, st, e, "add the line")) == 0 && index_out)
		*index_out = idx;
out:
	return tx_end(s, err, e);
}

int store_line_del(store_t *s, char const *dn, struct store_err *e)
{
	int err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = stmt(s, ST_LINE_DELETE);
	bind_text(st, 1, dn);
	if ((err = run(s, st, e, "delete the line")) == 0 && sqlite3_changes(s->db) == 0)
		err = seterr(e, -ENOENT, "no line with DN %s", dn);
	return tx_end(s, err, e);
}

int store_line_list(store_t *s, json_t **out, struct store_err *e)
{
	(void)e;
	json_t *arr = json_array();
	sqlite3_stmt *st = stmt(s, ST_LINE_LIST);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = line_json(st);
		json_object_set_new(o, "bindings", json_integer(sqlite3_column_int(st, 5)));
		features_json(o, st, 6);
		json_array_append_new(arr, o);
	}
	sqlite3_reset(st);
	*out = arr;
	return 0;
}

int store_line_show(store_t *s, char const *dn, json_t **out, struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = stmt(s, ST_LINE_GET);
	bind_text(st, 1, dn);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = line_json(st);
		json_object_set_new(*out, "model", json_string(col_text(st, 5)));
		json_object_set_new(*out, "bindings", json_integer(sqlite3_column_int(st, 6)));
		features_json(*out, st, 7);
	} else {
		err = seterr(e, -ENOENT, "no line with DN %s", dn);
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
	if (check_dn(v, e) < 0)
		return seterr(e, -EINVAL, "%s: '%s' is not a DN (digits, letters or +*._-)", what,
			      v);
	if (!strcmp(v, dn))
		return seterr(e, -EINVAL, "%s: line %s cannot forward to itself", what, dn);
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
		return seterr(e, -EINVAL, "the no-answer timeout is 0 to 600 seconds");
	if (f->dnd > 1)
		return seterr(e, -EINVAL, "dnd is on or off");
	if ((err = tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = stmt(s, ST_FEATURE_GET);
	bind_text(st, 1, f->dn);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return tx_end(s, seterr(e, -ENOENT, "no line with DN %s", f->dn), e);
	}
	dnd = sqlite3_column_int(st, 0) != 0;
	snprintf(all, sizeof(all), "%s", col_text(st, 1) ? col_text(st, 1) : "");
	snprintf(busy, sizeof(busy), "%s", col_text(st, 2) ? col_text(st, 2) : "");
	snprintf(noans, sizeof(noans), "%s", col_text(st, 3) ? col_text(st, 3) : "");
	timeout = sqlite3_column_int(st, 4);
	snprintf(device, sizeof(device), "%s", col_text(st, 5));
	sqlite3_reset(st);

	if ((err = forward_value("call forward all", f->dn, f->cfwd_all, all[0] ? all : NULL,
				 &n_all, e)) < 0 ||
	    (err = forward_value("call forward busy", f->dn, f->cfwd_busy, busy[0] ? busy : NULL,
				 &n_busy, e)) < 0 ||
	    (err = forward_value("call forward no answer", f->dn, f->cfwd_noanswer,
				 noans[0] ? noans : NULL, &n_noans, e)) < 0)
		return tx_end(s, err, e);
	if (f->noanswer_timeout >= 0)
		timeout = f->noanswer_timeout;

	st = stmt(s, ST_FEATURE_UPSERT);
	bind_text(st, 1, f->dn);
	bind_text(st, 2, n_all);
	bind_text(st, 3, n_busy);
	bind_text(st, 4, n_noans);
	sqlite3_bind_int(st, 5, timeout);
	if ((err = run(s, st, e, "store the line's features")) < 0)
		return tx_end(s, err, e);
	if (f->dnd >= 0 && (f->dnd != 0) != dnd) {
		st = stmt(s, ST_DEVICE_DND);
		bind_text(st, 1, device);
		sqlite3_bind_int(st, 2, f->dnd);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
		err = run(s, st, e, "store do not disturb");
	}
	return tx_end(s, err, e);
}

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
	if ((err = tx_begin(s, e)) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		sqlite3_stmt *st = stmt(s, ST_CDR_INSERT);
		bind_time(st, 1, c[i].started_at);
		bind_time(st, 2, c[i].answered_at);
		bind_time(st, 3, c[i].ended_at);
		bind_text(st, 4, c[i].caller);
		bind_text(st, 5, c[i].caller_device[0] ? c[i].caller_device : NULL);
		bind_text(st, 6, c[i].callee);
		bind_text(st, 7, c[i].target[0] ? c[i].target : NULL);
		bind_text(st, 8, c[i].forwarded[0] ? c[i].forwarded : NULL);
		bind_text(st, 9, c[i].result);
		long long d = c[i].answered_at > 0 && c[i].ended_at >= c[i].answered_at
				      ? c[i].ended_at - c[i].answered_at
				      : 0;
		sqlite3_bind_int64(st, 10, (sqlite3_int64)d);
		bind_text(st, 11, c[i].call_id[0] ? c[i].call_id : NULL);
		err = run(s, st, e, "write a call record");
	}
	return tx_end(s, err, e);
}

static json_t *int_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? json_null()
		       : json_integer((json_int_t)sqlite3_column_int64(st, i));
}

int store_cdr_list(store_t *s, long long since, unsigned limit, json_t **out, struct store_err *e)
{
	(void)e;
	json_t *arr = json_array();
	sqlite3_stmt *st = stmt(s, ST_CDR_LIST);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_pack(
			"{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "id",
			(json_int_t)sqlite3_column_int64(st, 0), "call_id",
			json_text_or_null(st, 11), "started_at", int_or_null(st, 1), "answered_at",
			int_or_null(st, 2), "ended_at", int_or_null(st, 3), "caller",
			json_text_or_null(st, 4), "caller_device", json_text_or_null(st, 5),
			"callee", json_text_or_null(st, 6), "target", json_text_or_null(st, 7),
			"forwarded", json_text_or_null(st, 8), "result", json_text_or_null(st, 9),
			"duration", (json_int_t)sqlite3_column_int64(st, 10));
		json_array_append_new(arr, o);
	}
	sqlite3_reset(st);
	*out = arr;
	return 0;
}

int store_model_list(store_t *s, json_t **out, struct store_err *e)
{
	(void)e;
	json_t *arr = json_array();
	sqlite3_stmt *st = stmt(s, ST_MODEL_LIST);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(
			arr, json_pack("{s:s, s:i, s:s, s:b}", "name", col_text(st, 0), "lines",
				       sqlite3_column_int(st, 1), "vendor", col_text(st, 2),
				       "cucm_mode", sqlite3_column_int(st, 3)));
	}
	sqlite3_reset(st);
	*out = arr;
	return 0;
}

int store_binding_list(store_t *s, json_t **out, struct store_err *e)
{
	(void)e;
	json_t *arr = json_array();
	long long now = (long long)time(NULL);
	sqlite3_stmt *st = stmt(s, ST_BINDING_LIST);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long left = sqlite3_column_int64(st, 7) - now;
		json_array_append_new(
			arr, json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:I}", "device",
				       col_text(st, 0), "index", sqlite3_column_int(st, 1), "dn",
				       col_text(st, 2), "contact", col_text(st, 3), "transport",
				       json_text_or_null(st, 4), "source", json_text_or_null(st, 5),
				       "user_agent", json_text_or_null(st, 6), "expires_in",
				       (json_int_t)(left > 0 ? left : 0)));
	}
	sqlite3_reset(st);
	*out = arr;
	return 0;
}

int store_counts(store_t *s, json_t **out, struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = stmt(s, ST_COUNTS);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = json_pack("{s:i, s:i, s:i, s:i}", "users", sqlite3_column_int(st, 0),
				 "devices", sqlite3_column_int(st, 1), "lines",
				 sqlite3_column_int(st, 2), "bindings", sqlite3_column_int(st, 3));
	else
		err = db_error(s, e, "count rows");
	sqlite3_reset(st);
	return err;
}

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

/* ---- trunks and the dial plan ---- */

static int trunk_aad(char *out, size_t n, char const *name)
{
	return snprintf(out, n, "trunk:%s", name);
}

/* HOST[:PORT], [V6][:PORT] or a bare V6 address. */
static int check_hostport(char const *what, char const *v, struct store_err *e)
{
	if (!valid_chars(v, 255, "-.:[]_"))
		return seterr(e, -EINVAL, "%s must be HOST or HOST:PORT, not '%s'", what,
			      v ? v : "");
	char const *port = NULL;
	if (v[0] == '[') {
		char const *close = strchr(v, ']');
		if (!close || close == v + 1 || (close[1] && close[1] != ':'))
			return seterr(e, -EINVAL, "%s: '%s' is not [ADDRESS] or [ADDRESS]:PORT",
				      what, v);
		port = close[1] ? close + 2 : NULL;
	} else if (strchr(v, '[') || strchr(v, ']')) {
		return seterr(e, -EINVAL, "%s: '%s' has a bracket outside [ADDRESS]", what, v);
	} else if (strchr(v, ':') == strrchr(v, ':') && strchr(v, ':')) {
		port = strchr(v, ':') + 1;
		if (port == v + 1)
			return seterr(e, -EINVAL, "%s: '%s' has no host", what, v);
	}
	if (port) {
		char *end;
		long n = strtol(port, &end, 10);
		if (!port[0] || *end || n < 1 || n > 65535)
			return seterr(e, -EINVAL, "%s: the port in '%s' must be 1 to 65535", what,
				      v);
	}
	return 0;
}

static int check_number(char const *what, char const *v, struct store_err *e)
{
	if (!valid_chars(v, 32, "+*#") || strspn(v, "0123456789+*#") != strlen(v))
		return seterr(e, -EINVAL, "%s must be 1 to 32 digits, +, * or #, not '%s'", what,
			      v ? v : "");
	return 0;
}

static bool row_exists(store_t *s, enum stmt_id id, char const *key)
{
	sqlite3_stmt *st = stmt(s, id);
	bind_text(st, 1, key);
	bool yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return yes;
}

static int check_line_exists(store_t *s, char const *what, char const *dn, struct store_err *e)
{
	int err = check_dn(dn, e);
	if (err == 0 && !row_exists(s, ST_LINE_EXISTS, dn))
		err = seterr(e, -ENOENT, "%s: no line with DN %s", what, dn);
	return err;
}

/* One --did value: NUMBER or NUMBER=DN. */
static int add_did(store_t *s, char const *trunk, char const *v, struct store_err *e)
{
	char number[64], *dn;
	int err;
	if (strlen(v) >= sizeof(number))
		return seterr(e, -EINVAL, "DID '%.40s...' is too long", v);
	snprintf(number, sizeof(number), "%s", v);
	if ((dn = strchr(number, '=')))
		*dn++ = '\0';
	if ((err = check_number("a DID", number, e)) < 0 ||
	    (dn && (err = check_line_exists(s, "DID", dn, e)) < 0))
		return err;
	sqlite3_stmt *st = stmt(s, ST_DID_OWNER);
	bind_text(st, 1, number);
	if (sqlite3_step(st) == SQLITE_ROW) {
		err = seterr(e, -EEXIST, "DID %s belongs to trunk %s", number, col_text(st, 0));
		sqlite3_reset(st);
		return err;
	}
	sqlite3_reset(st);
	st = stmt(s, ST_DID_INSERT);
	bind_text(st, 1, number);
	bind_text(st, 2, trunk);
	bind_text(st, 3, dn);
	return run(s, st, e, "add the DID");
}

/* The checks of a whole trunk's settings (not of its DIDs). */
static int check_trunk(struct store_trunk_spec const *t, struct store_err *e)
{
	int err;
	char const *transport = t->transport ? t->transport : "udp";
	bool reg = t->do_register < 0 ? t->user != NULL : t->do_register != 0;
	if (!valid_chars(t->name, STORE_NAME_MAX, "-_."))
		return seterr(e, -EINVAL, "trunk name must be 1 to %d letters, digits or -_.",
			      STORE_NAME_MAX);
	if ((err = check_hostport("registrar", t->registrar, e)) < 0 ||
	    (t->proxy && (err = check_hostport("proxy", t->proxy, e)) < 0) ||
	    (t->user && (err = check_user_name(t->user, e)) < 0) ||
	    (t->auth_user && (err = check_user_name(t->auth_user, e)) < 0) ||
	    (t->password && (err = check_password(t->password, e)) < 0) ||
	    (err = check_text("realm", t->realm, e)) < 0 ||
	    (t->caller_id && (err = check_number("caller ID", t->caller_id, e)) < 0))
		return err;
	if (strcmp(transport, "udp") && strcmp(transport, "tcp"))
		return seterr(e, -EINVAL, "transport must be udp or tcp, not '%s'", transport);
	if (reg && !t->user)
		return seterr(e, -EINVAL, "a trunk that registers needs --user");
	if (t->expires && (t->expires < 60 || t->expires > 86400))
		return seterr(e, -EINVAL, "expires must be 60 to 86400 seconds");
	return 0;
}

/* The Contact user registered upstream: the trunk user (or name) and a random token. */
static int contact_user_new(char *out, size_t n, struct store_trunk_spec const *t,
			    struct store_err *e)
{
	uint8_t token[4];
	char hex[9];
	if (secret_random(token, sizeof(token)) < 0)
		return seterr(e, -EIO, "cannot get random bytes");
	text_hex(hex, token, sizeof(token));
	snprintf(out, n, "%s-%s", t->user ? t->user : t->name, hex);
	return 0;
}

int store_trunk_add(store_t *s, struct store_trunk_spec const *t, struct store_err *e)
{
	int err;
	char const *transport = t->transport ? t->transport : "udp";
	bool reg = t->do_register < 0 ? t->user != NULL : t->do_register != 0;
	if ((err = check_trunk(t, e)) < 0)
		return err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (row_exists(s, ST_TRUNK_EXISTS, t->name))
		err = seterr(e, -EEXIST, "trunk %s exists", t->name);
	if (err == 0 && t->default_dn)
		err = check_line_exists(s, "default line", t->default_dn, e);

	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	char aad[128], contact[STORE_NAME_MAX + 16];
	trunk_aad(aad, sizeof(aad), t->name);
	if (err == 0 && t->password &&
	    secret_seal(&sealed, &sealedlen, s->key, aad, t->password, strlen(t->password)) < 0)
		err = seterr(e, -EIO, "cannot seal the trunk's password");
	if (err == 0)
		err = contact_user_new(contact, sizeof(contact), t, e);
	if (err == 0) {
		sqlite3_stmt *st = stmt(s, ST_TRUNK_INSERT);
		bind_text(st, 1, t->name);
		bind_text(st, 2, t->registrar);
		bind_text(st, 3, t->proxy);
		bind_text(st, 4, t->user);
		bind_text(st, 5, t->auth_user);
		if (sealed)
			sqlite3_bind_blob(st, 6, sealed, (int)sealedlen, SQLITE_STATIC);
		bind_text(st, 7, t->realm);
		bind_text(st, 8, transport);
		sqlite3_bind_int64(st, 9, t->expires ? t->expires : 3600);
		sqlite3_bind_int(st, 10, reg);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)time(NULL));
		bind_text(st, 12, t->caller_id);
		bind_text(st, 13, t->default_dn);
		sqlite3_bind_int(st, 14, t->emergency > 0);
		bind_text(st, 15, contact);
		err = run(s, st, e, "add the trunk");
	}
	free(sealed);
	for (size_t i = 0; err == 0 && i < t->n_dids; i++)
		err = add_did(s, t->name, t->dids[i], e);
	return tx_end(s, err, e);
}

/* A changed text setting: NULL keeps old, "" clears it, else the new value. */
static char const *merged(char const *change, char const *old)
{
	if (!change)
		return old;
	return change[0] ? change : NULL;
}

int store_trunk_set(store_t *s, struct store_trunk_spec const *c, bool set_dids,
		    struct store_err *e)
{
	int err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = stmt(s, ST_TRUNK_GET);
	bind_text(st, 1, c->name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return tx_end(s, seterr(e, -ENOENT, "no trunk %s", c->name), e);
	}
	/* The row as it is, copied out of the statement. */
	char *old[14] = { 0 };
	for (int i = 0; i < 14; i++)
		if (i != 4 && col_text(st, i))
			old[i] = strdup(col_text(st, i));
	size_t oldlen = (size_t)sqlite3_column_bytes(st, 4);
	uint8_t *oldsecret = NULL;
	if (sqlite3_column_type(st, 4) == SQLITE_BLOB && (oldsecret = malloc(oldlen ? oldlen : 1)))
		memcpy(oldsecret, sqlite3_column_blob(st, 4), oldlen);
	struct store_trunk_spec t = {
		.name = c->name,
		.registrar = c->registrar ? c->registrar : old[0],
		.proxy = merged(c->proxy, old[1]),
		.user = merged(c->user, old[2]),
		.auth_user = merged(c->auth_user, old[3]),
		.password = c->password,
		.realm = merged(c->realm, old[5]),
		.transport = c->transport ? c->transport : old[6],
		.expires = c->expires ? c->expires : atoll(old[7] ? old[7] : "3600"),
		.do_register = c->do_register >= 0 ? c->do_register : atoi(old[8] ? old[8] : "0"),
		.caller_id = merged(c->caller_id, old[9]),
		.default_dn = merged(c->default_dn, old[10]),
		.emergency = c->emergency >= 0 ? c->emergency : atoi(old[11] ? old[11] : "0"),
	};
	sqlite3_reset(st);
	char contact[STORE_NAME_MAX + 16];
	bool same_user = (!t.user && !old[2]) || (t.user && old[2] && !strcmp(t.user, old[2]));
	snprintf(contact, sizeof(contact), "%s", old[12] ? old[12] : "");
	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	char aad[128];
	trunk_aad(aad, sizeof(aad), t.name);
	err = check_trunk(&t, e);
	if (err == 0 && t.default_dn && c->default_dn)
		err = check_line_exists(s, "default line", t.default_dn, e);
	if (err == 0 && (!same_user || !contact[0]))
		err = contact_user_new(contact, sizeof(contact), &t, e);
	if (err == 0 && t.password &&
	    secret_seal(&sealed, &sealedlen, s->key, aad, t.password, strlen(t.password)) < 0)
		err = seterr(e, -EIO, "cannot seal the trunk's password");
	if (err == 0) {
		st = stmt(s, ST_TRUNK_UPDATE);
		bind_text(st, 1, t.name);
		bind_text(st, 2, t.registrar);
		bind_text(st, 3, t.proxy);
		bind_text(st, 4, t.user);
		bind_text(st, 5, t.auth_user);
		if (sealed)
			sqlite3_bind_blob(st, 6, sealed, (int)sealedlen, SQLITE_STATIC);
		else if (oldsecret)
			sqlite3_bind_blob(st, 6, oldsecret, (int)oldlen, SQLITE_STATIC);
		bind_text(st, 7, t.realm);
		bind_text(st, 8, t.transport ? t.transport : "udp");
		sqlite3_bind_int64(st, 9, t.expires ? t.expires : 3600);
		sqlite3_bind_int(st, 10, t.do_register > 0);
		bind_text(st, 11, t.caller_id);
		bind_text(st, 12, t.default_dn);
		sqlite3_bind_int(st, 13, t.emergency > 0);
		bind_text(st, 14, contact);
		err = run(s, st, e, "change the trunk");
	}
	if (err == 0 && set_dids) {
		st = stmt(s, ST_DID_CLEAR);
		bind_text(st, 1, t.name);
		err = run(s, st, e, "replace the DIDs");
		for (size_t i = 0; err == 0 && i < c->n_dids; i++)
			err = add_did(s, t.name, c->dids[i], e);
	}
	free(sealed);
	free(oldsecret);
	for (int i = 0; i < 14; i++)
		free(old[i]);
	return tx_end(s, err, e);
}

int store_trunk_del(store_t *s, char const *name, struct store_err *e)
{
	int err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = stmt(s, ST_TRUNK_DELETE);
	bind_text(st, 1, name);
	if ((err = run(s, st, e, "delete the trunk")) == 0 && sqlite3_changes(s->db) == 0)
		err = seterr(e, -ENOENT, "no trunk %s", name);
	return tx_end(s, err, e);
}

int store_route_add(store_t *s, struct store_route_spec const *r, long long *id,
		    struct store_err *e)
{
	int err;
	if (!dialplan_pattern_valid(r->pattern))
		return seterr(e, -EINVAL,
			      "pattern must be 1 to 32 of digits, *, #, +, X (any digit), Z (1-9), "
			      "N (2-9), and may end in . (anything more), not '%s'",
			      r->pattern ? r->pattern : "");
	if (r->prepend && r->prepend[0] && (err = check_number("prepend", r->prepend, e)) < 0)
		return err;
	if (r->strip > 32)
		return seterr(e, -EINVAL, "strip must be 0 to 32 digits");
	if ((err = tx_begin(s, e)) < 0)
		return err;
	if (r->trunk && !row_exists(s, ST_TRUNK_EXISTS, r->trunk))
		err = seterr(e, -ENOENT, "no trunk %s", r->trunk);
	if (err == 0) {
		sqlite3_stmt *st = stmt(s, ST_ROUTE_INSERT);
		bind_text(st, 1, r->pattern);
		bind_text(st, 2, r->trunk);
		sqlite3_bind_int(st, 3, (int)r->strip);
		bind_text(st, 4, r->prepend ? r->prepend : "");
		sqlite3_bind_int(st, 5, r->priority);
		sqlite3_bind_int(st, 6, r->allow_restricted);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
		if ((err = run(s, st, e, "add the route")) == 0 && id)
			*id = (long long)sqlite3_last_insert_rowid(s->db);
	}
	return tx_end(s, err, e);
}

int store_route_del(store_t *s, long long id, struct store_err *e)
{
	int err;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = stmt(s, ST_ROUTE_DELETE);
	sqlite3_bind_int64(st, 1, id);
	if ((err = run(s, st, e, "delete the route")) == 0 && sqlite3_changes(s->db) == 0)
		err = seterr(e, -ENOENT, "no route %lld", id);
	return tx_end(s, err, e);
}

/* The host of HOST[:PORT] or [V6][:PORT], into out. */
static void host_of(char *out, size_t n, char const *hostport)
{
	if (hostport[0] == '[') {
		snprintf(out, n, "%s", hostport + 1);
		char *end = strchr(out, ']');
		if (end)
			*end = '\0';
		return;
	}
	snprintf(out, n, "%s", hostport);
	char *colon = strchr(out, ':');
	if (colon && colon == strrchr(out, ':')) /* one colon: a port; more: a bare IPv6 */
		*colon = '\0';
}

/* Adds the addresses a host name resolves to (or the address it is) to list. */
static void resolve_into(char const *hostport, char **list, size_t *n, size_t max)
{
	char host[256];
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	host_of(host, sizeof(host), hostport);
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		log_warning("trunk host %s does not resolve (%s): calls from it are not "
			    "recognised",
			    host, gai_strerror(rc));
		return;
	}
	for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
		char ip[64];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip), NULL, 0,
				NI_NUMERICHOST))
			continue;
		bool seen = false;
		for (size_t i = 0; i < *n; i++)
			seen |= !strcmp(list[i], ip);
		if (!seen && (list[*n] = strdup(ip)))
			(*n)++;
	}
	freeaddrinfo(res);
}

/* Trunks (passwords opened, addresses resolved), DIDs and routes into d. */
static int directory_load_trunks(store_t *s, directory_t *d, struct store_err *e)
{
	int err = 0;
	sqlite3_stmt *st = stmt(s, ST_DIR_TRUNKS);
	while (err == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char pw[STORE_PASSWORD_MAX + 1] = "", aad[128];
		char *addrs[16];
		size_t n_addrs = 0;
		char const *name = col_text(st, 0);
		bool has_pw = sqlite3_column_type(st, 5) == SQLITE_BLOB;
		trunk_aad(aad, sizeof(aad), name);
		if (has_pw && secret_open(pw, sizeof(pw), s->key, aad, sqlite3_column_blob(st, 5),
					  (size_t)sqlite3_column_bytes(st, 5)) < 0) {
			log_error("cannot decrypt the password of trunk %s", name);
			has_pw = false;
		}
		resolve_into(col_text(st, 1), addrs, &n_addrs, 8);
		if (col_text(st, 2))
			resolve_into(col_text(st, 2), addrs, &n_addrs, 16);
		struct dir_trunk t = {
			.name = (char *)name,
			.registrar = (char *)col_text(st, 1),
			.proxy = (char *)col_text(st, 2),
			.user = (char *)col_text(st, 3),
			.auth_user = (char *)col_text(st, 4),
			.password = has_pw ? pw : NULL,
			.realm = (char *)col_text(st, 6),
			.transport = (char *)col_text(st, 7),
			.expires = (unsigned)sqlite3_column_int(st, 8),
			.do_register = sqlite3_column_int(st, 9) != 0,
			.caller_id = (char *)col_text(st, 10),
			.default_dn = (char *)col_text(st, 11),
			.emergency = sqlite3_column_int(st, 12) != 0,
			.contact_user = (char *)col_text(st, 13),
			.addrs = addrs,
			.n_addrs = n_addrs,
		};
		err = directory_add_trunk(d, &t);
		OPENSSL_cleanse(pw, sizeof(pw));
		for (size_t i = 0; i < n_addrs; i++)
			free(addrs[i]);
	}
	sqlite3_reset(st);
	st = stmt(s, ST_DIR_DIDS);
	while (err == 0 && sqlite3_step(st) == SQLITE_ROW)
		err = directory_add_did(d, col_text(st, 0), col_text(st, 1), col_text(st, 2));
	sqlite3_reset(st);
	st = stmt(s, ST_DIR_ROUTES);
	while (err == 0 && sqlite3_step(st) == SQLITE_ROW)
		err = directory_add_route(d, sqlite3_column_int64(st, 0), col_text(st, 1),
					  col_text(st, 2), (unsigned)sqlite3_column_int(st, 3),
					  col_text(st, 4), sqlite3_column_int(st, 5),
					  sqlite3_column_int(st, 6) != 0);
	sqlite3_reset(st);
	return err < 0 ? seterr(e, err, "cannot load the trunks") : 0;
}

int store_directory_load(store_t *s, directory_t **out, struct store_err *e)
{
	directory_t *d = directory_create();
	int err = 0;
	sqlite3_stmt *st;

	if (!d)
		return seterr(e, -ENOMEM, "out of memory");
	st = stmt(s, ST_DIR_USERS);
	while (err == 0 && sqlite3_step(st) == SQLITE_ROW)
		err = directory_add_user(d, col_text(st, 0), col_text(st, 1), col_text(st, 2));
	sqlite3_reset(st);
	st = stmt(s, ST_DIR_DEVICES);
	while (err == 0 && sqlite3_step(st) == SQLITE_ROW) {
		char const *vendor = col_text(st, 3);
		err = directory_add_device(
			d, col_text(st, 0), col_text(st, 1), (unsigned)sqlite3_column_int(st, 2),
			vendor && !strcmp(vendor, "cisco"), sqlite3_column_int(st, 4) != 0,
			col_text(st, 5), !strcmp(col_text(st, 6), "identify"),
			!strcmp(col_text(st, 7), "auth"), algs_from_text(col_text(st, 8)),
			sqlite3_column_int(st, 9) != 0);
	}
	sqlite3_reset(st);
	st = stmt(s, ST_DIR_LINES);
	while (err == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct dir_forward fwd = {
			.all = col_text(st, 4),
			.busy = col_text(st, 5),
			.noanswer = col_text(st, 6),
			.noanswer_timeout = (unsigned)sqlite3_column_int(st, 7),
		};
		err = directory_add_line(d, col_text(st, 0), col_text(st, 1),
					 (unsigned)sqlite3_column_int(st, 2), col_text(st, 3),
					 &fwd);
	}
	sqlite3_reset(st);
	if (err == 0)
		err = directory_load_trunks(s, d, e);
	if (err == 0)
		err = directory_seal(d);
	if (err < 0) {
		directory_destroy(d);
		return seterr(e, err, "cannot build the directory");
	}
	*out = d;
	return 0;
}

int store_binding_apply(store_t *s, struct store_binding const *b, size_t n, struct store_err *e)
{
	int err;
	long long now = (long long)time(NULL);
	if (n == 0)
		return 0;
	if ((err = tx_begin(s, e)) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		sqlite3_stmt *st;
		if (b[i].op == STORE_BINDING_DELETE) {
			st = stmt(s, ST_BINDING_DELETE);
			bind_text(st, 1, b[i].dn);
			bind_text(st, 2, b[i].contact);
			err = run(s, st, e, "delete a binding");
			continue;
		}
		st = stmt(s, ST_BINDING_UPSERT);
		bind_text(st, 1, b[i].dn);
		bind_text(st, 2, b[i].device);
		bind_text(st, 3, b[i].contact);
		bind_text(st, 4, b[i].source[0] ? b[i].source : NULL);
		bind_text(st, 5, b[i].transport[0] ? b[i].transport : NULL);
		bind_text(st, 6, b[i].instance[0] ? b[i].instance : NULL);
		bind_text(st, 7, b[i].user_agent[0] ? b[i].user_agent : NULL);
		bind_text(st, 8, b[i].call_id);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)b[i].cseq);
		sqlite3_bind_int64(st, 10, b[i].expires_at);
		sqlite3_bind_int64(st, 11, now);
		sqlite3_bind_int(st, 12, b[i].derived);
		err = run(s, st, e, "write a binding");
		/* A line deleted meanwhile: its binding has nowhere to go. */
		if (err == -EEXIST) {
			err = 0;
			e->code = 0;
		}
	}
	return tx_end(s, err, e);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int i)
{
	text_copy(dst, n, col_text(st, i));
}

int store_binding_load(store_t *s, long long now,
		       void (*fn)(struct store_binding const *b, void *arg), void *arg,
		       struct store_err *e)
{
	int err;
	sqlite3_stmt *st = stmt(s, ST_BINDING_PURGE);
	sqlite3_bind_int64(st, 1, now);
	if ((err = run(s, st, e, "purge old bindings")) < 0)
		return err;
	st = stmt(s, ST_BINDING_ALL);
	while (sqlite3_step(st) == SQLITE_ROW) {
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
	return 0;
}

int store_nonce_secret(store_t *s, char *out, size_t outsize, struct store_err *e)
{
	if (!meta_get(s, "nonce_secret", out, outsize))
		return seterr(e, -ENOENT, "no nonce secret");
	return 0;
}

int store_next_run(store_t *s, char const *node, unsigned long long *run, struct store_err *e)
{
	char key[96], value[32];
	snprintf(key, sizeof(key), "runs:%s", node);
	unsigned long long n =
		meta_get(s, key, value, sizeof(value)) ? strtoull(value, NULL, 10) : 0;
	snprintf(value, sizeof(value), "%llu", ++n);
	int err = meta_set(s, key, value, e);
	if (err == 0)
		*run = n;
	return err;
}
