/*
 * Certificates of the node link between a primary and a backup: each
 * node's own key and certificate (node.pem) from the lab CA, the requests
 * a joining backup makes and the primary signs, the files a backup
 * installs from what the primary sends, the fingerprints each side pins,
 * and the OpenSSL contexts of the link (TLS 1.2 or newer, security level 2
 * whatever [tls] legacy says; any certificate passes the handshake, the
 * link then compares the peer's with the one it pinned).
 */
#include "autoconfig.h"

#include "tls/tls.h"
#include "tls/internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NODE_DAYS 3650

/* A certificate for pub named cn, signed by the CA; san NULL for none. */
static X509 *sign_for(EVP_PKEY *pub, char const *cn, char const *san, X509 *ca, EVP_PKEY *ca_key)
{
	return tls_issue(pub, cn, ca, ca_key, NODE_DAYS, EVP_PKEY_is_a(pub, "RSA") ? "rsa" : "ec",
			 san);
}

/* The CA's certificate and key from dir; -1 with err when there is none. */
static int load_ca(char const *dir, X509 **ca, EVP_PKEY **key, char *err, size_t errlen)
{
	char *pem = NULL, *kpem = NULL;
	size_t len = 0, klen = 0, n = 0;
	X509 **certs = NULL;
	*ca = NULL;
	*key = NULL;
	if (tls_file_read(dir, TLS_CA, &pem, &len) == 0)
		certs = tls_pem_certs(pem, len, &n);
	if (tls_file_read(dir, TLS_CA_KEY, &kpem, &klen) == 0)
		*key = tls_pem_key(kpem, klen);
	if (certs && n && *key) {
		*ca = certs[0];
		certs[0] = NULL;
	}
	tls_certs_free(certs, n);
	free(pem);
	if (kpem)
		OPENSSL_cleanse(kpem, klen);
	free(kpem);
	if (!*ca) {
		EVP_PKEY_free(*key);
		*key = NULL;
		snprintf(err, errlen,
			 "%s holds no lab CA (ca.pem and ca.key): run sipregctl tls init on this "
			 "node first",
			 dir);
		return -1;
	}
	return 0;
}

int tls_node_ensure(char const *dir, char const *node_id, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/" TLS_NODE, dir);
	if (access(path, F_OK) == 0)
		return 0;
	X509 *ca;
	EVP_PKEY *ca_key;
	if (load_ca(dir, &ca, &ca_key, err, errlen) < 0)
		return -1;
	int rc = -1;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? sign_for(key, node_id, NULL, ca, ca_key) : NULL;
	if (!cert) {
		tls_fail(err, errlen, "cannot issue the node link certificate");
	} else {
		X509 *chain[2] = { cert, ca };
		size_t len = 0;
		char *pem = tls_pem_text(key, chain, 2, &len);
		int e = pem ? tls_file_write(dir, TLS_NODE, pem, len, 0600) : -ENOMEM;
		if (pem)
			OPENSSL_cleanse(pem, len);
		free(pem);
		if (e < 0)
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(-e));
		else
			rc = 0;
	}
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return rc;
}

int tls_node_request(char const *cn, bool rsa, char **key_pem, char **csr_pem, char *err,
		     size_t errlen)
{
	EVP_PKEY *key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	int rc = -1;
	size_t len = 0;
	*key_pem = *csr_pem = NULL;
	if (!key || !req || !name || !b ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (unsigned char const *)cn, -1,
					-1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, key) ||
	    !X509_REQ_sign(req, key, EVP_sha256()) || !PEM_write_bio_X509_REQ(b, req)) {
		tls_fail(err, errlen, "cannot make a certificate request");
		goto out;
	}
	char *data;
	long n = BIO_get_mem_data(b, &data);
	*csr_pem = n > 0 ? strndup(data, (size_t)n) : NULL;
	*key_pem = tls_pem_text(key, NULL, 0, &len);
	if (!*csr_pem || !*key_pem) {
		free(*csr_pem);
		free(*key_pem);
		*key_pem = *csr_pem = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_REQ_free(req);
	X509_NAME_free(name);
	BIO_free(b);
	return rc;
}

int tls_node_sign(char const *dir, char const *csr_pem, char const *cn, char const *san,
		  char **cert_pem, char *err, size_t errlen)
{
	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *ca_key = NULL, *pub = NULL;
	int rc = -1;
	*cert_pem = NULL;
	BIO *b = BIO_new_mem_buf(csr_pem, (int)strnlen(csr_pem, TLS_FILE_MAX));
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!req || !(pub = X509_REQ_get_pubkey(req)) || X509_REQ_verify(req, pub) != 1) {
		tls_fail(err, errlen, "the certificate request is not valid");
		goto out;
	}
	int bits = EVP_PKEY_get_bits(pub);
	if (!(EVP_PKEY_is_a(pub, "RSA") && bits >= 2048 && bits <= 4096) &&
	    !(EVP_PKEY_is_a(pub, "EC") && bits == 256)) {
		snprintf(err, errlen,
			 "the certificate request's key is neither RSA 2048-4096 nor "
			 "EC P-256");
		goto out;
	}
	if (load_ca(dir, &ca, &ca_key, err, errlen) < 0)
		goto out;
	if (!(cert = sign_for(pub, cn, san, ca, ca_key))) {
		tls_fail(err, errlen, "cannot sign the certificate request");
		goto out;
	}
	X509 *chain[2] = { cert, ca };
	size_t len;
	if (!(*cert_pem = tls_pem_text(NULL, chain, 2, &len)))
		snprintf(err, errlen, "out of memory");
	else
		rc = 0;
out:
	X509_REQ_free(req);
	EVP_PKEY_free(pub);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}

int tls_node_write_pair(char const *dir, char const *name, char const *key_pem,
			char const *cert_pem, char *err, size_t errlen)
{
	size_t kl = strlen(key_pem), cl = strlen(cert_pem);
	char *both = malloc(kl + cl + 2);
	if (!both)
		return snprintf(err, errlen, "out of memory"), -1;
	memcpy(both, key_pem, kl);
	both[kl] = '\n';
	memcpy(both + kl + 1, cert_pem, cl + 1);
	int e = tls_file_write(dir, name, both, kl + cl + 1, 0600);
	OPENSSL_cleanse(both, kl + cl + 1);
	free(both);
	if (e < 0)
		return snprintf(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(-e)), -1;
	return 0;
}

int tls_pem_fingerprint(char const *pem, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	X509 **certs = tls_pem_certs(pem, len, &n);
	out[0] = '\0';
	if (certs && n)
		tls_fingerprint(certs[0], false, out, outlen);
	tls_certs_free(certs, n);
	return out[0] ? 0 : -1;
}

int tls_file_fingerprint(char const *dir, char const *name, char *out, size_t outlen)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = -1;
	out[0] = '\0';
	if (tls_file_read(dir, name, &pem, &len) == 0)
		rc = tls_pem_fingerprint(pem, len, out, outlen);
	if (pem)
		OPENSSL_cleanse(pem, len);
	free(pem);
	return rc;
}

int tls_cert_pem(char const *dir, char const *name, char **pem_out, char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len = 0, n = 0;
	X509 **certs = NULL;
	*pem_out = NULL;
	if (tls_file_read(dir, name, &pem, &len) == 0)
		certs = tls_pem_certs(pem, len, &n);
	if (pem)
		OPENSSL_cleanse(pem, len);
	free(pem);
	if (certs && n)
		*pem_out = tls_pem_text(NULL, certs, 1, &len);
	tls_certs_free(certs, n);
	if (!*pem_out)
		return snprintf(err, errlen, "%s/%s holds no certificate", dir, name), -1;
	return 0;
}

int tls_peer_fingerprint(SSL *ssl, char *out, size_t outlen)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	out[0] = '\0';
	if (!peer)
		return -1;
	tls_fingerprint(peer, false, out, outlen);
	X509_free(peer);
	return 0;
}

int tls_peer_issued_by(SSL *ssl, char const *ca_fp)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	char fp[128];
	if (!chain || !leaf)
		return -1;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		tls_fingerprint(c, false, fp, sizeof(fp));
		if (strcmp(fp, ca_fp))
			continue;
		EVP_PKEY *pub = X509_get0_pubkey(c);
		int ok = pub && X509_verify(leaf, pub) == 1 &&
			 X509_cmp_current_time(X509_get0_notAfter(leaf)) > 0;
		ERR_clear_error();
		return ok ? 0 : -1;
	}
	return -1;
}

static int accept_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok, (void)ctx;
	return 1; /* the link pins the peer's certificate once the handshake is done */
}

SSL_CTX *tls_node_ctx(char const *dir, bool server, char *err, size_t errlen)
{
	char path[4096];
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		tls_fail(err, errlen, "cannot create the node link's TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	if (!dir)
		return ctx; /* a joining client shows no certificate */
	snprintf(path, sizeof(path), "%s/" TLS_NODE, dir);
	if (access(path, F_OK) == 0 &&
	    (SSL_CTX_use_certificate_chain_file(ctx, path) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1)) {
		snprintf(err, errlen, "%s cannot be used: ", path);
		size_t n = strlen(err);
		tls_fail(err + n, errlen - n, "key and certificate");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (server && access(path, F_OK) != 0) {
		snprintf(err, errlen, "%s is missing", path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int tls_node_sip_dir(char const *dir, char *err, size_t errlen)
{
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/" TLS_NODE_SIP, dir);
	char *node = NULL, *ca = NULL;
	size_t nlen = 0, clen = 0;
	int rc = -1, e;
	if ((e = tls_file_read(dir, TLS_NODE, &node, &nlen)) < 0)
		snprintf(err, errlen, "cannot read %s/" TLS_NODE ": %s", dir, strerror(-e));
	else if ((e = tls_file_read(dir, TLS_CA, &ca, &clen)) < 0)
		snprintf(err, errlen, "cannot read %s/" TLS_CA ": %s", dir, strerror(-e));
	else if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		snprintf(err, errlen, "cannot make %s: %s", sub, strerror(errno));
	else if ((e = tls_file_write(sub, TLS_AGENT, node, nlen, 0600)) < 0 ||
		 (e = tls_file_write(sub, TLS_CAFILE, ca, clen, 0644)) < 0)
		snprintf(err, errlen, "cannot write into %s: %s", sub, strerror(-e));
	else
		rc = 0;
	if (node)
		OPENSSL_cleanse(node, nlen);
	free(node);
	free(ca);
	return rc;
}
