/*
 * A leak of Debian 12's sofia-sip closed from outside: its tls_free() shuts
 * a TLS connection down (SSL_shutdown) and frees the BIO, but never frees
 * the connection's SSL object (fixed upstream in 2013, "FS-4452", not in
 * the 1.12.11+20110422 that Debian builds). Every TLS connection a phone or
 * a trunk ever made would keep about 40 kB for the life of the process.
 *
 * sipregd defines SSL_shutdown() itself; the dynamic linker binds sofia's
 * calls to it (the executable comes first). Called from sofia, whose only
 * SSL_shutdown() on a TLS transport is the one in tls_free(), it shuts
 * down as OpenSSL would and then frees the SSL object, keeping what
 * tls_free() frees after it valid: the BIO gets a reference for sofia's
 * BIO_free(), the context one for its SSL_CTX_free(). Any other caller
 * (OpenSSL users of sipregd's own) gets OpenSSL's SSL_shutdown() alone.
 *
 * Linked into sipregd only (not a library member: nothing would pull it in).
 */
#define _GNU_SOURCE
#include "autoconfig.h"

#include <dlfcn.h>
#include <openssl/ssl.h>
#include <string.h>

static int from_sofia(void const *caller)
{
	Dl_info info;
	return caller && dladdr(caller, &info) && info.dli_fname &&
	       strstr(info.dli_fname, "libsofia-sip-ua");
}

int SSL_shutdown(SSL *s)
{
	static int (*real)(SSL *);
	if (!real)
		real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_shutdown");
	if (!real)
		return -1;
	int rc = real(s);
	if (s && from_sofia(__builtin_return_address(0))) {
		BIO *b = SSL_get_rbio(s);
		SSL_CTX *ctx = SSL_get_SSL_CTX(s);
		if (b)
			BIO_up_ref(b);
		if (ctx)
			SSL_CTX_up_ref(ctx);
		SSL_free(s);
	}
	return rc;
}
