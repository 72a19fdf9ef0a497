/*
 * SRTP keys in session descriptions (a=crypto, RFC 4568): whether an offer
 * carries them, whether it also allows plain RTP, and the description with
 * them taken out, for a leg that is not TLS (keys sent there would be
 * readable by anyone on the path). Pure text functions.
 *
 * Thread: any (no state).
 */
#ifndef SIPREG_SIP_SRTP_H
#define SIPREG_SIP_SRTP_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the description holds an a=crypto line. */
bool srtp_has_keys(char const *sdp, size_t len);

/*
 * Whether an offer with keys may fall back to plain RTP: every media line
 * that carries keys is RTP/AVP (or AVPF) with a=crypto, or the offerer says
 * so (Cisco's X-cisco-srtp-fallback, in Supported or in the description).
 */
bool srtp_plain_allowed(char const *sdp, size_t len, bool fallback_header);

/*
 * The description without its a=crypto lines, and RTP/SAVP(F) media lines
 * made RTP/AVP(F): written into out (at most outlen bytes, NUL-terminated);
 * the length, or -1 when it does not fit.
 */
long srtp_strip(char const *sdp, size_t len, char *out, size_t outlen);

/* Masks the key material of a=crypto lines in text (in place): "inline:****". */
void srtp_mask(char *text);

#endif
