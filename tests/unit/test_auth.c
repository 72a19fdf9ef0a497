#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/digest.h"
#include "registrar/auth.h"
#include "tests/unit/tap.h"

static auth_server_t *a;
static time_t const T0 = 1800000000;

static int setup(void)
{
	return auth_server_create(&a, "0123456789abcdef", 16, 300, 1024);
}

static int teardown(void)
{
	auth_server_destroy(a);
	a = NULL;
	return 0;
}

/* A response computed the way a phone does, for the nonce given. */
static void respond(char out[DIGEST_HEX_SIZE], enum digest_alg alg, char const *password,
		    char const *nonce, char const *nc, char const *qop)
{
	char ha1[DIGEST_HEX_SIZE];
	digest_ha1(ha1, alg, "alice", "sipreg", password);
	digest_response(out, alg, ha1, nonce, nc, "c0ffee", qop, "REGISTER", "sip:127.0.0.1:5060");
}

struct fixture {
	char nonce[AUTH_NONCE_LEN + 1];
	char resp[DIGEST_HEX_SIZE];
	char md5[DIGEST_HEX_SIZE], sha[DIGEST_HEX_SIZE];
	struct auth_creds c;
	struct auth_check k;
};

static void prepare(struct fixture *f, enum digest_alg alg, char const *password, char const *nc,
		    char const *qop)
{
	auth_nonce_make(a, T0, "192.0.2.10", f->nonce);
	respond(f->resp, alg, password, f->nonce, nc, qop);
	digest_ha1(f->md5, DIGEST_MD5, "alice", "sipreg", "secret");
	digest_ha1(f->sha, DIGEST_SHA256, "alice", "sipreg", "secret");
	f->c = (struct auth_creds){ .username = "alice",
				    .realm = "sipreg",
				    .nonce = f->nonce,
				    .uri = "sip:127.0.0.1:5060",
				    .response = f->resp,
				    .algorithm = digest_alg_name(alg),
				    .cnonce = "c0ffee",
				    .qop = qop,
				    .nc = nc };
	f->k = (struct auth_check){ .method = "REGISTER",
				    .ha1_md5 = f->md5,
				    .ha1_sha256 = f->sha,
				    .verify_password = true,
				    .algs_offered = AUTH_ALG_MD5 | AUTH_ALG_SHA256,
				    .request_key = 42,
				    .source = "192.0.2.10" };
}

static void test_md5_and_sha256(void)
{
	struct fixture f;
	enum digest_alg used;
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, &used), AUTH_OK);
	CU_ASSERT_EQUAL(used, DIGEST_MD5);
	prepare(&f, DIGEST_SHA256, "secret", "00000001", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, &used), AUTH_OK);
	CU_ASSERT_EQUAL(used, DIGEST_SHA256);
	/* No algorithm parameter means MD5. */
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.c.algorithm = NULL;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_OK);
}

static void test_wrong_password(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "guess", "00000001", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_FAILED);
	/* Unknown users fail the same way. */
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.k.ha1_md5 = f.k.ha1_sha256 = NULL;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_FAILED);
	/* identify: the password is not checked. */
	prepare(&f, DIGEST_MD5, "guess", "00000001", "auth");
	f.k.verify_password = false;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_OK);
}

static void test_stale_and_forged_nonce(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 301, NULL), AUTH_STALE);
	/* A wrong password on an old nonce is a failure, not a stale nonce. */
	prepare(&f, DIGEST_MD5, "guess", "00000001", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 301, NULL), AUTH_FAILED);
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.nonce[3] = f.nonce[3] == 'a' ? 'b' : 'a';
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_BAD_NONCE);
	f.c.nonce = "not-a-nonce";
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_BAD_NONCE);
	/* Nonces are all different. */
	char n1[AUTH_NONCE_LEN + 1], n2[AUTH_NONCE_LEN + 1];
	auth_nonce_make(a, T0, "192.0.2.10", n1);
	auth_nonce_make(a, T0, "192.0.2.10", n2);
	CU_ASSERT_STRING_NOT_EQUAL(n1, n2);
	CU_ASSERT_EQUAL(strlen(n1), AUTH_NONCE_LEN);
	/*
	 * The time stamp, then 16 hex of HMAC-SHA-256 (OpenSSL's one-shot HMAC)
	 * over the first 16 and "#", then 16 over the first 16, "@" and the address.
	 */
	CU_ASSERT_EQUAL(strncmp(n1, "6b49d200", 8), 0);
	char const *const tails[2] = { "#", "@192.0.2.10" };
	for (int k = 0; k < 2; k++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		char in[64], want[17];
		snprintf(in, sizeof(in), "%.16s%s", n1, tails[k]);
		HMAC(EVP_sha256(), "0123456789abcdef", 16, (unsigned char const *)in, strlen(in),
		     md, &mdlen);
		for (int i = 0; i < 8; i++)
			snprintf(want + 2 * i, 3, "%02x", md[i]);
		CU_ASSERT_EQUAL(memcmp(n1 + 16 + 16 * k, want, 16), 0);
	}
}

/* A nonce is good only from the address it was issued to; it is ours whatever the address. */
static void test_nonce_bound_to_address(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.k.source = "192.0.2.11";
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_BAD_NONCE);
	/* A wrong response from another address is an unknown nonce, not a failure. */
	prepare(&f, DIGEST_MD5, "guess", "00000001", "auth");
	f.k.source = "198.51.100.7";
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_BAD_NONCE);
	f.k.source = "192.0.2.10";
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_FAILED);
	CU_ASSERT_TRUE(auth_nonce_ours(a, f.nonce));
	CU_ASSERT_FALSE(auth_nonce_ours(a, "0123456789abcdef0123456789abcdef0123456789abcdef"));
	CU_ASSERT_FALSE(auth_nonce_ours(a, "short"));
	CU_ASSERT_FALSE(auth_nonce_ours(a, NULL));
}

/* RFC 2069 (no qop): a nonce serves one request and its retransmissions. */
static void test_no_qop_single_use(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "secret", NULL, NULL);
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_OK);
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 2, NULL), AUTH_OK);
	f.k.request_key = 99;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 2, NULL), AUTH_STALE);
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 3, NULL), AUTH_STALE);
	/* Nor can the used nonce go on with qop. */
	char resp[DIGEST_HEX_SIZE];
	respond(resp, DIGEST_MD5, "secret", f.nonce, "00000001", "auth");
	f.c.qop = "auth";
	f.c.nc = "00000001";
	f.c.response = resp;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 3, NULL), AUTH_REPLAY);
}

static void test_uri_names(void)
{
	char const *names = "127.0.0.1:5060 [::1]:5070 sip.example.com:5060 *:5080";
	CU_ASSERT_TRUE(auth_uri_names("sip:127.0.0.1:5060", names));
	CU_ASSERT_TRUE(auth_uri_names("sip:127.0.0.1", names));
	CU_ASSERT_TRUE(auth_uri_names("sip:1001@127.0.0.1:5060", names));
	CU_ASSERT_TRUE(auth_uri_names("sip:[::1]:5070", names));
	CU_ASSERT_TRUE(auth_uri_names("sip:SIP.Example.com", names));
	CU_ASSERT_TRUE(auth_uri_names("sip:10.1.2.3:5080", names));
	CU_ASSERT_FALSE(auth_uri_names("sip:127.0.0.1:5061", names));
	CU_ASSERT_FALSE(auth_uri_names("sip:0301234567@198.51.100.7:5060", names));
	CU_ASSERT_FALSE(auth_uri_names("sips:127.0.0.1", names));
	CU_ASSERT_FALSE(auth_uri_names("tel:+4930123", names));
	CU_ASSERT_FALSE(auth_uri_names("garbage", names));
	CU_ASSERT_FALSE(auth_uri_names(NULL, names));
}

static void test_nonce_count(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_OK);
	/* The same request again (a retransmission): accepted. */
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_OK);
	/* The same nonce count on another request: a replay. */
	f.k.request_key = 43;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_REPLAY);
	/* A higher count on the same nonce: fine. */
	char resp[DIGEST_HEX_SIZE];
	respond(resp, DIGEST_MD5, "secret", f.nonce, "00000002", "auth");
	f.c.nc = "00000002";
	f.c.response = resp;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 2, NULL), AUTH_OK);
	f.k.request_key = 44;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 2, NULL), AUTH_REPLAY);
	/* nc zero is never valid. */
	prepare(&f, DIGEST_MD5, "secret", "00000000", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_REPLAY);
}

static void test_qop_policy(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "secret", NULL, NULL);
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_OK);
	f.k.qop_required = true;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_QOP_REQUIRED);
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth-int");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_MALFORMED);
	prepare(&f, DIGEST_MD5, "secret", "1", "auth");
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_MALFORMED);
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.c.response = NULL;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_MALFORMED);
}

static void test_algorithms_offered(void)
{
	struct fixture f;
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.k.algs_offered = AUTH_ALG_SHA256;
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_ALG_REFUSED);
	prepare(&f, DIGEST_MD5, "secret", "00000001", "auth");
	f.c.algorithm = "SHA-512-256";
	CU_ASSERT_EQUAL(auth_verify(a, &f.c, &f.k, T0 + 1, NULL), AUTH_ALG_REFUSED);
}

static void test_uri_match(void)
{
	CU_ASSERT_TRUE(auth_uri_matches("sip:127.0.0.1:5060", "sip:127.0.0.1:5060"));
	CU_ASSERT_TRUE(auth_uri_matches("SIP:Registrar.Example.COM", "sip:registrar.example.com"));
	CU_ASSERT_TRUE(auth_uri_matches("sip:%61lice@host", "sip:alice@host"));
	/* url_cmp() takes an absent port as the default one. */
	CU_ASSERT_TRUE(auth_uri_matches("sip:127.0.0.1", "sip:127.0.0.1:5060"));
	CU_ASSERT_FALSE(auth_uri_matches("sip:127.0.0.1:5070", "sip:127.0.0.1:5060"));
	CU_ASSERT_FALSE(auth_uri_matches("sip:127.0.0.2:5060", "sip:127.0.0.1:5060"));
	CU_ASSERT_FALSE(auth_uri_matches("sip:alice@host", "sip:bob@host"));
	CU_ASSERT_FALSE(auth_uri_matches("garbage", "sip:127.0.0.1"));
	CU_ASSERT_FALSE(auth_uri_matches(NULL, "sip:127.0.0.1"));
}

static void test_challenge_text(void)
{
	char buf[256];
	CU_ASSERT_EQUAL(
		auth_challenge_format(buf, sizeof(buf), "sipreg", "abc", DIGEST_SHA256, true), 0);
	CU_ASSERT_STRING_EQUAL(buf, "Digest realm=\"sipreg\", nonce=\"abc\", algorithm=SHA-256, "
				    "qop=\"auth\", stale=true");
	CU_ASSERT(auth_challenge_format(buf, 10, "sipreg", "abc", DIGEST_MD5, false) < 0);
}

static CU_TestInfo const tests[] = {
	{ "MD5 and SHA-256 responses", test_md5_and_sha256 },
	{ "wrong password, unknown user, identify", test_wrong_password },
	{ "stale and forged nonces", test_stale_and_forged_nonce },
	{ "nonce count against replays", test_nonce_count },
	{ "nonces bound to the address they were issued to", test_nonce_bound_to_address },
	{ "without qop a nonce serves one request", test_no_qop_single_use },
	{ "digest uri naming this server", test_uri_names },
	{ "qop policy and malformed responses", test_qop_policy },
	{ "algorithms offered", test_algorithms_offered },
	{ "digest uri against Request-URI", test_uri_match },
	{ "challenge text", test_challenge_text },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("auth", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
