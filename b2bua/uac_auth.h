/*
 * Answering a Digest challenge as a client (a trunk's REGISTER and
 * INVITE, a phone that challenges our INVITE): the strongest challenge
 * offered is taken (SHA-256 before MD5), qop=auth when offered, RFC 2069
 * style otherwise.
 *
 * Thread: SIP. Ownership: results are allocated in the home given.
 */
#ifndef SIPREG_UAC_AUTH_H
#define SIPREG_UAC_AUTH_H

#include <stdbool.h>

#include <sofia-sip/msg_types.h>
#include <sofia-sip/su_alloc.h>

#include "daemon/digest.h"

struct uac_challenge {
	enum digest_alg alg;
	char *realm, *nonce, *opaque;
	bool qop;   /* qop=auth offered */
	bool stale; /* the previous credentials were right, the nonce had expired */
};

/** The strongest usable Digest challenge in the list; -1 when there is none. */
int uac_challenge_pick(su_home_t *home, msg_auth_t const *list, struct uac_challenge *out);

/**
 * The Authorization (or Proxy-Authorization) value for the challenge, with
 * the user's HA1 for its algorithm and realm; NULL when out of memory.
 */
char *uac_authorization(su_home_t *home, struct uac_challenge const *ch, char const *user,
			char const *ha1, char const *method, char const *uri, unsigned nc);

#endif
