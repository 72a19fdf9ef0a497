/*
 * The B legs of a call: one INVITE per binding of the called line (or one
 * toward a trunk), their answers crossed to the caller, challenges from
 * trunks answered, forwards on busy or no answer, and the caller's CANCEL.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "b2bua/internal.h"

#define LOG_TAG "b2bua"

/* ---- the caller's INVITE, answered ---- */

/* The final answer to the caller when no B leg answered. */
void b2b_fail_call(struct call *c, int status, char const *phrase)
{
	if (!c->result[0])
		snprintf(c->result, sizeof(c->result), "%s", sip_reply_result(status));
	if (c->irq && nta_incoming_status(c->irq) < 200)
		nta_incoming_treply(c->irq, status, phrase, TAG_END());
	b2b_end_call(c, phrase);
}

void b2b_cancel_forks(struct call *c, struct fork const *except)
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
		b2b_fail_call(c, trunk_status, phrase ? phrase : "Call Failed");
		return;
	}
	if (busy && b2b_redirect(c, "user-busy"))
		return;
	if (busy)
		b2b_fail_call(c, SIP_REPLY(SIP_R_BUSY));
	else if (declined)
		b2b_fail_call(c, SIP_REPLY(SIP_R_DECLINE));
	else if (loop)
		b2b_fail_call(c, loop, sip_status_phrase(loop));
	else
		b2b_fail_call(c, SIP_REPLY(SIP_R_UNAVAILABLE));
}

/*
 * Cisco's lock icon (cisco-protocol.md 7): Call-Info with the call's
 * security, on the INVITE to a phone and on the answers to a calling
 * phone; never toward a provider.
 */
#define CALLINFO "Call-Info: <urn:x-cisco-remotecc:callinfo>;security="
#define TO_CALLER_CALLINFO(c, f, sip)                                                              \
	TAG_IF(strncmp((c)->device, "trunk:", 6),                                                  \
	       SIPTAG_HEADER_STR(su_sprintf((c)->home, CALLINFO "%s",                              \
					    b2b_security((c), (f)->tls, (sip)))))

static int on_b_invite_response(void *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct fork *f = magic;
	struct call *c = f->call;
	b2bua_t *b = c->b;
	int status = sip ? sip->sip_status->st_status : 408;

	if (status < 200) {
		if (status > 100 && c->state == CALL_RINGING && c->irq && f->gen == c->gen &&
		    c->rel100)
			nta_reliable_treply(c->irq, NULL, NULL, status, sip->sip_status->st_phrase,
					    SIPTAG_CONTACT(c->to_caller),
					    SIPTAG_REQUIRE_STR("100rel"), TO_CALLER_CALLINFO(c, f, sip),
					    TAG_IF(sip->sip_payload,
						   SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
					    TAG_IF(sip->sip_payload,
						   SIPTAG_PAYLOAD(b2b_body_toward(c, true, sip))),
					    TAG_END());
		else if (status > 100 && c->state == CALL_RINGING && c->irq && f->gen == c->gen)
			nta_incoming_treply(c->irq, status, sip->sip_status->st_phrase,
					    SIPTAG_CONTACT(c->to_caller), TO_CALLER_CALLINFO(c, f, sip),
					    TAG_IF(sip->sip_payload,
						   SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
					    TAG_IF(sip->sip_payload,
						   SIPTAG_PAYLOAD(b2b_body_toward(c, true, sip))),
					    TAG_END());
		return 0;
	}
	if (status < 300) {
		if (c->winner ? c->winner != f : (f->gen != c->gen || c->state == CALL_ENDED)) {
			/* Another fork answered too, or one replaced by a forward: take it down. */
			nta_leg_rtag(f->leg, sip->sip_to->a_tag);
			nta_leg_client_reroute(f->leg, sip->sip_record_route, sip->sip_contact, 1);
			b2b_send_ack(b, f->leg, sip->sip_cseq->cs_seq, NULL, NULL);
			b2b_send_bye(f->leg, c->to_callee);
			f->status = status;
			return 0;
		}
		if (c->winner) { /* a retransmitted 2xx: ACK it again if the caller has */
			if (!c->b_ack_pending)
				b2b_send_ack(b, f->leg, sip->sip_cseq->cs_seq, NULL, NULL);
			return 0;
		}
		c->winner = f;
		c->b_tls = f->tls;
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
		b2b_cancel_forks(c, f);
		nta_incoming_treply(
			c->irq, status, sip->sip_status->st_phrase, SIPTAG_CONTACT(c->to_caller),
			TO_CALLER_CALLINFO(c, f, sip),
			TAG_IF(sip->sip_session_expires,
			       SIPTAG_SESSION_EXPIRES(sip->sip_session_expires)),
			TAG_IF(sip_has_feature(sip->sip_require, "timer"),
			       SIPTAG_REQUIRE_STR("timer")),
			TAG_IF(sip->sip_payload, SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
			TAG_IF(sip->sip_payload, SIPTAG_PAYLOAD(b2b_body_toward(c, true, sip))),
			TAG_END());
		log_info("call %s %s -> %s answered by %s", c->id, LOGQ(c->caller), LOGQ(c->callee),
			 LOGQ(f->target));
		return 0;
	}
	if ((status == 401 || status == 407) && !f->authed && f->gen == c->gen &&
	    c->state == CALL_RINGING && b2b_answer_challenge(f, orq, sip, status)) {
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
int b2b_on_a_cancel(struct call *c, nta_incoming_t *irq, sip_t const *sip)
{
	(void)irq;
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_ack) {
		b2b_in_dialog(c, true, NULL, sip);
		return 0;
	}
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel &&
	    c->state == CALL_RINGING) {
		b2b_cancel_forks(c, NULL);
		b2b_fail_call(c, SIP_REPLY(SIP_R_TERMINATED));
	}
	return 0;
}

void b2b_on_ring_timeout(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	struct call *c = arg;
	(void)magic, (void)t;
	if (c->state != CALL_RINGING || b2b_redirect(c, "no-answer"))
		return;
	snprintf(c->result, sizeof(c->result), "%s", "no-answer");
	b2b_cancel_forks(c, NULL);
	b2b_fail_call(c, SIP_REPLY(SIP_R_UNAVAILABLE));
}

/* ---- a new call ---- */

/* The INVITE of a B leg (again, with credentials, when auth is given). */
nta_outgoing_t *b2b_send_fork_invite(struct call *c, struct fork *f, sip_t const *inv, tport_t *tp,
				     char const *auth, bool proxy)
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
		TAG_IF(inv->sip_payload, SIPTAG_PAYLOAD(b2b_body_for(c, false, f->tls, inv))),
		TAG_IF(!f->trunk, SIPTAG_HEADER_STR(su_sprintf(home, CALLINFO "%s",
							       b2b_security(c, f->tls, inv)))),
		TAG_IF(!tp && f->trunk && f->tls, NTATAG_TPORT(sip_trunk_tport(c->b->agent))),
		TAG_IF(!tp && f->node, NTATAG_TPORT(sip_node_tport(c->b->agent))),
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
bool b2b_answer_challenge(struct fork *f, nta_outgoing_t *orq, sip_t const *sip, int status)
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
		struct binding const *bd = registrar_bindings(b->reg, c->target);
		while (bd && strcmp(binding_contact(bd), f->target) != 0)
			bd = binding_next(bd);
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
	nta_outgoing_t *norq = b2b_send_fork_invite(c, f, sip_object(req), tp, auth, status == 407);
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
			   c->legs, LOGQ(binding_contact(bd)));
		return -1;
	}
	struct fork *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	c->legs++;
	f->call = c;
	f->gen = c->gen;
	text_copy(f->target, sizeof(f->target), binding_contact(bd));
	char const *display = c->caller_display;
	url_t *me = sip_our_url(b->agent, home, c->caller);
	sip_from_t *from = sip_from_create(home, (url_string_t *)me);
	if (from && display)
		from->a_display = su_sprintf(home, "\"%s\"", display);
	sip_to_t *to = sip_to_create(home, (url_string_t *)sip_our_url(b->agent, home, c->target));
	char *ident = su_sprintf(home, "%s%s%s<%s>", display ? "\"" : "", display ? display : "",
				 display ? "\" " : "", url_as_string(home, me));
	tport_t *tp = registrar_binding_tport(bd);
	f->tls = !strcasecmp(binding_transport(bd), "tls");
	f->node = binding_is_peer(bd);
	if (f->node && !sip_node_tport(b->agent)) {
		log_error("call %s: %s is registered on node %s, but the transport between the "
			  "nodes is not open",
			  c->id, LOGQ(c->target), registrar_peer_node(b->reg));
		free(f);
		c->legs--;
		return -1;
	}
	if (b2b_srtp_blocked(c, f, inv)) {
		free(f);
		c->legs--;
		return -1;
	}

	f->leg = nta_leg_tcreate(b->agent, b2b_on_b_request, f, SIPTAG_FROM(from), SIPTAG_TO(to),
				 SIPTAG_CALL_ID(sip_call_id_create(home, NULL)), TAG_END());
	if (!f->leg || !nta_leg_tag(f->leg, NULL)) {
		log_error("call %s: cannot create the dialog toward %s", c->id, LOGQ(f->target));
		if (f->leg)
			nta_leg_destroy(f->leg);
		free(f);
		return -1;
	}
	f->ident = ident;
	f->orq = b2b_send_fork_invite(c, f, inv, tp, NULL, false);
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
	url_t *u = sip_our_url(c->b->agent, home, line->dn);
	bool named = line->display && line->display[0];
	char *entry = su_sprintf(home, "%s%s%s<%s>;reason=%s;counter=1;privacy=off;screen=yes",
				 named ? "\"" : "", named ? line->display : "", named ? "\" " : "",
				 u ? url_as_string(home, u) : line->dn, reason);
	c->diversion = c->diversion ? su_sprintf(home, "%s, %s", entry, c->diversion) : entry;
	snprintf(c->forwarded, sizeof(c->forwarded), "%s", reason);
	log_info("call %s %s -> %s: %s forwards (%s)", c->id, LOGQ(c->caller), LOGQ(c->callee),
		 line->dn, reason);
}

/*
 * Finds where a call to dn rings, following call forwarding: sets
 * c->target and returns its bindings, or NULL with the refusal in *no.
 */
struct binding const *b2b_resolve(struct call *c, char const *dn, struct refusal *no)
{
	b2bua_t *b = c->b;
	directory_t const *dir = registrar_directory(b->reg);
	char next[33];

	for (;;) {
		struct dir_line const *line = directory_line(dir, dn);
		if (!line) {
			*no = (struct refusal){ SIP_REPLY(SIP_R_NOT_FOUND), "not-found" };
			return NULL;
		}
		for (unsigned i = 0; i < c->hops; i++) {
			if (!strcmp(c->path[i], dn)) {
				*no = (struct refusal){ SIP_REPLY(SIP_R_LOOP), "loop" };
				log_notice("call %s %s -> %s: forwarding loops at %s (482)", c->id,
					   LOGQ(c->caller), LOGQ(c->callee), LOGQ(dn));
				return NULL;
			}
		}
		text_copy(c->path[c->hops], sizeof(c->path[0]), line->dn);
		text_copy(c->target, sizeof(c->target), line->dn);
		char const *fwd = NULL, *reason = NULL;
		struct binding const *bd = NULL;
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
		} else if (!(bd = registrar_bindings(b->reg, line->dn)) &&
			   !(!c->from_peer && (bd = registrar_peer_binding(b->reg, line->dn)))) {
			if (!line->cfwd_noanswer) {
				log_info("call %s %s -> %s: nothing registered (480)", c->id,
					 LOGQ(c->caller), line->dn);
				*no = (struct refusal){ SIP_REPLY(SIP_R_UNAVAILABLE),
							"unavailable" };
				return NULL;
			}
			fwd = line->cfwd_noanswer, reason = "unavailable";
		} else if (b2b_line_calls(b, line->dn, c) >= b->cfg.line_calls) {
			if (!line->cfwd_busy) {
				log_info("call %s %s -> %s: the line has %u call%s (486)", c->id,
					 LOGQ(c->caller), line->dn, b->cfg.line_calls,
					 b->cfg.line_calls == 1 ? "" : "s");
				*no = (struct refusal){ SIP_REPLY(SIP_R_BUSY), "busy" };
				return NULL;
			}
			fwd = line->cfwd_busy, reason = "user-busy";
		}
		if (!fwd)
			return bd;
		if (c->hops >= MAX_HOPS) {
			*no = (struct refusal){ SIP_REPLY(SIP_R_LOOP), "loop" };
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
void b2b_ring_to(struct call *c, struct binding const *bd, sip_t const *inv)
{
	b2bua_t *b = c->b;
	unsigned n = 0, tried = 0;
	for (; bd; bd = binding_next(bd), tried++)
		if (start_fork(c, bd, inv) == 0)
			n++;
	if (!n && c->srtp_refused) {
		snprintf(c->result, sizeof(c->result), "%s", "not-acceptable");
		b2b_fail_call(c, SIP_REPLY(SIP_R_NOT_ACCEPTABLE_HERE));
		return;
	}
	if (!n) {
		b2b_fail_call(c, SIP_REPLY(SIP_R_UNAVAILABLE));
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
		su_timer_set_interval(c->ring_timer, b2b_on_ring_timeout, c, secs * 1000);
	}
}

/*
 * Busy or no answer: the call moves to the target line's forward for that
 * reason (B legs cancelled, new ones forked). false when there is none.
 */
bool b2b_redirect(struct call *c, char const *reason)
{
	struct dir_line const *line = directory_line(registrar_directory(c->b->reg), c->target);
	char const *to = !line				? NULL
			 : !strcmp(reason, "no-answer") ? line->cfwd_noanswer
							: line->cfwd_busy;
	if (!to || !c->irq || c->state != CALL_RINGING)
		return false;
	if (c->hops >= MAX_HOPS) {
		b2b_fail_call(c, SIP_REPLY(SIP_R_LOOP));
		return true;
	}
	char dn[33];
	text_copy(dn, sizeof(dn), to);
	b2b_cancel_forks(c, NULL);
	c->gen++;
	divert(c, line, reason);
	c->hops++;
	struct refusal no;
	struct binding const *bd = b2b_resolve(c, dn, &no);
	if (!bd) {
		snprintf(c->result, sizeof(c->result), "%s", no.result);
		b2b_fail_call(c, no.status, no.phrase);
		return true;
	}
	msg_t *req = nta_incoming_getrequest(c->irq);
	if (!req) {
		b2b_fail_call(c, SIP_REPLY(SIP_R_SERVER_ERROR));
		return true;
	}
	b2b_ring_to(c, bd, sip_object(req));
	msg_destroy(req);
	return true;
}
