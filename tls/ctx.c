/*
 * OpenSSL for the process: the [tls] legacy switch and the contexts
 * sipregd makes for itself.
 *
 * sofia gives its TLS listener no say over protocol versions or security
 * level; the only lever is OpenSSL's configuration, read once when OpenSSL
 * initialises. [tls] legacy = yes loads one that allows TLS 1.0 and
 * security level 0 for every context that does not set its own limits
 * (sofia's listener, and its outgoing connections to TLS trunks). Contexts
 * sipregd makes set TLS 1.2 and security level 2 explicitly, so the switch
 * never weakens them.
 */
#include "autoconfig.h"

#include "tls/tls.h"

#include "tls/internal.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char const legacy_conf[] = "openssl_conf = sipreg_legacy\n"
				  "[sipreg_legacy]\n"
				  "ssl_conf = sipreg_ssl\n"
				  "[sipreg_ssl]\n"
				  "system_default = sipreg_system\n"
				  "[sipreg_system]\n"
				  "MinProtocol = TLSv1\n"
				  "CipherString = DEFAULT:@SECLEVEL=0\n";

int tls_legacy_enable(char *err, size_t errlen)
{
	int fd = memfd_create("sipreg-openssl.cnf", MFD_CLOEXEC);
	if (fd < 0 || write(fd, legacy_conf, sizeof(legacy_conf) - 1) !=
			      (ssize_t)(sizeof(legacy_conf) - 1)) {
		snprintf(err, errlen, "cannot hold the legacy OpenSSL configuration: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	OPENSSL_INIT_SETTINGS *s = OPENSSL_INIT_new();
	if (s)
		OPENSSL_INIT_set_config_file_flags(s, 0); /* a bad file is an error */
	int ok = s && OPENSSL_INIT_set_config_filename(s, path) &&
		 OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS, s);
	OPENSSL_INIT_free(s);
	close(fd);
	if (!ok) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "OpenSSL did not take the legacy configuration: %s",
			 e ? ERR_reason_error_string(e) : "unknown error");
		return -1;
	}
	return 0;
}

SSL_CTX *tls_client_ctx(char const *cafile, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		snprintf(err, errlen, "cannot create a TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cafile ? !SSL_CTX_load_verify_locations(ctx, cafile, NULL)
		   : !SSL_CTX_set_default_verify_paths(ctx)) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "cannot read the CA certificates %s: %s",
			 cafile ? cafile : "of the system", e ? ERR_reason_error_string(e) : "?");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* connect() to addr:port within the time left; the socket, or -1 with the reason. */
static int connect_within(char const *addr, unsigned port, unsigned timeout_ms, char *why,
			  size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(addr, ps, &hints, &ai) != 0) {
		snprintf(why, whylen, "'%s' is not an address", addr);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (fd >= 0 && rc < 0 && errno == EINPROGRESS) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int err = 0;
		socklen_t len = sizeof(err);
		if (poll(&p, 1, (int)timeout_ms) <= 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		rc = err ? -1 : 0;
		errno = err;
	}
	if (rc < 0) {
		snprintf(why, whylen, "cannot connect to %s port %u: %s", addr, port,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The handshake on a non-blocking socket, waiting at most timeout_ms in all. */
static int handshake(SSL *ssl, int fd, unsigned timeout_ms)
{
	for (unsigned waited = 0;;) {
		int r = SSL_connect(ssl);
		if (r == 1)
			return 0;
		int e = SSL_get_error(ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || waited >= timeout_ms)
			return -1;
		struct pollfd p = { fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0 };
		if (poll(&p, 1, 100) < 0)
			return -1;
		waited += 100;
	}
}

/* What a verification error means, in words. */
static void verify_words(long v, char const *host, X509 *cert, char *why, size_t whylen)
{
	char subject[256] = "", san[256] = "", until[64] = "";
	if (cert) {
		tls_name_text(X509_get_subject_name(cert), subject, sizeof(subject));
		tls_san_text(cert, san, sizeof(san));
		BIO *b = BIO_new(BIO_s_mem());
		if (b && ASN1_TIME_print(b, X509_get0_notAfter(cert)) > 0) {
			int n = BIO_read(b, until, sizeof(until) - 1);
			until[n > 0 ? n : 0] = '\0';
		}
		BIO_free(b);
	}
	switch (v) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
		snprintf(why, whylen,
			 "name mismatch: the certificate is for %s%s%s, not %s", subject,
			 san[0] ? ", " : "", san, host);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(why, whylen,
			 "unknown issuer: the certificate (%s) is not signed by a CA in [tls] "
			 "trunk_ca (%s)",
			 subject, X509_verify_cert_error_string(v));
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(why, whylen, "expired: the certificate (%s) ended %s", subject, until);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(why, whylen, "not yet valid: the certificate (%s)", subject);
		break;
	default:
		snprintf(why, whylen, "the certificate (%s) is refused: %s", subject,
			 X509_verify_cert_error_string(v));
	}
}

int tls_probe(char const *host, char const *addr, unsigned port, char const *cafile,
	      unsigned timeout_ms, char *why, size_t whylen)
{
	char err[256];
	SSL_CTX *ctx = tls_client_ctx(cafile, err, sizeof(err));
	if (!ctx) {
		snprintf(why, whylen, "%s", err);
		return -1;
	}
	int rc = -1, fd = connect_within(addr, port, timeout_ms, why, whylen);
	SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
	if (fd >= 0 && !ssl)
		snprintf(why, whylen, "out of memory");
	if (ssl) {
		/*
		 * As sofia does it: no SNI; the name is checked against the
		 * certificate. The handshake is let through whatever the
		 * verification says, so the certificate is there to be described.
		 */
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
		SSL_set_fd(ssl, fd);
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(ssl, host);
		ERR_clear_error();
		long v = X509_V_OK;
		if (handshake(ssl, fd, timeout_ms) < 0) {
			unsigned long e = ERR_get_error();
			snprintf(why, whylen, "the TLS handshake failed: %s",
				 e ? ERR_reason_error_string(e) : "the peer closed");
		} else if ((v = SSL_get_verify_result(ssl)) != X509_V_OK) {
			X509 *cert = SSL_get1_peer_certificate(ssl);
			verify_words(v, host, cert, why, whylen);
			X509_free(cert);
		} else {
			X509 *cert = SSL_get1_peer_certificate(ssl);
			char subject[256] = "";
			if (cert)
				tls_name_text(X509_get_subject_name(cert), subject, sizeof(subject));
			snprintf(why, whylen, "verified: %s, %s, certificate %s", host,
				 SSL_get_version(ssl), subject);
			X509_free(cert);
			rc = 0;
		}
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rc;
}
