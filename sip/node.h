/*
 * SIP between the two nodes of a pair: a TLS transport of its own on which
 * both sides show a certificate of the pair's CA (the node certificates of
 * the node link), so a request that arrives on it is known to come from
 * the other node by its verified certificate, never by a header.
 *
 * Thread: SIP.
 */
#ifndef SIPREG_SIP_NODE_H
#define SIPREG_SIP_NODE_H

#include <stdbool.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/tport.h>

/* The ident of that transport (TPTAG_IDENT); see sip/dialog.h for the others. */
#define SIP_NODE "node"

/*
 * Opens the transport on host:port (port 0: any free port) with the key,
 * certificate and CA in dir (agent.pem, cafile.pem). Returns the port it
 * listens on (that of the one already open, if any), or -1.
 */
int sip_node_open(nta_agent_t *agent, char const *dir, char const *host, unsigned port);

/* That transport, or NULL when it is not open. */
tport_t *sip_node_tport(nta_agent_t *agent);

/*
 * True when msg arrived over that transport from a peer whose certificate
 * was verified against the pair's CA and names node (its common name).
 */
bool sip_node_sent(nta_agent_t *agent, msg_t *msg, char const *node);

#endif
