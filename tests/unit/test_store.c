#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/digest.h"
#include "store/migrations.h"
#include "store/store.h"
#include "tests/unit/tap.h"

static char dir[64];
static char dbpath[128];
static char keypath[160];
static store_t *s;
static struct store_err e;

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sipreg-test-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/sipreg.db", dir);
	snprintf(keypath, sizeof(keypath), "%s.key", dbpath);
	return 0;
}

static int teardown(void)
{
	char cmd[128];
	store_close(s);
	s = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void reopen(char const *realm)
{
	store_close(s);
	s = NULL;
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL_FATAL(store_open(&s, dbpath, realm, &e), 0);
}

/* A fresh database for each test. */
static void fresh(void)
{
	store_close(s);
	s = NULL;
	unlink(dbpath);
	unlink(keypath);
	char p[200];
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	reopen("sipreg");
}

static void expect(int rc, int code, char const *text)
{
	CU_ASSERT_EQUAL(rc, code);
	CU_ASSERT_EQUAL(e.code, code);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, text));
	if (rc != code || !strstr(e.msg, text))
		printf("# got %d '%s', wanted %d '%s'\n", rc, e.msg, code, text);
	memset(&e, 0, sizeof(e));
}

static void add_user(char const *name)
{
	CU_ASSERT_EQUAL(store_user_add(s, name, "pw-of-user", &e), 0);
}

static void add_device(char const *name, char const *model, char const *user)
{
	struct store_device_spec d = { name, model, user, NULL };
	CU_ASSERT_EQUAL(store_device_add(s, &d, &e), 0);
}

static void test_migrations(void)
{
	struct stat st;
	fresh();
	CU_ASSERT_EQUAL(store_schema_version(s), (int)store_n_migrations);
	CU_ASSERT((int)store_n_migrations >= 1);
	CU_ASSERT_EQUAL_FATAL(stat(keypath, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(st.st_size, 32);
	/* Opening again migrates nothing and keeps the key. */
	reopen("sipreg");
	CU_ASSERT_EQUAL(store_schema_version(s), (int)store_n_migrations);
	char nonce1[80], nonce2[80];
	CU_ASSERT_EQUAL(store_nonce_secret(s, nonce1, sizeof(nonce1), &e), 0);
	CU_ASSERT_EQUAL(strlen(nonce1), 64);
	reopen("sipreg");
	CU_ASSERT_EQUAL(store_nonce_secret(s, nonce2, sizeof(nonce2), &e), 0);
	CU_ASSERT_STRING_EQUAL(nonce1, nonce2);
}

static void test_wal_and_tables(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	fresh();
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbpath, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_STRING_EQUAL((char const *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	char const *tables[] = { "user", "device", "line", "binding", "trunk", "feature", "cdr" };
	for (unsigned i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
				   -1, &st, NULL);
		sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
		CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

static void test_newer_schema_refused(void)
{
	sqlite3 *db;
	fresh();
	store_close(s);
	s = NULL;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbpath, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(store_open(&s, dbpath, "sipreg", &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "newer"));
	CU_ASSERT_PTR_NULL(s);
}

/*
 * The HA1 of a user as the SIP thread gets it (the directory), "" when the
 * directory has no such user.
 */
static void ha1_of(char const *name, enum digest_alg alg, char out[DIGEST_HEX_SIZE])
{
	directory_t *d = NULL;
	out[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(store_directory_load(s, &d, &e), 0);
	struct dir_user const *u = directory_user(d, name);
	if (u)
		snprintf(out, DIGEST_HEX_SIZE, "%s",
			 alg == DIGEST_MD5 ? u->ha1_md5 : u->ha1_sha256);
	directory_destroy(d);
}

static void test_users(void)
{
	char ha1[DIGEST_HEX_SIZE], want[DIGEST_HEX_SIZE];
	fresh();
	add_user("alice");
	expect(store_user_add(s, "alice", "x", &e), -EEXIST, "user alice already exists");
	expect(store_user_add(s, "bad name", "x", &e), -EINVAL, "user name must be");
	expect(store_user_add(s, "a:b", "x", &e), -EINVAL, "user name must be");
	expect(store_user_add(s, "", "x", &e), -EINVAL, "user name must be");
	expect(store_user_add(s, "bob", "", &e), -EINVAL, "password must be");
	expect(store_user_add(s, "bob", "a\nb", &e), -EINVAL, "control characters");
	expect(store_user_passwd(s, "nobody", "x", &e), -ENOENT, "no user nobody");
	expect(store_user_del(s, "nobody", &e), -ENOENT, "no user nobody");

	ha1_of("alice", DIGEST_MD5, ha1);
	digest_ha1(want, DIGEST_MD5, "alice", "sipreg", "pw-of-user");
	CU_ASSERT_STRING_EQUAL(ha1, want);
	ha1_of("alice", DIGEST_SHA256, ha1);
	digest_ha1(want, DIGEST_SHA256, "alice", "sipreg", "pw-of-user");
	CU_ASSERT_STRING_EQUAL(ha1, want);

	CU_ASSERT_EQUAL(store_user_passwd(s, "alice", "new secret", &e), 0);
	ha1_of("alice", DIGEST_MD5, ha1);
	digest_ha1(want, DIGEST_MD5, "alice", "sipreg", "new secret");
	CU_ASSERT_STRING_EQUAL(ha1, want);
	/* The sealed password changed too: a new realm derives the HA1 from it. */
	reopen("realm.two");
	ha1_of("alice", DIGEST_SHA256, ha1);
	digest_ha1(want, DIGEST_SHA256, "alice", "realm.two", "new secret");
	CU_ASSERT_STRING_EQUAL(ha1, want);

	json_t *list = NULL;
	CU_ASSERT_EQUAL(store_user_list(s, &list, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(list), 1);
	char *dump = json_dumps(list, 0);
	CU_ASSERT_PTR_NULL(strstr(dump, "secret"));
	CU_ASSERT_PTR_NULL(strstr(dump, "ha1"));
	free(dump);
	json_decref(list);

	CU_ASSERT_EQUAL(store_user_del(s, "alice", &e), 0);
	ha1_of("alice", DIGEST_MD5, ha1);
	CU_ASSERT_STRING_EQUAL(ha1, "");
}

/* The password is not in the database file in clear. */
static void test_password_at_rest(void)
{
	char buf[1 << 16];
	fresh();
	CU_ASSERT_EQUAL(store_user_add(s, "carol", "Very-Distinct-Password-42", &e), 0);
	store_close(s);
	s = NULL;
	int fd = open(dbpath, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	ssize_t n;
	size_t total = 0;
	int found = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		found |= memmem(buf, (size_t)n, "Very-Distinct-Password-42", 25) != NULL;
	}
	close(fd);
	CU_ASSERT(total > 0);
	CU_ASSERT_FALSE(found);
	reopen("sipreg");
}

static void test_realm_change(void)
{
	char ha1[DIGEST_HEX_SIZE], want[DIGEST_HEX_SIZE];
	fresh();
	add_user("dave");
	reopen("other.realm");
	ha1_of("dave", DIGEST_SHA256, ha1);
	digest_ha1(want, DIGEST_SHA256, "dave", "other.realm", "pw-of-user");
	CU_ASSERT_STRING_EQUAL(ha1, want);
	ha1_of("dave", DIGEST_MD5, ha1);
	digest_ha1(want, DIGEST_MD5, "dave", "other.realm", "pw-of-user");
	CU_ASSERT_STRING_EQUAL(ha1, want);
}

static void test_key_file(void)
{
	fresh();
	add_user("erin");
	store_close(s);
	s = NULL;
	/* Missing: refused, never replaced by a new key. */
	char saved[200];
	snprintf(saved, sizeof(saved), "%s.saved", keypath);
	CU_ASSERT_EQUAL(rename(keypath, saved), 0);
	CU_ASSERT_EQUAL(store_open(&s, dbpath, "sipreg", &e), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "missing"));
	CU_ASSERT_EQUAL(access(keypath, F_OK), -1);
	/* Another key: refused. */
	int fd = open(keypath, O_WRONLY | O_CREAT, 0600);
	CU_ASSERT_EQUAL(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
	CU_ASSERT_EQUAL(store_open(&s, dbpath, "sipreg", &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "does not belong"));
	/* Too short: refused. */
	fd = open(keypath, O_WRONLY | O_TRUNC);
	CU_ASSERT_EQUAL(write(fd, "short", 5), 5);
	close(fd);
	CU_ASSERT_EQUAL(store_open(&s, dbpath, "sipreg", &e), -EINVAL);
	/* The right key, readable by others: refused, saying how to fix it. */
	CU_ASSERT_EQUAL(rename(saved, keypath), 0);
	chmod(keypath, 0644);
	CU_ASSERT_EQUAL(store_open(&s, dbpath, "sipreg", &e), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "chmod 600"));
	chmod(keypath, 0600);
	/* So is a database or journal open to others. */
	chmod(dbpath, 0640);
	CU_ASSERT_EQUAL(store_open(&s, dbpath, "sipreg", &e), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "database"));
	chmod(dbpath, 0600);
	reopen("sipreg");
	struct stat st;
	CU_ASSERT_EQUAL(stat(keypath, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
}

/* A new database, its journal and key are 0600 whatever the umask. */
static void test_file_modes(void)
{
	struct stat st;
	char name[600];
	mode_t old = umask(022);
	fresh();
	umask(old);
	add_user("alice");
	char const *const suffix[] = { "", "-wal", "-shm", ".key" };
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%s%s", dbpath, suffix[i]);
		CU_ASSERT_EQUAL_FATAL(stat(name, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	}
}

static void test_devices(void)
{
	fresh();
	add_user("alice");
	add_user("bob");
	add_device("sep001122334455", "cisco-7941", "alice");
	json_t *d = NULL;
	CU_ASSERT_EQUAL(store_device_show(s, "SEP001122334455", &d, &e), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "name")), "SEP001122334455");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "auth")), "verify");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "model_lines")), 2);
	json_decref(d);

	struct store_device_spec spec = { "phone2", "cisco-7941", "alice", NULL };
	expect(store_device_add(s, &spec, &e), -EEXIST,
	       "digest user alice is already assigned to device SEP001122334455");
	spec.digest_user = "nobody";
	expect(store_device_add(s, &spec, &e), -ENOENT, "no user nobody");
	spec.digest_user = "bob";
	spec.model = "cisco-1234";
	expect(store_device_add(s, &spec, &e), -EINVAL, "unknown model 'cisco-1234'");
	spec.model = "cisco-7960";
	spec.auth = "none";
	expect(store_device_add(s, &spec, &e), -EINVAL, "auth must be verify or identify");
	spec.auth = "identify";
	spec.name = "SEP001122334455";
	expect(store_device_add(s, &spec, &e), -EEXIST, "device SEP001122334455 already exists");
	spec.name = "bad/name";
	expect(store_device_add(s, &spec, &e), -EINVAL, "device name must be");
	spec.name = "phone2";
	CU_ASSERT_EQUAL(store_device_add(s, &spec, &e), 0);

	expect(store_user_del(s, "alice", &e), -EBUSY,
	       "user alice is the digest user of device SEP001122334455");

	struct store_device_spec set = { "phone2", NULL, "alice", NULL };
	expect(store_device_set(s, &set, &e), -EEXIST,
	       "digest user alice is already assigned to device SEP001122334455");
	set.digest_user = NULL;
	set.auth = "verify";
	CU_ASSERT_EQUAL(store_device_set(s, &set, &e), 0);
	set.name = "ghost";
	expect(store_device_set(s, &set, &e), -ENOENT, "no device ghost");
	/* Re-assigning its own digest user is no conflict. */
	struct store_device_spec same = { "SEP001122334455", NULL, "alice", NULL };
	CU_ASSERT_EQUAL(store_device_set(s, &same, &e), 0);

	json_t *list = NULL;
	CU_ASSERT_EQUAL(store_device_list(s, &list, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(list), 2);
	json_decref(list);

	expect(store_device_del(s, "ghost", &e), -ENOENT, "no device ghost");
	CU_ASSERT_EQUAL(store_device_del(s, "phone2", &e), 0);
	CU_ASSERT_EQUAL(store_user_del(s, "bob", &e), 0);
}

static void test_lines(void)
{
	unsigned idx = 0;
	fresh();
	add_user("alice");
	add_user("bob");
	add_device("SEP001122334455", "cisco-7941", "alice");
	struct store_line_spec l = { "SEP001122334455", "1001", 0, "Alice", "Alice 1" };
	CU_ASSERT_EQUAL(store_line_add(s, &l, &idx, &e), 0);
	CU_ASSERT_EQUAL(idx, 1);
	l.dn = "1002";
	l.index = 0;
	CU_ASSERT_EQUAL(store_line_add(s, &l, &idx, &e), 0);
	CU_ASSERT_EQUAL(idx, 2);
	l.dn = "1003";
	expect(store_line_add(s, &l, &idx, &e), -EINVAL,
	       "device SEP001122334455 has no free line: model cisco-7941 has 2 lines");
	l.index = 3;
	expect(store_line_add(s, &l, &idx, &e), -EINVAL,
	       "line index 3 is beyond the 2 lines of model cisco-7941");
	l.index = 2;
	expect(store_line_add(s, &l, &idx, &e), -EEXIST,
	       "line 2 of device SEP001122334455 is already DN 1002");
	l.dn = "1001";
	l.index = 0;
	expect(store_line_add(s, &l, &idx, &e), -EEXIST,
	       "DN 1001 is already line 1 of device SEP001122334455");
	l.dn = "10 01";
	expect(store_line_add(s, &l, &idx, &e), -EINVAL, "DN must be");
	l.dn = "1009";
	l.display = "quote\"";
	expect(store_line_add(s, &l, &idx, &e), -EINVAL, "display may not hold");
	l.display = NULL;
	l.device = "ghost";
	expect(store_line_add(s, &l, &idx, &e), -ENOENT, "no device ghost");

	/* A model with fewer lines than in use is refused. */
	struct store_device_spec set = { "SEP001122334455", "cisco-7911", NULL, NULL };
	expect(store_device_set(s, &set, &e), -EINVAL, "has a line at index 2, beyond the 1 line");
	set.model = "cisco-7961";
	CU_ASSERT_EQUAL(store_device_set(s, &set, &e), 0);

	/* A DN is unique across devices. */
	add_device("desk", "third-party-basic", "bob");
	struct store_line_spec l2 = { "desk", "1001", 0, NULL, NULL };
	expect(store_line_add(s, &l2, &idx, &e), -EEXIST, "DN 1001 is already line 1");
	l2.dn = "2001";
	CU_ASSERT_EQUAL(store_line_add(s, &l2, &idx, &e), 0);

	json_t *o = NULL;
	CU_ASSERT_EQUAL(store_line_show(s, "1001", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "display")), "Alice");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "index")), 1);
	json_decref(o);
	expect(store_line_show(s, "9999", &o, &e), -ENOENT, "no line with DN 9999");

	/* Deleting line 1 frees index 1 for the next line. */
	CU_ASSERT_EQUAL(store_line_del(s, "1001", &e), 0);
	expect(store_line_del(s, "1001", &e), -ENOENT, "no line with DN 1001");
	l.device = "SEP001122334455";
	l.dn = "1005";
	l.index = 0;
	CU_ASSERT_EQUAL(store_line_add(s, &l, &idx, &e), 0);
	CU_ASSERT_EQUAL(idx, 1);

	/* Deleting the device takes its lines along. */
	CU_ASSERT_EQUAL(store_device_del(s, "SEP001122334455", &e), 0);
	json_t *lines = NULL;
	CU_ASSERT_EQUAL(store_line_list(s, &lines, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(lines), 1);
	json_decref(lines);
}

/* The schema itself refuses what the API checks first. */
static int raw(sqlite3 *db, char const *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db);
}

static void test_schema_constraints(void)
{
	sqlite3 *db;
	fresh();
	add_user("alice");
	add_user("bob");
	add_device("dev1", "cisco-7940", "alice");
	store_close(s);
	s = NULL;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_extended_result_codes(db, 1);
	raw(db, "PRAGMA foreign_keys = ON");
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO device (name, model, digest_user, created_at, "
				"updated_at) VALUES ('dev2', 'cisco-7940', 'alice', 0, 0)"),
			SQLITE_CONSTRAINT_UNIQUE);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO device (name, model, digest_user, created_at, "
				"updated_at) VALUES ('dev1', 'cisco-7940', 'bob', 0, 0)"),
			SQLITE_CONSTRAINT_PRIMARYKEY);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO device (name, model, digest_user, created_at, "
				"updated_at) VALUES ('dev3', 'no-such-model', 'bob', 0, 0)"),
			SQLITE_CONSTRAINT_FOREIGNKEY);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO line (dn, device, idx, created_at) "
				"VALUES ('100', 'dev1', 3, 0)"),
			SQLITE_CONSTRAINT_TRIGGER);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO line (dn, device, idx, created_at) "
				"VALUES ('100', 'dev1', 2, 0)"),
			SQLITE_OK);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO line (dn, device, idx, created_at) "
				"VALUES ('100', 'dev1', 1, 0)"),
			SQLITE_CONSTRAINT_PRIMARYKEY);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO line (dn, device, idx, created_at) "
				"VALUES ('101', 'dev1', 2, 0)"),
			SQLITE_CONSTRAINT_UNIQUE);
	CU_ASSERT_EQUAL(raw(db, "INSERT INTO line (dn, device, idx, created_at) "
				"VALUES ('102', 'dev1', 0, 0)"),
			SQLITE_CONSTRAINT_CHECK);
	CU_ASSERT_EQUAL(raw(db, "UPDATE line SET idx = 5 WHERE dn = '100'"),
			SQLITE_CONSTRAINT_TRIGGER);
	CU_ASSERT_EQUAL(raw(db, "UPDATE device SET model = 'cisco-7911' WHERE name = 'dev1'"),
			SQLITE_CONSTRAINT_TRIGGER);
	CU_ASSERT_EQUAL(raw(db, "UPDATE device SET auth = 'open' WHERE name = 'dev1'"),
			SQLITE_CONSTRAINT_CHECK);
	CU_ASSERT_EQUAL(raw(db, "DELETE FROM user WHERE name = 'alice'"),
			SQLITE_CONSTRAINT_FOREIGNKEY);
	sqlite3_close(db);
	reopen("sipreg");
}

static void test_models(void)
{
	json_t *m = NULL;
	fresh();
	CU_ASSERT_EQUAL(store_model_list(s, &m, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(m), 28);
	size_t i;
	json_t *row;
	int seen = 0;
	json_array_foreach (m, i, row) {
		char const *name = json_string_value(json_object_get(row, "name"));
		int lines = (int)json_integer_value(json_object_get(row, "lines"));
		if (!strcmp(name, "cisco-7960"))
			seen += lines == 6;
		if (!strcmp(name, "cisco-7861"))
			seen += lines == 16;
		if (!strcmp(name, "third-party-advanced"))
			seen += lines == 8;
	}
	CU_ASSERT_EQUAL(seen, 3);
	json_decref(m);
}

static void test_name_canon(void)
{
	char out[80];
	store_device_name_canon(out, sizeof(out), "sep00aabbccddee");
	CU_ASSERT_STRING_EQUAL(out, "SEP00AABBCCDDEE");
	store_device_name_canon(out, sizeof(out), "sepuser");
	CU_ASSERT_STRING_EQUAL(out, "sepuser");
	store_device_name_canon(out, sizeof(out), "desk-phone");
	CU_ASSERT_STRING_EQUAL(out, "desk-phone");
}

static char const *jstr(json_t *o, char const *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "(null)";
}

static void test_line_features(void)
{
	json_t *o = NULL;
	directory_t *d = NULL;
	fresh();
	add_user("alice");
	add_device("SEP001122334455", "cisco-7941", "alice");
	struct store_line_spec l = { "SEP001122334455", "1001", 0, "Alice", NULL };
	CU_ASSERT_EQUAL(store_line_add(s, &l, NULL, &e), 0);
	l.dn = "1002";
	CU_ASSERT_EQUAL(store_line_add(s, &l, NULL, &e), 0);

	/* Nothing set: off everywhere. */
	CU_ASSERT_EQUAL_FATAL(store_line_show(s, "1001", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(jstr(o, "dnd"), "off");
	CU_ASSERT_TRUE(json_is_null(json_object_get(o, "cfwd_all")));
	json_decref(o);

	struct store_line_features f = { "1001", 1, "2001", "3001", "4001", 15 };
	CU_ASSERT_EQUAL(store_line_set(s, &f, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_line_show(s, "1001", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(jstr(o, "dnd"), "on");
	CU_ASSERT_STRING_EQUAL(jstr(o, "cfwd_all"), "2001");
	CU_ASSERT_STRING_EQUAL(jstr(o, "cfwd_busy"), "3001");
	CU_ASSERT_STRING_EQUAL(jstr(o, "cfwd_noanswer"), "4001");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "noanswer_timeout")), 15);
	json_decref(o);
	/* DND belongs to the device: line 2 shows it too; forwards are per line. */
	CU_ASSERT_EQUAL_FATAL(store_line_show(s, "1002", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(jstr(o, "dnd"), "on");
	CU_ASSERT_TRUE(json_is_null(json_object_get(o, "cfwd_all")));
	json_decref(o);
	CU_ASSERT_EQUAL_FATAL(store_device_show(s, "SEP001122334455", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(jstr(o, "dnd"), "on");
	json_decref(o);

	/* The snapshot for calls carries them. */
	CU_ASSERT_EQUAL_FATAL(store_directory_load(s, &d, &e), 0);
	struct dir_line const *dl = directory_line(d, "1001");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dl);
	CU_ASSERT_STRING_EQUAL(dl->cfwd_all, "2001");
	CU_ASSERT_STRING_EQUAL(dl->cfwd_busy, "3001");
	CU_ASSERT_STRING_EQUAL(dl->cfwd_noanswer, "4001");
	CU_ASSERT_EQUAL(dl->noanswer_timeout, 15);
	CU_ASSERT_TRUE(dl->device->dnd);
	CU_ASSERT_PTR_NULL(directory_line(d, "1002")->cfwd_all);
	directory_destroy(d);

	/* Unchanged fields stay; "off" clears one. */
	struct store_line_features g = { "1001", 0, "off", NULL, NULL, -1 };
	CU_ASSERT_EQUAL(store_line_set(s, &g, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_line_show(s, "1001", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(jstr(o, "dnd"), "off");
	CU_ASSERT_TRUE(json_is_null(json_object_get(o, "cfwd_all")));
	CU_ASSERT_STRING_EQUAL(jstr(o, "cfwd_busy"), "3001");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "noanswer_timeout")), 15);
	json_decref(o);

	/* Refusals change nothing. */
	struct store_line_features bad = { "1001", -1, "1001", NULL, NULL, -1 };
	expect(store_line_set(s, &bad, &e), -EINVAL, "cannot forward to itself");
	bad.cfwd_all = "20 01";
	expect(store_line_set(s, &bad, &e), -EINVAL, "is not a DN");
	bad.cfwd_all = NULL;
	bad.noanswer_timeout = 601;
	expect(store_line_set(s, &bad, &e), -EINVAL, "0 to 600 seconds");
	bad.noanswer_timeout = -1;
	bad.dn = "9999";
	expect(store_line_set(s, &bad, &e), -ENOENT, "no line with DN 9999");
	CU_ASSERT_EQUAL_FATAL(store_line_show(s, "1001", &o, &e), 0);
	CU_ASSERT_STRING_EQUAL(jstr(o, "cfwd_busy"), "3001");
	json_decref(o);

	/* The features go with the line. */
	CU_ASSERT_EQUAL(store_line_del(s, "1001", &e), 0);
	l.dn = "1001";
	l.index = 1;
	CU_ASSERT_EQUAL(store_line_add(s, &l, NULL, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_line_show(s, "1001", &o, &e), 0);
	CU_ASSERT_TRUE(json_is_null(json_object_get(o, "cfwd_busy")));
	json_decref(o);
}

static void test_cdr(void)
{
	json_t *arr = NULL;
	fresh();
	struct store_cdr c[3] = {
		{ .call_id = "node-1-7",
		  .started_at = 1000,
		  .answered_at = 1002,
		  .ended_at = 1062,
		  .caller = "1001",
		  .caller_device = "SEP001122334455",
		  .callee = "2001",
		  .result = "answered" },
		{ .started_at = 2000,
		  .ended_at = 2030,
		  .caller = "1001",
		  .callee = "2002",
		  .target = "3001",
		  .forwarded = "no-answer",
		  .result = "no-answer" },
		{ .started_at = 3000,
		  .ended_at = 3000,
		  .caller = "1001",
		  .callee = "9",
		  .result = "not-found" },
	};
	CU_ASSERT_EQUAL(store_cdr_add(s, c, 3, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_cdr_list(s, 0, 0, &arr, &e), 0);
	CU_ASSERT_EQUAL_FATAL(json_array_size(arr), 3);
	json_t *first = json_array_get(arr, 2), *fwd = json_array_get(arr, 1);
	CU_ASSERT_STRING_EQUAL(jstr(first, "result"), "answered");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(first, "duration")), 60);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(first, "answered_at")), 1002);
	CU_ASSERT_STRING_EQUAL(jstr(first, "caller_device"), "SEP001122334455");
	CU_ASSERT_STRING_EQUAL(jstr(first, "call_id"), "node-1-7");
	CU_ASSERT_TRUE(json_is_null(json_object_get(fwd, "call_id")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(first, "target")));
	CU_ASSERT_STRING_EQUAL(jstr(fwd, "target"), "3001");
	CU_ASSERT_STRING_EQUAL(jstr(fwd, "forwarded"), "no-answer");
	CU_ASSERT_TRUE(json_is_null(json_object_get(fwd, "answered_at")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(fwd, "duration")), 0);
	json_decref(arr);
	/* --since and --limit */
	CU_ASSERT_EQUAL_FATAL(store_cdr_list(s, 2000, 0, &arr, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(arr), 2);
	json_decref(arr);
	CU_ASSERT_EQUAL_FATAL(store_cdr_list(s, 0, 1, &arr, &e), 0);
	CU_ASSERT_EQUAL(json_array_size(arr), 1);
	CU_ASSERT_STRING_EQUAL(jstr(json_array_get(arr, 0), "result"), "not-found");
	json_decref(arr);
}

/* Each node counts its own starts, so call ids NODE-RUN-N never repeat. */
static void test_runs(void)
{
	unsigned long long r = 0;
	fresh();
	CU_ASSERT_EQUAL(store_next_run(s, "alpha", &r, &e), 0);
	CU_ASSERT_EQUAL(r, 1);
	CU_ASSERT_EQUAL(store_next_run(s, "alpha", &r, &e), 0);
	CU_ASSERT_EQUAL(r, 2);
	CU_ASSERT_EQUAL(store_next_run(s, "beta", &r, &e), 0);
	CU_ASSERT_EQUAL(r, 1);
	CU_ASSERT_EQUAL(store_next_run(s, "alpha", &r, &e), 0);
	CU_ASSERT_EQUAL(r, 3);
}

static CU_TestInfo const tests[] = {
	{ "migrations from empty, key file", test_migrations },
	{ "WAL mode and tables", test_wal_and_tables },
	{ "newer schema refused", test_newer_schema_refused },
	{ "users and their secrets", test_users },
	{ "password not stored in clear", test_password_at_rest },
	{ "realm change derives HA1 again", test_realm_change },
	{ "key file missing, wrong or loose", test_key_file },
	{ "database, journal and key files are 0600", test_file_modes },
	{ "devices and one digest user per device", test_devices },
	{ "lines, indexes and DNs", test_lines },
	{ "schema constraints", test_schema_constraints },
	{ "device models", test_models },
	{ "SEP names in upper case", test_name_canon },
	{ "line features: forwards per line, DND per device", test_line_features },
	{ "call records", test_cdr },
	{ "runs per node for call ids", test_runs },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("store", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
