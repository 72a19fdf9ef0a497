/*
 * The certificate directory checked before sofia's TLS listener reads it.
 * sofia takes agent.pem and cafile.pem as they are: a key that does not
 * match, an expired certificate or a chain it cannot complete only reach
 * its debug log, and phones then fail their handshakes without a word.
 * Here each of those stops sipregd at start with one sentence naming the
 * file.
 */
#include "autoconfig.h"

#include "tls/tls.h"

#include "tls/internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failf(char *err, size_t errlen, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(char *err, size_t errlen, char const *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* RSA of 2048 bits or more, or EC on P-256 or P-384; the reason otherwise. */
static char const *key_unfit(EVP_PKEY *key)
{
	char text[64];
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return EVP_PKEY_get_bits(key) < 2048 ? "an RSA key shorter than 2048 bits" : NULL;
	case EVP_PKEY_EC:
		tls_key_text(key, text, sizeof(text));
		return strcmp(text, "EC prime256v1") && strcmp(text, "EC secp384r1")
			       ? "an EC key on a curve other than P-256 or P-384"
			       : NULL;
	default:
		return "a key that is neither RSA nor EC";
	}
}

int tls_check_pem(char const *agent, size_t agent_len, char const *cafile, size_t cafile_len,
		  time_t now, char *err, size_t errlen, char *warn, size_t warnlen)
{
	int rc = -1;
	size_t n = 0, nca = 0;
	X509 **certs = NULL, **cas = NULL;
	EVP_PKEY *key = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	char const *why;

	warn[0] = '\0';
	if (!(key = tls_pem_key(agent, agent_len))) {
		if (strstr(agent, "ENCRYPTED"))
			failf(err, errlen,
			      TLS_AGENT " holds an encrypted private key; sipregd needs it "
					"unencrypted (mode 0600 protects it)");
		else
			failf(err, errlen, TLS_AGENT " holds no private key");
		goto out;
	}
	if (!(certs = tls_pem_certs(agent, agent_len, &n)) || !n) {
		failf(err, errlen, TLS_AGENT " holds no certificate");
		goto out;
	}
	if (X509_check_private_key(certs[0], key) != 1) {
		ERR_clear_error();
		failf(err, errlen,
		      TLS_AGENT ": the private key does not match the certificate (the first one "
				"in the file)");
		goto out;
	}
	if ((why = key_unfit(key))) {
		failf(err, errlen, TLS_AGENT " holds %s", why);
		goto out;
	}
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) > 2048)
		snprintf(warn, warnlen,
			 TLS_AGENT " holds an RSA key of %d bits; 79x1/797x phones accept 2048 "
				   "at most",
			 EVP_PKEY_get_bits(key));
	if (X509_cmp_time(X509_get0_notBefore(certs[0]), &now) > 0) {
		failf(err, errlen, TLS_AGENT ": the certificate is not valid yet");
		goto out;
	}
	long days = tls_days_left(certs[0], now);
	if (X509_cmp_time(X509_get0_notAfter(certs[0]), &now) < 0) {
		failf(err, errlen, TLS_AGENT ": the certificate expired %ld days ago",
		      days < 0 ? -days : 0);
		goto out;
	}
	if (days < TLS_WARN_DAYS && !warn[0])
		snprintf(warn, warnlen, TLS_AGENT ": the certificate expires in %ld days", days);

	if (!(cas = tls_pem_certs(cafile, cafile_len, &nca)) || !nca) {
		failf(err, errlen, TLS_CAFILE " holds no certificate");
		goto out;
	}
	/* sofia sends the chain OpenSSL builds from cafile.pem, not agent.pem's others. */
	store = X509_STORE_new();
	vctx = X509_STORE_CTX_new();
	if (!store || !vctx) {
		failf(err, errlen, TLS_AGENT ": out of memory while checking it");
		goto out;
	}
	for (size_t i = 0; i < nca; i++)
		X509_STORE_add_cert(store, cas[i]);
	ERR_clear_error();
	if (!X509_STORE_CTX_init(vctx, store, certs[0], NULL)) {
		failf(err, errlen, TLS_AGENT ": out of memory while checking it");
		goto out;
	}
	X509_STORE_CTX_set_time(vctx, 0, now);
	X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(vctx) != 1) {
		int e = X509_STORE_CTX_get_error(vctx);
		failf(err, errlen,
		      TLS_AGENT ": the certificate's chain does not reach a CA in " TLS_CAFILE
				" (%s); put the issuing CA and any intermediate certificates in "
				"" TLS_CAFILE,
		      X509_verify_cert_error_string(e));
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	EVP_PKEY_free(key);
	tls_certs_free(certs, n);
	tls_certs_free(cas, nca);
	return rc;
}

int tls_check_dir(char const *dir, char *err, size_t errlen, char *warn, size_t warnlen)
{
	char *agent = NULL, *cafile = NULL;
	size_t agent_len = 0, cafile_len = 0;
	char path[4096];
	struct stat st;
	int rc = -1, e;

	warn[0] = '\0';
	if ((e = tls_file_read(dir, TLS_AGENT, &agent, &agent_len)) < 0) {
		failf(err, errlen, "%s/" TLS_AGENT " cannot be read (%s)%s", dir, strerror(-e),
		      e == -ENOENT ? "; `sipregctl tls init` creates a lab CA and certificates"
				   : "");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/" TLS_AGENT, dir);
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		failf(err, errlen,
		      "%s holds a private key and is readable by others (mode %04o); make it "
		      "0600",
		      path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((e = tls_file_read(dir, TLS_CAFILE, &cafile, &cafile_len)) < 0) {
		failf(err, errlen, "%s/" TLS_CAFILE " cannot be read (%s)", dir, strerror(-e));
		goto out;
	}
	char why[400];
	if (tls_check_pem(agent, agent_len, cafile, cafile_len, time(NULL), why, sizeof(why),
			  warn, warnlen) < 0) {
		failf(err, errlen, "%s/%s", dir, why);
		goto out;
	}
	rc = 0;
out:
	free(agent);
	free(cafile);
	return rc;
}
