/*
 * Helpers shared by the files of tls/: reading and writing the
 * directory's files, names and fingerprints of certificates, keys in PEM.
 *
 * Thread: any.
 */
#ifndef SIPREG_TLS_INTERNAL_H
#define SIPREG_TLS_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_FILE_MAX (256 * 1024) /* no file of the directory is larger */

/* The file dir/name read whole into *buf (malloc'd, NUL-terminated). 0, or -errno. */
int tls_file_read(char const *dir, char const *name, char **buf, size_t *len);

/* Writes dir/name through a temporary file and a rename, with mode. 0, or -errno. */
int tls_file_write(char const *dir, char const *name, void const *data, size_t len, unsigned mode);

/* The certificates of a PEM text, in order; *n of them. NULL when none. */
X509 **tls_pem_certs(char const *pem, size_t len, size_t *n);
void tls_certs_free(X509 **certs, size_t n);

/* The first private key of a PEM text (an encrypted one is not read), or NULL. */
EVP_PKEY *tls_pem_key(char const *pem, size_t len);

/* A key and a certificate chain as PEM text (malloc'd); key NULL for certificates only. */
char *tls_pem_text(EVP_PKEY *key, X509 *const *certs, size_t n, size_t *len);

/* "CN=x,O=y" in the certificate's own order, RFC 4514 escaping. */
void tls_name_text(X509_NAME const *name, char *out, size_t len);

/* "SHA256:ab:cd:..." (or SHA1) of the certificate's DER. */
void tls_fingerprint(X509 *cert, bool sha1, char *out, size_t len);

/* "RSA 2048", "EC prime256v1", ... */
void tls_key_text(EVP_PKEY *key, char *out, size_t len);

/* Days from now to the certificate's end (negative when expired). */
long tls_days_left(X509 *cert, time_t now);

/* The subjectAltName entries as "DNS:a, IP:b", "" when none. */
void tls_san_text(X509 *cert, char *out, size_t len);

/*
 * A certificate for key named cn (O=sipreg), signed by issuer's key (self-
 * signed when issuer is NULL), valid days; kind "ca", "sast", or a server's
 * key "rsa" or "ec" (serverAuth and clientAuth, san when not empty).
 */
X509 *tls_issue(EVP_PKEY *key, char const *cn, X509 *issuer, EVP_PKEY *issuer_key,
		unsigned days, char const *kind, char const *san);

/* what, and OpenSSL's first queued error, into err; -1. */
int tls_fail(char *err, size_t errlen, char const *what);

/* Adds an X.509v3 extension (OpenSSL's configuration syntax) to cert. */
bool tls_add_ext(X509 *cert, X509 *issuer, int nid, char const *value);

#endif
