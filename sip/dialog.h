/*
 * Helpers for the dialogs sipregd answers: the server side of a dialog
 * made from an INVITE. Used by the calls (b2bua/) and the Cisco service
 * requests (cisco/service.c).
 *
 * Thread: SIP.
 */
#ifndef SIPREG_SIP_DIALOG_H
#define SIPREG_SIP_DIALOG_H

#include <sofia-sip/nta.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/sip.h>

/*
 * A dialog with the sender of an INVITE (our tag on it; requests on it go to
 * cb with magic) and the INVITE's server transaction, over the connection
 * the INVITE came on. -1 when either cannot be made: 500 answered, msg
 * consumed, nothing left behind.
 */
int sip_server_dialog(nta_agent_t *agent, msg_t *msg, sip_t *sip,
		      int (*cb)(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip),
		      void *magic, nta_leg_t **leg, nta_incoming_t **irq);

/*
 * "sip:USER@HOSTPORT;PARAMS" (no user part for a NULL user, no parameters for
 * NULL params) with USER written as a URI's user part must be: escapes it
 * came with read first, then '#', '%', ':', '@', spaces and controls
 * escaped, so a dialled "*67#" becomes "*67%23". NULL when out of memory.
 */
char *sip_uri(su_home_t *home, char const *user, char const *hostport, char const *params);

/* Our address (for Contact, From): the first listener's URI, with user (or none). */
url_t *sip_our_url(nta_agent_t *agent, su_home_t *home, char const *user);
sip_contact_t *sip_our_contact(nta_agent_t *agent, su_home_t *home, char const *user);

/*
 * The ident of sipregd's TLS transport toward trunks (TPTAG_IDENT): every
 * request to a TLS trunk is sent by it (NTATAG_TPORT(sip_trunk_tport())),
 * so it leaves by the transport that verifies the provider's certificate.
 */
#define SIP_TRUNK_TLS "trunks"
/*
 * The ident of every other transport. sofia compares a request's ident
 * with each transport's without checking that it has one: none may lack it.
 */
#define SIP_PHONES "sip"

/* That transport, or NULL when there is none. */
tport_t *sip_trunk_tport(nta_agent_t *agent);
/* The transport named ident (TPTAG_IDENT), or NULL. */
tport_t *sip_tport_by_ident(nta_agent_t *agent, char const *ident);

#endif
