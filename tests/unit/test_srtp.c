/* SRTP keys in descriptions (sip/srtp.c) and the trust list's layout (tls/itl.c). */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sip/srtp.h"
#include "tests/unit/tap.h"
#include "tls/tls.h"

#define KEY "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define HEAD "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

static char const savp[] = HEAD "m=audio 4000 RTP/SAVP 0 101\r\n" KEY "\r\na=sendrecv\r\n";
static char const avp[] = HEAD "m=audio 4000 RTP/AVP 0 101\r\n" KEY "\r\na=sendrecv\r\n";
static char const plain[] = HEAD "m=audio 4000 RTP/AVP 0 101\r\na=sendrecv\r\n";

static void test_detect(void)
{
	CU_ASSERT_TRUE(srtp_has_keys(savp, strlen(savp)));
	CU_ASSERT_FALSE(srtp_has_keys(plain, strlen(plain)));
	/* RTP/SAVP with keys: SRTP or nothing, unless the offerer says it may fall back. */
	CU_ASSERT_FALSE(srtp_plain_allowed(savp, strlen(savp), false));
	CU_ASSERT_TRUE(srtp_plain_allowed(savp, strlen(savp), true));
	CU_ASSERT_TRUE(srtp_plain_allowed(avp, strlen(avp), false));
	char const cisco[] = HEAD "m=audio 4000 RTP/SAVP 0\r\n" KEY "\r\na=X-cisco-srtp-fallback\r\n";
	CU_ASSERT_TRUE(srtp_plain_allowed(cisco, strlen(cisco), false));
	/* A second media line with keys only spoils the fallback. */
	char const mixed[] = HEAD "m=audio 4000 RTP/AVP 0\r\n" KEY "\r\nm=video 4002 RTP/SAVP 96\r\n" KEY
				  "\r\n";
	CU_ASSERT_FALSE(srtp_plain_allowed(mixed, strlen(mixed), false));
}

static void test_strip(void)
{
	char out[1024];
	long n = srtp_strip(savp, strlen(savp), out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(n, (long)strlen(plain));
	CU_ASSERT_STRING_EQUAL(out, plain);
	n = srtp_strip(avp, strlen(avp), out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, plain);
	/* RTP/SAVPF becomes RTP/AVPF; a description without keys is unchanged. */
	char const f[] = HEAD "m=video 4002 RTP/SAVPF 96\n" KEY "\n";
	n = srtp_strip(f, strlen(f), out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "m=video 4002 RTP/AVPF 96\n"));
	CU_ASSERT_FALSE(srtp_has_keys(out, (size_t)n));
	n = srtp_strip(plain, strlen(plain), out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, plain);
	CU_ASSERT_EQUAL(srtp_strip(plain, strlen(plain), out, 10), -1);
}

static void test_mask(void)
{
	char line[] = "   " KEY "|2^20|1:4\r\nsomething inline:kept";
	srtp_mask(line);
	CU_ASSERT_PTR_NULL(strstr(line, "WVNf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "inline:****"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "inline:kept")); /* not a crypto line */
}

static void test_itl_names(void)
{
	CU_ASSERT_TRUE(tls_itl_name_ok("ITLFile.tlv"));
	CU_ASSERT_TRUE(tls_itl_name_ok("ITLSEP001122AABBCC.tlv"));
	CU_ASSERT_FALSE(tls_itl_name_ok("ITLSEP001122AABBC.tlv"));
	CU_ASSERT_FALSE(tls_itl_name_ok("ITLSEP00112233445G.tlv"));
	CU_ASSERT_FALSE(tls_itl_name_ok("../ITLFile.tlv"));
}

static void test_itl_layout(void)
{
	EVP_PKEY *key = EVP_RSA_gen(1024);
	X509 *cert = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (unsigned char const *)"a,b", -1, -1, 0);
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 0x0102);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_subject_name(cert, n);
	X509_set_issuer_name(cert, n);
	X509_set_pubkey(cert, key);
	X509_sign(cert, key, EVP_sha256());
	uint8_t *out = NULL;
	size_t len = 0;
	char err[256];
	enum tls_itl_role role = ITL_ROLE_CCM;
	CU_ASSERT_EQUAL_FATAL(tls_itl_build(cert, key, &cert, &role, 1, false, "ITLFile.tlv",
					    0x01020304, &out, &len, err, sizeof(err)),
			      0);
	/* Version 1.2, then the header length: a multiple of 4 that ends where a record starts. */
	CU_ASSERT_EQUAL(out[0], 1);
	CU_ASSERT_EQUAL(out[3], 1);
	CU_ASSERT_EQUAL(out[4], 2);
	size_t header = (size_t)out[8] << 8 | out[9];
	CU_ASSERT_EQUAL(header % 4, 0);
	CU_ASSERT_EQUAL(out[header], 1);
	/* The name is escaped as RFC 4514 says, NUL-terminated. */
	CU_ASSERT_PTR_NOT_NULL(memmem(out, len, "CN=a\\,b\0", 8));
	/* The 1024-bit signature (128 bytes) stands in the header. */
	CU_ASSERT_PTR_NOT_NULL(memmem(out, header, "\x0c\x00\x80", 3));
	free(out);
	CU_ASSERT_EQUAL(tls_itl_build(cert, key, &cert, &role, 1, false, "../x.tlv", 0, &out, &len,
				      err, sizeof(err)),
			-1);
	X509_NAME_free(n);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static CU_TestInfo const tests[] = {
	{ "SRTP keys found, and whether plain RTP is allowed", test_detect },
	{ "SRTP keys taken out, SAVP made AVP", test_strip },
	{ "SRTP keys masked in a traced line", test_mask },
	{ "trust list file names", test_itl_names },
	{ "trust list layout", test_itl_layout },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("srtp and trust lists", NULL, NULL, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
