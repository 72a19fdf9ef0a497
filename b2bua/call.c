/*
 * A call's life: creation of the b2bua, the list of calls, call records,
 * ending and freeing a call, and what every part of a call sends (Contact,
 * ACK, BYE, bodies toward one side). The rest of a call is cut by what it
 * answers: fork.c (the caller's INVITE and the B legs), relay.c (requests
 * inside the dialogs), invite.c (a new INVITE: where it goes).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "b2bua/internal.h"
#include "sip/srtp.h"

#define LOG_TAG "b2bua"

static char const *const state_names[] = {
	[CALL_RINGING] = "ringing",
	[CALL_ANSWERED] = "answered",
	[CALL_ENDED] = "ended",
};

/* ---- lifetime ---- */

int b2bua_create(b2bua_t **out, su_root_t *root, nta_agent_t *agent, registrar_t *reg,
		 struct b2bua_config const *cfg, b2bua_cdr_f cdr, b2bua_feature_f feature,
		 void *arg)
{
	ASSERT_THREAD(SIP);
	b2bua_t *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->root = root;
	b->agent = agent;
	b->reg = reg;
	b->cfg = *cfg;
	b->next_id = 1;
	b->cdr_sink = cdr;
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
	if (cisco_services_create(&b->services, root, agent, feature, arg) < 0) {
		trunks_destroy(b->trunks);
		su_timer_destroy(b->reaper);
		free(b);
		return -1;
	}
	*out = b;
	return 0;
}

void b2bua_set_config(b2bua_t *b, struct b2bua_config const *cfg)
{
	ASSERT_THREAD(SIP);
	b->cfg = *cfg;
	trunks_set_config(b->trunks, &cfg->trunks);
}

void b2bua_set_hosts(b2bua_t *b, hosts_t const *hosts)
{
	ASSERT_THREAD(SIP);
	b->hosts = hosts;
}

void b2bua_directory_changed(b2bua_t *b, directory_t const *dir)
{
	ASSERT_THREAD(SIP);
	trunks_sync(b->trunks, dir);
}

void b2bua_trunks_standby(b2bua_t *b, bool on)
{
	trunks_standby(b->trunks, on);
}

json_t *b2bua_trunks(b2bua_t *b, char const *name)
{
	ASSERT_THREAD(SIP);
	return trunks_json(b->trunks, registrar_directory(b->reg), b->hosts, name);
}

void b2bua_trunk_checked(b2bua_t *b, char const *name, char const *result)
{
	ASSERT_THREAD(SIP);
	trunks_checked(b->trunks, name, result);
}

json_t *b2bua_routes(b2bua_t *b)
{
	ASSERT_THREAD(SIP);
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

void b2b_relay_free(struct relay *r)
{
	if (r->irq) {
		if (nta_incoming_status(r->irq) < 200)
			nta_incoming_treply(r->irq, SIP_REPLY(SIP_R_NO_TRANSACTION), TAG_END());
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
		b2b_relay_free(r);
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
			nta_incoming_treply(c->irq, SIP_REPLY(SIP_R_SERVER_ERROR), TAG_END());
		nta_incoming_destroy(c->irq);
	}
	if (c->a)
		nta_leg_destroy(c->a);
	su_home_unref(c->home);
	free(c);
}

void b2bua_destroy(b2bua_t *b)
{
	ASSERT_THREAD(SIP);
	if (!b)
		return;
	while (b->calls)
		call_free(b->calls);
	b2bua_tick(b);
	cisco_services_destroy(b->services);
	trunks_destroy(b->trunks);
	free(b->cdrs);
	su_timer_destroy(b->reaper);
	free(b);
}

void b2bua_tick(b2bua_t *b)
{
	ASSERT_THREAD(SIP);
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
void b2b_cdr_add(b2bua_t *b, char const *id, char const *caller, char const *device,
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

size_t b2bua_count(b2bua_t const *b)
{
	ASSERT_THREAD(SIP);
	return b->n_calls;
}

/* ---- helpers ---- */

/* Our own address for Contact and From: sip:USER@host:port of the first listener. */
/* Calls a line is in, either side, other than self. */
unsigned b2b_line_calls(b2bua_t *b, char const *dn, struct call const *self)
{
	unsigned n = 0;
	for (struct call const *c = b->calls; c; c = c->next)
		if (c != self && c->state != CALL_ENDED &&
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

void b2b_end_call(struct call *c, char const *why)
{
	if (c->state == CALL_ENDED)
		return;
	log_info("call %s %s -> %s ended: %s", c->id, LOGQ(c->caller), LOGQ(c->callee), why);
	b2b_cdr_add(c->b, c->id, c->caller, c->device, c->callee, c->target, c->forwarded,
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
sip_payload_t const *b2b_body_toward(struct call *c, bool to_a, sip_t const *sip)
{
	return b2b_body_for(c, to_a, to_a ? c->a_tls : c->b_tls, sip);
}

static bool is_sdp(sip_t const *sip)
{
	return sip && sip->sip_payload && sip->sip_payload->pl_data && sip->sip_content_type &&
	       sip->sip_content_type->c_type &&
	       !strcasecmp(sip->sip_content_type->c_type, "application/sdp");
}

/* As b2b_body_toward(), for a leg whose transport is given (a B leg not yet answered). */
sip_payload_t const *b2b_body_for(struct call *c, bool to_a, bool tls, sip_t const *sip)
{
	if (!sip || !sip->sip_payload)
		return NULL;
	sip_payload_t const *pl = sip->sip_payload;
	if (!is_sdp(sip))
		return pl;
	size_t n;
	char const *body = sdp_origin_apply(to_a ? &c->sdp_to_a : &c->sdp_to_b, c->home,
					    pl->pl_data, pl->pl_len, &n);
	/* Keys travel from TLS to TLS only. */
	if (!(c->a_tls && tls) && srtp_has_keys(body, n)) {
		char *plain = su_alloc(c->home, n + 1);
		long m = plain ? srtp_strip(body, n, plain, n + 1) : -1;
		if (m >= 0) {
			body = plain;
			n = (size_t)m;
		} else {
			return NULL; /* never the keys */
		}
	}
	if (body == pl->pl_data)
		return pl;
	sip_payload_t *mine = sip_payload_create(c->home, body, (isize_t)n);
	return mine;
}

/*
 * An offer with SRTP keys and no way back to plain RTP cannot go to a leg
 * without TLS (nor come back from one): that B leg is not tried.
 */
bool b2b_srtp_blocked(struct call *c, struct fork const *f, sip_t const *inv)
{
	if (!is_sdp(inv) || (c->a_tls && f->tls))
		return false;
	char const *d = inv->sip_payload->pl_data;
	size_t n = inv->sip_payload->pl_len;
	if (!srtp_has_keys(d, n) ||
	    srtp_plain_allowed(d, n, sip_has_feature(inv->sip_supported, "X-cisco-srtp-fallback")))
		return false;
	log_notice("call %s: the offer carries SRTP keys only (RTP/SAVP, no fallback) and the %s "
		   "leg is not TLS: %s not tried (keys never cross a leg without TLS)",
		   c->id, c->a_tls ? "callee's" : "caller's", LOGQ(f->target));
	c->srtp_refused = true;
	return true;
}

/* The lock a Cisco phone shows: Encrypted, Authenticated or NotAuthenticated. */
char const *b2b_security(struct call const *c, bool b_tls, sip_t const *sip)
{
	if (!c->a_tls || !b_tls)
		return "NotAuthenticated";
	return is_sdp(sip) && srtp_has_keys(sip->sip_payload->pl_data, sip->sip_payload->pl_len)
		       ? "Encrypted"
		       : "Authenticated";
}

/*
 * Session timers (RFC 4028) pass end to end: the phones refresh with
 * re-INVITE or UPDATE, which cross like any request in a dialog. What
 * crosses: Session-Expires, Min-SE, and "timer" of Supported and Require
 * (the other tags are this hop's own, 100rel above all).
 */

/* Sends the ACK for a 2xx to INVITE on a dialog, with the body given (or none). */
void b2b_send_ack(b2bua_t *b, nta_leg_t *leg, uint32_t cseq, sip_t const *body_of,
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
	tport_t *tp = b2b_leg_tport(b, leg);
	nta_outgoing_t *ack = nta_outgoing_mcreate(b->agent, NULL, NULL, NULL, msg,
						   TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (ack)
		nta_outgoing_destroy(ack);
	else
		msg_destroy(msg);
}

/*
 * The transport toward trunks for a dialog with a TLS trunk whose next hop
 * is TLS (its requests must leave by the transport that verifies the
 * provider), else NULL: sofia picks by the next hop's URI.
 */
tport_t *b2b_leg_tport(b2bua_t *b, nta_leg_t const *leg)
{
	struct fork const *f = nta_leg_magic(leg, b2b_on_b_request);
	struct call const *c = f ? NULL : nta_leg_magic(leg, b2b_on_a_request);
	if (!(f && f->trunk && f->tls) && !(c && c->a_tls && !strncmp(c->device, "trunk:", 6)))
		return NULL;
	sip_route_t const *route = NULL;
	sip_contact_t const *target = NULL;
	nta_leg_get_route((nta_leg_t *)leg, &route, &target);
	url_t const *hop = route ? route->r_url : target ? target->m_url : NULL;
	char tp[8] = "";
	if (!hop || !(hop->url_type == url_sips ||
		      (url_param(hop->url_params, "transport", tp, sizeof(tp)) > 0 &&
		       !strcasecmp(tp, "tls"))))
		return NULL;
	return sip_trunk_tport(b->agent);
}

/* Sends BYE on a dialog, with our Contact on that side, and forgets it. */
void b2b_send_bye(nta_leg_t *leg, sip_contact_t const *contact)
{
	struct fork const *f = nta_leg_magic(leg, b2b_on_b_request);
	struct call const *c = f ? f->call : nta_leg_magic(leg, b2b_on_a_request);
	tport_t *tp = c ? b2b_leg_tport(c->b, leg) : NULL;
	nta_outgoing_t *orq = nta_outgoing_tcreate(leg, NULL, NULL, NULL, SIP_METHOD_BYE, NULL,
						   TAG_IF(contact, SIPTAG_CONTACT(contact)),
						   TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (orq)
		nta_outgoing_destroy(orq);
}

/* ---- administration ---- */

json_t *b2bua_list(b2bua_t const *b)
{
	ASSERT_THREAD(SIP);
	json_t *arr = json_array();
	time_t now = time(NULL);
	for (struct call const *c = b->calls; c; c = c->next) {
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
	ASSERT_THREAD(SIP);
	text_copy(b->id_prefix, sizeof(b->id_prefix), prefix);
}

int b2bua_hangup(b2bua_t *b, char const *id)
{
	ASSERT_THREAD(SIP);
	/* A plain number names a call of this run (its id's last part). */
	char *end;
	unsigned long n = strtoul(id, &end, 10);
	bool seq = id[0] >= '0' && id[0] <= '9' && !*end;
	for (struct call *c = b->calls; c; c = c->next) {
		if ((seq ? c->seq != n : strcmp(c->id, id) != 0) || c->state == CALL_ENDED)
			continue;
		if (c->state == CALL_RINGING) {
			b2b_cancel_forks(c, NULL);
			b2b_fail_call(c, SIP_REPLY(SIP_R_UNAVAILABLE));
			return 0;
		}
		b2b_send_bye(c->a, c->to_caller);
		if (c->winner)
			b2b_send_bye(c->winner->leg, c->to_callee);
		b2b_end_call(c, "hung up by the administrator");
		return 0;
	}
	return -1;
}
