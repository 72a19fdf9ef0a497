/*
 * One SDP origin per side of a call (RFC 3264 8): the o= line a side sees
 * keeps its username, session id and address for the whole call, and its
 * version goes up by one exactly when the description changes, whoever
 * the B2BUA now relays for (after a transfer, another phone).
 *
 * Thread: SIP (the call's).
 */
#ifndef SIPREG_B2BUA_SDP_ORIGIN_H
#define SIPREG_B2BUA_SDP_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/su_alloc.h>

struct sdp_origin {
	bool set;
	char user[64], nettype[8], addrtype[8], address[80];
	unsigned long long id, version;
	uint64_t hash; /* of the last description sent, without its o= line */
};

/**
 * The description body (len bytes) as it goes to the side whose origin o
 * is: the first passes unchanged and sets the origin; later ones get the
 * origin's o= line with the version raised when the rest changed. Returns
 * body itself when nothing changes (or body is no SDP sofia can read), or a
 * new text in home, its length in *out_len.
 */
char const *sdp_origin_apply(struct sdp_origin *o, su_home_t *home, char const *body, size_t len,
			     size_t *out_len);

#endif
