/*
 * The one table of answers (see sip/reply.h). Modules name an outcome;
 * this file decides its status, phrase and Retry-After, which outcomes a
 * Cisco phone gets as 503 instead, and how a call record names a final
 * status.
 */
#include "autoconfig.h"

#include <stddef.h>

#include <sofia-sip/sip_status.h>

#include "sip/reply.h"

/* Seconds a Cisco phone waits before it tries again after a refusal. */
#define CISCO_RETRY_AFTER "30"

static struct reply {
	int status;
	char const *phrase;
	char const *retry_after;
	bool cisco_keeps;   /* a Cisco phone gets it as it is (else 503) */
	char const *result; /* in a call record, for a final answer to the caller */
} const table[SIP_R__COUNT] = {
	[SIP_R_NONE] = { 0, "", NULL, true, NULL },
	[SIP_R_TRYING] = { 100, "Trying", NULL, true, NULL },
	[SIP_R_OK] = { 200, "OK", NULL, true, "answered" },
	[SIP_R_ACCEPTED] = { 202, "Accepted", NULL, true, NULL },
	[SIP_R_BAD_REQUEST] = { 400, "Bad Request", NULL, true, NULL },
	[SIP_R_BAD_CONTACT] = { 400, "Bad Contact", NULL, true, NULL },
	[SIP_R_BAD_MAX_FORWARDS] = { 400, "Bad Max-Forwards Header", NULL, true, NULL },
	[SIP_R_UNAUTHORIZED] = { 401, "Unauthorized", NULL, true, NULL },
	[SIP_R_FORBIDDEN] = { 403, "Forbidden", NULL, false, NULL },
	[SIP_R_TOO_MANY_CONTACTS] = { 403, "Too Many Contacts", NULL, false, NULL },
	[SIP_R_NOT_FOUND] = { 404, "Not Found", NULL, false, "not-found" },
	[SIP_R_PROXY_AUTH] = { 407, "Proxy Authentication Required", NULL, true, NULL },
	[SIP_R_PRECONDITION_FAILED] = { 412, "Precondition Failed", NULL, true, NULL },
	[SIP_R_UNSUPPORTED_URI] = { 416, "Unsupported URI Scheme", NULL, true, NULL },
	[SIP_R_BAD_EXTENSION] = { 420, "Bad Extension", NULL, true, NULL },
	[SIP_R_INTERVAL_TOO_BRIEF] = { 423, "Interval Too Brief", NULL, true, NULL },
	[SIP_R_UNAVAILABLE] = { 480, "Temporarily Unavailable", NULL, true, "unavailable" },
	[SIP_R_NO_TRANSACTION] = { 481, "Call/Transaction Does Not Exist", NULL, true, NULL },
	[SIP_R_LOOP] = { 482, "Loop Detected", NULL, true, "loop" },
	[SIP_R_TOO_MANY_HOPS] = { 483, "Too Many Hops", NULL, true, NULL },
	[SIP_R_BUSY] = { 486, "Busy Here", NULL, true, "busy" },
	[SIP_R_TERMINATED] = { 487, "Request Terminated", NULL, true, "cancelled" },
	[SIP_R_NOT_ACCEPTABLE_HERE] = { 488, "Not Acceptable Here", NULL, true, "not-acceptable" },
	[SIP_R_BAD_EVENT] = { 489, "Bad Event", NULL, true, NULL },
	[SIP_R_PENDING] = { 491, "Request Pending", NULL, true, NULL },
	[SIP_R_SERVER_ERROR] = { 500, "Internal Server Error", NULL, false, NULL },
	[SIP_R_OUT_OF_ORDER] = { 500, "Out of Order CSeq", NULL, false, NULL },
	[SIP_R_NOT_IMPLEMENTED] = { 501, "Not Implemented", NULL, true, NULL },
	[SIP_R_SERVICE_UNAVAILABLE] = { 503, "Service Unavailable", NULL, true, NULL },
	[SIP_R_CISCO_REFUSED] = { 503, "Service Unavailable", CISCO_RETRY_AFTER, true, NULL },
	[SIP_R_BUSY_EVERYWHERE] = { 600, "Busy Everywhere", NULL, true, "busy" },
	[SIP_R_DECLINE] = { 603, "Decline", NULL, true, "declined" },
};

static struct reply const *of(enum sip_outcome o)
{
	return (unsigned)o < SIP_R__COUNT ? &table[o] : &table[SIP_R_SERVER_ERROR];
}

int sip_reply_status(enum sip_outcome o)
{
	return of(o)->status;
}

char const *sip_reply_phrase(enum sip_outcome o)
{
	return of(o)->phrase;
}

char const *sip_reply_retry_after(enum sip_outcome o)
{
	return of(o)->retry_after;
}

enum sip_outcome sip_reply_cisco(enum sip_outcome o)
{
	return of(o)->cisco_keeps ? o : SIP_R_CISCO_REFUSED;
}

char const *sip_reply_result(int status)
{
	for (unsigned i = SIP_R_TRYING; i < SIP_R__COUNT; i++)
		if (table[i].status == status && table[i].result)
			return table[i].result;
	return "failed";
}
