/*
 * The method router. Requests that no dialog or transaction of nta took
 * arrive here; modules register a handler for each method they serve and a
 * gate that may drop a request unanswered (a banned source). The SIP layer
 * includes no module's header: the daemon's wiring (daemon/app.c) connects
 * them.
 *
 * Thread: the SIP thread, except sip_dispatch_count(), which any thread
 * may call. Ownership: sip_dispatch_create() makes it, the SIP thread
 * destroys it after the agent.
 */
#ifndef SIPREG_SIP_DISPATCH_H
#define SIPREG_SIP_DISPATCH_H

#include <stdbool.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

typedef struct sip_dispatch sip_dispatch_t;

/* Handles a request; msg is the handler's (answered, kept or destroyed). */
typedef void sip_handler_f(void *ctx, msg_t *msg, sip_t *sip);
/* true: the request is dropped without an answer. */
typedef bool sip_gate_f(void *ctx, msg_t *msg);
/* Sees every request first (the TCP limits note that a message ended). */
typedef void sip_observer_f(void *ctx, msg_t *msg);

/* What sipregd answers; every other method gets 501 with it. */
#define SIP_ALLOW                                                                                  \
	"INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, NOTIFY, REFER, PUBLISH"
#define SIP_ACCEPT "application/sdp, multipart/mixed, application/x-cisco-remotecc-request+xml"

int sip_dispatch_create(sip_dispatch_t **out, nta_agent_t *agent);
void sip_dispatch_destroy(sip_dispatch_t *d);

/* Sends requests of method m to fn (one handler per method: -EEXIST for a second). */
int sip_dispatch_on(sip_dispatch_t *d, sip_method_t m, sip_handler_f *fn, void *ctx);
/* The gate every request passes before anything else looks at it (one). */
void sip_dispatch_gate(sip_dispatch_t *d, sip_gate_f *fn, void *ctx);
void sip_dispatch_observe(sip_dispatch_t *d, sip_observer_f *fn, void *ctx);

/* nta's message callback: routes msg (always consumed). */
int sip_dispatch_message(sip_dispatch_t *d, msg_t *msg, sip_t *sip);

/* Requests seen of a method (sip_method_invalid: all of them; sip_method_unknown: answered 501). */
unsigned long sip_dispatch_count(sip_dispatch_t *d, sip_method_t m);

#endif
