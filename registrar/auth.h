/*
 * Server-side digest authentication (RFC 7616, RFC 8760 for SIP): nonces
 * that are an HMAC over a timestamp with a per-install secret, nonce-count
 * tracking against replays, and verification of a parsed response.
 * sofia only parses the headers; the arithmetic is daemon/digest.c.
 *
 * Thread: SIP (an auth_server_t is used by one thread).
 * Ownership: auth_server_create()/auth_server_destroy() (NULL-safe).
 */
#ifndef SIPREG_AUTH_H
#define SIPREG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/digest.h"

typedef struct auth_server auth_server_t;

#define AUTH_NONCE_LEN 48

/* Algorithms offered, as a bit set. */
#define AUTH_ALG_MD5	(1u << DIGEST_MD5)
#define AUTH_ALG_SHA256 (1u << DIGEST_SHA256)

/**
 * secret: the per-install key; lifetime: seconds a nonce stays fresh;
 * slots: how many nonces' counts are tracked at once.
 */
int auth_server_create(auth_server_t **out, void const *secret, size_t secret_len,
		       unsigned lifetime, unsigned slots);
void auth_server_destroy(auth_server_t *a);
void auth_server_set_lifetime(auth_server_t *a, unsigned lifetime);

/** Writes a fresh nonce (AUTH_NONCE_LEN characters and a NUL). */
void auth_nonce_make(auth_server_t *a, time_t now, char out[AUTH_NONCE_LEN + 1]);

/**
 * Formats the value of one WWW-Authenticate header:
 * Digest realm="R", nonce="N", algorithm=A, qop="auth"[, stale=true]
 */
int auth_challenge_format(char *buf, size_t len, char const *realm, char const *nonce,
			  enum digest_alg alg, bool stale);

/* The fields of a digest response, as parsed (unquoted) from the header. */
struct auth_creds {
	char const *username;
	char const *realm;
	char const *nonce;
	char const *uri;
	char const *response;
	char const *algorithm; /* NULL: MD5 */
	char const *cnonce;
	char const *qop; /* NULL or "auth" */
	char const *nc;
};

struct auth_check {
	char const *method;
	char const *ha1_md5;	/* NULL: unknown user (always fails, in the same time) */
	char const *ha1_sha256; /* NULL: unknown user */
	bool verify_password;	/* false: identify only */
	bool qop_required;
	unsigned algs_offered; /* AUTH_ALG_* */
	uint64_t request_key;  /* identifies the request (Call-ID, CSeq) for retransmissions */
};

enum auth_verdict {
	AUTH_OK = 0,
	AUTH_FAILED,	   /* wrong response, or unknown user */
	AUTH_STALE,	   /* right response on an expired nonce */
	AUTH_BAD_NONCE,	   /* not a nonce of ours */
	AUTH_REPLAY,	   /* nonce count not increasing */
	AUTH_QOP_REQUIRED, /* the device's policy requires qop=auth */
	AUTH_ALG_REFUSED,  /* an algorithm not offered to this device */
	AUTH_MALFORMED,	   /* a required parameter is missing or bad */
};

char const *auth_verdict_name(enum auth_verdict v);

/** Verifies c; *alg_out gets the algorithm the response used. */
enum auth_verdict auth_verify(auth_server_t *a, struct auth_creds const *c,
			      struct auth_check const *chk, time_t now, enum digest_alg *alg_out);

/** True when the digest uri and the Request-URI name the same SIP URI (RFC 3261 §19.1.4). */
bool auth_uri_matches(char const *digest_uri, char const *request_uri);

#endif
