/*
 * HTTP digest (RFC 7616, RFC 8760 for SIP) computed with OpenSSL's EVP:
 * HA1, request digests and a constant-time comparison of hex strings.
 *
 * Thread: any (no shared state).
 * Ownership: callers own every buffer; outputs are NUL-terminated lower-case hex.
 */
#ifndef SIPREG_DIGEST_H
#define SIPREG_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

enum digest_alg {
	DIGEST_MD5 = 0,
	DIGEST_SHA256,
};

/* Large enough for SHA-256 in hex plus the NUL. */
#define DIGEST_HEX_SIZE 65

/** "MD5" or "SHA-256" (case-insensitive); 0 or -EINVAL. */
int digest_alg_parse(enum digest_alg *out, char const *name);
/** The algorithm's name as written in the algorithm= parameter. */
char const *digest_alg_name(enum digest_alg alg);

/** H(user:realm:password) in hex. 0 or -EIO. */
int digest_ha1(char out[DIGEST_HEX_SIZE], enum digest_alg alg, char const *user, char const *realm,
	       char const *password);

/**
 * The request digest of RFC 7616 §3.4.1. With qop NULL or empty the RFC 2069
 * form H(HA1:nonce:HA2) is computed and nc/cnonce are ignored. Only qop
 * "auth" is supported (HA2 = H(method:uri)). 0, -EINVAL or -EIO.
 */
int digest_response(char out[DIGEST_HEX_SIZE], enum digest_alg alg, char const *ha1,
		    char const *nonce, char const *nc, char const *cnonce, char const *qop,
		    char const *method, char const *uri);

/** Compares two strings in time that depends only on their lengths. */
bool digest_equal(char const *a, char const *b);

/** The digest implementation for alg, fetched once per process (NULL if OpenSSL lacks it). */
typedef struct evp_md_st EVP_MD;
EVP_MD const *digest_md(enum digest_alg alg);

#endif
