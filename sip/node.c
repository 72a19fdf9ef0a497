/*
 * The TLS transport between the two nodes of a pair (see sip/node.h). It
 * exists so that a call to a line registered on the other node can go
 * there over a connection that proves who is at the other end: sofia
 * verifies the peer's certificate in both directions (TPTLS_VERIFY_ALL)
 * against the pair's CA alone, and the request is then taken as the peer's
 * only when that verified certificate carries the peer's node name.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_strlst.h>
#include <sofia-sip/tport_tag.h>

#include "sip/dialog.h"
#include "sip/node.h"

tport_t *sip_node_tport(nta_agent_t *agent)
{
	return sip_tport_by_ident(agent, SIP_NODE);
}

static int port_of(tport_t *tp)
{
	tp_name_t const *n = tport_name(tp);
	return n && n->tpn_port ? atoi(n->tpn_port) : -1;
}

int sip_node_open(nta_agent_t *agent, char const *dir, char const *host, unsigned port)
{
	tport_t *tp = sip_node_tport(agent);
	if (tp)
		return port_of(tp);
	char url[160];
	char const *u = url;
	snprintf(url, sizeof(url),
		 strchr(host, ':') ? "sips:[%s]:%u;transport=tls" : "sips:%s:%u;transport=tls",
		 host, port);
	if (nta_agent_add_tport(agent, URL_STRING_MAKE(u), TPTAG_IDENT(SIP_NODE),
				TPTAG_CERTIFICATE(dir), TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_ALL),
				TPTAG_TLS_VERIFY_DATE(1), TAG_END()) < 0)
		return -1;
	tp = sip_node_tport(agent);
	return tp ? port_of(tp) : -1;
}

bool sip_node_sent(nta_agent_t *agent, msg_t *msg, char const *node)
{
	if (!node || !node[0])
		return false;
	tport_t *tp = tport_delivered_by(nta_agent_tports(agent), msg);
	tport_t *node_tp = sip_node_tport(agent);
	if (!tp || !node_tp || tport_parent(tp) != node_tp || !tport_is_verified(tp))
		return false;
	su_strlst_t const *subjects = tport_delivered_from_subjects(tp, msg);
	for (usize_t i = 0; subjects && i < su_strlst_len(subjects); i++) {
		char const *s = su_strlst_item(subjects, i);
		if (s && !strcmp(s, node))
			return true;
	}
	return false;
}
