/*
 * Requests inside a call's dialogs: each crosses to the other dialog and
 * its answer comes back (re-INVITE with its ACK, BYE, REFER and NOTIFY of a
 * transfer, INFO, UPDATE); and an INVITE with Replaces (attended transfer)
 * that puts a new phone's dialog in place of one side.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "b2bua/internal.h"

#define LOG_TAG "b2bua"

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
	b2b_send_bye(r->replaced, r->from_a ? c->to_caller : c->to_callee);
	retire(c, r->replaced);
	r->replaced = NULL;
	log_info("call %s %s -> %s: %s takes the place of %s (transfer)", c->id, LOGQ(c->caller),
		 LOGQ(c->target), LOGQ(r->by_dn), LOGQ(old_dn));
	/* The call so far ends for the replaced phone; the rest is a call of its own. */
	b2b_cdr_add(c->b, c->id, c->caller, c->device, c->callee, c->target, c->forwarded,
		    c->started, c->answered, "transferred");
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
		TAG_IF(sip && sip->sip_payload, SIPTAG_PAYLOAD(b2b_body_toward(c, r->from_a, sip))),
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
	b2b_relay_free(r);
	return 0;
}

/* The ACK of a re-INVITE's 2xx from its sender: ACK the other side with the same body. */
static void cross_reinvite_ack(struct call *c, sip_t const *ack)
{
	nta_leg_t *other = c->reinvite_from_a ? (c->winner ? c->winner->leg : NULL) : c->a;
	if (other)
		b2b_send_ack(c->b, other, c->reinvite_cseq, ack,
			     b2b_body_toward(c, !c->reinvite_from_a, ack));
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
	url_t *u = sip_our_url(c->b->agent, home, rt->r_url->url_user);
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
		url_t *me = sip_our_url(c->b->agent, home, from_a ? c->caller : c->target);
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
	tport_t *tport = b2b_leg_tport(c->b, to);
	r->orq = nta_outgoing_tcreate(
		to, on_relay_response, r, NULL, m, sip->sip_request->rq_method_name, NULL,
		TAG_IF(contact, SIPTAG_CONTACT(contact)), TAG_IF(tport, NTATAG_TPORT(tport)),
		TAG_IF(rpid, SIPTAG_REMOTE_PARTY_ID_STR(rpid)),
		TAG_IF(ident, SIPTAG_P_ASSERTED_IDENTITY_STR(ident)),
		TAG_IF(refer_to, SIPTAG_REFER_TO(refer_to)),
		TAG_IF(referred_by, SIPTAG_REFERRED_BY(referred_by)),
		TAG_IF(sip->sip_session_expires, SIPTAG_SESSION_EXPIRES(sip->sip_session_expires)),
		TAG_IF(sip->sip_min_se, SIPTAG_MIN_SE(sip->sip_min_se)),
		TAG_IF(sip_has_feature(sip->sip_supported, "timer"), SIPTAG_SUPPORTED_STR("timer")),
		TAG_IF(sip_has_feature(sip->sip_require, "timer"), SIPTAG_REQUIRE_STR("timer")),
		TAG_IF(sip->sip_payload, SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
		TAG_IF(sip->sip_payload, SIPTAG_PAYLOAD(b2b_body_toward(c, !from_a, sip))),
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
int b2b_in_dialog(struct call *c, bool from_a, nta_incoming_t *irq, sip_t const *sip)
{
	b2bua_t *b = c->b;
	nta_leg_t *other = from_a ? (c->winner ? c->winner->leg : NULL) : c->a;
	sip_method_t m = sip->sip_request->rq_method;

	if (m == sip_method_ack) {
		if (from_a && c->b_ack_pending && c->winner) {
			c->b_ack_pending = false;
			b2b_send_ack(b, c->winner->leg, c->b_invite_cseq, sip,
				     b2b_body_toward(c, false, sip));
		} else if (c->reinvite_irq && c->reinvite_from_a == from_a) {
			cross_reinvite_ack(c, sip);
		}
		return 0;
	}
	char unsupported[128];
	if (sip_require_check(sip, unsupported, sizeof(unsupported))) {
		nta_incoming_treply(irq, SIP_REPLY(SIP_R_BAD_EXTENSION),
				    SIPTAG_UNSUPPORTED_STR(unsupported), TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	}
	if (!other || (from_a && c->state != CALL_ANSWERED))
		return 481;
	if (m == sip_method_bye) {
		b2b_send_bye(other, from_a ? c->to_callee : c->to_caller);
		b2b_end_call(c, from_a ? "the caller hung up" : "the callee hung up");
		return 200;
	}
	if (m == sip_method_cancel)
		return 481;
	if (m == sip_method_refer && !refer_target(c, sip->sip_refer_to)) {
		/* Not a transfer (a Cisco remotecc request in the dialog): taken, as outside. */
		log_info("call %s: REFER to %s from the %s accepted, not a transfer", c->id,
			 LOGQ(sip->sip_refer_to ? sip->sip_refer_to->r_url->url_scheme : NULL),
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

int b2b_on_a_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	(void)leg;
	return b2b_in_dialog(magic, true, irq, sip);
}

int b2b_on_b_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	struct fork *f = magic;
	(void)leg;
	if (f->call->winner != f)
		return 481;
	return b2b_in_dialog(f->call, false, irq, sip);
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
	/* The leg's own callback names its call: no walk through the calls. */
	struct call *c = nta_leg_magic(leg, b2b_on_a_request);
	if (c && c->a == leg) {
		*a_side = true;
		return c;
	}
	struct fork *f = nta_leg_magic(leg, b2b_on_b_request);
	if (f && f->call->winner == f && f->leg == leg) {
		*a_side = false;
		return f->call;
	}
	return NULL;
}

/*
 * A phone takes the place of one side of an answered call (RFC 3891): its
 * INVITE becomes a re-INVITE to the other side, and when that is answered
 * the replaced phone is hung up. Only answered calls whose other side is
 * not in the middle of another INVITE can be taken over.
 */
void b2b_replace_dialog(b2bua_t *b, msg_t *msg, sip_t *sip, struct dir_device const *who,
			struct dir_line const *line)
{
	bool a_side = false;
	struct call *c = replaced_call(b, sip->sip_replaces, &a_side);
	if (!c || c->state != CALL_ANSWERED || !c->winner) {
		log_info("%s (line %s): INVITE with Replaces for call-id %s: no such answered "
			 "call (481)",
			 who->name, line->dn, LOGQ(sip->sip_replaces->rp_call_id));
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_NO_TRANSACTION), TAG_END());
		return;
	}
	for (struct relay const *r = c->relays; r; r = r->next) {
		if (r->invite) {
			nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_PENDING), TAG_END());
			return;
		}
	}
	if (c->b_ack_pending || c->reinvite_irq) {
		nta_msg_treply(b->agent, msg, SIP_REPLY(SIP_R_PENDING), TAG_END());
		return;
	}
	nta_leg_t **side = side_leg(c, a_side);
	nta_leg_t *other = *side_leg(c, !a_side);
	nta_leg_t *fresh;
	nta_incoming_t *irq;
	char contact[256];
	text_copy(contact, sizeof(contact),
		  sip->sip_contact ? url_as_string(c->home, sip->sip_contact->m_url) : "");
	if (sip_server_dialog(b->agent, msg, sip, a_side ? b2b_on_a_request : b2b_on_b_request,
			      a_side ? (void *)c : (void *)c->winner, &fresh, &irq) < 0)
		return;
	nta_incoming_treply(irq, SIP_REPLY(SIP_R_TRYING), TAG_END());

	/* The other side hears of its new party in the re-INVITE. */
	su_home_t *home = c->home;
	bool named = line->display && line->display[0];
	url_t *me = sip_our_url(b->agent, home, line->dn);
	char *ident =
		me ? su_sprintf(home, "%s%s%s<%s>", named ? "\"" : "", named ? line->display : "",
				named ? "\" " : "", url_as_string(home, me))
		   : NULL;
	nta_leg_t *old = *side;
	*side = fresh;
	sip_contact_t *toward = sip_our_contact(b->agent, home, line->dn);
	struct relay *r = relay_start(c, a_side, other, irq, sip, toward, ident);
	if (!r) {
		*side = old;
		retire(c, fresh);
		nta_incoming_treply(irq, SIP_REPLY(SIP_R_SERVER_ERROR), TAG_END());
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
