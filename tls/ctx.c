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

#include <errno.h>
#include <openssl/err.h>
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
