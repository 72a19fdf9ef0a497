/*
 * The method router (see sip/dispatch.h). Before a request reaches its
 * module: the gate (a banned source gets no answer), a Via maddr removed
 * (answers go where the request came from, never where it points), and
 * the checks every request passes (sip_request_check(): 416, 400, 420).
 * OPTIONS is answered here; ACK, CANCEL, BYE, INFO and UPDATE that no
 * dialog or transaction took get 481 (ACK nothing); every method no module
 * serves gets 501.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include "daemon/log.h"
#include "daemon/thread.h"
#include "sip/dispatch.h"
#include "sip/grammar.h"
#include "sip/reply.h"

#define LOG_TAG "sip"

/* sofia's method numbers run from sip_method_unknown (0) to sip_method_publish. */
#define N_METHODS (sip_method_publish + 1)

struct route {
	sip_handler_f *fn;
	void *ctx;
};

struct sip_dispatch {
	nta_agent_t *agent;
	struct route routes[N_METHODS];
	sip_gate_f *gate;
	void *gate_ctx;
	sip_observer_f *observer;
	void *observer_ctx;
	_Atomic unsigned long seen[N_METHODS]; /* [sip_method_unknown]: answered 501 */
	_Atomic unsigned long requests;
};

int sip_dispatch_create(sip_dispatch_t **out, nta_agent_t *agent)
{
	sip_dispatch_t *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->agent = agent;
	*out = d;
	return 0;
}

void sip_dispatch_destroy(sip_dispatch_t *d)
{
	free(d);
}

int sip_dispatch_on(sip_dispatch_t *d, sip_method_t m, sip_handler_f *fn, void *ctx)
{
	ASSERT_THREAD(SIP);
	if (m <= sip_method_unknown || m >= N_METHODS)
		return -EINVAL;
	if (d->routes[m].fn)
		return -EEXIST;
	d->routes[m] = (struct route){ fn, ctx };
	return 0;
}

void sip_dispatch_gate(sip_dispatch_t *d, sip_gate_f *fn, void *ctx)
{
	ASSERT_THREAD(SIP);
	d->gate = fn;
	d->gate_ctx = ctx;
}

void sip_dispatch_observe(sip_dispatch_t *d, sip_observer_f *fn, void *ctx)
{
	ASSERT_THREAD(SIP);
	d->observer = fn;
	d->observer_ctx = ctx;
}

unsigned long sip_dispatch_count(sip_dispatch_t *d, sip_method_t m)
{
	if (m == sip_method_invalid)
		return atomic_load(&d->requests);
	return m >= 0 && m < N_METHODS ? atomic_load(&d->seen[m]) : 0;
}

/* Requests with no handler: what a server answers that took no dialog or transaction. */
static void unrouted(sip_dispatch_t *d, msg_t *msg, sip_t *sip)
{
	sip_method_t m = sip->sip_request->rq_method;
	switch (m) {
	case sip_method_options:
		nta_msg_treply(d->agent, msg, SIP_REPLY(SIP_R_OK), SIPTAG_ALLOW_STR(SIP_ALLOW),
			       SIPTAG_ACCEPT_STR(SIP_ACCEPT),
			       SIPTAG_SUPPORTED_STR(SIP_SUPPORTED_TAGS), TAG_END());
		return;
	case sip_method_ack:
		msg_destroy(msg); /* for no transaction or dialog of ours */
		return;
	case sip_method_cancel:
	case sip_method_bye:
	case sip_method_info:
	case sip_method_update:
		/* Requests that belong in a dialog or transaction nta did not match. */
		nta_msg_treply(d->agent, msg, SIP_REPLY(SIP_R_NO_TRANSACTION), TAG_END());
		return;
	default:
		atomic_fetch_add(&d->seen[sip_method_unknown], 1);
		log_debug("%s answered 501", LOGQ(sip->sip_request->rq_method_name));
		nta_msg_treply(d->agent, msg, SIP_REPLY(SIP_R_NOT_IMPLEMENTED),
			       SIPTAG_ALLOW_STR(SIP_ALLOW), TAG_END());
		return;
	}
}

int sip_dispatch_message(sip_dispatch_t *d, msg_t *msg, sip_t *sip)
{
	ASSERT_THREAD(SIP);
	if (!sip || !sip->sip_request) {
		msg_destroy(msg); /* a stray response */
		return 0;
	}
	atomic_fetch_add(&d->requests, 1);
	/* A banned source gets no answer at all, whatever it sends. */
	if (d->gate && d->gate(d->gate_ctx, msg)) {
		msg_destroy(msg);
		return 0;
	}
	/*
	 * Answers go where the request came from (received, rport), never to a
	 * Via maddr: it would let anyone point our responses at a third party.
	 */
	if (sip->sip_via && sip->sip_via->v_maddr) {
		msg_header_remove_param(sip->sip_via->v_common, "maddr");
		sip->sip_via->v_maddr = NULL;
	}
	if (d->observer)
		d->observer(d->observer_ctx, msg);
	char unsupported[128];
	enum sip_outcome refused = sip_request_check(sip, unsupported, sizeof(unsupported));
	if (refused != SIP_R_NONE) {
		log_debug("%s answered %d %s", LOGQ(sip->sip_request->rq_method_name),
			  sip_reply_status(refused), sip_reply_phrase(refused));
		if (sip->sip_request->rq_method == sip_method_ack)
			msg_destroy(msg);
		else
			nta_msg_treply(d->agent, msg, SIP_REPLY(refused),
				       TAG_IF(refused == SIP_R_BAD_EXTENSION,
					      SIPTAG_UNSUPPORTED_STR(unsupported)),
				       TAG_END());
		return 0;
	}
	sip_method_t m = sip->sip_request->rq_method;
	if (m > sip_method_unknown && m < N_METHODS) {
		atomic_fetch_add(&d->seen[m], 1);
		if (d->routes[m].fn) {
			d->routes[m].fn(d->routes[m].ctx, msg, sip);
			return 0;
		}
	}
	unrouted(d, msg, sip);
	return 0;
}
