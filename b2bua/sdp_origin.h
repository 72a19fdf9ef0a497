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

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

/* The longest description sipregd reads. */
#define SDP_TEXT_MAX 16384

/**
 * True when body (len bytes) is a description sofia's parser may read
 * safely: lines "x=value" (a lower-case letter), no NUL or control
 * character other than TAB, m= lines as RFC 4566's grammar writes them
 * (media port[/count] proto fmt...), blank lines only at the end, at most
 * SDP_TEXT_MAX bytes.
 */
bool sdp_text_safe(char const *body, size_t len);
/** sdp_parse() of body when sdp_text_safe(), else NULL. */
sdp_parser_t *sdp_parse_checked(su_home_t *home, char const *body, size_t len);

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
