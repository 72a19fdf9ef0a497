/*
 * Fuzz harness: what tls/ reads from files an administrator (or anyone who
 * can write to the directory) controls, and what it writes from them. The
 * first byte chooses; the rest is split at its first NUL byte:
 *   0  tls_check_pem(agent.pem, cafile.pem): never a crash, and a refusal
 *      always names the file it is about
 *   1  a trust list built from the certificates (PEM, or DER when none)
 *      with a fixed SAST key, and the file name asked for: when it is
 *      built, the header length and each record's length add up
 *   2  the text shown of a certificate (names, SANs, fingerprints, expiry)
 *   3  SRTP keys taken out of a description: none is left
 * Its seeds (tests/fuzz/seeds/tls) hold a throwaway lab CA made for them.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sip/srtp.h"
#include "tests/fuzz/fuzz.h"
#include "tls/internal.h"
#include "tls/tls.h"

static EVP_PKEY *sast_key;
static X509 *sast_cert;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A small key: the harness checks the layout, not the strength. */
	sast_key = EVP_RSA_gen(1024);
	sast_cert = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (unsigned char const *)"fuzz SAST", -1,
				   -1, 0);
	X509_set_version(sast_cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(sast_cert), 4242);
	X509_gmtime_adj(X509_getm_notBefore(sast_cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(sast_cert), 86400);
	X509_set_subject_name(sast_cert, n);
	X509_set_issuer_name(sast_cert, n);
	X509_set_pubkey(sast_cert, sast_key);
	X509_sign(sast_cert, sast_key, EVP_sha256());
	X509_NAME_free(n);
	return 0;
}

/* Reads a trust list's layout back: 0 when every length adds up. */
static int layout_ok(uint8_t const *p, size_t len)
{
	if (len < 10 || p[0] != 1 || p[5] != 2)
		return -1;
	size_t header = (size_t)p[8] << 8 | p[9];
	if (header > len || header % 4)
		return -1;
	for (size_t i = header; i < len;) {
		if (i + 5 > len || p[i] != 1)
			return -1;
		size_t rec = (size_t)p[i + 3] << 8 | p[i + 4];
		if (rec < 5 || i + rec > len)
			return -1;
		i += rec;
	}
	return 0;
}

static void check_dir(char const *a, size_t al, char const *b, size_t bl)
{
	char err[512], warn[256];
	char *agent = strndup(a, al), *cafile = strndup(b, bl);
	if (agent && cafile &&
	    tls_check_pem(agent, strlen(agent), cafile, strlen(cafile), 1800000000, err,
			  sizeof(err), warn, sizeof(warn)) < 0 &&
	    strncmp(err, TLS_AGENT, strlen(TLS_AGENT)) && strncmp(err, TLS_CAFILE, strlen(TLS_CAFILE)))
		abort(); /* a refusal must name its file */
	free(agent);
	free(cafile);
}

static X509 **certs_of(char const *a, size_t al, size_t *n)
{
	X509 **v = tls_pem_certs(a, al, n);
	if (v && *n)
		return v;
	free(v);
	unsigned char const *p = (unsigned char const *)a;
	X509 *x = d2i_X509(NULL, &p, (long)al);
	if (!x) {
		*n = 0;
		return NULL;
	}
	v = malloc(sizeof(*v));
	if (!v) {
		X509_free(x);
		*n = 0;
		return NULL;
	}
	v[0] = x;
	*n = 1;
	return v;
}

static void build_itl(char const *a, size_t al, char const *name, size_t nl)
{
	size_t n = 0;
	X509 **certs = certs_of(a, al, &n);
	char fname[64];
	snprintf(fname, sizeof(fname), "%.*s", (int)(nl < 63 ? nl : 63), name);
	if (!tls_itl_name_ok(fname))
		snprintf(fname, sizeof(fname), "%s", TLS_ITL);
	enum tls_itl_role roles[16];
	for (size_t i = 0; i < n && i < 16; i++)
		roles[i] = i % 2 ? ITL_ROLE_APP : ITL_ROLE_CCM;
	uint8_t *out = NULL;
	size_t len = 0;
	char err[256];
	if (tls_itl_build(sast_cert, sast_key, certs, roles, n < 16 ? n : 16, nl % 2, fname,
			  1800000000, &out, &len, err, sizeof(err)) == 0 &&
	    layout_ok(out, len) < 0)
		abort();
	free(out);
	tls_certs_free(certs, n);
}

static void show_cert(char const *a, size_t al)
{
	size_t n = 0;
	X509 **certs = certs_of(a, al, &n);
	for (size_t i = 0; i < n; i++) {
		char text[1024];
		tls_name_text(X509_get_subject_name(certs[i]), text, sizeof(text));
		tls_name_text(X509_get_issuer_name(certs[i]), text, sizeof(text));
		tls_san_text(certs[i], text, sizeof(text));
		for (char const *p = text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				abort(); /* names shown are printable */
		tls_fingerprint(certs[i], false, text, sizeof(text));
		(void)tls_days_left(certs[i], 1800000000);
		EVP_PKEY *k = X509_get0_pubkey(certs[i]);
		if (k)
			tls_key_text(k, text, sizeof(text));
	}
	tls_certs_free(certs, n);
}

static void strip_keys(char const *a, size_t al)
{
	char *out = malloc(al + 1);
	long n = out ? srtp_strip(a, al, out, al + 1) : -1;
	if (n >= 0 && (srtp_has_keys(out, (size_t)n) || (size_t)n > al))
		abort();
	(void)srtp_plain_allowed(a, al, false);
	free(out);
	/* Masked, a crypto line keeps no key character after "inline:". */
	char *text = strndup(a, al);
	if (text) {
		srtp_mask(text);
		for (char *p = text; (p = strstr(p, "a=crypto:")); p++) {
			char *eol = p + strcspn(p, "\r\n"), *k = strstr(p, "inline:");
			if (k && k < eol && k[7] != '*' && k[7] != ' ' && k + 7 < eol)
				abort();
		}
	}
	free(text);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	unsigned mode = data[0] % 4;
	char const *a = (char const *)data + 1;
	size_t rest = size - 1;
	char const *nul = memchr(a, '\0', rest);
	size_t al = nul ? (size_t)(nul - a) : rest;
	char const *b = nul ? nul + 1 : a + rest;
	size_t bl = nul ? rest - al - 1 : 0;
	switch (mode) {
	case 0:
		check_dir(a, al, b, bl);
		break;
	case 1:
		build_itl(a, nul ? al : rest, b, bl);
		break;
	case 2:
		show_cert(a, rest);
		break;
	default:
		strip_keys(a, rest);
	}
	return 0;
}
