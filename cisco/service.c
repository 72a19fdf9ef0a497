/*
 * Cisco service URIs (see cisco/service.h). Each request is a small dialog
 * of its own: the INVITE's server transaction, our answer, the phone's ACK
 * and our BYE; 32 s without an ACK end it too. Freed from a timer, never
 * inside one of the dialog's own callbacks.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct service;
#define NTA_LEG_MAGIC_T void
#define SU_TIMER_ARG_T	void

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sdp.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_wait.h>

#include "b2bua/sdp_origin.h"
#include "cisco/service.h"
#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/thread.h"
#include "sip/dialog.h"
#include "sip/grammar.h"
#include "sip/reply.h"

#define LOG_TAG "cisco"

/* How long an answered request waits for its ACK (64*T1). */
#define ACK_WAIT_MS 32000

struct service {
	struct service *next;
	cisco_services_t *owner;
	su_home_t *home;
	nta_leg_t *leg;
	nta_incoming_t *irq; /* the INVITE's, until the dialog ends */
	su_timer_t *timer;
	sip_contact_t *contact;
	bool done;
	char who[80], dn[33], what[40];
};

struct cisco_services {
	su_root_t *root;
	nta_agent_t *agent;
	cisco_change_f change;
	void *arg;
	struct service *list;
	size_t n;
	su_timer_t *reaper;
};

int cisco_services_create(cisco_services_t **out, su_root_t *root, nta_agent_t *agent,
			  cisco_change_f change, void *arg)
{
	cisco_services_t *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	*s = (cisco_services_t){ .root = root, .agent = agent, .change = change, .arg = arg };
	if (!(s->reaper = su_timer_create(su_root_task(root), 1))) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static void service_free(struct service *v)
{
	cisco_services_t *s = v->owner;
	for (struct service **pp = &s->list; *pp; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			s->n--;
			break;
		}
	}
	if (v->timer)
		su_timer_destroy(v->timer);
	if (v->irq)
		nta_incoming_destroy(v->irq);
	if (v->leg)
		nta_leg_destroy(v->leg);
	su_home_unref(v->home);
	free(v);
}

void cisco_services_destroy(cisco_services_t *s)
{
	if (!s)
		return;
	while (s->list)
		service_free(s->list);
	su_timer_destroy(s->reaper);
	free(s);
}

static void reap(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	cisco_services_t *s = arg;
	(void)magic, (void)t;
	for (struct service *v = s->list, *next; v; v = next) {
		next = v->next;
		if (v->done)
			service_free(v);
	}
}

/* Ends the request: a BYE when we hang up, then freed from the reaper. */
static void finish(struct service *v, bool hang_up, char const *why)
{
	if (v->done)
		return;
	v->done = true;
	if (hang_up) {
		nta_outgoing_t *orq =
			nta_outgoing_tcreate(v->leg, NULL, NULL, NULL, SIP_METHOD_BYE, NULL,
					     SIPTAG_CONTACT(v->contact), TAG_END());
		if (orq)
			nta_outgoing_destroy(orq);
	}
	log_info("%s (line %s): %s done: %s", v->who, v->dn, v->what, why);
	su_timer_set(v->owner->reaper, reap, v->owner);
}

static void on_timeout(su_root_magic_t *magic, su_timer_t *t, void *arg)
{
	(void)magic, (void)t;
	finish(arg, true, "no ACK");
}

/* Requests in the dialog: ACK (we hang up), BYE (the phone did), nothing else. */
static int on_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	struct service *v = magic;
	(void)leg;
	ASSERT_THREAD(SIP);
	sip_method_t m = sip->sip_request->rq_method;
	if (m == sip_method_ack) {
		finish(v, true, "answered and hung up");
		return 0;
	}
	char unsupported[128];
	if (sip_require_check(sip, unsupported, sizeof(unsupported)) != SIP_R_NONE) {
		nta_incoming_treply(irq, SIP_REPLY(SIP_R_BAD_EXTENSION),
				    SIPTAG_UNSUPPORTED_STR(unsupported), TAG_END());
		nta_incoming_destroy(irq);
		return 0;
	}
	if (m == sip_method_bye) {
		finish(v, false, "the phone hung up");
		return 200;
	}
	return 481;
}

/*
 * An answer that declines every stream of the offer (port 0, RFC 3264 6),
 * or a bare audio stream when the INVITE had no description.
 */
static char *declining_sdp(su_home_t *home, sip_t const *inv, char const *host)
{
	char *out = su_sprintf(home,
			       "v=0\r\no=sipreg %lu 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n",
			       (unsigned long)time(NULL), host, host);
	unsigned streams = 0;
	sip_payload_t const *pl = inv->sip_payload;
	sdp_parser_t *p = pl && pl->pl_data ? sdp_parse_checked(home, pl->pl_data, pl->pl_len) : NULL;
	sdp_session_t const *sdp = p ? sdp_session(p) : NULL;
	for (sdp_media_t const *m = sdp ? sdp->sdp_media : NULL; m && out; m = m->m_next) {
		char const *fmt = m->m_rtpmaps ? NULL : m->m_format ? m->m_format->l_text : NULL;
		if (!m->m_type_name || !m->m_proto_name || (!m->m_rtpmaps && !fmt))
			continue;
		if (m->m_rtpmaps)
			out = su_sprintf(home, "%sm=%s 0 %s %u\r\n", out, m->m_type_name,
					 m->m_proto_name, m->m_rtpmaps->rm_pt);
		else
			out = su_sprintf(home, "%sm=%s 0 %s %s\r\n", out, m->m_type_name,
					 m->m_proto_name, fmt);
		streams++;
	}
	if (p)
		sdp_parser_free(p);
	if (out && !streams)
		out = su_sprintf(home, "%sm=audio 0 RTP/AVP 0\r\n", out);
	return out;
}

/* x-cisco-serviceuri-cfwdall[-TARGET]: the target, "" to clear; false when refused. */
static bool cfwdall_target(char const *service, char const *dn, char *target, size_t n)
{
	target[0] = '\0';
	if (!service[7])
		return true;
	char const *t = service + 8;
	size_t len = strspn(t, "0123456789*#+");
	if (!t[0] || t[len] || len >= n || !strcmp(t, dn))
		return false;
	text_copy(target, n, t);
	return true;
}

void cisco_service_invite(cisco_services_t *s, msg_t *msg, sip_t *sip, struct dir_device const *who,
			  struct dir_line const *line, char const *service)
{
	ASSERT_THREAD(SIP);
	char target[33] = "";
	bool cfwdall = !strncasecmp(service, "cfwdall", 7) && (!service[7] || service[7] == '-');
	if (cfwdall && !cfwdall_target(service, line->dn, target, sizeof(target))) {
		log_info("%s (line %s): call forward all to %s refused (503)", who->name, line->dn,
			 LOGQ(service + 8));
		nta_msg_treply(s->agent, msg, SIP_REPLY(SIP_R_SERVICE_UNAVAILABLE), TAG_END());
		return;
	}
	if (!cfwdall || !s->change) {
		log_info("%s (line %s): feature x-cisco-serviceuri-%s is not available (503)",
			 who->name, line->dn, LOGQ(service));
		nta_msg_treply(s->agent, msg, SIP_REPLY(SIP_R_SERVICE_UNAVAILABLE), TAG_END());
		return;
	}
	struct store_line_features f = {
		.dn = line->dn,
		.dnd = -1,
		.cfwd_all = target[0] ? target : "off",
		.noanswer_timeout = -1,
	};
	s->change(&f, s->arg);
	log_notice("%s (line %s): call forward all %s%s by the phone", who->name, line->dn,
		   target[0] ? "to " : "off", LOGQ(target));

	/* Answered and hung up, as a feature code would be. */
	struct service *v = calloc(1, sizeof(*v));
	if (!v || !(v->home = su_home_new(sizeof(*v->home)))) {
		free(v);
		nta_msg_treply(s->agent, msg, SIP_REPLY(SIP_R_SERVER_ERROR), TAG_END());
		return;
	}
	v->owner = s;
	text_copy(v->who, sizeof(v->who), who->name);
	text_copy(v->dn, sizeof(v->dn), line->dn);
	text_copy(v->what, sizeof(v->what), "call forward all");
	v->contact = sip_our_contact(s->agent, v->home, NULL);
	v->next = s->list;
	s->list = v;
	s->n++;
	if (sip_server_dialog(s->agent, msg, sip, on_request, v, &v->leg, &v->irq) < 0) {
		service_free(v);
		return;
	}
	sip_contact_t const *m = nta_agent_contact(s->agent);
	char const *host = m && m->m_url->url_host ? m->m_url->url_host : "127.0.0.1";
	nta_incoming_treply(v->irq, SIP_REPLY(SIP_R_OK), SIPTAG_CONTACT(v->contact),
			    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(declining_sdp(v->home, sip, host)), TAG_END());
	v->timer = su_timer_create(su_root_task(s->root), ACK_WAIT_MS);
	if (v->timer)
		su_timer_set(v->timer, on_timeout, v);
}
