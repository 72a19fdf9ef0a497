/*
 * Trunks (upstream providers), their DIDs, and the dial plan's routes.
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

static char const SQL_TRUNK_EXISTS[] = "SELECT 1 FROM trunk WHERE name = ?1";
static char const SQL_TRUNK_INSERT[] =
	"INSERT INTO trunk (name, registrar, proxy, username, auth_user, secret, "
	"realm, transport, expires, do_register, created_at, caller_id, "
	"default_dn, emergency, contact_user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	"?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static char const SQL_TRUNK_DELETE[] = "DELETE FROM trunk WHERE name = ?1";
static char const SQL_TRUNK_GET[] =
	"SELECT registrar, proxy, username, auth_user, secret, realm, transport, "
	"expires, do_register, caller_id, default_dn, emergency, contact_user, name "
	"FROM trunk WHERE name = ?1";
static char const SQL_TRUNK_UPDATE[] =
	"UPDATE trunk SET registrar = ?2, proxy = ?3, username = ?4, "
	"auth_user = ?5, secret = ?6, realm = ?7, transport = ?8, expires = ?9, "
	"do_register = ?10, caller_id = ?11, default_dn = ?12, emergency = ?13, "
	"contact_user = ?14 WHERE name = ?1";
static char const SQL_DID_CLEAR[] = "DELETE FROM trunk_did WHERE trunk = ?1";
static char const SQL_DID_OWNER[] = "SELECT trunk FROM trunk_did WHERE number = ?1";
static char const SQL_DID_INSERT[] =
	"INSERT INTO trunk_did (number, trunk, dn) VALUES (?1, ?2, ?3)";
static char const SQL_LINE_EXISTS[] = "SELECT 1 FROM line WHERE dn = ?1";
static char const SQL_ROUTE_INSERT[] =
	"INSERT INTO route (pattern, trunk, strip, prepend, priority, "
	"allow_restricted, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static char const SQL_ROUTE_DELETE[] = "DELETE FROM route WHERE id = ?1";
/* ---- trunks and the dial plan ---- */

int store_trunk_aad(char *out, size_t n, char const *name)
{
	return snprintf(out, n, "trunk:%s", name);
}

/* HOST[:PORT], [V6][:PORT] or a bare V6 address. */
static int check_hostport(char const *what, char const *v, struct store_err *e)
{
	if (!store_valid_chars(v, 255, "-.:[]_"))
		return store_seterr(e, -EINVAL, "%s must be HOST or HOST:PORT, not '%s'", what,
				    v ? v : "");
	char const *port = NULL;
	if (v[0] == '[') {
		char const *close = strchr(v, ']');
		if (!close || close == v + 1 || (close[1] && close[1] != ':'))
			return store_seterr(e, -EINVAL,
					    "%s: '%s' is not [ADDRESS] or [ADDRESS]:PORT", what, v);
		port = close[1] ? close + 2 : NULL;
	} else if (strchr(v, '[') || strchr(v, ']')) {
		return store_seterr(e, -EINVAL, "%s: '%s' has a bracket outside [ADDRESS]", what,
				    v);
	} else if (strchr(v, ':') == strrchr(v, ':') && strchr(v, ':')) {
		port = strchr(v, ':') + 1;
		if (port == v + 1)
			return store_seterr(e, -EINVAL, "%s: '%s' has no host", what, v);
	}
	if (port) {
		char *end;
		long n = strtol(port, &end, 10);
		if (!port[0] || *end || n < 1 || n > 65535)
			return store_seterr(e, -EINVAL, "%s: the port in '%s' must be 1 to 65535",
					    what, v);
	}
	return 0;
}

static int check_number(char const *what, char const *v, struct store_err *e)
{
	if (!store_valid_chars(v, 32, "+*#") || strspn(v, "0123456789+*#") != strlen(v))
		return store_seterr(e, -EINVAL, "%s must be 1 to 32 digits, +, * or #, not '%s'",
				    what, v ? v : "");
	return 0;
}

static bool row_exists(store_t *s, char const *sql, char const *key)
{
	sqlite3_stmt *st = db_stmt(s, sql);
	db_bind_text(st, 1, key);
	bool yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return yes;
}

static int check_line_exists(store_t *s, char const *what, char const *dn, struct store_err *e)
{
	int err = store_check_dn(dn, e);
	if (err == 0 && !row_exists(s, SQL_LINE_EXISTS, dn))
		err = store_seterr(e, -ENOENT, "%s: no line with DN %s", what, dn);
	return err;
}

/* One --did value: NUMBER or NUMBER=DN. */
static int add_did(store_t *s, char const *trunk, char const *v, struct store_err *e)
{
	char number[64], *dn;
	int err;
	if (strlen(v) >= sizeof(number))
		return store_seterr(e, -EINVAL, "DID '%.40s...' is too long", v);
	snprintf(number, sizeof(number), "%s", v);
	if ((dn = strchr(number, '=')))
		*dn++ = '\0';
	if ((err = check_number("a DID", number, e)) < 0 ||
	    (dn && (err = check_line_exists(s, "DID", dn, e)) < 0))
		return err;
	sqlite3_stmt *st = db_stmt(s, SQL_DID_OWNER);
	db_bind_text(st, 1, number);
	if (sqlite3_step(st) == SQLITE_ROW) {
		err = store_seterr(e, -EEXIST, "DID %s belongs to trunk %s", number,
				   db_col_text(st, 0));
		sqlite3_reset(st);
		return err;
	}
	sqlite3_reset(st);
	st = db_stmt(s, SQL_DID_INSERT);
	db_bind_text(st, 1, number);
	db_bind_text(st, 2, trunk);
	db_bind_text(st, 3, dn);
	return db_run(s, st, e, "add the DID");
}

/* The checks of a whole trunk's settings (not of its DIDs). */
static int check_trunk(struct store_trunk_spec const *t, struct store_err *e)
{
	int err;
	char const *transport = t->transport ? t->transport : "udp";
	bool reg = t->do_register < 0 ? t->user != NULL : t->do_register != 0;
	if (!store_valid_chars(t->name, STORE_NAME_MAX, "-_."))
		return store_seterr(e, -EINVAL, "trunk name must be 1 to %d letters, digits or -_.",
				    STORE_NAME_MAX);
	if ((err = check_hostport("registrar", t->registrar, e)) < 0 ||
	    (t->proxy && (err = check_hostport("proxy", t->proxy, e)) < 0) ||
	    (t->user && (err = store_check_user_name(t->user, e)) < 0) ||
	    (t->auth_user && (err = store_check_user_name(t->auth_user, e)) < 0) ||
	    (t->password && (err = store_check_password(t->password, e)) < 0) ||
	    (err = store_check_text("realm", t->realm, e)) < 0 ||
	    (t->caller_id && (err = check_number("caller ID", t->caller_id, e)) < 0))
		return err;
	if (strcmp(transport, "udp") && strcmp(transport, "tcp") && strcmp(transport, "tls"))
		return store_seterr(e, -EINVAL, "transport must be udp, tcp or tls, not '%s'",
				    transport);
	if (reg && !t->user)
		return store_seterr(e, -EINVAL, "a trunk that registers needs --user");
	if (t->expires && (t->expires < 60 || t->expires > 86400))
		return store_seterr(e, -EINVAL, "expires must be 60 to 86400 seconds");
	return 0;
}

/* The Contact user registered upstream: the trunk user (or name) and a random token. */
static int contact_user_new(char *out, size_t n, struct store_trunk_spec const *t,
			    struct store_err *e)
{
	uint8_t token[4];
	char hex[9];
	if (secret_random(token, sizeof(token)) < 0)
		return store_seterr(e, -EIO, "cannot get random bytes");
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
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (row_exists(s, SQL_TRUNK_EXISTS, t->name))
		err = store_seterr(e, -EEXIST, "trunk %s exists", t->name);
	if (err == 0 && t->default_dn)
		err = check_line_exists(s, "default line", t->default_dn, e);

	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	char aad[128], contact[STORE_NAME_MAX + 16];
	store_trunk_aad(aad, sizeof(aad), t->name);
	if (err == 0 && t->password &&
	    secret_seal(&sealed, &sealedlen, s->key, aad, t->password, strlen(t->password)) < 0)
		err = store_seterr(e, -EIO, "cannot seal the trunk's password");
	if (err == 0)
		err = contact_user_new(contact, sizeof(contact), t, e);
	if (err == 0) {
		sqlite3_stmt *st = db_stmt(s, SQL_TRUNK_INSERT);
		db_bind_text(st, 1, t->name);
		db_bind_text(st, 2, t->registrar);
		db_bind_text(st, 3, t->proxy);
		db_bind_text(st, 4, t->user);
		db_bind_text(st, 5, t->auth_user);
		if (sealed)
			sqlite3_bind_blob(st, 6, sealed, (int)sealedlen, SQLITE_STATIC);
		db_bind_text(st, 7, t->realm);
		db_bind_text(st, 8, transport);
		sqlite3_bind_int64(st, 9, t->expires ? t->expires : 3600);
		sqlite3_bind_int(st, 10, reg);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)time(NULL));
		db_bind_text(st, 12, t->caller_id);
		db_bind_text(st, 13, t->default_dn);
		sqlite3_bind_int(st, 14, t->emergency > 0);
		db_bind_text(st, 15, contact);
		err = db_run(s, st, e, "add the trunk");
	}
	free(sealed);
	for (size_t i = 0; err == 0 && i < t->n_dids; i++)
		err = add_did(s, t->name, t->dids[i], e);
	return db_tx_end(s, err, e);
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
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = db_stmt(s, SQL_TRUNK_GET);
	db_bind_text(st, 1, c->name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_tx_end(s, store_seterr(e, -ENOENT, "no trunk %s", c->name), e);
	}
	/* The row as it is, copied out of the statement. */
	char *old[14] = { 0 };
	for (int i = 0; i < 14; i++)
		if (i != 4 && db_col_text(st, i))
			old[i] = strdup(db_col_text(st, i));
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
	store_trunk_aad(aad, sizeof(aad), t.name);
	err = check_trunk(&t, e);
	if (err == 0 && t.default_dn && c->default_dn)
		err = check_line_exists(s, "default line", t.default_dn, e);
	if (err == 0 && (!same_user || !contact[0]))
		err = contact_user_new(contact, sizeof(contact), &t, e);
	if (err == 0 && t.password &&
	    secret_seal(&sealed, &sealedlen, s->key, aad, t.password, strlen(t.password)) < 0)
		err = store_seterr(e, -EIO, "cannot seal the trunk's password");
	if (err == 0) {
		st = db_stmt(s, SQL_TRUNK_UPDATE);
		db_bind_text(st, 1, t.name);
		db_bind_text(st, 2, t.registrar);
		db_bind_text(st, 3, t.proxy);
		db_bind_text(st, 4, t.user);
		db_bind_text(st, 5, t.auth_user);
		if (sealed)
			sqlite3_bind_blob(st, 6, sealed, (int)sealedlen, SQLITE_STATIC);
		else if (oldsecret)
			sqlite3_bind_blob(st, 6, oldsecret, (int)oldlen, SQLITE_STATIC);
		db_bind_text(st, 7, t.realm);
		db_bind_text(st, 8, t.transport ? t.transport : "udp");
		sqlite3_bind_int64(st, 9, t.expires ? t.expires : 3600);
		sqlite3_bind_int(st, 10, t.do_register > 0);
		db_bind_text(st, 11, t.caller_id);
		db_bind_text(st, 12, t.default_dn);
		sqlite3_bind_int(st, 13, t.emergency > 0);
		db_bind_text(st, 14, contact);
		err = db_run(s, st, e, "change the trunk");
	}
	if (err == 0 && set_dids) {
		st = db_stmt(s, SQL_DID_CLEAR);
		db_bind_text(st, 1, t.name);
		err = db_run(s, st, e, "replace the DIDs");
		for (size_t i = 0; err == 0 && i < c->n_dids; i++)
			err = add_did(s, t.name, c->dids[i], e);
	}
	free(sealed);
	free(oldsecret);
	for (int i = 0; i < 14; i++)
		free(old[i]);
	return db_tx_end(s, err, e);
}

int store_trunk_del(store_t *s, char const *name, struct store_err *e)
{
	int err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = db_stmt(s, SQL_TRUNK_DELETE);
	db_bind_text(st, 1, name);
	if ((err = db_run(s, st, e, "delete the trunk")) == 0 && sqlite3_changes(s->db) == 0)
		err = store_seterr(e, -ENOENT, "no trunk %s", name);
	return db_tx_end(s, err, e);
}

int store_route_add(store_t *s, struct store_route_spec const *r, long long *id,
		    struct store_err *e)
{
	int err;
	if (!dialplan_pattern_valid(r->pattern))
		return store_seterr(
			e, -EINVAL,
			"pattern must be 1 to 32 of digits, *, #, +, X (any digit), Z (1-9), "
			"N (2-9), and may end in . (anything more), not '%s'",
			r->pattern ? r->pattern : "");
	if (r->prepend && r->prepend[0] && (err = check_number("prepend", r->prepend, e)) < 0)
		return err;
	if (r->strip > 32)
		return store_seterr(e, -EINVAL, "strip must be 0 to 32 digits");
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	if (r->trunk && !row_exists(s, SQL_TRUNK_EXISTS, r->trunk))
		err = store_seterr(e, -ENOENT, "no trunk %s", r->trunk);
	if (err == 0) {
		sqlite3_stmt *st = db_stmt(s, SQL_ROUTE_INSERT);
		db_bind_text(st, 1, r->pattern);
		db_bind_text(st, 2, r->trunk);
		sqlite3_bind_int(st, 3, (int)r->strip);
		db_bind_text(st, 4, r->prepend ? r->prepend : "");
		sqlite3_bind_int(st, 5, r->priority);
		sqlite3_bind_int(st, 6, r->allow_restricted);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
		if ((err = db_run(s, st, e, "add the route")) == 0 && id)
			*id = (long long)sqlite3_last_insert_rowid(s->db);
	}
	return db_tx_end(s, err, e);
}

int store_route_del(store_t *s, long long id, struct store_err *e)
{
	int err;
	if ((err = db_tx_begin(s, e)) < 0)
		return err;
	sqlite3_stmt *st = db_stmt(s, SQL_ROUTE_DELETE);
	sqlite3_bind_int64(st, 1, id);
	if ((err = db_run(s, st, e, "delete the route")) == 0 && sqlite3_changes(s->db) == 0)
		err = store_seterr(e, -ENOENT, "no route %lld", id);
	return db_tx_end(s, err, e);
}
