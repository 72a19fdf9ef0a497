/*
 * What the two nodes tell each other besides the database: which lines are
 * registered on each (so a call to a line registered on the other node goes
 * there, over the SIP transport between the nodes whose port rides along),
 * and, on the backup, when to register the trunks: only once the primary
 * has been out of reach for [ha] trunk_takeover seconds, and no longer once
 * it is back. Registrations are not in the database: they are sent whole
 * when the link comes up, then as they change.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "ha/internal.h"
#include "tls/tls.h"

#define LOG_TAG "ha"

void ha_set_sip(ha_t *ha, struct ha_sip_hooks const *h)
{
	if (ha)
		ha->sip = *h;
}

/* Where this node's SIP transport for the other node listens: [ha] sip_listen, or a guess. */
static void node_sip_listen(ha_t *ha, char *host, size_t n, unsigned *port)
{
	struct config const *cfg = &ha->cfg;
	*port = cfg->ha_sip.port;
	if (cfg->ha_sip.host[0])
		snprintf(host, n, "%s", cfg->ha_sip.host);
	else if (cfg->ha_listen.port && cfg->ha_listen.host[0])
		snprintf(host, n, "%s", cfg->ha_listen.host);
	else
		snprintf(host, n, "%s", cfg->n_listen ? cfg->listen[0].host : "0.0.0.0");
}

void regs_link_up(ha_t *ha)
{
	ha->regs_synced = false;
	ha->link_lost_at = 0;
	if (!ha->sip.dump)
		return;
	char err[256], host[CONFIG_HOST_MAX], dir[1100] = "";
	unsigned port;
	/* Without its transport the lines are still told: the other node then calls none of them. */
	if (tls_node_sip_dir(ha->tls_dir, err, sizeof(err)) < 0)
		log_warning("no SIP between the nodes: %s", err);
	else
		snprintf(dir, sizeof(dir), "%s/" TLS_NODE_SIP, ha->tls_dir);
	node_sip_listen(ha, host, sizeof(host), &port);
	ha->sip.dump(ha->sip.arg, dir, host, port);
}

void regs_link_down(ha_t *ha)
{
	ha->regs_synced = false;
	ha->link_lost_at = time(NULL);
	if (ha->sip.peer_gone)
		ha->sip.peer_gone(ha->sip.arg);
}

void ha_local_regs(ha_t *ha, struct registrar_peer_reg *regs, size_t n, bool full,
		   char const *host, int port)
{
	if (full && ha->link)
		ha->regs_synced = true;
	if (!ha->link || !ha->regs_synced) { /* the next whole list says it all */
		free(regs);
		return;
	}
	struct ha_regs r = { .full = full, .port = port, .regs = regs, .n = n };
	snprintf(r.host, sizeof(r.host), "%s", host ? host : "");
	char *text = ha_regs_encode(&r);
	free(regs);
	if (text)
		link_send(ha->link, HA_REGS, text, strlen(text));
	free(text);
}

static bool any_address(char const *h)
{
	return !h[0] || !strcmp(h, "0.0.0.0") || !strcmp(h, "::");
}

void regs_frame(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	if (c != ha->link)
		return; /* only the link in use speaks for the other node */
	struct ha_regs r;
	char why[160];
	if (ha_regs_decode((char const *)f->body, f->len, &r, why, sizeof(why)) < 0) {
		log_warning("node %s: %s; link closed", c->peer.node, why);
		link_close(c, why);
		return;
	}
	/* A node transport on every address is reached where the link reaches the node. */
	if (r.full && any_address(r.host))
		snprintf(r.host, sizeof(r.host), "%s",
			 c->outbound ? ha->cfg.ha_peer.host : c->addr);
	if (ha->sip.peer_regs)
		ha->sip.peer_regs(ha->sip.arg, ha->node, c->peer.node, r.host, r.port, r.regs,
				  r.n, r.full);
	else
		free(r.regs);
}

/* ---- the trunks ---- */

static void trunks_set(ha_t *ha, int standby, char const *why)
{
	if (ha->trunks_standby == standby || !ha->sip.trunks)
		return;
	ha->trunks_standby = standby;
	log_notice("trunks: %s", why);
	ha->sip.trunks(ha->sip.arg, standby != 0);
}

bool ha_trunks_held(ha_t const *ha)
{
	return ha && (ha->role == ROLE_BACKUP || ha->role == ROLE_DEMOTED);
}

void regs_tick(ha_t *ha)
{
	if (ha->role == ROLE_DEMOTED) {
		trunks_set(ha, 1, "this node stood down: the trunks are the primary's");
		return;
	}
	if (ha->role == ROLE_BACKUP && !ha->peer_fp[0]) {
		trunks_set(ha, 1, "this backup has not joined a primary yet: no trunk registers");
		return;
	}
	if (ha->role != ROLE_BACKUP) {
		trunks_set(ha, 0, "this node is the primary: it registers the trunks");
		return;
	}
	if (ha->link) {
		trunks_set(ha, 1, "the primary is reachable: it registers the trunks");
		return;
	}
	time_t now = time(NULL);
	if (!ha->link_lost_at)
		ha->link_lost_at = now;
	unsigned wait = ha->cfg.ha_trunk_takeover;
	if (now - ha->link_lost_at >= (time_t)wait) {
		char why[160];
		snprintf(why, sizeof(why),
			 "the primary has been out of reach for %u s ([ha] trunk_takeover): this "
			 "backup registers them",
			 wait);
		trunks_set(ha, 0, why);
	}
}
