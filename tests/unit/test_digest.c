#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "daemon/digest.h"
#include "daemon/log.h"
#include "daemon/text.h"
#include "tests/unit/tap.h"

/* RFC 7616 §3.9.1: the same request, MD5 then SHA-256. */
#define R7616_USER   "Mufasa"
#define R7616_REALM  "http-auth@example.org"
#define R7616_PASS   "Circle of Life"
#define R7616_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define R7616_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define R7616_URI    "/dir/index.html"

static void test_rfc7616_md5(void)
{
	char ha1[DIGEST_HEX_SIZE], resp[DIGEST_HEX_SIZE];
	CU_ASSERT_EQUAL(digest_ha1(ha1, DIGEST_MD5, R7616_USER, R7616_REALM, R7616_PASS), 0);
	CU_ASSERT_EQUAL(digest_response(resp, DIGEST_MD5, ha1, R7616_NONCE, "00000001",
					R7616_CNONCE, "auth", "GET", R7616_URI),
			0);
	CU_ASSERT_STRING_EQUAL(resp, "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_rfc7616_sha256(void)
{
	char ha1[DIGEST_HEX_SIZE], resp[DIGEST_HEX_SIZE];
	CU_ASSERT_EQUAL(digest_ha1(ha1, DIGEST_SHA256, R7616_USER, R7616_REALM, R7616_PASS), 0);
	CU_ASSERT_STRING_EQUAL(ha1,
			       "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	CU_ASSERT_EQUAL(digest_response(resp, DIGEST_SHA256, ha1, R7616_NONCE, "00000001",
					R7616_CNONCE, "auth", "GET", R7616_URI),
			0);
	CU_ASSERT_STRING_EQUAL(resp,
			       "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	CU_ASSERT_EQUAL(strlen(resp), 64);
}

/* RFC 2617 §3.5, and the same request without qop (RFC 2069 form). */
static void test_rfc2617_md5(void)
{
	char ha1[DIGEST_HEX_SIZE], resp[DIGEST_HEX_SIZE];
	CU_ASSERT_EQUAL(
		digest_ha1(ha1, DIGEST_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life"), 0);
	CU_ASSERT_STRING_EQUAL(ha1, "939e7578ed9e3c518a452acee763bce9");
	CU_ASSERT_EQUAL(digest_response(resp, DIGEST_MD5, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093",
					"00000001", "0a4f113b", "auth", "GET", "/dir/index.html"),
			0);
	CU_ASSERT_STRING_EQUAL(resp, "6629fae49393a05397450978507c4ef1");
	CU_ASSERT_EQUAL(digest_response(resp, DIGEST_MD5, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093",
					NULL, NULL, NULL, "GET", "/dir/index.html"),
			0);
	CU_ASSERT_STRING_EQUAL(resp, "670fd8c2df070c60b045671b8b24ff02");
}

static void test_bad_input(void)
{
	char out[DIGEST_HEX_SIZE];
	CU_ASSERT_EQUAL(digest_response(out, DIGEST_MD5, "00", "n", "00000001", "c", "auth-int",
					"GET", "/"),
			-EINVAL);
	CU_ASSERT_EQUAL(digest_response(out, DIGEST_MD5, "00", "n", NULL, NULL, "auth", "GET", "/"),
			-EINVAL);
	CU_ASSERT_EQUAL(digest_ha1(out, DIGEST_MD5, NULL, "r", "p"), -EINVAL);
}

static void test_alg_names(void)
{
	enum digest_alg a;
	CU_ASSERT_EQUAL(digest_alg_parse(&a, "md5"), 0);
	CU_ASSERT_EQUAL(a, DIGEST_MD5);
	CU_ASSERT_EQUAL(digest_alg_parse(&a, "SHA-256"), 0);
	CU_ASSERT_EQUAL(a, DIGEST_SHA256);
	CU_ASSERT_EQUAL(digest_alg_parse(&a, "SHA-512-256"), -EINVAL);
	CU_ASSERT_EQUAL(digest_alg_parse(&a, NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(digest_alg_name(DIGEST_SHA256), "SHA-256");
	CU_ASSERT_STRING_EQUAL(digest_alg_name(DIGEST_MD5), "MD5");
}

static void test_equal(void)
{
	CU_ASSERT_TRUE(digest_equal("abc", "abc"));
	CU_ASSERT_FALSE(digest_equal("abc", "abd"));
	CU_ASSERT_FALSE(digest_equal("abc", "abcd"));
	CU_ASSERT_TRUE(digest_equal("", ""));
}

/* Fields from the network in log lines: quoted, escaped, bounded. */
static void test_log_quote(void)
{
	char buf[32];
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "alice"), "\"alice\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), NULL), "-");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), ""), "\"\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "a\"b\\c"), "\"a\\\"b\\\\c\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, sizeof(buf), "x\r\ny\x1b\xc3"),
			       "\"x\\x0d\\x0ay\\x1b\\xc3\"");
	/* Cut to fit, and said so. */
	CU_ASSERT_STRING_EQUAL(log_quote(buf, 12, "0123456789abcdef"), "\"012345...\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, 12, "\n\n\n\n\n\n"), "\"\\x0a...\"");
	CU_ASSERT_STRING_EQUAL(log_quote(buf, 12, "012345678"), "\"012345678\"");
	CU_ASSERT_STRING_EQUAL(LOGQ("source=1.2.3.4 x"), "\"source=1.2.3.4 x\"");
}

/* Seconds from the network saturate: never a wrap to a small number or 0. */
static void test_seconds(void)
{
	CU_ASSERT_EQUAL(text_seconds("3600", 86400), 3600);
	CU_ASSERT_EQUAL(text_seconds("0", 86400), 0);
	CU_ASSERT_EQUAL(text_seconds("4294967296", UINT32_MAX), UINT32_MAX);
	CU_ASSERT_EQUAL(text_seconds("100000000000000000000", 300), 300);
	CU_ASSERT_EQUAL(text_seconds("99999999999999999999999999999999", 300), 300);
	CU_ASSERT_EQUAL(text_seconds("", 300), 0);
	CU_ASSERT_EQUAL(text_seconds(NULL, 300), 0);
	CU_ASSERT_EQUAL(text_seconds("12abc", 300), 12);
	CU_ASSERT_EQUAL(seconds_at_most(ULONG_MAX, 3600), 3600);
	CU_ASSERT_EQUAL(seconds_at_most(4294967296UL, UINT32_MAX), UINT32_MAX);
	CU_ASSERT_EQUAL(seconds_at_most(20, 3600), 20);
}

static CU_TestInfo const tests[] = {
	{ "seconds from the network, bounded", test_seconds },
	{ "log fields quoted and escaped", test_log_quote },
	{ "RFC 7616 MD5", test_rfc7616_md5 },
	{ "RFC 7616 SHA-256", test_rfc7616_sha256 },
	{ "RFC 2617 MD5 with and without qop", test_rfc2617_md5 },
	{ "bad input refused", test_bad_input },
	{ "algorithm names", test_alg_names },
	{ "constant-time compare", test_equal },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("digest", NULL, NULL, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
