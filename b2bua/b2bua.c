#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct call;
struct fork;
struct relay;
#define NTA_LEG_MAGIC_T	     void
#define NTA_OUTGOING_MAGIC_T void
#define NTA_INCOMING_MAGIC_T struct call
#define SU_TIMER_ARG_T	     void

#include <sofia-sip/nta.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>

#include "b2bua/b2bua.h"
#include "b2bua/sdp_origin.h"
#include "b2bua/uac_auth.h"
#include "daemon/config.h"
#include "daemon/digest.h"
#include "daemon/log.h"
#include "daemon/text.h"
#include "registrar/bindings.h"
#include "sip/grammar.h"
#include "store/secret.h"

#define LOG_TAG "b2bua"

/* Forwards one call may follow before it is refused as a loop (482). */
#define MAX_HOPS 5

enum call_state {
	CALL_RINGING,  /* B legs tried, no final answer yet */
	CALL_ANSWERED, /* a 2xx crossed; waiting for or past the caller's ACK */
	CALL_ENDED,
};

static char const *const state_names[] = {
	[CALL_RINGING] = "ringing",
	[CALL_ANSWERED] = "answered",
	[CALL_ENDED] = "ended",
};

/* One B leg: the INVITE to one binding of the called line. */
struct fork {
	struct fork *next;
	struct call *call;
	nta_leg_t *leg;
	nta_outgoing_t *orq;
	int status;   /* final status, 0 while pending */
	unsigned gen; /* the routing round it belongs to (see call.gen) */
	bool authed;  /* its INVITE was sent again with the callee's credentials */
	char *ident;  /* the caller as Remote-Party-ID and P-Asserted-Identity show it */
	char *route;  /* the trunk's outbound proxy, or NULL */
	bool trunk;   /* toward the call's trunk (c->trunk) */
	char target[256];
};

/* An in-dialog request crossing to the other dialog, until its final response. */
struct relay {
	struct relay *next;
	struct call *call;
	nta_incoming_t *irq;
	nta_outgoing_t *orq;
	bool invite;
	bool from_a;
	/* An INVITE with Replaces: the phone's new dialog took this one's place. */
	nta_leg_t *replaced;
	sip_contact_t *contact; /* our Contact toward the other side, naming the new phone */
	char *by_display;	/* the new phone's line: display name (in the call's home), */
	char by_dn[33], by_device[80], by_contact[256]; /* DN, device and Contact */
};

struct call {
	struct call *next;
	b2bua_t *b;
	char id[64];  /* NODE-RUN-N: in the log, the call list and its records */
	unsigned seq; /* N */
	enum call_state state;
	su_home_t *home;
	nta_incoming_t *irq; /* the caller's INVITE, until its final response */
	nta_leg_t *a;	     /* the dialog with the caller */
	struct fork *forks;
	struct fork *winner; /* the B leg that answered */
	struct relay *relays;
	uint32_t b_invite_cseq; /* CSeq of the answered INVITE on the B side (for its ACK) */
	bool b_ack_pending;	/* the B side's 2xx awaits the caller's ACK */
	/* A re-INVITE answered 2xx: the ACK from the side that sent it crosses over. */
	bool reinvite_from_a;
	uint32_t reinvite_cseq;
	nta_incoming_t *reinvite_irq; /* kept until its ACK arrives (nta hands it there) */
	/* Our Contact toward the caller (as the callee's line) and toward the callees. */
	sip_contact_t *to_caller, *to_callee;
	su_timer_t *ring_timer;
	char caller[33], callee[33], device[80];
	char trunk[65];	      /* the trunk of an outbound or inbound call, "" none */
	char *caller_display; /* the calling line's display name, or NULL */
	/* Where the call rings now: callee, or the line a forward led to. */
	char target[33];
	char path[MAX_HOPS + 1][33]; /* lines visited, for loop detection */
	unsigned hops;
	unsigned gen;	       /* incremented when a forward replaces the B legs */
	unsigned legs;	       /* B legs opened so far (at most cfg.max_forks) */
	unsigned max_forwards; /* Max-Forwards of the B legs: the caller's less one */
	char forwarded[16];    /* reason of the last forward */
	char *diversion;       /* Diversion header value, newest first */
	bool feature;	       /* a Cisco feature request answered by us, not a call */
	/* Dialogs taken out of the call (replaced, or a failed replacement), freed with it. */
	nta_leg_t *retired[4];
	unsigned n_retired;
	char result[24]; /* for the call record */
	time_t started, answered;
	/* The SDP origin each side sees, whoever the description comes from. */
	struct sdp_origin sdp_to_a, sdp_to_b;
	bool rel100; /* the caller requires reliable provisional answers (RFC 3262) */
};

struct b2bua {
	su_root_t *root;
	nta_agent_t *agent;
	registrar_t *reg;
	struct b2bua_config cfg;
	struct call *calls;
	size_t n_calls;
	unsigned next_id;
	char id_prefix[48]; /* NODE-RUN of this node's calls */
	su_timer_t *reaper; /* frees ended calls outside the callbacks that ended them */
	b2bua_cdr_f cdr_sink;
	b2bua_feature_f feature_fn;
	void *sink_arg;
	trunks_t *trunks;
	char mark[16];		/* this node's mark in the branch of its requests */
	struct store_cdr *cdrs; /* records not yet handed over */
	size_t n_cdrs, cap_cdrs;
};

static int on_a_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip);
static int in_dialog(struct call *c, bool from_a, nta_incoming_t *irq, sip_t const *sip);
static int on_b_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip);
static bool redirect(struct call *c, char const *reason);
static bool answer_challenge(struct fork *f, nta_outgoing_t *orq, sip_t const *sip, int status);

/* ---- lifetime ---- */

int b2bua_create(b2bua_t **out, su_root_t *root, nta_agent_t *agent, registrar_t *reg,
		 struct b2bua_config const *cfg, b2bua_cdr_f cdr, b2bua_feature_f feature,
		 void *arg)
{
	b2bua_t *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->root = root;
	b->agent = agent;
	b->reg = reg;
	b->cfg = *cfg;
	b->next_id = 1;
	b->cdr_sink = cdr;
	b->feature_fn = feature;
	b->sink_arg = arg;
	snprintf(b->mark, sizeof(b->mark), "-sr%s-", registrar_node_mark(reg));
	if (!(b->reaper = su_timer_create(su_root_task(root), 1))) {
		free(b);
		return -1;
	}
	if (trunks_create(&b->trunks, root, agent, &cfg->trunks) < 0) {
		su_timer_destroy(b->reaper);
		free(b);
		return -1;
	}
	*out = b;
	return 0;
}

void b2bua_set_config(b2bua_t *b, struct b2bua_config const *cfg)
{
	b->cfg = *cfg;
	trunks_set_config(b->trunks, &cfg->trunks);
}

void b2bua_directory_changed(b2bua_t *b, directory_t const *dir)
{
	trunks_sync(b->trunks, dir);
}

json_t *b2bua_trunks(b2bua_t *b, char const *name)
{
	return trunks_json(b->trunks, registrar_directory(b->reg), name);
}

json_t *b2bua_routes(b2bua_t *b)
{
	directory_t const *dir = registrar_directory(b->reg);
	json_t *arr = json_array();
	for (size_t i = 0; i < directory_count_routes(dir); i++) {
		struct dir_route const *r = directory_route_at(dir, i);
		json_array_append_new(
			arr, json_pack("{s:I, s:s, s:s, s:i, s:s, s:i, s:b}", "id",
				       (json_int_t)r->id, "pattern", r->pattern, "trunk",
				       r->trunk ? r->trunk->name : "(blocked)", "strip",
				       (int)r->strip, "prepend", r->prepend, "priority",
				       r->priority, "allow_restricted", r->allow_restricted));
	}
	return arr;
}

static void relay_free(struct relay *r)
{
	if (r->irq) {
		if (nta_incoming_status(r->irq) < 200)
			nta_incoming_treply(r->irq, SIP_481_NO_TRANSACTION, TAG_END());
		nta_incoming_destroy(r->irq);
	}
	if (r->orq)
		nta_outgoing_destroy(r->orq);
	free(r);
}

static void call_free(struct call *c)
{
	b2bua_t *b = c->b;
	for (struct call **pp = &b->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			b->n_calls--;
			break;
		}
	}
	if (c->ring_timer)
		su_timer_destroy(c->ring_timer);
	while (c->relays) {
		struct relay *r = c->relays;
		c->relays = r->next;
		if (r->replaced)
			nta_leg_destroy(r->replaced);
		relay_free(r);
	}
	for (unsigned i = 0; i < c->n_retired; i++)
		nta_leg_destroy(c->retired[i]);
	if (c->reinvite_irq)
		nta_incoming_destroy(c->reinvite_irq);
	while (c->forks) {
		struct fork *f = c->forks;
		c->forks = f->next;
		if (f->orq)
			nta_outgoing_destroy(f->orq);
		if (f->leg)
			nta_leg_destroy(f->leg);
		free(f);
	}
	if (c->irq) {
		if (nta_incoming_status(c->irq) < 200)
			nta_incoming_treply(c->irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		nta_incoming_destroy(c->irq);
	}
	if (c->a)
		nta_leg_destroy(c->a);
	su_home_unref(c->home);
	free(c);
}

void b2bua_destroy(b2bua_t *b)
{
	if (!b)
		return;
	while (b->calls)
		call_free(b->calls);
	b2bua_tick(b);
	trunks_destroy(b->trunks);
	free(b->cdrs);
	su_timer_destroy(b->reaper);
	free(b);
}

void b2bua_tick(b2bua_t *b)
{
	if (!b->n_cdrs)
		return;
	if (b->cdr_sink) {
		b->cdr_sink(b->cdrs, b->n_cdrs, b->sink_arg);
		b->cdrs = NULL;
		b->cap_cdrs = 0;
	}
	b->n_cdrs = 0;
}

/* Queues a call record for the next tick. */
static void cdr_add(b2bua_t *b, char const *id, char const *caller, char const *device,
		    char const *callee, char const *target, char const *forwarded, time_t started,
		    time_t answered, char const *result)
{
	if (b->n_cdrs == b->cap_cdrs) {
		size_t nc = b->cap_cdrs ? b->cap_cdrs * 2 : 16;
		struct store_cdr *na = realloc(b->cdrs, nc * sizeof(*na));
		if (!na) {
			log_error("out of memory: the record of a call %s -> %s is lost", caller,
				  callee);
			return;
		}
		b->cdrs = na;
		b->cap_cdrs = nc;
	}
	struct store_cdr *r = &b->cdrs[b->n_cdrs++];
	memset(r, 0, sizeof(*r));
	text_copy(r->call_id, sizeof(r->call_id), id);
	r->started_at = started;
	r->answered_at = answered;
	r->ended_at = time(NULL);
	text_copy(r->caller, sizeof(r->caller), caller);
	text_copy(r->caller_device, sizeof(r->caller_device), device ? device : "");
	text_copy(r->callee, sizeof(r->callee), callee);
	text_copy(r->target, sizeof(r->target), target && strcmp(target, callee) ? target : "");
	text_copy(r->forwarded, sizeof(r->forwarded), forwarded ? forwarded : "");
	text_copy(r->result, sizeof(r->result), result);
}

/* What a call record says for a final status to the caller. */
static char const *result_of(int status)
{
	switch (status) {
	case 200:
		return "answered";
	case 404:
		return "not-found";
	case 480:
		return "unavailable";
	case 482:
		return "loop";
	case 486:
	case 600:
		return "busy";
	case 487:
		return "cancelled";
	case 603:
		return "declined";
	default:
		return "failed";
	}
}

size_t b2bua_count(b2bua_t const *b)
{
	return b->n_calls;
}

/* ---- helpers ---- */

/* Our own address for Contact and From: sip:USER@host:port of the first listener. */
static url_t *our_url(b2bua_t *b, su_home_t *home, char const *user)
{
	sip_contact_t const *m = nta_agent_contact(b->agent);
	url_t *u = url_hdup(home, m->m_url);
	if (u) {
		u->url_user = user ? su_strdup(home, user) : NULL;
		u->url_params = NULL;
	}
	return u;
}

static sip_contact_t *our_contact(b2bua_t *b, su_home_t *home, char const *user)
{
	url_t *u = our_url(b, home, user);
	return u ? sip_contact_create(home, (url_string_t *)u, NULL) : NULL;
}

/* Calls a line is in, either side, other than self. */
static unsigned line_calls(b2bua_t *b, char const *dn, struct call const *self)
{
	unsigned n = 0;
	for (struct call const *c = b->calls; c; c = c->next)
		if (c != self && c->state != CALL_ENDED && !c->feature &&
		    (!strcmp(c->caller, dn) || !strcmp(c->target, dn)))
			n++;
	return n;
}

static void reap(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	b2bua_t *b = arg;
	(void)magic, (void)t;
	for (struct call *c = b->calls, *next; c; c = next) {
		next = c->next;
		if (c->state == CALL_ENDED)
			call_free(c);
	}
}

static void end_call(struct call *c, char const *why)
{
	if (c->state == CALL_ENDED)
		return;
	log_info("call %s %s -> %s ended: %s", c->id, LOGQ(c->caller), LOGQ(c->callee), why);
	if (!c->feature)
		cdr_add(c->b, c->id, c->caller, c->device, c->callee, c->target, c->forwarded,
			c->started, c->answered, c->result[0] ? c->result : "failed");
	c->state = CALL_ENDED;
	if (c->ring_timer) {
		su_timer_destroy(c->ring_timer);
		c->ring_timer = NULL;
	}
	/* Freed from the event loop, never under one of its own callbacks. */
	su_timer_set(c->b->reaper, reap, c->b);
}

/*
 * The body of a message as it goes to one side of the call: an SDP gets that
 * side's origin (sdp_origin.h); anything else goes as it is. NULL for none.
 */
static sip_payload_t const *body_toward(struct call *c, bool to_a, sip_t const *sip)
{
	if (!sip || !sip->sip_payload)
		return NULL;
	sip_payload_t const *pl = sip->sip_payload;
	if (!sip->sip_content_type || !sip->sip_content_type->c_type ||
	    strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0 || !pl->pl_data)
		return pl;
	size_t n;
	char const *body = sdp_origin_apply(to_a ? &c->sdp_to_a : &c->sdp_to_b, c->home,
					    pl->pl_data, pl->pl_len, &n);
	if (body == pl->pl_data)
		return pl;
	sip_payload_t *mine = sip_payload_create(c->home, body, (isize_t)n);
	return mine ? mine : pl;
}

/*
 * Session timers (RFC 4028) pass end to end: the phones refresh with
 * re-INVITE or UPDATE, which cross like any request in a dialog. What
 * crosses: Session-Expires, Min-SE, and "timer" of Supported and Require
 * (the other tags are this hop's own, 100rel above all).
 */

/* Sends the ACK for a 2xx to INVITE on a dialog, with the body given (or none). */
static void send_ack(b2bua_t *b, nta_leg_t *leg, uint32_t cseq, sip_t const *body_of,
		     sip_payload_t const *body)
{
	msg_t *msg = nta_msg_create(b->agent, 0);
	sip_t *sip = sip_object(msg);
	if (!msg)
		return;
	sip_cseq_t *cs = sip_cseq_create(msg_home(msg), cseq, SIP_METHOD_ACK);
	if (!cs || sip_header_insert(msg, sip, (sip_header_t *)cs) < 0 ||
	    (body_of && body &&
	     (sip_add_dup(msg, sip, (sip_header_t const *)body_of->sip_content_type) < 0 ||
	      sip_add_dup(msg, sip, (sip_header_t const *)body) < 0)) ||
	    nta_msg_request_complete(msg, leg, SIP_METHOD_ACK, NULL) < 0) {
		msg_destroy(msg);
		return;
	}
	nta_outgoing_t *ack = nta_outgoing_mcreate(b->agent, NULL, NULL, NULL, msg, TAG_END());
	if (ack)
		nta_outgoing_destroy(ack);
	else
		msg_destroy(msg);
}

/* Sends BYE on a dialog, with our Contact on that side, and forgets it. */
static void send_bye(nta_leg_t *leg, sip_contact_t const *contact)
{
	nta_outgoing_t *orq =
		nta_outgoing_tcreate(leg, NULL, NULL, NULL, SIP_METHOD_BYE, NULL,
				     TAG_IF(contact, SIPTAG_CONTACT(contact)), TAG_END());
	if (orq)
		nta_outgoing_destroy(orq);
}

/* ---- the caller's INVITE, answered ---- */

/* The final answer to the caller when no B leg answered. */
static void fail_call(struct call *c, int status, char const *phrase)
{
	if (!c->result[0])
		snprintf(c->result, sizeof(c->result), "%s", result_of(status));
	if (c->irq && nta_incoming_status(c->irq) < 200)
		nta_incoming_treply(c->irq, status, phrase, TAG_END());
	end_call(c, phrase);
}

static void cancel_forks(struct call *c, struct fork const *except)
{
	for (struct fork *f = c->forks; f; f = f->next) {
		if (f == except || !f->orq || f->status)
			continue;
		nta_outgoing_t *cancel = nta_outgoing_tcancel(f->orq, NULL, NULL, TAG_END());
		(void)cancel;
	}
}

/* Every B leg has a final status and none answered: tell the caller. */
static void all_forks_failed(struct call *c)
{
	bool busy = false, declined = false;
	int trunk_status = 0, loop = 0;
	for (struct fork const *f = c->forks; f; f = f->next) {
		if (f->gen != c->gen)
			continue;
		if (!f->status)
			return;
		busy |= f->status == 486 || f->status == 600;
		declined |= f->status == 603;
		if (f->status == 482 || f->status == 483)
			loop = f->status; /* the caller learns the call looped */
		if (f->trunk)
			trunk_status = f->status;
	}
	/* The provider's answer says more than ours would (404, 484, 503, ...). */
	if (trunk_status >= 400 && trunk_status != 401 && trunk_status != 407 && !busy &&
	    !declined) {
		char const *phrase = sip_status_phrase(trunk_status);
		fail_call(c, trunk_status, phrase ? phrase : "Call Failed");
		return;
	}
	if (busy && redirect(c, "user-busy"))
		return;
	if (busy)
		fail_call(c, SIP_486_BUSY_HERE);
	else if (declined)
		fail_call(c, SIP_603_DECLINE);
	else if (loop)
		fail_call(c, loop, sip_status_phrase(loop));
	else
		fail_call(c, SIP_480_TEMPORARILY_UNAVAILABLE);
}

static int on_b_invite_response(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct fork *f = magic;
	struct call *c = f->call;
	b2bua_t *b = c->b;
	int status = sip ? sip->sip_status->st_status : 408;

	if (status < 200) {
		if (status > 100 && c->state == CALL_RINGING && c->irq && f->gen == c->gen &&
		    c->rel100)
			nta_reliable_treply(
				c->irq, NULL, NULL, status, sip->sip_status->st_phrase,
				SIPTAG_CONTACT(c->to_caller), SIPTAG_REQUIRE_STR("100rel"),
				TAG_IF(sip->sip_payload,
				       SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
				TAG_IF(sip->sip_payload, SIPTAG_PAYLOAD(body_toward(c, true, sip))),
				TAG_END());
		else if (status > 100 && c->state == CALL_RINGING && c->irq && f->gen == c->gen)
			nta_incoming_treply(
				c->irq, status, sip->sip_status->st_phrase,
				SIPTAG_CONTACT(c->to_caller),
				TAG_IF(sip->sip_payload,
				       SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
				TAG_IF(sip->sip_payload, SIPTAG_PAYLOAD(body_toward(c, true, sip))),
				TAG_END());
		return 0;
	}
	if (status < 300) {
		if (c->winner ? c->winner != f : (f->gen != c->gen || c->state == CALL_ENDED)) {
			/* Another fork answered too, or one replaced by a forward: take it down. */
			nta_leg_rtag(f->leg, sip->sip_to->a_tag);
			nta_leg_client_reroute(f->leg, sip->sip_record_route, sip->sip_contact, 1);
			send_ack(b, f->leg, sip->sip_cseq->cs_seq, NULL, NULL);
			send_bye(f->leg, c->to_callee);
			f->status = status;
			return 0;
		}
		if (c->winner) { /* a retransmitted 2xx: ACK it again if the caller has */
			if (!c->b_ack_pending)
				send_ack(b, f->leg, sip->sip_cseq->cs_seq, NULL, NULL);
			return 0;
		}
		c->winner = f;
		f->status = status;
		snprintf(c->result, sizeof(c->result), "%s", "answered");
		nta_leg_rtag(f->leg, sip->sip_to->a_tag);
		nta_leg_client_reroute(f->leg, sip->sip_record_route, sip->sip_contact, 1);
		c->b_invite_cseq = sip->sip_cseq->cs_seq;
		c->b_ack_pending = true;
		c->state = CALL_ANSWERED;
		c->answered = time(NULL);
		if (c->ring_timer) {
			su_timer_destroy(c->ring_timer);
			c->ring_timer = NULL;
		}
		cancel_forks(c, f);
		nta_incoming_treply(
			c->irq, status, sip->sip_status->st_phrase, SIPTAG_CONTACT(c->to_caller),
			TAG_IF(sip->sip_session_expires,
			       SIPTAG_SESSION_EXPIRES(sip->sip_session_expires)),
			TAG_IF(sip_has_feature(sip->sip_require, "timer"),
			       SIPTAG_REQUIRE_STR("timer")),
			TAG_IF(sip->sip_payload, SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
			TAG_IF(sip->sip_payload, SIPTAG_PAYLOAD(body_toward(c, true, sip))),
			TAG_END());
		log_info("call %s %s -> %s answered by %s", c->id, LOGQ(c->caller), LOGQ(c->callee),
			 LOGQ(f->target));
		return 0;
	}
	if ((status == 401 || status == 407) && !f->authed && f->gen == c->gen &&
	    c->state == CALL_RINGING && answer_challenge(f, orq, sip, status)) {
		nta_outgoing_destroy(orq);
		return 0;
	}
	f->status = status;
	nta_outgoing_destroy(orq);
	if (f->orq == orq)
		f->orq = NULL;
	if (c->state == CALL_RINGING && f->gen == c->gen)
		all_forks_failed(c);
	return 0;
}

/* CANCEL (or the end of the transaction) from the caller. */
static int on_a_cancel(struct call *c, nta_incoming_t *irq, sip_t const *sip)
{
	(void)irq;
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_ack) {
		in_dialog(c, true, NULL, sip);
		return 0;
	}
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel &&
	    c->state == CALL_RINGING) {
		cancel_forks(c, NULL);
		fail_call(c, SIP_487_REQUEST_TERMINATED);
	}
	return 0;
}

static void on_ring_timeout(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct call *c = arg;
	(void)magic, (void)t;
	if (c->feature && c->state != CALL_ENDED) { /* its ACK never came */
		send_bye(c->a, c->to_caller);
		end_call(c, "feature request done (no ACK)");
		return;
	}
	if (c->state != CALL_RINGING || redirect(c, "no-answer"))
		return;
	snprintf(c->result, sizeof(c->result), "%s", "no-answer");
	cancel_forks(c, NULL);
	fail_call(c, SIP_480_TEMPORARILY_UNAVAILABLE);
}

/* ---- in-dialog requests ---- */

/* Requests on a dialog taken out of its call: a BYE is fine, anything else is too late. */
static int on_retired(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	(void)magic, (void)leg, (void)irq;
	return sip->sip_request->rq_method == sip_method_bye ? 200 : 481;
}

/* Takes a dialog out of its call; it is freed with the call. */
static void retire(struct call *c, nta_leg_t *leg)
{
	nta_leg_bind(leg, on_retired, NULL);
	if (c->n_retired < sizeof(c->retired) / sizeof(c->retired[0]))
		c->retired[c->n_retired++] = leg;
	else
		nta_leg_destroy(leg);
}

/* The leg of a side of an answered call (the caller's, or the one that answered). */
static nta_leg_t **side_leg(struct call *c, bool a_side)
{
	return a_side ? &c->a : &c->winner->leg;
}

/*
 * The final answer to an INVITE with Replaces: on success the replaced
 * phone is hung up and the new one stays in the call; otherwise the
 * replaced dialog is put back.
 */
static void replacement_done(struct relay *r, int status)
{
	struct call *c = r->call;
	nta_leg_t **side = side_leg(c, r->from_a);
	nta_leg_t *fresh = *side;
	char const *old_dn = r->from_a ? c->caller : c->target;

	if (status >= 300) {
		*side = r->replaced;
		r->replaced = NULL;
		retire(c, fresh);
		log_notice("call %s: %s could not take the place of %s (%d)", c->id, LOGQ(r->by_dn),
			   LOGQ(old_dn), status);
		return;
	}
	send_bye(r->replaced, r->from_a ? c->to_caller : c->to_callee);
	retire(c, r->replaced);
	r->replaced = NULL;
	log_info("call %s %s -> %s: %s takes the place of %s (transfer)", c->id, LOGQ(c->caller),
		 LOGQ(c->target), LOGQ(r->by_dn), LOGQ(old_dn));
	/* The call so far ends for the replaced phone; the rest is a call of its own. */
	cdr_add(c->b, c->id, c->caller, c->device, c->callee, c->target, c->forwarded, c->started,
		c->answered, "transferred");
	c->started = c->answered = time(NULL);
	c->forwarded[0] = '\0';
	if (r->from_a) {
		text_copy(c->caller, sizeof(c->caller), r->by_dn);
		text_copy(c->device, sizeof(c->device), r->by_device);
		c->caller_display = r->by_display;
		c->to_callee = r->contact;
	} else {
		text_copy(c->callee, sizeof(c->callee), r->by_dn);
		text_copy(c->target, sizeof(c->target), r->by_dn);
		text_copy(c->winner->target, sizeof(c->winner->target), r->by_contact);
		c->to_caller = r->contact;
	}
}

static int on_relay_response(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct relay *r = magic;
	struct call *c = r->call;
	int status = sip ? sip->sip_status->st_status : 408;
	if (status < 200) {
		if (status > 100)
			nta_incoming_treply(r->irq, status, sip->sip_status->st_phrase, TAG_END());
		return 0;
	}
	nta_incoming_treply(
		r->irq, status, sip ? sip->sip_status->st_phrase : "Request Timeout",
		TAG_IF(status < 300, SIPTAG_CONTACT(r->from_a ? c->to_caller : c->to_callee)),
		TAG_IF(sip && sip->sip_session_expires,
		       SIPTAG_SESSION_EXPIRES(sip ? sip->sip_session_expires : NULL)),
		TAG_IF(sip && sip_has_feature(sip->sip_require, "timer"),
		       SIPTAG_REQUIRE_STR("timer")),
		TAG_IF(sip && sip->sip_min_se, SIPTAG_MIN_SE(sip ? sip->sip_min_se : NULL)),
		TAG_IF(sip && sip->sip_payload, SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
		TAG_IF(sip && sip->sip_payload, SIPTAG_PAYLOAD(body_toward(c, r->from_a, sip))),
		TAG_IF(sip && sip->sip_event, SIPTAG_EVENT(sip->sip_event)), TAG_END());
	if (r->replaced)
		replacement_done(r, status);
	if (r->invite && status < 300 && sip) {
		/* The requester's ACK crosses later, with the CSeq this INVITE had. */
		c->reinvite_from_a = r->from_a;
		c->reinvite_cseq = sip->sip_cseq->cs_seq;
		if (c->reinvite_irq)
			nta_incoming_destroy(c->reinvite_irq);
		c->reinvite_irq = r->irq;
		r->irq = NULL;
	}
	for (struct relay **pp = &c->relays; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	r->orq = NULL;
	nta_outgoing_destroy(orq);
	relay_free(r);
	return 0;
}

/* The ACK of a re-INVITE's 2xx from its sender: ACK the other side with the same body. */
static void cross_reinvite_ack(struct call *c, sip_t const *ack)
{
	nta_leg_t *other = c->reinvite_from_a ? (c->winner ? c->winner->leg : NULL) : c->a;
	if (other)
		send_ack(c->b, other, c->reinvite_cseq, ack,
			 body_toward(c, !c->reinvite_from_a, ack));
	nta_incoming_destroy(c->reinvite_irq);
	c->reinvite_irq = NULL;
}

/* The re-INVITE's transaction got its ACK (a CANCEL of a re-INVITE is left to nta). */
static int on_reinvite_ack(struct call *c, nta_incoming_t *irq, sip_t const *sip)
{
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_ack &&
	    c->reinvite_irq == irq)
		cross_reinvite_ack(c, sip);
	return 0;
}

/*
 * A REFER's Refer-To for the other side: the same user (and Replaces)
 * at our address, so that the transferee's INVITE comes to us. NULL when
 * it does not name a SIP URI.
 */
static sip_refer_to_t *refer_target(struct call *c, sip_refer_to_t const *rt)
{
	su_home_t *home = c->home;
	if (!rt || (rt->r_url->url_type != url_sip && rt->r_url->url_type != url_sips))
		return NULL;
	url_t *u = our_url(c->b, home, rt->r_url->url_user);
	if (!u)
		return NULL;
	u->url_headers = rt->r_url->url_headers ? su_strdup(home, rt->r_url->url_headers) : NULL;
	return sip_refer_to_format(home, "<%s>", url_as_string(home, u));
}

/*
 * Passes an in-dialog request to the other dialog; its response comes
 * back. contact and ident, when given, replace our Contact toward the other
 * side and name the party it now talks to (ident: a name-addr, sent as
 * Remote-Party-ID and P-Asserted-Identity).
 */
static struct relay *relay_start(struct call *c, bool from_a, nta_leg_t *to, nta_incoming_t *irq,
				 sip_t const *sip, sip_contact_t *contact, char const *ident)
{
	su_home_t *home = c->home;
	sip_method_t m = sip->sip_request->rq_method;
	sip_refer_to_t *refer_to = NULL;
	sip_referred_by_t *referred_by = NULL;
	if (m == sip_method_refer) {
		if (!(refer_to = refer_target(c, sip->sip_refer_to)))
			return NULL;
		url_t *me = our_url(c->b, home, from_a ? c->caller : c->target);
		referred_by =
			me ? sip_referred_by_format(home, "<%s>", url_as_string(home, me)) : NULL;
	}
	char const *rpid = ident ? su_sprintf(home, "%s;party=%s;screen=yes;privacy=off", ident,
					      from_a ? "calling" : "called")
				 : NULL;
	struct relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->call = c;
	r->from_a = from_a;
	r->irq = irq;
	r->invite = m == sip_method_invite;
	/* Every request we relay carries our own Contact (RFC 3261 8.1.1.8, RFC 6665 4.1.2.2). */
	if (!contact)
		contact = from_a ? c->to_callee : c->to_caller;
	r->orq = nta_outgoing_tcreate(
		to, on_relay_response, r, NULL, m, sip->sip_request->rq_method_name, NULL,
		TAG_IF(contact, SIPTAG_CONTACT(contact)),
		TAG_IF(rpid, SIPTAG_REMOTE_PARTY_ID_STR(rpid)),
		TAG_IF(ident, SIPTAG_P_ASSERTED_IDENTITY_STR(ident)),
		TAG_IF(refer_to, SIPTAG_REFER_TO(refer_to)),
		TAG_IF(referred_by, SIPTAG_REFERRED_BY(referred_by)),
		TAG_IF(sip->sip_session_expires, SIPTAG_SESSION_EXPIRES(sip->sip_session_expires)),
		TAG_IF(sip->sip_min_se, SIPTAG_MIN_SE(sip->sip_min_se)),
		TAG_IF(sip_has_feature(sip->sip_supported, "timer"), SIPTAG_SUPPORTED_STR("timer")),
		TAG_IF(sip_has_feature(sip->sip_require, "timer"), SIPTAG_REQUIRE_STR("timer")),
		TAG_IF(sip->sip_payload, SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
		TAG_IF(sip->sip_payload, SIPTAG_PAYLOAD(body_toward(c, !from_a, sip))),
		TAG_IF(sip->sip_event, SIPTAG_EVENT(sip->sip_event)),
		TAG_IF(sip->sip_subscription_state,
		       SIPTAG_SUBSCRIPTION_STATE(sip->sip_subscription_state)),
		TAG_END());
	if (!r->orq) {
		free(r);
		return NULL;
	}
	r->next = c->relays;
	c->relays = r;
	if (r->invite) /* its ACK comes to the transaction, not to the dialog */
		nta_incoming_bind(irq, on_reinvite_ack, c);
	return r;
}

/* A NOTIFY of a transfer's progress that says the new call was answered. */
static bool transfer_succeeded(sip_t const *sip)
{
	return sip->sip_event && sip->sip_event->o_type &&
	       !strcasecmp(sip->sip_event->o_type, "refer") && sip->sip_payload &&
	       sip->sip_payload->pl_len >= 9 && !strncmp(sip->sip_payload->pl_data, "SIP/2.0 2", 9);
}

/* A request in a dialog of the call; from_a tells which one. */
static int in_dialog(struct call *c, bool from_a, nta_incoming_t *irq, sip_t const *sip)
{
	b2bua_t *b = c->b;
	nta_leg_t *other = from_a ? (c->winner ? c->winner->leg : NULL) : c->a;
	sip_method_t m = sip->sip_request->rq_method;

	if (m == sip_method_ack) {
		if (from_a && c->feature && c->state != CALL_ENDED) {
			/* The feature request is done: hang up as the service did. */
			send_bye(c->a, c->to_caller);
			end_call(c, "feature request done");
		} else if (from_a && c->b_ack_pending && c->winner) {
			c->b_ack_pending = false;
			send_ack(b, c->winner->leg, c->b_invite_cseq, sip,
				 body_toward(c, false, sip));
		} else if (c->reinvite_irq && c->reinvite_from_a == from_a) {
			cross_reinvite_ack(c, sip);
		}
		return 0;
	}
	char unsupported[128];
	if (sip_require_check(sip, unsupported, sizeof(unsupported))) {
		nta_incoming_treply(irq, SIP_420_BAD_EXTENSION, SIPTAG_UNSUPPORTED_STR(unsupported),
				    TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	}
	if (c->feature && m == sip_method_bye) {
		end_call(c, "feature request done");
		return 200;
	}
	if (!other || (from_a && c->state != CALL_ANSWERED))
		return 481;
	if (m == sip_method_bye) {
		send_bye(other, from_a ? c->to_callee : c->to_caller);
		end_call(c, from_a ? "the caller hung up" : "the callee hung up");
		return 200;
	}
	if (m == sip_method_cancel)
		return 481;
	if (m == sip_method_refer && !refer_target(c, sip->sip_refer_to)) {
		/* Not a transfer (a Cisco remotecc request in the dialog): taken, as outside. */
		log_info("call %s: REFER to '%s' from the %s accepted, not a transfer", c->id,
			 sip->sip_refer_to && sip->sip_refer_to->r_url->url_scheme
				 ? sip->sip_refer_to->r_url->url_scheme
				 : "-",
			 from_a ? "caller" : "callee");
		return sip->sip_refer_to ? 202 : 400;
	}
	if (m == sip_method_notify && transfer_succeeded(sip))
		snprintf(c->result, sizeof(c->result), "%s", "transferred");
	if (m == sip_method_refer)
		log_info("call %s %s -> %s: the %s transfers the call to %s", c->id,
			 LOGQ(c->caller), LOGQ(c->target), from_a ? "caller" : "callee",
			 LOGQ(sip->sip_refer_to->r_url->url_user));
	return relay_start(c, from_a, other, irq, sip, NULL, NULL) ? 0 : 500;
}

static int on_a_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	(void)leg;
	return in_dialog(magic, true, irq, sip);
}

static int on_b_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	struct fork *f = magic;
	(void)leg;
	if (f->call->winner != f)
		return 481;
	return in_dialog(f->call, false, irq, sip);
}

/* ---- a new call ---- */

/* The INVITE of a B leg (again, with credentials, when auth is given). */
static nta_outgoing_t *send_fork_invite(struct call *c, struct fork *f, sip_t const *inv,
					tport_t *tp, char const *auth, bool proxy)
{
	su_home_t *home = c->home;
	uint8_t rnd[8];
	char hex[17];
	if (secret_random(rnd, sizeof(rnd)) < 0)
		return NULL;
	text_hex(hex, rnd, sizeof(rnd));
	/*
	 * The branch carries this node's mark: an INVITE that comes back with it
	 * has looped (482). Max-Forwards goes down by one from the caller's.
	 */
	char *branch = su_sprintf(home, "branch=z9hG4bK%s%s", c->b->mark, hex);
	return nta_outgoing_tcreate(
		f->leg, on_b_invite_response, f, f->route ? URL_STRING_MAKE(f->route) : NULL,
		SIP_METHOD_INVITE, URL_STRING_MAKE(f->target), SIPTAG_CONTACT(c->to_callee),
		SIPTAG_MAX_FORWARDS_STR(su_sprintf(home, "%u", c->max_forwards)),
		NTATAG_BRANCH_KEY(branch),
		TAG_IF(!f->trunk,
		       SIPTAG_REMOTE_PARTY_ID_STR(su_sprintf(
			       home, "%s;party=calling;screen=yes;privacy=off", f->ident))),
		SIPTAG_P_ASSERTED_IDENTITY_STR(f->ident),
		TAG_IF(c->diversion,
		       SIPTAG_HEADER_STR(su_sprintf(home, "Diversion: %s", c->diversion))),
		TAG_IF(auth && !proxy, SIPTAG_AUTHORIZATION_STR(auth)),
		TAG_IF(auth && proxy, SIPTAG_PROXY_AUTHORIZATION_STR(auth)),
		TAG_IF(inv->sip_session_expires, SIPTAG_SESSION_EXPIRES(inv->sip_session_expires)),
		TAG_IF(inv->sip_min_se, SIPTAG_MIN_SE(inv->sip_min_se)),
		TAG_IF(sip_has_feature(inv->sip_supported, "timer"), SIPTAG_SUPPORTED_STR("timer")),
		TAG_IF(sip_has_feature(inv->sip_require, "timer"), SIPTAG_REQUIRE_STR("timer")),
		TAG_IF(inv->sip_payload, SIPTAG_CONTENT_TYPE(inv->sip_content_type)),
		TAG_IF(inv->sip_payload, SIPTAG_PAYLOAD(body_toward(c, false, inv))),
		TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
}

/*
 * The callee challenged our INVITE (401/407): answer once, the strongest
 * algorithm offered first. Toward a trunk, with the trunk's credentials.
 * Toward a phone, with its device's credentials (the stored HA1 is for our
 * realm, so only a challenge in that realm can be answered), and only when
 * nothing can turn the answer into credentials for sipregd itself: the
 * challenge must come from where the binding was made (its connection, or
 * its source address), its nonce must not be one of ours (a challenge
 * relaying our own nonce asks us to sign a request to ourselves), and the
 * digest uri is the B leg's Request-URI.
 */
static bool answer_challenge(struct fork *f, nta_outgoing_t *orq, sip_t const *sip, int status)
{
	struct call *c = f->call;
	b2bua_t *b = c->b;
	su_home_t *home = c->home;
	directory_t const *dir = registrar_directory(b->reg);
	msg_auth_t const *au =
		status == 407 ? sip->sip_proxy_authenticate : sip->sip_www_authenticate;
	struct uac_challenge ch;
	char const *user;
	char *auth;
	tport_t *tp = NULL;
	if (uac_challenge_pick(home, au, &ch) < 0)
		return false;
	if (f->trunk) {
		struct dir_trunk const *t = directory_trunk(dir, c->trunk);
		if (!t || !t->password) {
			log_notice("call %s: trunk %s challenged the INVITE and has no password "
				   "(%d)",
				   c->id, c->trunk, status);
			return false;
		}
		user = t->auth_user ? t->auth_user : t->user;
		auth = trunks_authorization(home, t, &ch, "INVITE", f->target, 1);
	} else {
		struct dir_line const *line = directory_line(dir, c->target);
		struct dir_user const *u = line && line->device ? line->device->user : NULL;
		char const *ours = registrar_realm(b->reg);
		struct binding *bd = registrar_bindings(b->reg, c->target);
		while (bd && strcmp(bd->contact, f->target) != 0)
			bd = bd->next;
		if (!u)
			return false;
		if (strcmp(ch.realm, ours) != 0) {
			log_notice("call %s: %s challenged the INVITE in realm %s; only realm "
				   "'%s' credentials are known (%d)",
				   c->id, LOGQ(f->target), LOGQ(ch.realm), ours, status);
			return false;
		}
		msg_t *resp = nta_outgoing_getresponse(orq);
		bool from_binding = bd && resp && registrar_binding_sent(b->reg, bd, resp);
		msg_destroy(resp);
		if (!from_binding) {
			log_warning(
				"call %s: a challenge to the INVITE to %s did not come from where "
				"the binding was made; not answered (%d)",
				c->id, LOGQ(f->target), status);
			return false;
		}
		if (registrar_nonce_ours(b->reg, ch.nonce)) {
			log_warning(
				"call %s: %s challenged the INVITE with a nonce of sipregd's own: "
				"credentials for sipregd itself are never given; not answered "
				"(%d)",
				c->id, LOGQ(f->target), status);
			return false;
		}
		tp = registrar_binding_tport(bd);
		user = u->name;
		auth = uac_authorization(home, &ch, user,
					 ch.alg == DIGEST_SHA256 ? u->ha1_sha256 : u->ha1_md5,
					 "INVITE", f->target, 1);
	}
	msg_t *req = c->irq ? nta_incoming_getrequest(c->irq) : NULL;
	if (!req || !auth) {
		if (req)
			msg_destroy(req);
		return false;
	}
	nta_outgoing_t *norq = send_fork_invite(c, f, sip_object(req), tp, auth, status == 407);
	msg_destroy(req);
	if (!norq)
		return false;
	f->orq = norq;
	f->authed = true;
	log_info("call %s: %s challenged the INVITE; answered as %s (%s)", c->id, LOGQ(f->target),
		 user, digest_alg_name(ch.alg));
	return true;
}

static int start_fork(struct call *c, struct binding const *bd, sip_t const *inv)
{
	b2bua_t *b = c->b;
	su_home_t *home = c->home;
	if (c->legs >= b->cfg.max_forks) {
		log_notice("call %s: %u B legs opened, [calls] max_forks; %s not tried", c->id,
			   c->legs, LOGQ(bd->contact));
		return -1;
	}
	struct fork *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	c->legs++;
	f->call = c;
	f->gen = c->gen;
	text_copy(f->target, sizeof(f->target), bd->contact);
	char const *display = c->caller_display;
	url_t *me = our_url(b, home, c->caller);
	sip_from_t *from = sip_from_create(home, (url_string_t *)me);
	if (from && display)
		from->a_display = su_sprintf(home, "\"%s\"", display);
	sip_to_t *to = sip_to_create(home, (url_string_t *)our_url(b, home, c->target));
	char *ident = su_sprintf(home, "%s%s%s<%s>", display ? "\"" : "", display ? display : "",
				 display ? "\" " : "", url_as_string(home, me));
	tport_t *tp = registrar_binding_tport(bd);

	f->leg = nta_leg_tcreate(b->agent, on_b_request, f, SIPTAG_FROM(from), SIPTAG_TO(to),
				 SIPTAG_CALL_ID(sip_call_id_create(home, NULL)), TAG_END());
	if (!f->leg || !nta_leg_tag(f->leg, NULL)) {
		log_error("call %s: cannot create the dialog toward %s", c->id, LOGQ(f->target));
		if (f->leg)
			nta_leg_destroy(f->leg);
		free(f);
		return -1;
	}
	f->ident = ident;
	f->orq = send_fork_invite(c, f, inv, tp, NULL, false);
	if (!f->orq) {
		log_error("call %s: cannot send the INVITE to %s", c->id, LOGQ(f->target));
		nta_leg_destroy(f->leg);
		free(f);
		return -1;
	}
	f->next = c->forks;
	c->forks = f;
	return 0;
}

/* The call leaves line for its forward target: one more Diversion entry, newest first. */
static void divert(struct call *c, struct dir_line const *line, char const *reason)
{
	su_home_t *home = c->home;
	url_t *u = our_url(c->b, home, line->dn);
	bool named = line->display && line->display[0];
	char *entry = su_sprintf(home, "%s%s%s<%s>;reason=%s;counter=1;privacy=off;screen=yes",
				 named ? "\"" : "", named ? line->display : "", named ? "\" " : "",
				 u ? url_as_string(home, u) : line->dn, reason);
	c->diversion = c->diversion ? su_sprintf(home, "%s, %s", entry, c->diversion) : entry;
	snprintf(c->forwarded, sizeof(c->forwarded), "%s", reason);
	log_info("call %s %s -> %s: %s forwards (%s)", c->id, LOGQ(c->caller), LOGQ(c->callee),
		 line->dn, reason);
}

struct refusal {
	int status;
	char const *phrase;
	char const *result;
};

/*
 * Finds where a call to dn rings, following call forwarding: sets
 * c->target and returns its bindings, or NULL with the refusal in *no.
 */
static struct binding *resolve(struct call *c, char const *dn, struct refusal *no)
{
	b2bua_t *b = c->b;
	directory_t const *dir = registrar_directory(b->reg);
	char next[33];

	for (;;) {
		struct dir_line const *line = directory_line(dir, dn);
		if (!line) {
			*no = (struct refusal){ SIP_404_NOT_FOUND, "not-found" };
			return NULL;
		}
		for (unsigned i = 0; i < c->hops; i++) {
			if (!strcmp(c->path[i], dn)) {
				*no = (struct refusal){ SIP_482_LOOP_DETECTED, "loop" };
				log_notice("call %s %s -> %s: forwarding loops at %s (482)", c->id,
					   LOGQ(c->caller), LOGQ(c->callee), LOGQ(dn));
				return NULL;
			}
		}
		text_copy(c->path[c->hops], sizeof(c->path[0]), line->dn);
		text_copy(c->target, sizeof(c->target), line->dn);
		char const *fwd = NULL, *reason = NULL;
		struct binding *bd = NULL;
		if (line->cfwd_all) {
			fwd = line->cfwd_all, reason = "unconditional";
		} else if (line->device && line->device->dnd) {
			int st = (int)b->cfg.dnd_response;
			*no = (struct refusal){ st,
						sip_status_phrase(st) ? sip_status_phrase(st)
								      : "Do Not Disturb",
						"dnd" };
			log_info("call %s %s -> %s: device %s is in do not disturb (%d)", c->id,
				 LOGQ(c->caller), line->dn, line->device->name, st);
			return NULL;
		} else if (!(bd = registrar_bindings(b->reg, line->dn))) {
			if (!line->cfwd_noanswer) {
				log_info("call %s %s -> %s: nothing registered (480)", c->id,
					 LOGQ(c->caller), line->dn);
				*no = (struct refusal){ SIP_480_TEMPORARILY_UNAVAILABLE,
							"unavailable" };
				return NULL;
			}
			fwd = line->cfwd_noanswer, reason = "unavailable";
		} else if (line_calls(b, line->dn, c) >= b->cfg.line_calls) {
			if (!line->cfwd_busy) {
				log_info("call %s %s -> %s: the line has %u call%s (486)", c->id,
					 LOGQ(c->caller), line->dn, b->cfg.line_calls,
					 b->cfg.line_calls == 1 ? "" : "s");
				*no = (struct refusal){ SIP_486_BUSY_HERE, "busy" };
				return NULL;
			}
			fwd = line->cfwd_busy, reason = "user-busy";
		}
		if (!fwd)
			return bd;
		if (c->hops >= MAX_HOPS) {
			*no = (struct refusal){ SIP_482_LOOP_DETECTED, "loop" };
			log_notice("call %s %s -> %s: more than %d forwards (482)", c->id,
				   LOGQ(c->caller), LOGQ(c->callee), MAX_HOPS);
			return NULL;
		}
		divert(c, line, reason);
		c->hops++;
		text_copy(next, sizeof(next), fwd);
		dn = next;
	}
}

/* Forks the call to the bindings and starts the no-answer timer. */
static void ring_to(struct call *c, struct binding *bd, sip_t const *inv)
{
	b2bua_t *b = c->b;
	unsigned n = 0, tried = 0;
	for (; bd; bd = bd->next, tried++)
		if (start_fork(c, bd, inv) == 0)
			n++;
	if (!n) {
		fail_call(c, SIP_480_TEMPORARILY_UNAVAILABLE);
		return;
	}
	log_info("call %s %s (%s) -> %s: %u binding%s of %s tried", c->id, LOGQ(c->caller),
		 c->device, LOGQ(c->callee), n, n == 1 ? "" : "s", LOGQ(c->target));
	struct dir_line const *line = directory_line(registrar_directory(b->reg), c->target);
	unsigned secs = b->cfg.ring_timeout;
	if (line && line->cfwd_noanswer && line->noanswer_timeout)
		secs = line->noanswer_timeout;
	if (!c->ring_timer)
		c->ring_timer = su_timer_create(su_root_task(b->root), secs * 1000);
	if (c->ring_timer) {
		su_timer_reset(c->ring_timer);
		su_timer_set_interval(c->ring_timer, on_ring_timeout, c, secs * 1000);
	}
}

/*
 * Busy or no answer: the call moves to the target line's forward for that
 * reason (B legs cancelled, new ones forked). false when there is none.
 */
static bool redirect(struct call *c, char const *reason)
{
	struct dir_line const *line = directory_line(registrar_directory(c->b->reg), c->target);
	char const *to = !line				? NULL
			 : !strcmp(reason, "no-answer") ? line->cfwd_noanswer
							: line->cfwd_busy;
	if (!to || !c->irq || c->state != CALL_RINGING)
		return false;
	if (c->hops >= MAX_HOPS) {
		fail_call(c, SIP_482_LOOP_DETECTED);
		return true;
	}
	char dn[33];
	text_copy(dn, sizeof(dn), to);
	cancel_forks(c, NULL);
	c->gen++;
	divert(c, line, reason);
	c->hops++;
	struct refusal no;
	struct binding *bd = resolve(c, dn, &no);
	if (!bd) {
		snprintf(c->result, sizeof(c->result), "%s", no.result);
		fail_call(c, no.status, no.phrase);
		return true;
	}
	msg_t *req = nta_incoming_getrequest(c->irq);
	if (!req) {
		fail_call(c, SIP_500_INTERNAL_SERVER_ERROR);
		return true;
	}
	ring_to(c, bd, sip_object(req));
	msg_destroy(req);
	return true;
}

/* ---- the caller's side of a new call ---- */

/* A call from the caller's line, linked into the list; NULL (with 500 answered) when out of memory.
 */
/* The id of a new call, NODE-RUN-N (in out, size n); returns N. */
static unsigned new_call_id(b2bua_t *b, char *out, size_t n)
{
	unsigned seq = b->next_id++;
	snprintf(out, n, "%s-%u", b->id_prefix, seq);
	return seq;
}

static struct call *call_new(b2bua_t *b, msg_t *msg, char const *caller, char const *device,
			     char const *callee)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c || !(c->home = su_home_new(sizeof(*c->home)))) {
		free(c);
		nta_msg_treply(b->agent, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return NULL;
	}
	c->b = b;
	c->seq = new_call_id(b, c->id, sizeof(c->id));
	c->started = time(NULL);
	sip_t const *sip = sip_object(msg);
	unsigned long mf = sip && sip->sip_max_forwards ? sip->sip_max_forwards->mf_count : 70;
	c->max_forwards = mf > 70 ? 69 : mf ? (unsigned)mf - 1 : 0;
	text_copy(c->caller, sizeof(c->caller), caller);
	text_copy(c->callee, sizeof(c->callee), callee);
	text_copy(c->target, sizeof(c->target), callee);
	text_copy(c->device, sizeof(c->device), device);
	/* Hop by hop: we send the caller's provisional answers reliably and take its PRACKs. */
	c->rel100 = sip && sip_has_feature(sip->sip_require, "100rel");
	c->next = b->calls;
	b->calls = c;
	b->n_calls++;
	return c;
}

/*
 * A dialog with the sender of an INVITE (our tag on it; requests on it go
 * to cb) and the INVITE's server transaction. -1 when either cannot be
 * made: 500 answered, msg consumed, nothing left behind.
 */
static int server_dialog(b2bua_t *b, msg_t *msg, sip_t *sip, nta_request_f *cb, void *magic,
			 nta_leg_t **leg, nta_incoming_t **irq)
{
	tport_t *tp = tport_delivered_by(nta_agent_tports(b->agent), msg);
	*irq = NULL;
	*leg = nta_leg_tcreate(b->agent, cb, magic, SIPTAG_CALL_ID(sip->sip_call_id),
			       SIPTAG_FROM(sip->sip_to), SIPTAG_TO(sip->sip_from),
			       NTATAG_REMOTE_CSEQ(sip->sip_cseq->cs_seq), TAG_END());
	if (!*leg || !nta_leg_tag(*leg, NULL) ||
	    nta_leg_server_route(*leg, sip->sip_record_route, sip->sip_contact) < 0 ||
	    !(*irq = nta_incoming_create(b->agent, *leg, msg, sip, TAG_IF(tp, NTATAG_TPORT(tp)),
					 TAG_END()))) {
		nta_msg_treply(b->agent, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		if (*leg)
			nta_leg_destroy(*leg);
		*leg = NULL;
		return -1;
	}
	nta_incoming_tag(*irq, nta_leg_get_tag(*leg));
	return 0;
}

/*
 * The caller's dialog (requests on it come to on_a_request) and the server
 * transaction of the INVITE. -1 when either cannot be made: 500 answered
 * and the call ended.
 */
static int accept_invite(struct call *c, msg_t *msg, sip_t *sip)
{
	if (server_dialog(c->b, msg, sip, on_a_request, c, &c->a, &c->irq) < 0) {
		end_call(c, "cannot create the dialog or the transaction");
		return -1;
	}
	nta_incoming_bind(c->irq, on_a_cancel, c);
	return 0;
}

/* ---- attended transfer: an INVITE with Replaces ---- */

/* The call and side whose dialog a Replaces header names (either tag order). */
static struct call *replaced_call(b2bua_t *b, sip_replaces_t const *rp, bool *a_side)
{
	nta_leg_t *leg = nta_leg_by_replaces(b->agent, rp);
	if (!leg && rp->rp_to_tag && rp->rp_from_tag) {
		sip_replaces_t turned = *rp;
		turned.rp_to_tag = rp->rp_from_tag;
		turned.rp_from_tag = rp->rp_to_tag;
		leg = nta_leg_by_replaces(b->agent, &turned);
	}
	if (!leg)
		return NULL;
	for (struct call *c = b->calls; c; c = c->next) {
		if (c->a == leg || (c->winner && c->winner->leg == leg)) {
			*a_side = c->a == leg;
			return c;
		}
	}
	return NULL;
}

/*
 * A phone takes the place of one side of an answered call (RFC 3891): its
 * INVITE becomes a re-INVITE to the other side, and when that is answered
 * the replaced phone is hung up. Only answered calls whose other side is
 * not in the middle of another INVITE can be taken over.
 */
static void replace_dialog(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_device const *who,
			   struct dir_line const *line)
{
	bool a_side = false;
	struct call *c = replaced_call(b, sip->sip_replaces, &a_side);
	if (!c || c->state != CALL_ANSWERED || c->feature || !c->winner) {
		log_info("%s (line %s): INVITE with Replaces for call-id %s: no such answered "
			 "call (481)",
			 who->name, line->dn, LOGQ(sip->sip_replaces->rp_call_id));
		nta_msg_treply(b->agent, msg, SIP_481_NO_TRANSACTION, TAG_END());
		return;
	}
	for (struct relay const *r = c->relays; r; r = r->next) {
		if (r->invite) {
			nta_msg_treply(b->agent, msg, SIP_491_REQUEST_PENDING, TAG_END());
			return;
		}
	}
	if (c->b_ack_pending || c->reinvite_irq) {
		nta_msg_treply(b->agent, msg, SIP_491_REQUEST_PENDING, TAG_END());
		return;
	}
	nta_leg_t **side = side_leg(c, a_side);
	nta_leg_t *other = *side_leg(c, !a_side);
	nta_leg_t *fresh;
	nta_incoming_t *irq;
	char contact[256];
	text_copy(contact, sizeof(contact),
		  sip->sip_contact ? url_as_string(c->home, sip->sip_contact->m_url) : "");
	if (server_dialog(b, msg, sip, a_side ? on_a_request : on_b_request,
			  a_side ? (void *)c : (void *)c->winner, &fresh, &irq) < 0)
		return;
	nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());

	/* The other side hears of its new party in the re-INVITE. */
	su_home_t *home = c->home;
	bool named = line->display && line->display[0];
	url_t *me = our_url(b, home, line->dn);
	char *ident =
		me ? su_sprintf(home, "%s%s%s<%s>", named ? "\"" : "", named ? line->display : "",
				named ? "\" " : "", url_as_string(home, me))
		   : NULL;
	nta_leg_t *old = *side;
	*side = fresh;
	sip_contact_t *toward = our_contact(b, home, line->dn);
	struct relay *r = relay_start(c, a_side, other, irq, sip, toward, ident);
	if (!r) {
		*side = old;
		retire(c, fresh);
		nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		nta_incoming_destroy(irq);
		return;
	}
	r->replaced = old;
	r->contact = toward;
	r->by_display = named ? su_strdup(home, line->display) : NULL;
	text_copy(r->by_dn, sizeof(r->by_dn), line->dn);
	text_copy(r->by_device, sizeof(r->by_device), who->name);
	text_copy(r->by_contact, sizeof(r->by_contact), contact);
	log_info("call %s %s -> %s: %s (%s) replaces the %s", c->id, LOGQ(c->caller),
		 LOGQ(c->target), line->dn, who->name, a_side ? "caller" : "callee");
}

/* ---- Cisco feature requests placed as calls ---- */

/* An SDP answer that declines every stream of the offer (port 0), or a bare offer. */
static char *declining_sdp(su_home_t *home, sip_t const *inv, char const *host)
{
	char *out = su_sprintf(home,
			       "v=0\r\no=sipreg %lu 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n",
			       (unsigned long)time(NULL), host, host);
	unsigned streams = 0;
	if (inv->sip_payload && inv->sip_payload->pl_data) {
		char const *p = inv->sip_payload->pl_data;
		char const *end = p + inv->sip_payload->pl_len;
		while (p < end && out) {
			char const *eol = memchr(p, '\n', (size_t)(end - p));
			size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
			if (len > 2 && p[0] == 'm' && p[1] == '=') {
				char media[32], proto[32], fmt[32];
				char line[256];
				text_copy(line, sizeof(line) < len + 1 ? sizeof(line) : len + 1, p);
				if (sscanf(line, "m=%31s %*s %31s %31s", media, proto, fmt) == 3) {
					out = su_sprintf(home, "%sm=%s 0 %s %s\r\n", out, media,
							 proto, fmt);
					streams++;
				}
			}
			p += len + 1;
		}
	}
	if (out && !streams)
		out = su_sprintf(home, "%sm=audio 0 RTP/AVP 0\r\n", out);
	return out;
}

/*
 * x-cisco-serviceuri-cfwdall-TARGET sets call forward all of the calling
 * line, x-cisco-serviceuri-cfwdall clears it; the request is answered and
 * hung up. Other feature URIs are not available here: 503.
 */
static void service_request(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_device const *who,
			    struct dir_line const *from_line, char const *service)
{
	char target[33] = "";
	bool cfwdall = !strncasecmp(service, "cfwdall", 7) && (!service[7] || service[7] == '-');
	if (cfwdall && service[7]) {
		char const *t = service + 8;
		size_t n = strspn(t, "0123456789*#+");
		if (!t[0] || t[n] || n >= sizeof(target) || !strcmp(t, from_line->dn)) {
			log_info("%s (line %s): call forward all to %s refused (503)", who->name,
				 from_line->dn, LOGQ(t));
			nta_msg_treply(b->agent, msg, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
			return;
		}
		text_copy(target, sizeof(target), t);
	}
	if (!cfwdall || !b->feature_fn) {
		log_info("%s (line %s): feature x-cisco-serviceuri-%s is not available (503)",
			 who->name, from_line->dn, LOGQ(service));
		nta_msg_treply(b->agent, msg, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
		return;
	}
	struct store_line_features f = {
		.dn = from_line->dn,
		.dnd = -1,
		.cfwd_all = target[0] ? target : "off",
		.noanswer_timeout = -1,
	};
	b->feature_fn(&f, b->sink_arg);
	log_notice("%s (line %s): call forward all %s%s by the phone", who->name, from_line->dn,
		   target[0] ? "to " : "off", LOGQ(target));

	/* Answered and hung up, as a feature code would be. */
	struct call *c = call_new(b, msg, from_line->dn, who->name, "cfwdall");
	if (!c)
		return;
	c->feature = true;
	c->state = CALL_ANSWERED;
	c->answered = c->started;
	c->to_caller = our_contact(b, c->home, NULL);
	if (accept_invite(c, msg, sip) < 0)
		return;
	sip_contact_t const *m = nta_agent_contact(b->agent);
	char const *host = m && m->m_url->url_host ? m->m_url->url_host : "127.0.0.1";
	nta_incoming_treply(c->irq, SIP_200_OK, SIPTAG_CONTACT(c->to_caller),
			    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(declining_sdp(c->home, sip, host)), TAG_END());
	/* Hung up at the ACK; at the latest when the ACK is overdue. */
	c->ring_timer = su_timer_create(su_root_task(b->root), 32000);
	if (c->ring_timer)
		su_timer_set(c->ring_timer, on_ring_timeout, c);
}

/* ---- calls through trunks ---- */

/* The number a call from line dn goes out with on trunk t: the line's DID, else the trunk's. */
static char const *caller_id(directory_t const *dir, struct dir_trunk const *t, char const *dn)
{
	struct dir_did const *did = directory_did_of_line(dir, t, dn);
	if (did)
		return did->number;
	return t->caller_id ? t->caller_id : t->user ? t->user : dn;
}

/* The one B leg of a call to a trunk: an INVITE to NUMBER@registrar, through its proxy. */
static int start_trunk_fork(struct call *c, struct dir_trunk const *t, char const *number,
			    sip_t const *inv)
{
	b2bua_t *b = c->b;
	su_home_t *home = c->home;
	directory_t const *dir = registrar_directory(b->reg);
	struct fork *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->call = c;
	f->gen = c->gen;
	f->trunk = true;
	f->route = trunks_proxy_uri(home, t);
	char *target = trunks_uri(home, t, number);
	text_copy(f->target, sizeof(f->target), target);
	char const *cid = caller_id(dir, t, c->caller);
	char *host = trunks_host(home, t);
	char const *display = c->caller_display;
	sip_from_t *from = sip_from_format(home, "%s%s%s<sip:%s@%s>", display ? "\"" : "",
					   display ? display : "", display ? "\" " : "", cid, host);
	sip_to_t *to = sip_to_format(home, "<sip:%s@%s>", number, host);
	f->ident = su_sprintf(home, "<sip:%s@%s>", cid, host);
	c->to_callee = trunks_contact(b->trunks, home, t, cid);
	f->leg = nta_leg_tcreate(b->agent, on_b_request, f, SIPTAG_FROM(from), SIPTAG_TO(to),
				 SIPTAG_CALL_ID(sip_call_id_create(home, NULL)), TAG_END());
	if (!from || !to || !c->to_callee || !f->leg || !nta_leg_tag(f->leg, NULL) ||
	    !(f->orq = send_fork_invite(c, f, inv, NULL, NULL, false))) {
		log_error("call %s: cannot send the INVITE to trunk %s", c->id, t->name);
		if (f->leg)
			nta_leg_destroy(f->leg);
		free(f);
		return -1;
	}
	f->next = c->forks;
	c->forks = f;
	log_info("call %s %s (%s) -> %s: out through trunk %s as %s (caller ID %s)", c->id,
		 LOGQ(c->caller), c->device, LOGQ(c->callee), t->name, LOGQ(number), cid);
	return 0;
}

/* The trunk emergency calls take: the one marked, else the first registered, else any usable. */
static struct dir_trunk const *emergency_trunk(b2bua_t *b, directory_t const *dir)
{
	struct dir_trunk const *registered = NULL, *usable = NULL;
	for (size_t i = 0; i < directory_count_trunks(dir); i++) {
		struct dir_trunk const *t = directory_trunk_at(dir, i);
		if (t->emergency)
			return t;
		if (!registered && trunks_registered(b->trunks, t))
			registered = t;
		if (!usable && trunks_usable(b->trunks, t))
			usable = t;
	}
	return registered ? registered : usable;
}

/*
 * A call from a phone to a number that is no line: an emergency number
 * goes to the emergency trunk whatever the rules say; anything else
 * through the first route that matches, unless that route blocks it or
 * the number is international or premium rate and the route does not
 * allow that. Answers the refusals; false when no route matches at all.
 */
/* A call refused before it began: answered statelessly, and recorded. */
static void refuse_out(b2bua_t *b, msg_t *msg, struct dir_device const *who,
		       struct dir_line const *from_line, char const *dn, int status,
		       char const *phrase, char const *result)
{
	time_t now = time(NULL);
	char id[64]; /* a call of its own, if a short one */
	new_call_id(b, id, sizeof(id));
	/* dn lives in msg, which the reply consumes: record first. */
	cdr_add(b, id, from_line->dn, who->name, dn, NULL, NULL, now, 0, result);
	nta_msg_treply(b->agent, msg, status, phrase, TAG_END());
}

static bool route_out(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_device const *who,
		      struct dir_line const *from_line, char const *dn)
{
	directory_t const *dir = registrar_directory(b->reg);
	bool emergency = config_list_has(b->cfg.emergency, dn, 0);
	struct dir_trunk const *t = NULL;
	char number[80];
	if (emergency) {
		if (!(t = emergency_trunk(b, dir))) {
			log_error("emergency call from %s (%s) to %s: no trunk to take it (503)",
				  from_line->dn, who->name, LOGQ(dn));
			refuse_out(b, msg, who, from_line, dn, SIP_503_SERVICE_UNAVAILABLE,
				   "no-trunk");
			return true;
		}
		text_copy(number, sizeof(number), dn);
		log_notice("emergency call from %s (%s) to %s: through trunk %s", from_line->dn,
			   who->name, LOGQ(dn), t->name);
	} else {
		struct dir_route const *r = NULL;
		for (size_t i = 0; i < directory_count_routes(dir); i++) {
			struct dir_route const *x = directory_route_at(dir, i);
			if (!dialplan_match(x->pattern, dn))
				continue;
			if (!r)
				r = x; /* the first that matches decides blocking and restriction */
			if (!x->trunk || trunks_usable(b->trunks, x->trunk)) {
				r = x;
				break;
			}
		}
		if (!r)
			return false;
		if (!r->trunk) {
			log_info("call from %s to %s: blocked by route %lld (%s) (403)",
				 from_line->dn, LOGQ(dn), r->id, r->pattern);
			refuse_out(b, msg, who, from_line, dn, SIP_403_FORBIDDEN, "blocked");
			return true;
		}
		if (config_list_has(b->cfg.restricted, dn, 1) && !r->allow_restricted) {
			log_notice("call from %s (%s) to %s: international or premium rate, not "
				   "allowed by route %lld (403)",
				   from_line->dn, who->name, LOGQ(dn), r->id);
			refuse_out(b, msg, who, from_line, dn, SIP_403_FORBIDDEN, "restricted");
			return true;
		}
		if (!trunks_usable(b->trunks, r->trunk)) {
			log_notice("call from %s to %s: trunk %s is not registered (503)",
				   from_line->dn, LOGQ(dn), r->trunk->name);
			refuse_out(b, msg, who, from_line, dn, SIP_503_SERVICE_UNAVAILABLE,
				   "no-trunk");
			return true;
		}
		size_t len = strlen(dn);
		snprintf(number, sizeof(number), "%s%s", r->prepend,
			 dn + (r->strip < len ? r->strip : len));
		t = r->trunk;
	}
	struct call *c = call_new(b, msg, from_line->dn, who->name, dn);
	if (!c)
		return true;
	text_copy(c->trunk, sizeof(c->trunk), t->name);
	text_copy(c->target, sizeof(c->target), number);
	if (from_line->display && from_line->display[0])
		c->caller_display = su_strdup(c->home, from_line->display);
	c->to_caller = our_contact(b, c->home, dn);
	if (accept_invite(c, msg, sip) < 0)
		return true;
	nta_incoming_treply(c->irq, SIP_100_TRYING, TAG_END());
	if (start_trunk_fork(c, t, number, sip) < 0) {
		fail_call(c, SIP_500_INTERNAL_SERVER_ERROR);
		return true;
	}
	unsigned secs = b->cfg.ring_timeout;
	c->ring_timer = su_timer_create(su_root_task(b->root), secs * 1000);
	if (c->ring_timer)
		su_timer_set_interval(c->ring_timer, on_ring_timeout, c, secs * 1000);
	return true;
}

/* The request's source address as text ("a.b.c.d" or an IPv6 address). */
static void source_ip(msg_t *msg, char *out, size_t n)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	su_sockaddr_t const *su = ai ? (su_sockaddr_t const *)ai->ai_addr : NULL;
	out[0] = '\0';
	if (su)
		su_inet_ntop(su->su_family, SU_ADDR(su), out, n);
}

/*
 * An INVITE from a trunk: to the line its DID names (the Request-URI's
 * user, or the To user when the Request-URI names the trunk's own
 * registration), else to the trunk's default line.
 */
static void inbound_call(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_trunk const *t)
{
	directory_t const *dir = registrar_directory(b->reg);
	char const *ruser = sip->sip_request->rq_url->url_user;
	char const *dialled = ruser;
	if (!ruser || (t->contact_user && !strcmp(ruser, t->contact_user)) ||
	    (t->user && !strcmp(ruser, t->user)))
		dialled = sip->sip_to && sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user
								      : ruser;
	struct dir_did const *did = directory_did(dir, dialled);
	char const *dn =
		did && did->trunk == t ? (did->dn ? did->dn : t->default_dn) : t->default_dn;
	char const *from = sip->sip_from && sip->sip_from->a_url->url_user
				   ? sip->sip_from->a_url->url_user
				   : "anonymous";
	if (!dn) {
		log_info("call from trunk %s (%s) to %s: no DID and no default line (404)", t->name,
			 LOGQ(from), LOGQ(dialled));
		nta_msg_treply(b->agent, msg, SIP_404_NOT_FOUND, TAG_END());
		return;
	}
	char device[80];
	snprintf(device, sizeof(device), "trunk:%s", t->name);
	struct call *c = call_new(b, msg, from, device, dn);
	if (!c)
		return;
	text_copy(c->trunk, sizeof(c->trunk), t->name);
	if (sip->sip_from && sip->sip_from->a_display && sip->sip_from->a_display[0]) {
		char *d = su_strdup(c->home, sip->sip_from->a_display);
		size_t n = strlen(d);
		if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
			d[n - 1] = '\0';
			d++;
		}
		if (!strpbrk(d, "\"\\\r\n"))
			c->caller_display = d;
	}
	log_info("call %s from trunk %s: %s -> %s (dialled %s)", c->id, t->name, LOGQ(from),
		 LOGQ(dn), LOGQ(dialled));
	struct refusal no;
	struct binding *bd = resolve(c, dn, &no);
	if (!bd) {
		nta_msg_treply(b->agent, msg, no.status, no.phrase, TAG_END());
		snprintf(c->result, sizeof(c->result), "%s", no.result);
		end_call(c, no.phrase);
		return;
	}
	c->to_caller = trunks_contact(b->trunks, c->home, t, dialled ? dialled : dn);
	c->to_callee = our_contact(b, c->home, from);
	if (accept_invite(c, msg, sip) < 0)
		return;
	nta_incoming_treply(c->irq, SIP_100_TRYING, TAG_END());
	ring_to(c, bd, sip);
}

void b2bua_invite(b2bua_t *b, msg_t *msg, sip_t *sip)
{
	/* A request for a dialog we do not have (its legs are matched before this). */
	if (sip->sip_to && sip->sip_to->a_tag) {
		nta_msg_treply(b->agent, msg, SIP_481_NO_TRANSACTION, TAG_END());
		return;
	}
	/* One of our own INVITEs come back (our mark in a branch): a loop. */
	for (sip_via_t const *v = sip->sip_via; v; v = v->v_next) {
		if (v->v_branch && strstr(v->v_branch, b->mark)) {
			log_notice("INVITE to %s came back to this node (its branch): loop (482)",
				   LOGQ(sip->sip_request->rq_url->url_user));
			nta_msg_treply(b->agent, msg, SIP_482_LOOP_DETECTED, TAG_END());
			return;
		}
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		log_notice("INVITE to %s with Max-Forwards 0 (483)",
			   LOGQ(sip->sip_request->rq_url->url_user));
		nta_msg_treply(b->agent, msg, SIP_483_TOO_MANY_HOPS, TAG_END());
		return;
	}
	/* From a trunk (by its address, or to the Contact it registered): to a line. */
	directory_t const *tdir = registrar_directory(b->reg);
	char ip[64];
	source_ip(msg, ip, sizeof(ip));
	struct dir_trunk const *from_trunk = directory_trunk_by_addr(tdir, ip);
	if (!from_trunk)
		from_trunk = directory_trunk_by_contact(tdir, sip->sip_request->rq_url->url_user);
	if (from_trunk) {
		inbound_call(b, msg, sip, from_trunk);
		return;
	}
	struct dir_device const *who = registrar_authorize(b->reg, msg, sip);
	if (!who)
		return; /* answered (407, 400, 403) or dropped */
	directory_t const *dir = registrar_directory(b->reg);
	char const *dn = sip->sip_request->rq_url->url_user;
	char const *from_dn = sip->sip_from ? sip->sip_from->a_url->url_user : NULL;
	struct dir_line const *from_line = from_dn ? directory_line(dir, from_dn) : NULL;
	if (!from_line || from_line->device != who) /* calls go out as one of its own lines */
		from_line = directory_first_line(who);
	if (!from_line) {
		nta_msg_treply(b->agent, msg, SIP_403_FORBIDDEN, TAG_END());
		return;
	}
	if (sip->sip_replaces) {
		replace_dialog(b, msg, sip, who, from_line);
		return;
	}
	if (dn && !strncasecmp(dn, "x-cisco-serviceuri-", 19)) {
		service_request(b, msg, sip, who, from_line, dn + 19);
		return;
	}
	if (!dn || !dn[0]) {
		nta_msg_treply(b->agent, msg, SIP_404_NOT_FOUND, TAG_END());
		return;
	}

	if ((config_list_has(b->cfg.emergency, dn, 0) || !directory_line(dir, dn)) &&
	    route_out(b, msg, sip, who, from_line, dn))
		return;
	struct call *c = call_new(b, msg, from_line->dn, who->name, dn);
	if (!c)
		return;
	if (from_line->display && from_line->display[0])
		c->caller_display = su_strdup(c->home, from_line->display);

	/* Where it rings, after forwarding; refusals are answered without a transaction. */
	struct refusal no;
	struct binding *bd = resolve(c, dn, &no);
	if (!bd) {
		if (no.status == 404)
			log_info("call from %s to %s: no such line (404)", from_line->dn,
				 LOGQ(c->target));
		nta_msg_treply(b->agent, msg, no.status, no.phrase, TAG_END());
		snprintf(c->result, sizeof(c->result), "%s", no.result);
		end_call(c, no.phrase);
		return;
	}
	c->to_caller = our_contact(b, c->home, c->callee);
	c->to_callee = our_contact(b, c->home, c->caller);

	if (accept_invite(c, msg, sip) < 0)
		return;
	nta_incoming_treply(c->irq, SIP_100_TRYING, TAG_END());
	ring_to(c, bd, sip);
}

/* ---- administration ---- */

json_t *b2bua_list(b2bua_t const *b)
{
	json_t *arr = json_array();
	time_t now = time(NULL);
	for (struct call const *c = b->calls; c; c = c->next) {
		if (c->feature)
			continue;
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I}",
						"id", c->id, "state", state_names[c->state],
						"caller", c->caller, "callee", c->callee, "target",
						c->target, "device", c->device, "forwarded",
						c->forwarded[0] ? c->forwarded : NULL,
						"answered_by", c->winner ? c->winner->target : NULL,
						"seconds", (json_int_t)(now - c->started)));
	}
	return arr;
}

void b2bua_set_call_prefix(b2bua_t *b, char const *prefix)
{
	text_copy(b->id_prefix, sizeof(b->id_prefix), prefix);
}

int b2bua_hangup(b2bua_t *b, char const *id)
{
	/* A plain number names a call of this run (its id's last part). */
	char *end;
	unsigned long n = strtoul(id, &end, 10);
	bool seq = id[0] >= '0' && id[0] <= '9' && !*end;
	for (struct call *c = b->calls; c; c = c->next) {
		if ((seq ? c->seq != n : strcmp(c->id, id) != 0) || c->state == CALL_ENDED)
			continue;
		if (c->state == CALL_RINGING) {
			cancel_forks(c, NULL);
			fail_call(c, SIP_480_TEMPORARILY_UNAVAILABLE);
			return 0;
		}
		send_bye(c->a, c->to_caller);
		if (c->winner)
			send_bye(c->winner->leg, c->to_callee);
		end_call(c, "hung up by the administrator");
		return 0;
	}
	return -1;
}
