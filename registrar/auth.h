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

/**
 * Writes a fresh nonce (AUTH_NONCE_LEN characters and a NUL) for the
 * source address it is issued to (an IP address as text, not the port: a
 * phone behind NAT may answer from another port). A response is accepted
 * with it only from that address.
 */
void auth_nonce_make(auth_server_t *a, time_t now, char const *source,
		     char out[AUTH_NONCE_LEN + 1]);

/**
 * Writes 8 hex digits that name this installation (an HMAC with its
 * secret): the mark sipregd puts in the branch of its own requests.
 */
void auth_node_mark(auth_server_t *a, char out[9]);

/** True when nonce was made by this server (for whatever address): one of our own. */
bool auth_nonce_ours(auth_server_t *a, char const *nonce);

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
	char const *source;    /* the address the request came from (IP, as for the nonce) */
};

enum auth_verdict {
	AUTH_OK = 0,
	AUTH_FAILED,	   /* wrong response, or unknown user */
	AUTH_STALE,	   /* right response on an expired (or, without qop, used) nonce */
	AUTH_BAD_NONCE,	   /* not a nonce of ours, or one issued to another address */
	AUTH_REPLAY,	   /* nonce count not increasing */
	AUTH_QOP_REQUIRED, /* the device's policy requires qop=auth */
	AUTH_ALG_REFUSED,  /* an algorithm not offered to this device */
	AUTH_MALFORMED,	   /* a required parameter is missing or bad */
};

char const *auth_verdict_name(enum auth_verdict v);

/**
 * The digest response in an Authorization header's parameters (params may
 * be NULL), its strings in home or params: 0, or -1 when it has none or no
 * username (a malformed header).
 */
int auth_creds_parse(void *home, char const *const *params, struct auth_creds *out);

/** Verifies c; *alg_out gets the algorithm the response used. */
enum auth_verdict auth_verify(auth_server_t *a, struct auth_creds const *c,
			      struct auth_check const *chk, time_t now, enum digest_alg *alg_out);

/** True when the digest uri and the Request-URI name the same SIP URI (RFC 3261 §19.1.4). */
bool auth_uri_matches(char const *digest_uri, char const *request_uri);

/**
 * True when the digest uri is a sip: or sips: URI (with or without a user
 * part) whose host and port are one of names: "HOST:PORT" entries separated
 * by spaces, IPv6 hosts in brackets, "*:PORT" for a listener on every
 * address. A URI without a port names 5060 (sips: 5061). Host names compare
 * without case.
 */
bool auth_uri_names(char const *digest_uri, char const *names);

#endif
