/*
 * A new INVITE, outside any dialog: who calls (a phone, a trunk's provider,
 * an attended transfer), where the call goes (a line, the dial plan toward a
 * trunk, an emergency number, a Cisco service URI) and the caller's dialog.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "b2bua/internal.h"
#include "b2bua/route.h"

#define LOG_TAG "b2bua"

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

struct call *b2b_call_new(b2bua_t *b, msg_t *msg, char const *caller, char const *device,
			  char const *callee)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c || !(c->home = su_home_new(sizeof(*c->home)))) {
		free(c);
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_SERVER_ERROR), TAG_END());
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
	tport_t *tp = tport_delivered_by(nta_agent_tports(b->agent), msg);
	c->a_tls = tp && tport_name(tp) && !strcasecmp(tport_name(tp)->tpn_proto, "tls");
	c->next = b->calls;
	b->calls = c;
	b->n_calls++;
	return c;
}

/*
 * The caller's dialog (requests on it come to b2b_on_a_request) and the server
 * transaction of the INVITE. -1 when either cannot be made: 500 answered
 * and the call ended.
 */
int b2b_accept_invite(struct call *c, msg_t *msg, sip_t *sip)
{
	if (sip_server_dialog(c->b->agent, msg, sip, b2b_on_a_request, c, &c->a, &c->irq) < 0) {
		b2b_end_call(c, "cannot create the dialog or the transaction");
		return -1;
	}
	nta_incoming_bind(c->irq, b2b_on_a_cancel, c);
	return 0;
}

/* ---- calls through trunks ---- */

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
	f->tls = trunks_is_tls(t);
	f->route = trunks_proxy_uri(home, t);
	char *target = trunks_uri(home, t, number);
	text_copy(f->target, sizeof(f->target), target);
	if (b2b_srtp_blocked(c, f, inv)) {
		free(f);
		return -2;
	}
	char const *cid = route_caller_id(dir, t, c->caller);
	char *host = trunks_host(home, t);
	char const *display = c->caller_display;
	/* The numbers as a URI's user part (a dialled '#' is %23). */
	char *who = sip_uri(home, cid, host, NULL);
	char *callee = sip_uri(home, number, host, NULL);
	sip_from_t *from = who ? sip_from_format(home, "%s%s%s<%s>", display ? "\"" : "",
						 display ? display : "", display ? "\" " : "", who)
			       : NULL;
	sip_to_t *to = callee ? sip_to_format(home, "<%s>", callee) : NULL;
	f->ident = who ? su_sprintf(home, "<%s>", who) : NULL;
	c->to_callee = trunks_contact(b->trunks, home, t, cid);
	f->leg = nta_leg_tcreate(b->agent, b2b_on_b_request, f, SIPTAG_FROM(from), SIPTAG_TO(to),
				 SIPTAG_CALL_ID(sip_call_id_create(home, NULL)), TAG_END());
	if (!from || !to || !c->to_callee || !f->leg || !nta_leg_tag(f->leg, NULL) ||
	    !(f->orq = b2b_send_fork_invite(c, f, inv, NULL, NULL, false))) {
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

static bool trunk_usable(void *arg, struct dir_trunk const *t)
{
	return trunks_usable(arg, t);
}

static bool trunk_registered(void *arg, struct dir_trunk const *t)
{
	return trunks_registered(arg, t);
}

/* A call refused before it began: answered statelessly, and recorded. */
static void refuse_out(b2bua_t *b, msg_t *msg, struct dir_device const *who,
		       struct dir_line const *from_line, char const *dn, int status,
		       char const *phrase, char const *result)
{
	time_t now = time(NULL);
	char id[64]; /* a call of its own, if a short one */
	new_call_id(b, id, sizeof(id));
	/* dn lives in msg, which the reply consumes: record first. */
	b2b_cdr_add(b, id, from_line->dn, who->name, dn, NULL, NULL, now, 0, result);
	nta_msg_treply(b->agent, msg, status, phrase, TAG_END());
}

/*
 * A call from a phone to a number that is no line: an emergency number
 * goes to the emergency trunk whatever the rules say; anything else
 * through the first route that matches, unless that route blocks it or
 * the number is international or premium rate and the route does not
 * allow that. Answers the refusals; false when no route matches at all.
 */
static bool route_out(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_device const *who,
		      struct dir_line const *from_line, char const *dn)
{
	directory_t const *dir = registrar_directory(b->reg);
	struct route_trunks tr = { trunk_usable, trunk_registered, b->trunks };
	bool emergency = config_list_has(b->cfg.emergency, dn, 0);
	struct dir_trunk const *t = NULL;
	char number[80];
	if (emergency) {
		if (!(t = route_emergency_trunk(dir, &tr))) {
			log_error("emergency call from %s (%s) to %s: no trunk to take it (503)",
				  from_line->dn, who->name, LOGQ(dn));
			refuse_out(b, msg, who, from_line, dn, SIP_REPLY(SIP_R_SERVICE_UNAVAILABLE),
				   "no-trunk");
			return true;
		}
		text_copy(number, sizeof(number), dn);
		log_notice("emergency call from %s (%s) to %s: through trunk %s", from_line->dn,
			   who->name, LOGQ(dn), t->name);
	} else {
		struct dir_route const *r = route_for_number(dir, dn, &tr);
		if (!r)
			return false;
		if (!r->trunk) {
			log_info("call from %s to %s: blocked by route %lld (%s) (403)",
				 from_line->dn, LOGQ(dn), r->id, r->pattern);
			refuse_out(b, msg, who, from_line, dn, SIP_REPLY(SIP_R_FORBIDDEN),
				   "blocked");
			return true;
		}
		if (config_list_has(b->cfg.restricted, dn, 1) && !r->allow_restricted) {
			log_notice("call from %s (%s) to %s: international or premium rate, not "
				   "allowed by route %lld (403)",
				   from_line->dn, who->name, LOGQ(dn), r->id);
			refuse_out(b, msg, who, from_line, dn, SIP_REPLY(SIP_R_FORBIDDEN),
				   "restricted");
			return true;
		}
		if (!trunks_usable(b->trunks, r->trunk)) {
			log_notice("call from %s to %s: trunk %s is not registered (503)",
				   from_line->dn, LOGQ(dn), r->trunk->name);
			refuse_out(b, msg, who, from_line, dn, SIP_REPLY(SIP_R_SERVICE_UNAVAILABLE),
				   "no-trunk");
			return true;
		}
		size_t len = strlen(dn);
		snprintf(number, sizeof(number), "%s%s", r->prepend,
			 dn + (r->strip < len ? r->strip : len));
		t = r->trunk;
	}
	struct call *c = b2b_call_new(b, msg, from_line->dn, who->name, dn);
	if (!c)
		return true;
	text_copy(c->trunk, sizeof(c->trunk), t->name);
	text_copy(c->target, sizeof(c->target), number);
	if (from_line->display && from_line->display[0])
		c->caller_display = su_strdup(c->home, from_line->display);
	c->to_caller = sip_our_contact(b->agent, c->home, dn);
	if (b2b_accept_invite(c, msg, sip) < 0)
		return true;
	nta_incoming_treply(c->irq, SIP_REPLY(SIP_R_TRYING), TAG_END());
	int started = start_trunk_fork(c, t, number, sip);
	if (started == -2) {
		snprintf(c->result, sizeof(c->result), "%s", "not-acceptable");
		b2b_fail_call(c, SIP_REPLY(SIP_R_NOT_ACCEPTABLE_HERE));
		return true;
	}
	if (started < 0) {
		b2b_fail_call(c, SIP_REPLY(SIP_R_SERVER_ERROR));
		return true;
	}
	unsigned secs = b->cfg.ring_timeout;
	c->ring_timer = su_timer_create(su_root_task(b->root), secs * 1000);
	if (c->ring_timer)
		su_timer_set_interval(c->ring_timer, b2b_on_ring_timeout, c, secs * 1000);
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

/* The caller's display name from From, unquoted, unless it holds what a header cannot. */
static void caller_display_from(struct call *c, sip_t const *sip)
{
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
}

/*
 * A call from outside the phones (a trunk, the other node) to line dn: where
 * it rings, or the refusal; to_caller is our Contact toward the caller.
 */
static void ring_inbound(struct call *c, msg_t *msg, sip_t *sip, char const *dn,
			 sip_contact_t *to_caller, char const *from)
{
	b2bua_t *b = c->b;
	struct refusal no;
	struct binding const *bd = b2b_resolve(c, dn, &no);
	if (!bd) {
		nta_msg_treply(b->agent, msg, no.status, no.phrase, TAG_END());
		snprintf(c->result, sizeof(c->result), "%s", no.result);
		b2b_end_call(c, no.phrase);
		return;
	}
	c->to_caller = to_caller;
	c->to_callee = sip_our_contact(b->agent, c->home, from);
	if (b2b_accept_invite(c, msg, sip) < 0)
		return;
	nta_incoming_treply(c->irq, SIP_REPLY(SIP_R_TRYING), TAG_END());
	b2b_ring_to(c, bd, sip);
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
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_NOT_FOUND), TAG_END());
		return;
	}
	char device[80];
	snprintf(device, sizeof(device), "trunk:%s", t->name);
	struct call *c = b2b_call_new(b, msg, from, device, dn);
	if (!c)
		return;
	text_copy(c->trunk, sizeof(c->trunk), t->name);
	caller_display_from(c, sip);
	log_info("call %s from trunk %s: %s -> %s (dialled %s)", c->id, t->name, LOGQ(from),
		 LOGQ(dn), LOGQ(dialled));
	ring_inbound(c, msg, sip, dn, trunks_contact(b->trunks, c->home, t, dialled ? dialled : dn),
		     from);
}

/*
 * An INVITE from the other node of the pair (over the node transport, its
 * certificate verified): a line registered here, called from a phone
 * registered there. It rings here only, never back there.
 */
static void peer_call(b2bua_t *b, msg_t *msg, sip_t *sip, char const *peer)
{
	directory_t const *dir = registrar_directory(b->reg);
	char const *dn = sip->sip_request->rq_url->url_user;
	char const *from = sip->sip_from && sip->sip_from->a_url->url_user
				   ? sip->sip_from->a_url->url_user
				   : "anonymous";
	if (!dn || !directory_line(dir, dn)) {
		log_info("call from node %s to %s: no such line (404)", peer, LOGQ(dn));
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_NOT_FOUND), TAG_END());
		return;
	}
	char device[80];
	snprintf(device, sizeof(device), "node:%s", peer);
	struct call *c = b2b_call_new(b, msg, from, device, dn);
	if (!c)
		return;
	c->from_peer = true;
	caller_display_from(c, sip);
	log_info("call %s from node %s: %s -> %s", c->id, peer, LOGQ(from), LOGQ(dn));
	ring_inbound(c, msg, sip, dn, sip_our_contact(b->agent, c->home, dn), from);
}

void b2bua_invite(b2bua_t *b, msg_t *msg, sip_t *sip)
{
	ASSERT_THREAD(SIP);
	/* A request for a dialog we do not have (its legs are matched before this). */
	if (sip->sip_to && sip->sip_to->a_tag) {
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_NO_TRANSACTION), TAG_END());
		return;
	}
	/* One of our own INVITEs come back (our mark in a branch): a loop. */
	for (sip_via_t const *v = sip->sip_via; v; v = v->v_next) {
		if (v->v_branch && strstr(v->v_branch, b->mark)) {
			log_notice("INVITE to %s came back to this node (its branch): loop (482)",
				   LOGQ(sip->sip_request->rq_url->url_user));
			nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_LOOP), TAG_END());
			return;
		}
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		log_notice("INVITE to %s with Max-Forwards 0 (483)",
			   LOGQ(sip->sip_request->rq_url->url_user));
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_TOO_MANY_HOPS), TAG_END());
		return;
	}
	/* From the other node of the pair, proved by its certificate: to a line here. */
	char const *peer = registrar_peer_node(b->reg);
	if (peer[0] && sip_node_sent(b->agent, msg, peer)) {
		peer_call(b, msg, sip, peer);
		return;
	}
	/* From a trunk (by its address, or to the Contact it registered): to a line. */
	directory_t const *tdir = registrar_directory(b->reg);
	char ip[64];
	source_ip(msg, ip, sizeof(ip));
	char const *owner = hosts_owner(b->hosts, ip);
	struct dir_trunk const *from_trunk = owner ? directory_trunk(tdir, owner) : NULL;
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
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_FORBIDDEN), TAG_END());
		return;
	}
	if (sip->sip_replaces) {
		b2b_replace_dialog(b, msg, sip, who, from_line);
		return;
	}
	if (dn && !strncasecmp(dn, "x-cisco-serviceuri-", 19)) {
		cisco_service_invite(b->services, msg, sip, who, from_line, dn + 19);
		return;
	}
	if (!dn || !dn[0]) {
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_NOT_FOUND), TAG_END());
		return;
	}

	if ((config_list_has(b->cfg.emergency, dn, 0) || !directory_line(dir, dn)) &&
	    route_out(b, msg, sip, who, from_line, dn))
		return;
	struct call *c = b2b_call_new(b, msg, from_line->dn, who->name, dn);
	if (!c)
		return;
	if (from_line->display && from_line->display[0])
		c->caller_display = su_strdup(c->home, from_line->display);

	/* Where it rings, after forwarding; refusals are answered without a transaction. */
	struct refusal no;
	struct binding const *bd = b2b_resolve(c, dn, &no);
	if (!bd) {
		if (no.status == 404)
			log_info("call from %s to %s: no such line (404)", from_line->dn,
				 LOGQ(c->target));
		nta_msg_treply(b->agent, msg, no.status, no.phrase, TAG_END());
		snprintf(c->result, sizeof(c->result), "%s", no.result);
		b2b_end_call(c, no.phrase);
		return;
	}
	c->to_caller = sip_our_contact(b->agent, c->home, c->callee);
	c->to_callee = sip_our_contact(b->agent, c->home, c->caller);

	if (b2b_accept_invite(c, msg, sip) < 0)
		return;
	nta_incoming_treply(c->irq, SIP_REPLY(SIP_R_TRYING), TAG_END());
	b2b_ring_to(c, bd, sip);
}
