/*
 * The Cisco trust list (ITLFile.tlv, ITLSEP<MAC>.tlv): how a Cisco phone
 * learns which certificates to trust for SIP over TLS, signed provisioning
 * files and HTTPS. A phone without a trust list trusts the first one it
 * gets; after that only a list signed by a SAST key it already knows.
 *
 * The layout is tag (1 byte), length (2 bytes, big-endian), value:
 *   header: version 1.2, header length, signer version, signer info
 *     (signer name, issuer name, serial), signature info (hash algorithm,
 *     signature algorithm, modulus size), the signature, file name,
 *     timestamp, padding to a multiple of four bytes
 *   records: record length, subject, issuer, serial, role, public key,
 *     certificate signature, certificate (DER)
 * The signature (PKCS#1 v1.5, SHA-1 or SHA-512) covers the whole file
 * without the signature element; the header length counts it.
 */
#include "autoconfig.h"

#include "tls/tls.h"

#include "tls/internal.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	H_VERSION = 1,
	H_LENGTH = 2,
	H_SIGNER_INFO = 3,
	H_SIGNER_NAME = 4,
	H_SERIAL = 5,
	H_ISSUER = 6,
	H_SIGNATURE_INFO = 7,
	H_HASH = 8,
	H_SIGALG_INFO = 9,
	H_SIGALG = 10,
	H_MODULUS = 11,
	H_SIGNATURE = 12,
	H_PADDING = 13,
	H_FILENAME = 14,
	H_TIMESTAMP = 15,
	H_SIGNER_VERSION = 28,
	R_LENGTH = 1,
	R_SUBJECT = 3,
	R_ROLE = 4,
	R_ISSUER = 5,
	R_SERIAL = 6,
	R_PUBKEY = 7,
	R_SIGNATURE = 8,
	R_CERT = 9,
};

#define HASH_SHA1   1
#define HASH_SHA512 3
#define ITL_MAX	    (1024 * 1024)

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool bad;
};

static void put(struct buf *b, void const *data, size_t n)
{
	if (b->bad || b->len + n > ITL_MAX) {
		b->bad = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->bad = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	put(b, &c, 1);
}

static void put16(struct buf *b, size_t v)
{
	if (v > 0xffff)
		b->bad = true;
	uint8_t c[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(b, c, 2);
}

static void tlv(struct buf *b, unsigned tag, void const *data, size_t n)
{
	put8(b, tag);
	put16(b, n);
	put(b, data, n);
}

static void tlv16(struct buf *b, unsigned tag, unsigned v)
{
	put8(b, tag);
	put16(b, 2);
	put16(b, v);
}

/* A NUL-terminated name, as the phones expect. */
static void tlv_name(struct buf *b, unsigned tag, X509_NAME const *name)
{
	char text[1024];
	tls_name_text(name, text, sizeof(text));
	tlv(b, tag, text, strlen(text) + 1);
}

/* The serial number as unsigned big-endian bytes without leading zeros. */
static void tlv_serial(struct buf *b, unsigned tag, X509 *cert)
{
	uint8_t bytes[64];
	int n = 0;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn && BN_num_bytes(bn) <= (int)sizeof(bytes))
		n = BN_bn2bin(bn, bytes);
	else
		b->bad = true;
	BN_free(bn);
	tlv(b, tag, bytes, (size_t)n);
}

static void record(struct buf *b, X509 *cert, enum tls_itl_role role)
{
	size_t start = b->len;
	tlv16(b, R_LENGTH, 0);
	tlv_name(b, R_SUBJECT, X509_get_subject_name(cert));
	tlv_name(b, R_ISSUER, X509_get_issuer_name(cert));
	tlv_serial(b, R_SERIAL, cert);
	tlv16(b, R_ROLE, role);

	EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned char *der = NULL;
	int n = pub ? i2d_PublicKey(pub, &der) : -1;
	if (n <= 0)
		b->bad = true;
	else
		tlv(b, R_PUBKEY, der, (size_t)n);
	OPENSSL_free(der);

	ASN1_BIT_STRING const *sig = NULL;
	X509_get0_signature(&sig, NULL, cert);
	if (sig)
		tlv(b, R_SIGNATURE, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig));
	der = NULL;
	n = i2d_X509(cert, &der);
	if (n <= 0)
		b->bad = true;
	else
		tlv(b, R_CERT, der, (size_t)n);
	OPENSSL_free(der);

	size_t len = b->len - start;
	if (!b->bad && len <= 0xffff) {
		b->p[start + 3] = (uint8_t)(len >> 8);
		b->p[start + 4] = (uint8_t)len;
	} else {
		b->bad = true;
	}
}

bool tls_itl_name_ok(char const *name)
{
	if (!strcmp(name, TLS_ITL))
		return true;
	if (strlen(name) != strlen("ITLSEP") + 12 + strlen(".tlv") || strncmp(name, "ITLSEP", 6) ||
	    strcmp(name + 18, ".tlv"))
		return false;
	return strspn(name + 6, "0123456789ABCDEFabcdef") == 12;
}

int tls_itl_build(X509 *sast_cert, EVP_PKEY *sast_key, X509 *const *certs,
		  enum tls_itl_role const *roles, size_t n, bool sha512, char const *filename,
		  time_t timestamp, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct buf b = { 0 }, info = { 0 };
	uint8_t *sig = NULL;
	size_t sig_at = 0; /* where the signature element goes */
	int rc = -1;

	if (EVP_PKEY_get_base_id(sast_key) != EVP_PKEY_RSA ||
	    X509_check_private_key(sast_cert, sast_key) != 1) {
		snprintf(err, errlen, "the SAST key must be RSA and match its certificate");
		goto out;
	}
	size_t siglen = (size_t)EVP_PKEY_get_size(sast_key);
	unsigned modulus = siglen == 64 ? 0 : siglen == 128 ? 1 : siglen == 256 ? 2 : siglen == 512 ? 3 : 9;
	if (modulus > 3) {
		snprintf(err, errlen, "the SAST key must be RSA of 512 to 4096 bits");
		goto out;
	}
	if (!tls_itl_name_ok(filename)) {
		snprintf(err, errlen, "a trust list is called ITLFile.tlv or ITLSEP<MAC>.tlv");
		goto out;
	}

	put8(&b, H_VERSION);
	put16(&b, 2);
	put8(&b, 1);
	put8(&b, 2);
	tlv16(&b, H_LENGTH, 0); /* filled in below */
	put8(&b, H_SIGNER_VERSION);
	put16(&b, 2);
	put8(&b, 1);
	put8(&b, 0);
	tlv_name(&info, H_SIGNER_NAME, X509_get_subject_name(sast_cert));
	tlv_name(&info, H_ISSUER, X509_get_issuer_name(sast_cert));
	tlv_serial(&info, H_SERIAL, sast_cert);
	if (info.bad) {
		b.bad = true;
		goto built;
	}
	tlv(&b, H_SIGNER_INFO, info.p, info.len);
	put8(&b, H_SIGNATURE_INFO);
	put16(&b, 15); /* the next four elements */
	uint8_t hash = sha512 ? HASH_SHA512 : HASH_SHA1, zero = 0, mod = (uint8_t)modulus;
	tlv(&b, H_HASH, &hash, 1);
	put8(&b, H_SIGALG_INFO);
	put16(&b, 8);
	tlv(&b, H_SIGALG, &zero, 1);
	tlv(&b, H_MODULUS, &mod, 1);
	sig_at = b.len;
	tlv(&b, H_FILENAME, filename, strlen(filename) + 1);
	uint8_t ts[4] = { (uint8_t)((uint32_t)timestamp >> 24), (uint8_t)((uint32_t)timestamp >> 16),
			  (uint8_t)((uint32_t)timestamp >> 8), (uint8_t)timestamp };
	tlv(&b, H_TIMESTAMP, ts, 4);
	while ((b.len + 3 + siglen) % 4)
		put8(&b, H_PADDING);
	size_t header = b.len + 3 + siglen;
	if (!b.bad) {
		b.p[8] = (uint8_t)(header >> 8);
		b.p[9] = (uint8_t)header;
	}
	record(&b, sast_cert, ITL_ROLE_SAST);
	for (size_t i = 0; i < n; i++)
		record(&b, certs[i], roles[i]);
built:
	if (b.bad) {
		snprintf(err, errlen, "a certificate does not fit a trust list");
		goto out;
	}

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t got = siglen;
	sig = malloc(siglen);
	bool ok = md && sig &&
		  EVP_DigestSignInit(md, NULL, sha512 ? EVP_sha512() : EVP_sha1(), NULL, sast_key) ==
			  1 &&
		  EVP_DigestSign(md, sig, &got, b.p, b.len) == 1 && got == siglen;
	EVP_MD_CTX_free(md);
	if (!ok) {
		ERR_clear_error();
		snprintf(err, errlen, "cannot sign the trust list");
		goto out;
	}
	uint8_t *file = malloc(b.len + 3 + siglen);
	if (!file) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(file, b.p, sig_at);
	file[sig_at] = H_SIGNATURE;
	file[sig_at + 1] = (uint8_t)(siglen >> 8);
	file[sig_at + 2] = (uint8_t)siglen;
	memcpy(file + sig_at + 3, sig, siglen);
	memcpy(file + sig_at + 3 + siglen, b.p + sig_at, b.len - sig_at);
	*out = file;
	*outlen = b.len + 3 + siglen;
	rc = 0;
out:
	free(sig);
	free(b.p);
	free(info.p);
	return rc;
}

int tls_itl_for_dir(char const *dir, bool sha512, char const *filename, uint8_t **out,
		    size_t *outlen, char *err, size_t errlen)
{
	char *sast_pem = NULL, *agent = NULL;
	size_t sast_len = 0, agent_len = 0, ns = 0, na = 0;
	X509 **sast = NULL, **ccm = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (tls_file_read(dir, TLS_SAST, &sast_pem, &sast_len) < 0 ||
	    !(sast = tls_pem_certs(sast_pem, sast_len, &ns)) || !ns ||
	    !(key = tls_pem_key(sast_pem, sast_len))) {
		snprintf(err, errlen, "%s/" TLS_SAST " holds no SAST key and certificate", dir);
		goto out;
	}
	if (tls_file_read(dir, TLS_AGENT, &agent, &agent_len) < 0 ||
	    !(ccm = tls_pem_certs(agent, agent_len, &na)) || !na) {
		snprintf(err, errlen, "%s/" TLS_AGENT " holds no certificate", dir);
		goto out;
	}
	/* With two nodes, the other's SIP certificate too: phones trust either. */
	char *peer_pem = NULL;
	size_t peer_len = 0, np = 0;
	X509 **peer = NULL;
	if (tls_file_read(dir, TLS_PEER_AGENT, &peer_pem, &peer_len) == 0)
		peer = tls_pem_certs(peer_pem, peer_len, &np);
	free(peer_pem);
	X509 *list[2] = { ccm[0], peer && np ? peer[0] : NULL };
	enum tls_itl_role roles[2] = { ITL_ROLE_CCM, ITL_ROLE_CCM };
	rc = tls_itl_build(sast[0], key, list, roles, list[1] ? 2 : 1, sha512, filename, time(NULL),
			   out, outlen, err, errlen);
	tls_certs_free(peer, np);
out:
	if (sast_pem)
		OPENSSL_cleanse(sast_pem, sast_len);
	if (agent)
		OPENSSL_cleanse(agent, agent_len);
	free(sast_pem);
	free(agent);
	tls_certs_free(sast, ns);
	tls_certs_free(ccm, na);
	EVP_PKEY_free(key);
	return rc;
}
