/*
 * What RFC 3261 lets a request say that sofia's parser does not take, and
 * the checks a UAS makes before it looks at a request: the option tags of
 * Require, the Request-URI's scheme and a well-formed Max-Forwards.
 *
 * Thread: sip_grammar_install() before the parser class is used; the checks
 * from any thread.
 */
#ifndef SIPREG_SIP_GRAMMAR_H
#define SIPREG_SIP_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip.h>

#include "sip/reply.h"

/* The option tags sipregd supports (Supported of its answers, checked against Require). */
#define SIP_SUPPORTED_TAGS "replaces, norefersub, 100rel, timer"

/**
 * Makes sofia's parser take every method RFC 3261 allows (a token: sofia
 * refuses '+', '`' and '%') in the request line and in CSeq, and read a
 * request line whose Request-URI has whitespace in it as a request with an
 * invalid URI (answered 400) instead of dropping it unanswered. mc is a
 * parser class of our own (sip_extend_mclass()); -1 when it cannot be changed.
 */
int sip_grammar_install(msg_mclass_t *mc);

/**
 * The first check a request gets. Returns SIP_R_NONE when it may go on,
 * or the answer: SIP_R_UNSUPPORTED_URI (416: a Request-URI that is not sip
 * or sips), SIP_R_BAD_MAX_FORWARDS (400: not a number), SIP_R_BAD_EXTENSION
 * (420: Require names an option we lack; its tags are written to
 * unsupported, size n, for the Unsupported header). ACK and CANCEL are
 * never refused for Require (RFC 3261 8.2.2.3).
 */
enum sip_outcome sip_request_check(sip_t const *sip, char *unsupported, size_t n);

/** The unsupported option tags of a Require header (SIP_R_NONE when none), as sip_request_check().
 */
enum sip_outcome sip_require_check(sip_t const *sip, char *unsupported, size_t n);

#endif
