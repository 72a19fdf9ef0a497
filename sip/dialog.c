/*
 * The server side of a dialog made from an INVITE (see sip/dialog.h): one
 * place for what the calls and the Cisco service requests both need.
 */
#include "autoconfig.h"

#define NTA_LEG_MAGIC_T void

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/tport.h>

#include "sip/dialog.h"
#include "sip/reply.h"

int sip_server_dialog(nta_agent_t *agent, msg_t *msg, sip_t *sip,
		      int (*cb)(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip),
		      void *magic, nta_leg_t **leg, nta_incoming_t **irq)
{
	tport_t *tp = tport_delivered_by(nta_agent_tports(agent), msg);
	*irq = NULL;
	*leg = nta_leg_tcreate(agent, cb, magic, SIPTAG_CALL_ID(sip->sip_call_id),
			       SIPTAG_FROM(sip->sip_to), SIPTAG_TO(sip->sip_from),
			       NTATAG_REMOTE_CSEQ(sip->sip_cseq->cs_seq), TAG_END());
	if (!*leg || !nta_leg_tag(*leg, NULL) ||
	    nta_leg_server_route(*leg, sip->sip_record_route, sip->sip_contact) < 0 ||
	    !(*irq = nta_incoming_create(agent, *leg, msg, sip, TAG_IF(tp, NTATAG_TPORT(tp)),
					 TAG_END()))) {
		nta_msg_treply(agent, msg, SIP_REPLY(SIP_R_SERVER_ERROR), TAG_END());
		if (*leg)
			nta_leg_destroy(*leg);
		*leg = NULL;
		return -1;
	}
	nta_incoming_tag(*irq, nta_leg_get_tag(*leg));
	return 0;
}

char *sip_uri(su_home_t *home, char const *user, char const *hostport, char const *params)
{
	char *esc = NULL;
	if (user) {
		char *raw = su_strdup(home, user);
		if (!raw)
			return NULL;
		url_unescape(raw, raw);
		esc = su_alloc(home, (size_t)url_esclen(raw, ":@") + 1);
		if (!esc)
			return NULL;
		url_escape(esc, raw, ":@");
		su_free(home, raw);
	}
	char *uri = su_sprintf(home, "sip:%s%s%s%s%s", esc ? esc : "", esc ? "@" : "", hostport,
			       params ? ";" : "", params ? params : "");
	su_free(home, esc);
	return uri;
}

url_t *sip_our_url(nta_agent_t *agent, su_home_t *home, char const *user)
{
	sip_contact_t const *m = nta_agent_contact(agent);
	url_t *u = m ? url_hdup(home, m->m_url) : NULL;
	if (u) {
		u->url_user = user ? su_strdup(home, user) : NULL;
		u->url_params = NULL;
	}
	return u;
}

sip_contact_t *sip_our_contact(nta_agent_t *agent, su_home_t *home, char const *user)
{
	url_t *u = sip_our_url(agent, home, user);
	return u ? sip_contact_create(home, (url_string_t *)u, NULL) : NULL;
}

tport_t *sip_tport_by_ident(nta_agent_t *agent, char const *ident)
{
	/* By hand: sofia's lookup by ident compares it with primaries that have none. */
	for (tport_t *tp = tport_primaries(nta_agent_tports(agent)); tp; tp = tport_next(tp)) {
		char const *id = tport_ident(tp);
		if (id && !strcmp(id, ident))
			return tp;
	}
	return NULL;
}

tport_t *sip_trunk_tport(nta_agent_t *agent)
{
	return sip_tport_by_ident(agent, SIP_TRUNK_TLS);
}
