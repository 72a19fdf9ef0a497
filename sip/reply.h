/*
 * Every answer sipregd gives, by what happened: status, phrase,
 * Retry-After, what a call record says, and the Cisco override (a Cisco
 * phone takes most 4xx to a REGISTER as "rejected" and may reboot, so it
 * gets 503 with Retry-After instead). One table for the whole daemon.
 *
 * Thread: any (the table is constant).
 */
#ifndef SIPREG_SIP_REPLY_H
#define SIPREG_SIP_REPLY_H

#include <stdbool.h>

enum sip_outcome {
	SIP_R_NONE, /* no answer: the request goes on */
	SIP_R_TRYING,
	SIP_R_OK,
	SIP_R_ACCEPTED,
	SIP_R_BAD_REQUEST,
	SIP_R_BAD_CONTACT,	/* not SIP, an address nobody can be reached at, or this server */
	SIP_R_BAD_MAX_FORWARDS, /* not a number */
	SIP_R_UNAUTHORIZED,
	SIP_R_FORBIDDEN, /* another device's line, a device name that does not match */
	SIP_R_TOO_MANY_CONTACTS,
	SIP_R_NOT_FOUND, /* a DN nobody has */
	SIP_R_PROXY_AUTH,
	SIP_R_PRECONDITION_FAILED,
	SIP_R_UNSUPPORTED_URI,
	SIP_R_BAD_EXTENSION,
	SIP_R_INTERVAL_TOO_BRIEF,
	SIP_R_UNAVAILABLE,
	SIP_R_NO_TRANSACTION,
	SIP_R_LOOP,
	SIP_R_TOO_MANY_HOPS,
	SIP_R_BUSY,
	SIP_R_TERMINATED,
	SIP_R_NOT_ACCEPTABLE_HERE, /* SRTP keys only, toward a leg that is not TLS */
	SIP_R_BAD_EVENT,
	SIP_R_PENDING,
	SIP_R_SERVER_ERROR,
	SIP_R_OUT_OF_ORDER, /* a REGISTER's CSeq not above the last one of its Call-ID */
	SIP_R_NOT_IMPLEMENTED,
	SIP_R_SERVICE_UNAVAILABLE,
	SIP_R_CISCO_REFUSED, /* what a Cisco phone gets instead of a refusal it would reboot on */
	SIP_R_BUSY_EVERYWHERE,
	SIP_R_DECLINE,
	SIP_R__COUNT
};

int sip_reply_status(enum sip_outcome o);
char const *sip_reply_phrase(enum sip_outcome o);
/* Retry-After in seconds as text, or NULL. */
char const *sip_reply_retry_after(enum sip_outcome o);
/* The outcome a Cisco phone is answered with instead of o (o itself, or SIP_R_CISCO_REFUSED). */
enum sip_outcome sip_reply_cisco(enum sip_outcome o);
/* The phrase of a status (the table's first entry for it; sofia's otherwise). */
/* What a call record says of a call that ended with a final status to its caller. */
char const *sip_reply_result(int status);

/* Status and phrase, as nta's reply functions take them: SIP_REPLY(SIP_R_BUSY). */
#define SIP_REPLY(o) sip_reply_status(o), sip_reply_phrase(o)

#endif
