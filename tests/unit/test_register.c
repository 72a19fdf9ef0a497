/*
 * The registrar on a real nta agent, driven by an in-process client on a
 * second agent over UDP on 127.0.0.1: REGISTER, 401, REGISTER with a
 * digest computed from the challenge, 200. Both agents share one root,
 * stepped with a bound, so the exchange is deterministic and needs no
 * threads.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include "daemon/digest.h"
#include "registrar/registrar.h"
#include "store/store.h"
#include "tests/unit/tap.h"

static char dir[64];
static su_root_t *root;
static nta_agent_t *server, *client;
static registrar_t *reg;
static char server_hostport[64];
static unsigned batches;

/* What the client saw of the last answer. */
static struct answer {
	int status;
	char challenge[2][512]; /* WWW-Authenticate values, in order */
	int n_challenges;
	char contact[512];
	bool has_date;
} ans;
static bool answered;

static void sink(struct store_binding *b, size_t n, void *arg)
{
	(void)n, (void)arg;
	batches++;
	free(b);
}

static int on_request(nta_agent_magic_t *ctx, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)ctx;
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_register)
		registrar_handle(reg, msg, sip);
	else
		nta_msg_treply(agent, msg, SIP_501_NOT_IMPLEMENTED, TAG_END());
	return 0;
}

static int on_response(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	(void)magic;
	if (!sip || sip->sip_status->st_status < 200)
		return 0;
	memset(&ans, 0, sizeof(ans));
	ans.status = sip->sip_status->st_status;
	for (sip_www_authenticate_t const *w = sip->sip_www_authenticate; w && ans.n_challenges < 2;
	     w = w->au_next)
		sip_header_field_e(ans.challenge[ans.n_challenges++], sizeof(ans.challenge[0]),
				   (sip_header_t const *)w, 0);
	if (sip->sip_contact)
		sip_header_field_e(ans.contact, sizeof(ans.contact),
				   (sip_header_t const *)sip->sip_contact, 0);
	ans.has_date = sip->sip_date != NULL;
	answered = true;
	nta_outgoing_destroy(orq);
	return 0;
}

static void step_until_answered(void)
{
	su_time_t t0 = su_now();
	while (!answered && su_duration(su_now(), t0) < 5000)
		su_root_step(root, 10);
}

static int setup(void)
{
	struct store_err e = { 0 };
	store_t *s = NULL;
	directory_t *d = NULL;
	char db[128], secret[65];

	snprintf(dir, sizeof(dir), "/tmp/sipreg-test-register-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/sipreg.db", dir);
	if (store_open(&s, db, "sipreg", &e) < 0)
		return -1;
	struct store_device_spec sha = { .name = "sha",
					 .model = "third-party-basic",
					 .digest_user = "alice",
					 .digest_algs = "sha256" };
	struct store_device_spec both = { .name = "both",
					  .model = "third-party-basic",
					  .digest_user = "bob",
					  .digest_algs = "both" };
	struct store_line_spec l1 = { .device = "sha", .dn = "201" };
	struct store_line_spec l2 = { .device = "both", .dn = "202" };
	int err = store_user_add(s, "alice", "alice-secret", &e) < 0 ||
		  store_user_add(s, "bob", "bob-secret", &e) < 0 ||
		  store_device_add(s, &sha, &e) < 0 || store_device_add(s, &both, &e) < 0 ||
		  store_line_add(s, &l1, NULL, &e) < 0 || store_line_add(s, &l2, NULL, &e) < 0 ||
		  store_nonce_secret(s, secret, sizeof(secret), &e) < 0 ||
		  store_directory_load(s, &d, &e) < 0;
	store_close(s);
	if (err) {
		fprintf(stderr, "# store: %s\n", e.msg);
		return -1;
	}

	su_init();
	if (!(root = su_root_create(NULL)))
		return -1;
	server =
		nta_agent_create(root, URL_STRING_MAKE("sip:127.0.0.1:*;transport=udp"), on_request,
				 NULL, NTATAG_UA(1), NTATAG_SERVER_RPORT(1), TAG_END());
	client = nta_agent_create(root, URL_STRING_MAKE("sip:127.0.0.1:*;transport=udp"), NULL,
				  NULL, TAG_END());
	if (!server || !client)
		return -1;
	sip_contact_t const *m = nta_agent_contact(server);
	snprintf(server_hostport, sizeof(server_hostport), "%s:%s", m->m_url->url_host,
		 m->m_url->url_port);

	struct registrar_config rc = {
		.realm = "sipreg",
		.min_expires = 60,
		.max_expires = 3600,
		.default_expires = 3600,
		.cucm_max_expires = 120,
		.nonce_lifetime = 300,
		.default_algs = DIR_ALGS_MD5,
		.max_contacts = 16,
		.ban_failures = 100,
		.ban_window = 60,
		.ban_time = 60,
		.server = "sipreg-test",
		.token_rate = 10,
	};
	if (registrar_create(&reg, server, &rc, secret, sink, NULL) < 0)
		return -1;
	registrar_set_directory(reg, d);
	return 0;
}

static int teardown(void)
{
	char cmd[128];
	registrar_destroy(reg);
	nta_agent_destroy(client);
	nta_agent_destroy(server);
	su_root_destroy(root);
	su_deinit();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Sends a REGISTER for dn from the client (with the Authorization value, if any) and waits. */
static void send_register(char const *dn, unsigned cseq, char const *authorization)
{
	char ruri[96], to[128], cs[32], contact[128];
	snprintf(ruri, sizeof(ruri), "REGISTER sip:%s SIP/2.0", server_hostport);
	snprintf(to, sizeof(to), "<sip:%s@%s>", dn, server_hostport);
	snprintf(cs, sizeof(cs), "%u REGISTER", cseq);
	snprintf(contact, sizeof(contact), "<sip:%s@127.0.0.1:5999>", dn);
	msg_t *msg = nta_msg_create(client, 0);
	sip_t *sip = sip_object(msg);
	CU_ASSERT_FATAL(msg != NULL);
	int added = sip_add_tl(
		msg, sip, SIPTAG_REQUEST_STR(ruri), SIPTAG_FROM_STR(to), SIPTAG_TO_STR(to),
		SIPTAG_CALL_ID_STR("in-process-client"), SIPTAG_CSEQ_STR(cs),
		SIPTAG_CONTACT_STR(contact), SIPTAG_EXPIRES_STR("600"),
		TAG_IF(authorization, SIPTAG_AUTHORIZATION_STR(authorization)), TAG_END());
	CU_ASSERT_FATAL(added >= 0);
	answered = false;
	nta_outgoing_t *orq = nta_outgoing_mcreate(client, on_response, NULL, NULL, msg,
						   NTATAG_STATELESS(0), TAG_END());
	if (!orq || orq == (nta_outgoing_t *)-1) {
		msg_destroy(msg);
		CU_FAIL_FATAL("cannot send the REGISTER");
	}
	step_until_answered();
	CU_ASSERT_FATAL(answered);
}

/* The value of name="value" or name=token in a challenge. */
static void param(char const *challenge, char const *name, char *out, size_t len)
{
	out[0] = '\0';
	size_t n = strlen(name);
	for (char const *p = challenge; (p = strstr(p, name)); p += n) {
		if ((p != challenge && p[-1] != ' ' && p[-1] != ',') || p[n] != '=')
			continue;
		p += n + 1;
		size_t k = *p == '"' ? strcspn(++p, "\"") : strcspn(p, ", ");
		snprintf(out, len, "%.*s", (int)(k < len ? k : len - 1), p);
		return;
	}
}

/* The Authorization value answering a challenge, computed with alg. */
static void answer_challenge(char *out, size_t len, char const *challenge, enum digest_alg alg,
			     char const *user, char const *password, char const *nc)
{
	char realm[64], nonce[128], ha1[DIGEST_HEX_SIZE], resp[DIGEST_HEX_SIZE], uri[96];
	param(challenge, "realm", realm, sizeof(realm));
	param(challenge, "nonce", nonce, sizeof(nonce));
	snprintf(uri, sizeof(uri), "sip:%s", server_hostport);
	CU_ASSERT_EQUAL(digest_ha1(ha1, alg, user, realm, password), 0);
	CU_ASSERT_EQUAL(
		digest_response(resp, alg, ha1, nonce, nc, "0a4f113b", "auth", "REGISTER", uri), 0);
	snprintf(out, len,
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
		 "response=\"%s\", algorithm=%s, cnonce=\"0a4f113b\", qop=auth, nc=%s",
		 user, realm, nonce, uri, resp, digest_alg_name(alg), nc);
}

static void test_sha256_registration(void)
{
	char authz[1024];
	send_register("201", 1, NULL);
	CU_ASSERT_EQUAL(ans.status, 401);
	CU_ASSERT_EQUAL(ans.n_challenges, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.challenge[0], "algorithm=SHA-256"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.challenge[0], "qop=\"auth\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.challenge[0], "realm=\"sipreg\""));
	char challenge[512];
	snprintf(challenge, sizeof(challenge), "%s", ans.challenge[0]);

	/* The wrong password: challenged again, nothing bound. */
	answer_challenge(authz, sizeof(authz), challenge, DIGEST_SHA256, "alice", "guess",
			 "00000001");
	send_register("201", 2, authz);
	CU_ASSERT_EQUAL(ans.status, 401);
	CU_ASSERT_EQUAL(registrar_count(reg), 0);

	/* MD5 where the device's policy is SHA-256 only: challenged again. */
	answer_challenge(authz, sizeof(authz), challenge, DIGEST_MD5, "alice", "alice-secret",
			 "00000002");
	send_register("201", 3, authz);
	CU_ASSERT_EQUAL(ans.status, 401);
	CU_ASSERT_EQUAL(registrar_count(reg), 0);

	/* The right SHA-256 response: bound, the contact listed with its expiry. */
	answer_challenge(authz, sizeof(authz), challenge, DIGEST_SHA256, "alice", "alice-secret",
			 "00000003");
	send_register("201", 4, authz);
	CU_ASSERT_EQUAL(ans.status, 200);
	CU_ASSERT_TRUE(ans.has_date);
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.contact, "sip:201@127.0.0.1:5999"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.contact, "expires=600"));
	CU_ASSERT_EQUAL(registrar_count(reg), 1);

	/* The same response again (nc not higher) is a replay: challenged again. */
	send_register("201", 5, authz);
	CU_ASSERT_EQUAL(ans.status, 401);

	/* The write-behind gets the binding. */
	unsigned before = batches;
	registrar_tick(reg, time(NULL));
	CU_ASSERT_EQUAL(batches, before + 1);
}

static void test_both_algorithms(void)
{
	char authz[1024], challenge[512];
	send_register("202", 1, NULL);
	CU_ASSERT_EQUAL(ans.status, 401);
	CU_ASSERT_EQUAL_FATAL(ans.n_challenges, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.challenge[0], "algorithm=SHA-256"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ans.challenge[1], "algorithm=MD5"));
	/* Both challenges carry the same nonce; either algorithm registers. */
	char n1[128], n2[128];
	param(ans.challenge[0], "nonce", n1, sizeof(n1));
	param(ans.challenge[1], "nonce", n2, sizeof(n2));
	CU_ASSERT_STRING_EQUAL(n1, n2);
	snprintf(challenge, sizeof(challenge), "%s", ans.challenge[1]);
	answer_challenge(authz, sizeof(authz), challenge, DIGEST_MD5, "bob", "bob-secret",
			 "00000001");
	send_register("202", 2, authz);
	CU_ASSERT_EQUAL(ans.status, 200);
	answer_challenge(authz, sizeof(authz), challenge, DIGEST_SHA256, "bob", "bob-secret",
			 "00000002");
	send_register("202", 3, authz);
	CU_ASSERT_EQUAL(ans.status, 200);
	CU_ASSERT_EQUAL(registrar_count(reg), 2);

	/* Alice's credentials for Bob's line: refused, Bob's binding stays. */
	send_register("202", 4, NULL);
	snprintf(challenge, sizeof(challenge), "%s", ans.challenge[0]);
	answer_challenge(authz, sizeof(authz), challenge, DIGEST_SHA256, "alice", "alice-secret",
			 "00000001");
	send_register("202", 5, authz);
	CU_ASSERT_EQUAL(ans.status, 403);
	CU_ASSERT_EQUAL(registrar_count(reg), 2);
}

static void count_line(char const *dn, char const *device, time_t expires, void *arg)
{
	(void)device;
	if (!strcmp(dn, "202") && expires > time(NULL))
		(*(int *)arg)++;
}

static void test_peer_lines(void)
{
	long long later = (long long)time(NULL) + 600;
	struct registrar_peer_reg regs[] = {
		{ "201", "sha", later },
		{ "999", "nobody", later }, /* a line this directory does not have */
	};
	registrar_peer_update(reg, "node-a", "node-b", "127.0.0.2", 5071, regs, 2, true);
	CU_ASSERT_STRING_EQUAL(registrar_peer_node(reg), "node-b");
	struct binding const *b = registrar_peer_binding(reg, "201");
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT(binding_is_peer(b));
	CU_ASSERT_STRING_EQUAL(binding_contact(b), "sip:201@127.0.0.2:5071;transport=tls");
	CU_ASSERT_STRING_EQUAL(binding_device(b), "sha");
	CU_ASSERT_PTR_NULL(registrar_peer_binding(reg, "999"));
	CU_ASSERT_FALSE(binding_is_peer(registrar_bindings(reg, "202")));
	/* reg list shows the other node's line with its node */
	json_t *list = registrar_list(reg, NULL);
	int peer = 0;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		char const *node = json_string_value(json_object_get(e, "node"));
		if (node && !strcmp(node, "node-b") &&
		    !strcmp(json_string_value(json_object_get(e, "dn")), "201"))
			peer++;
	}
	json_decref(list);
	CU_ASSERT_EQUAL(peer, 1);
	/* a change: no longer registered there */
	struct registrar_peer_reg gone = { "201", "sha", 0 };
	registrar_peer_update(reg, "node-a", "node-b", NULL, 0, &gone, 1, false);
	CU_ASSERT_PTR_NULL(registrar_peer_binding(reg, "201"));
	/* a whole list replaces; out of reach forgets */
	registrar_peer_update(reg, "node-a", "node-b", "127.0.0.2", 5071, regs, 1, true);
	CU_ASSERT_PTR_NOT_NULL(registrar_peer_binding(reg, "201"));
	registrar_peer_clear(reg);
	CU_ASSERT_PTR_NULL(registrar_peer_binding(reg, "201"));
	/* no node transport announced: its lines cannot be called */
	registrar_peer_update(reg, "node-a", "node-b", "127.0.0.2", 0, regs, 1, true);
	CU_ASSERT_PTR_NULL(registrar_peer_binding(reg, "201"));
	/* what this node tells: its registered lines, once each */
	int n = 0;
	registrar_foreach_registered(reg, count_line, &n);
	CU_ASSERT_EQUAL(n, 1);
}

static bool has_contact(char const *dn, char const *contact)
{
	for (struct binding const *b = registrar_bindings(reg, dn); b; b = binding_next(b))
		if (!strcmp(binding_contact(b), contact))
			return true;
	return false;
}

/* A binding restored at start for a phone the other node now has registered goes. */
static void test_peer_moved(void)
{
	long long later = (long long)time(NULL) + 600;
	struct store_binding old = { .dn = "201",
				     .device = "sha",
				     .contact = "sip:201@127.0.0.9:5099",
				     .source = "127.0.0.9:5099",
				     .transport = "udp",
				     .call_id = "restored-1",
				     .cseq = 7,
				     .expires_at = later };
	/* 201 holds the binding the first test's REGISTER made, and now a restored one */
	CU_ASSERT_PTR_NOT_NULL_FATAL(registrar_bindings(reg, "201"));
	char const *made = binding_contact(registrar_bindings(reg, "201"));
	char made_contact[512];
	snprintf(made_contact, sizeof(made_contact), "%s", made);
	registrar_restore(reg, &old);
	CU_ASSERT_FATAL(has_contact("201", old.contact));
	/* another device's line on the other node leaves it alone */
	struct registrar_peer_reg other = { "201", "both", later };
	registrar_peer_update(reg, "node-a", "node-b", "127.0.0.2", 5071, &other, 1, true);
	CU_ASSERT(has_contact("201", old.contact));
	/* so does a line no longer registered there */
	struct registrar_peer_reg gone = { "201", "sha", 0 };
	registrar_peer_update(reg, "node-a", "node-b", NULL, 0, &gone, 1, false);
	CU_ASSERT(has_contact("201", old.contact));
	/* the same device registered there: the restored binding goes, the REGISTER's stays */
	struct registrar_peer_reg moved = { "201", "sha", later };
	registrar_peer_update(reg, "node-a", "node-b", NULL, 0, &moved, 1, false);
	CU_ASSERT_FALSE(has_contact("201", old.contact));
	CU_ASSERT(has_contact("201", made_contact));
	CU_ASSERT_PTR_NOT_NULL(registrar_peer_binding(reg, "201"));
	registrar_peer_clear(reg);
}

static void test_fallback_tokens(void)
{
	unsigned wait = 0, granted = 0;
	for (int i = 0; i < 20; i++)
		if (registrar_token_grant(reg, &wait))
			granted++;
	/* a second's worth at once (a few more if the clock moved meanwhile), then a wait */
	CU_ASSERT(granted >= 10 && granted <= 11);
	CU_ASSERT(wait >= 1 && wait <= 2);
}

static CU_TestInfo tests[] = {
	{ "SHA-256 registration through an in-process client", test_sha256_registration },
	{ "both algorithms offered, SHA-256 first", test_both_algorithms },
	{ "the other node's lines: update, change, replace, forget", test_peer_lines },
	{ "a restored binding of a phone now on the other node goes", test_peer_moved },
	{ "fallback tokens at the configured rate", test_fallback_tokens },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("register", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
