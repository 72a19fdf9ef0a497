#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "b2bua/route.h"
#include "b2bua/trunk.h"
#include "b2bua/uac_auth.h"
#include "daemon/config.h"
#include "daemon/digest.h"
#include "store/directory.h"
#include "store/store.h"
#include "tests/unit/tap.h"

/* ---- the dial plan ---- */

/* Trunks' state for the routing functions: which are usable, which registered. */
struct fake_trunks {
	struct dir_trunk const *usable[2];
	struct dir_trunk const *registered;
};

static bool fake_usable(void *arg, struct dir_trunk const *t)
{
	struct fake_trunks *f = arg;
	return t && (t == f->usable[0] || t == f->usable[1]);
}

static bool fake_registered(void *arg, struct dir_trunk const *t)
{
	struct fake_trunks *f = arg;
	return t && t == f->registered;
}

/* URIs built from dialled numbers (sip/dialog.c, b2bua/trunk.c). */
static void test_uris(void)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct dir_trunk t = { .name = "t", .registrar = "sip.example.net:5060" };
	CU_ASSERT_STRING_EQUAL(trunks_uri(home, &t, "0301234"), "sip:0301234@sip.example.net:5060");
	CU_ASSERT_STRING_EQUAL(trunks_uri(home, &t, "*67#"), "sip:*67%23@sip.example.net:5060");
	CU_ASSERT_STRING_EQUAL(trunks_uri(home, &t, "*67%23"), "sip:*67%23@sip.example.net:5060");
	CU_ASSERT_STRING_EQUAL(trunks_uri(home, &t, "a@b:c d"),
			       "sip:a%40b%3Ac%20d@sip.example.net:5060");
	CU_ASSERT_STRING_EQUAL(trunks_uri(home, &t, NULL), "sip:sip.example.net:5060");
	t.transport = "tcp";
	CU_ASSERT_STRING_EQUAL(trunks_uri(home, &t, "+4930"),
			       "sip:+4930@sip.example.net:5060;transport=tcp");
	su_home_deinit(home);
}

static void test_match(void)
{
	CU_ASSERT_TRUE(dialplan_match("0.", "0301234"));
	CU_ASSERT_FALSE(dialplan_match("0.", "0"));	  /* '.' wants one more at least */
	CU_ASSERT_FALSE(dialplan_match("0.", "1301234")); /* the literal part */
	CU_ASSERT_TRUE(dialplan_match("11X", "112"));
	CU_ASSERT_FALSE(dialplan_match("11X", "1122")); /* no '.': exact length */
	CU_ASSERT_FALSE(dialplan_match("11X", "11"));
	CU_ASSERT_FALSE(dialplan_match("11X", "11*")); /* X is a digit only */
	CU_ASSERT_TRUE(dialplan_match("NXX", "200"));  /* N: 2-9 */
	CU_ASSERT_FALSE(dialplan_match("NXX", "100"));
	CU_ASSERT_TRUE(dialplan_match("Z.", "12")); /* Z: 1-9, then one or more */
	CU_ASSERT_FALSE(dialplan_match("Z.", "1"));
	CU_ASSERT_FALSE(dialplan_match("Z.", "02"));
	CU_ASSERT_TRUE(dialplan_match("+49.", "+4930"));
	CU_ASSERT_TRUE(dialplan_match("*21*.", "*21*2001"));
	CU_ASSERT_FALSE(dialplan_match("1234", "123"));
	CU_ASSERT_FALSE(dialplan_match(NULL, "1"));
	CU_ASSERT_FALSE(dialplan_match("1", NULL));
}

static void test_pattern_valid(void)
{
	CU_ASSERT_TRUE(dialplan_pattern_valid("0."));
	CU_ASSERT_TRUE(dialplan_pattern_valid("NXXXXXX"));
	CU_ASSERT_TRUE(dialplan_pattern_valid("+*#0123456789XZN"));
	CU_ASSERT_FALSE(dialplan_pattern_valid(""));
	CU_ASSERT_FALSE(dialplan_pattern_valid("."));	/* everything: say it with X. */
	CU_ASSERT_FALSE(dialplan_pattern_valid("0.1")); /* '.' only at the end */
	CU_ASSERT_FALSE(dialplan_pattern_valid("abc"));
	CU_ASSERT_FALSE(dialplan_pattern_valid("0 1"));
	CU_ASSERT_FALSE(dialplan_pattern_valid("012345678901234567890123456789012"));
	CU_ASSERT_FALSE(dialplan_pattern_valid(NULL));
}

static void test_lists(void)
{
	CU_ASSERT_TRUE(config_list_has("112 911", "112", 0));
	CU_ASSERT_TRUE(config_list_has("112 911", "911", 0));
	CU_ASSERT_FALSE(config_list_has("112 911", "1121", 0)); /* exact */
	CU_ASSERT_FALSE(config_list_has("112 911", "11", 0));
	CU_ASSERT_TRUE(config_list_has("00 + 0900", "0044", 1)); /* prefix */
	CU_ASSERT_TRUE(config_list_has("00 + 0900", "+4930", 1));
	CU_ASSERT_TRUE(config_list_has("00 + 0900", "09001234", 1));
	CU_ASSERT_FALSE(config_list_has("00 + 0900", "0301234", 1));
	CU_ASSERT_FALSE(config_list_has("", "112", 0));
}

static void test_config_keys(void)
{
	struct config cfg;
	char err[512];
	config_defaults(&cfg);
	CU_ASSERT_TRUE(config_list_has(cfg.emergency, "112", 0));
	CU_ASSERT_TRUE(config_list_has(cfg.restricted, "00", 1));
	CU_ASSERT_EQUAL(cfg.trunk_retry_min, 30);
	CU_ASSERT_STRING_EQUAL(cfg.advertise, "");
	CU_ASSERT_EQUAL(
		config_load_string(&cfg, "t.conf",
				   "[sip]\nadvertise = 203.0.113.7:5062\n"
				   "[trunks]\nretry_min = 5\nretry_max = 60\nkeepalive = 0\n"
				   "[dialplan]\nemergency = 112, 110\nrestricted =\n",
				   err, sizeof(err)),
		0);
	CU_ASSERT_STRING_EQUAL(cfg.advertise, "203.0.113.7:5062");
	CU_ASSERT_EQUAL(cfg.trunk_keepalive, 0);
	CU_ASSERT_STRING_EQUAL(cfg.emergency, "112 110");
	CU_ASSERT_STRING_EQUAL(cfg.restricted, "");
	CU_ASSERT_EQUAL(config_load_string(&cfg, "t.conf", "[sip]\nadvertise = pbx.example.org\n",
					   err, sizeof(err)),
			0);
	static char const *const bad[] = {
		"[sip]\nadvertise = a b\n",	 "[sip]\nadvertise = host:0\n",
		"[sip]\nadvertise = host:\n",	 "[sip]\nadvertise = :5060\n",
		"[dialplan]\nemergency = 11a\n", "[trunks]\nretry_min = 0\n",
		"[trunks]\nkeepalive = 99999\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&cfg);
		CU_ASSERT_EQUAL(config_load_string(&cfg, "t.conf", bad[i], err, sizeof(err)),
				-EINVAL);
		CU_ASSERT_EQUAL(strncmp(err, "t.conf:", 7), 0);
	}
}

/* ---- answering a challenge ---- */

static msg_auth_t *challenges(su_home_t *home, char const *const *values)
{
	msg_auth_t *list = NULL, **tail = &list;
	for (; *values; values++) {
		*tail = sip_www_authenticate_make(home, *values);
		CU_ASSERT_PTR_NOT_NULL_FATAL(*tail);
		tail = &(*tail)->au_next;
	}
	return list;
}

static void test_pick(void)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct uac_challenge ch;
	static char const *const both[] = {
		"Digest realm=\"itsp\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"",
		"Digest realm=\"itsp\", nonce=\"n2\", algorithm=SHA-256, qop=\"auth,auth-int\", "
		"opaque=\"op\"",
		NULL,
	};
	CU_ASSERT_EQUAL(uac_challenge_pick(home, challenges(home, both), &ch), 0);
	CU_ASSERT_EQUAL(ch.alg, DIGEST_SHA256); /* the strongest offered */
	CU_ASSERT_STRING_EQUAL(ch.nonce, "n2");
	CU_ASSERT_STRING_EQUAL(ch.opaque, "op");
	CU_ASSERT_TRUE(ch.qop);

	static char const *const fritz[] = { "Digest realm=\"fritz.box\", nonce=\"ABCD\"", NULL };
	CU_ASSERT_EQUAL(uac_challenge_pick(home, challenges(home, fritz), &ch), 0);
	CU_ASSERT_EQUAL(ch.alg, DIGEST_MD5); /* no algorithm: MD5 */
	CU_ASSERT_FALSE(ch.qop);
	CU_ASSERT_FALSE(ch.stale);
	CU_ASSERT_PTR_NULL(ch.opaque);

	static char const *const unusable[] = {
		"Basic realm=\"x\"",
		"Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256",
		"Digest realm=\"x\"", /* no nonce */
		NULL,
	};
	CU_ASSERT_EQUAL(uac_challenge_pick(home, challenges(home, unusable), &ch), -1);

	static char const *const stale[] = { "Digest realm=\"x\", nonce=\"n\", stale=TRUE", NULL };
	CU_ASSERT_EQUAL(uac_challenge_pick(home, challenges(home, stale), &ch), 0);
	CU_ASSERT_TRUE(ch.stale);
	su_home_deinit(home);
}

/* The response in an Authorization value, checked against one computed here. */
static void check_answer(su_home_t *home, char const *auth, struct uac_challenge const *ch,
			 char const *ha1, char const *uri)
{
	sip_authorization_t *a = sip_authorization_make(home, auth);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	char const *resp = msg_params_find(a->au_params, "response=");
	char const *cnonce = msg_params_find(a->au_params, "cnonce=");
	char const *nc = msg_params_find(a->au_params, "nc=");
	char want[DIGEST_HEX_SIZE], cn[64] = "", got[DIGEST_HEX_SIZE] = "";
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	snprintf(got, sizeof(got), "%.*s", (int)strlen(resp) - 2, resp + 1);
	if (ch->qop) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(cnonce);
		CU_ASSERT_STRING_EQUAL(nc, "00000002");
		snprintf(cn, sizeof(cn), "%.*s", (int)strlen(cnonce) - 2, cnonce + 1);
	} else {
		CU_ASSERT_PTR_NULL(cnonce); /* RFC 2069 form */
		CU_ASSERT_PTR_NULL(msg_params_find(a->au_params, "qop="));
	}
	CU_ASSERT_EQUAL(digest_response(want, ch->alg, ha1, ch->nonce, ch->qop ? "00000002" : NULL,
					ch->qop ? cn : NULL, ch->qop ? "auth" : NULL, "REGISTER",
					uri),
			0);
	CU_ASSERT_STRING_EQUAL(got, want);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(auth, ch->alg == DIGEST_SHA256 ? "algorithm=SHA-256" : "algorithm=MD5"));
}

static void test_authorization(void)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct uac_challenge ch = {
		.alg = DIGEST_MD5, .realm = "fritz.box", .nonce = "0123ABCD", .qop = false
	};
	char ha1[DIGEST_HEX_SIZE];
	CU_ASSERT_EQUAL(digest_ha1(ha1, DIGEST_MD5, "620", "fritz.box", "tr0ub4dor-620"), 0);
	char *auth = uac_authorization(home, &ch, "620", ha1, "REGISTER", "sip:fritz.box", 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(auth);
	check_answer(home, auth, &ch, ha1, "sip:fritz.box");

	ch = (struct uac_challenge){
		.alg = DIGEST_SHA256, .realm = "itsp", .nonce = "n-1", .opaque = "xyz", .qop = true
	};
	CU_ASSERT_EQUAL(digest_ha1(ha1, DIGEST_SHA256, "acct", "itsp", "pw"), 0);
	auth = uac_authorization(home, &ch, "acct", ha1, "REGISTER", "sip:itsp.example", 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(auth);
	check_answer(home, auth, &ch, ha1, "sip:itsp.example");
	CU_ASSERT_PTR_NOT_NULL(strstr(auth, "opaque=\"xyz\""));
	su_home_deinit(home);
}

/* ---- the store and the snapshot ---- */

static char dir[64], dbpath[128];

static int store_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sipreg-test-trunk-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/sipreg.db", dir);
	return 0;
}

static int store_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_store(void)
{
	store_t *s = NULL;
	struct store_err e = { 0 };
	CU_ASSERT_EQUAL_FATAL(store_open(&s, dbpath, "sipreg", &e), 0);
	CU_ASSERT_EQUAL(store_user_add(s, "alice", "pw", &e), 0);
	struct store_device_spec dev = { "alice-desk", "third-party-basic", "alice", NULL, NULL,
					 NULL };
	CU_ASSERT_EQUAL(store_device_add(s, &dev, &e), 0);
	struct store_line_spec line = { "alice-desk", "1001", 0, NULL, NULL };
	CU_ASSERT_EQUAL(store_line_add(s, &line, NULL, &e), 0);

	char const *dids[] = { "4930100=1001", "4930199" };
	struct store_trunk_spec t = {
		.name = "fb",
		.registrar = "127.0.0.1:5070",
		.user = "620",
		.password = "tr0ub4dor-620",
		.realm = "fritz.box",
		.do_register = -1,
		.default_dn = "1001",
		.dids = dids,
		.n_dids = 2,
	};
	CU_ASSERT_EQUAL(store_trunk_add(s, &t, &e), 0);
	CU_ASSERT_EQUAL(store_trunk_add(s, &t, &e), -EEXIST);

	/* Refusals name what is wrong, and leave nothing behind. */
	struct store_trunk_spec bad = t;
	bad.name = "x";
	bad.dids = NULL, bad.n_dids = 0;
	bad.registrar = "host:99999";
	CU_ASSERT_EQUAL(store_trunk_add(s, &bad, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "port"));
	bad.registrar = "[::1]:5060";
	bad.transport = "sctp";
	CU_ASSERT_EQUAL(store_trunk_add(s, &bad, &e), -EINVAL);
	bad.transport = NULL;
	bad.user = NULL;
	bad.do_register = 1;
	CU_ASSERT_EQUAL(store_trunk_add(s, &bad, &e), -EINVAL); /* registers without a user */
	bad = t;
	bad.name = "y";
	char const *taken[] = { "4930100" };
	bad.dids = taken, bad.n_dids = 1;
	CU_ASSERT_EQUAL(store_trunk_add(s, &bad, &e), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "trunk fb"));
	char const *noline[] = { "4930300=9999" };
	bad.dids = noline;
	CU_ASSERT_EQUAL(store_trunk_add(s, &bad, &e), -ENOENT);

	struct store_trunk_spec addr = { .name = "gw", .registrar = "[::1]", .do_register = -1 };
	CU_ASSERT_EQUAL(store_trunk_add(s, &addr, &e), 0); /* no user: address only */

	long long id1 = 0, id2 = 0, id3 = 0;
	struct store_route_spec r = { "0.", "fb", 1, "49", 100, false };
	CU_ASSERT_EQUAL(store_route_add(s, &r, &id1, &e), 0);
	struct store_route_spec blk = { "11X", NULL, 0, NULL, 100, false };
	CU_ASSERT_EQUAL(store_route_add(s, &blk, &id2, &e), 0);
	struct store_route_spec first = { "0.", "gw", 0, NULL, 5, false };
	CU_ASSERT_EQUAL(store_route_add(s, &first, &id3, &e), 0);
	struct store_route_spec badr = { "0.", "nope", 0, NULL, 100, false };
	CU_ASSERT_EQUAL(store_route_add(s, &badr, NULL, &e), -ENOENT);
	badr = (struct store_route_spec){ "0x", "fb", 0, NULL, 100, false };
	CU_ASSERT_EQUAL(store_route_add(s, &badr, NULL, &e), -EINVAL);
	badr = (struct store_route_spec){ "0.", "fb", 0, "12a", 100, false };
	CU_ASSERT_EQUAL(store_route_add(s, &badr, NULL, &e), -EINVAL);

	directory_t *d = NULL;
	CU_ASSERT_EQUAL_FATAL(store_directory_load(s, &d, &e), 0);
	CU_ASSERT_EQUAL(directory_count_trunks(d), 2);
	struct dir_trunk const *fb = directory_trunk(d, "fb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	CU_ASSERT_STRING_EQUAL(fb->password, "tr0ub4dor-620"); /* opened for the SIP thread */
	CU_ASSERT_TRUE(fb->do_register);
	CU_ASSERT_EQUAL(fb->expires, 3600);
	CU_ASSERT_STRING_EQUAL(fb->transport, "udp");
	CU_ASSERT_EQUAL(strncmp(fb->contact_user, "620-", 4), 0);
	CU_ASSERT_EQUAL(strlen(fb->contact_user), 12);
	CU_ASSERT_PTR_EQUAL(directory_trunk_by_contact(d, fb->contact_user), fb);
	CU_ASSERT_PTR_NULL(directory_trunk_by_contact(d, "620"));
	struct dir_trunk const *gw = directory_trunk(d, "gw");
	CU_ASSERT_FALSE(gw->do_register);
	CU_ASSERT_PTR_NULL(gw->password);

	struct dir_did const *did = directory_did(d, "4930100");
	CU_ASSERT_PTR_NOT_NULL_FATAL(did);
	CU_ASSERT_STRING_EQUAL(did->dn, "1001");
	CU_ASSERT_PTR_NULL(directory_did(d, "4930199")->dn); /* the default line */
	CU_ASSERT_PTR_EQUAL(directory_did_of_line(d, fb, "1001"), directory_did(d, "4930100"));
	CU_ASSERT_PTR_NULL(directory_did_of_line(d, gw, "1001"));

	/* Lowest priority first; among equals the longer pattern. */
	CU_ASSERT_EQUAL(directory_route_at(d, 0)->id, id3);
	CU_ASSERT_EQUAL(directory_route_at(d, 1)->id, id2);
	CU_ASSERT_EQUAL(directory_route_at(d, 2)->id, id1);
	/* The route a number takes (b2bua/route.c): the first whose trunk can take it. */
	struct fake_trunks ft = { .usable = { gw, fb } };
	struct route_trunks tr = { fake_usable, fake_registered, &ft };
	CU_ASSERT_PTR_EQUAL(route_for_number(d, "0301", &tr)->trunk, gw);
	ft.usable[0] = NULL; /* gw down: the next route that matches */
	CU_ASSERT_PTR_EQUAL(route_for_number(d, "0301", &tr)->trunk, fb);
	ft.usable[1] = NULL; /* none up: the first that matches, so its refusal names it */
	CU_ASSERT_EQUAL(route_for_number(d, "0301", &tr)->id, id3);
	CU_ASSERT_PTR_NULL(route_for_number(d, "112", &tr)->trunk); /* blocked */
	CU_ASSERT_PTR_NULL(route_for_number(d, "2001", &tr));
	CU_ASSERT_PTR_NULL(route_for_number(d, NULL, &tr));
	/* Emergency without a marked trunk: a registered one, else a usable one, else none. */
	CU_ASSERT_PTR_NULL(route_emergency_trunk(d, &tr));
	ft.usable[0] = gw;
	CU_ASSERT_PTR_EQUAL(route_emergency_trunk(d, &tr), gw);
	ft.registered = fb;
	CU_ASSERT_PTR_EQUAL(route_emergency_trunk(d, &tr), fb);
	/* Caller id: the line's DID on that trunk, else the trunk's caller id or user, else the DN.
	 */
	CU_ASSERT_STRING_EQUAL(route_caller_id(d, fb, "1001"), "4930100");
	CU_ASSERT_STRING_EQUAL(route_caller_id(d, gw, "1001"), "1001");
	directory_destroy(d);

	/* trunk set: what is named changes, the rest (routes, DIDs, password) stays. */
	struct store_trunk_spec ch = { .name = "fb",
				       .proxy = "127.0.0.5:5060",
				       .realm = "",
				       .do_register = -1,
				       .emergency = 1 };
	CU_ASSERT_EQUAL(store_trunk_set(s, &ch, false, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_directory_load(s, &d, &e), 0);
	fb = directory_trunk(d, "fb");
	CU_ASSERT_STRING_EQUAL(fb->proxy, "127.0.0.5:5060");
	ft = (struct fake_trunks){ 0 };
	CU_ASSERT_PTR_EQUAL(route_emergency_trunk(d, &tr), fb); /* marked: whatever its state */
	CU_ASSERT_PTR_NULL(fb->realm);
	CU_ASSERT_TRUE(fb->emergency);
	CU_ASSERT_STRING_EQUAL(fb->password, "tr0ub4dor-620");
	CU_ASSERT_STRING_EQUAL(fb->registrar, "127.0.0.1:5070");
	char contact_before[80];
	snprintf(contact_before, sizeof(contact_before), "%s", fb->contact_user);
	CU_ASSERT_EQUAL(directory_count_dids(d), 2);
	CU_ASSERT_EQUAL(directory_count_routes(d), 3);
	directory_destroy(d);
	char const *newdids[] = { "4930555=1001" };
	ch = (struct store_trunk_spec){ .name = "fb",
					.password = "n3w-pass",
					.user = "621",
					.do_register = -1,
					.emergency = -1,
					.dids = newdids,
					.n_dids = 1 };
	CU_ASSERT_EQUAL(store_trunk_set(s, &ch, true, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_directory_load(s, &d, &e), 0);
	fb = directory_trunk(d, "fb");
	CU_ASSERT_STRING_EQUAL(fb->password, "n3w-pass");
	CU_ASSERT_TRUE(fb->emergency);
	CU_ASSERT_EQUAL(strncmp(fb->contact_user, "621-", 4), 0); /* a new user, a new Contact */
	CU_ASSERT_STRING_NOT_EQUAL(fb->contact_user, contact_before);
	CU_ASSERT_EQUAL(directory_count_dids(d), 1);
	CU_ASSERT_PTR_NOT_NULL(directory_did(d, "4930555"));
	directory_destroy(d);
	ch = (struct store_trunk_spec){
		.name = "fb", .registrar = "a b", .do_register = -1, .emergency = -1
	};
	CU_ASSERT_EQUAL(store_trunk_set(s, &ch, false, &e), -EINVAL);
	ch = (struct store_trunk_spec){
		.name = "fb", .user = "", .do_register = -1, .emergency = -1
	};
	CU_ASSERT_EQUAL(store_trunk_set(s, &ch, false, &e), -EINVAL); /* registers: needs one */
	ch.name = "nope";
	CU_ASSERT_EQUAL(store_trunk_set(s, &ch, false, &e), -ENOENT);

	/* A trunk goes with its DIDs and routes. */
	CU_ASSERT_EQUAL(store_trunk_del(s, "fb", &e), 0);
	CU_ASSERT_EQUAL(store_trunk_del(s, "fb", &e), -ENOENT);
	CU_ASSERT_EQUAL(store_route_del(s, id1, &e), -ENOENT);
	CU_ASSERT_EQUAL(store_route_del(s, id2, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_directory_load(s, &d, &e), 0);
	CU_ASSERT_EQUAL(directory_count_trunks(d), 1);
	CU_ASSERT_EQUAL(directory_count_dids(d), 0);
	CU_ASSERT_EQUAL(directory_count_routes(d), 1);
	directory_destroy(d);

	/* The password is sealed at rest. */
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "grep -q tr0ub4dor-620 '%s'", dbpath);
	CU_ASSERT_NOT_EQUAL(system(cmd), 0);
}

static CU_TestInfo const plan_tests[] = {
	{ "pattern matching", test_match },	  { "pattern validity", test_pattern_valid },
	{ "number lists", test_lists },		  { "configuration keys", test_config_keys },
	{ "URIs of dialled numbers", test_uris }, CU_TEST_INFO_NULL,
};

static CU_TestInfo const auth_tests[] = {
	{ "strongest challenge", test_pick },
	{ "authorization", test_authorization },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo const store_tests[] = {
	{ "trunks, DIDs and routes", test_store },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("dial plan", NULL, NULL, plan_tests);
	tap_add_suite("client digest", NULL, NULL, auth_tests);
	tap_add_suite("trunk store", store_setup, store_teardown, store_tests);
}

int main(void)
{
	return tap_main(add_suites);
}
