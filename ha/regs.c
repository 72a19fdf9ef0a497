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

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "ha/internal.h"
#include "tls/tls.h"

#define LOG_TAG "ha"

#define REGS_MAX 100000 /* lines in one message */

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
	char err[256], host[CONFIG_HOST_MAX];
	unsigned port;
	if (tls_node_sip_dir(ha->tls_dir, err, sizeof(err)) < 0) {
		log_warning("no SIP between the nodes: %s", err);
		return;
	}
	char dir[1100];
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

void ha_local_regs(ha_t *ha, struct registrar_peer_reg *regs, size_t n, bool full, char const *host,
		   int port)
{
	if (full && ha->link)
		ha->regs_synced = true;
	if (!ha->link || !ha->regs_synced) { /* the next whole list says it all */
		free(regs);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("[s, s, I]", regs[i].dn, regs[i].device,
						     (json_int_t)regs[i].expires_at));
	free(regs);
	json_t *o = json_pack("{s:b, s:o}", "full", full, "regs", arr);
	if (full) {
		json_object_set_new(o, "host", json_string(host ? host : ""));
		json_object_set_new(o, "port", json_integer(port > 0 ? port : 0));
	}
	link_send_json(ha->link, HA_REGS, o);
}

/* The peer's address as this link sees it (no port). */
static void link_peer_host(struct ha_conn *c, char *out, size_t n)
{
	if (c->outbound)
		snprintf(out, n, "%s", c->ha->cfg.ha_peer.host);
	else
		snprintf(out, n, "%s", c->addr);
}

static bool any_address(char const *h)
{
	return !h[0] || !strcmp(h, "0.0.0.0") || !strcmp(h, "::");
}

void regs_frame(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	json_error_t je;
	json_t *o = json_loadb((char const *)f->body, f->len, JSON_REJECT_DUPLICATES, &je);
	json_t *arr = json_object_get(o, "regs");
	json_t *full = json_object_get(o, "full");
	size_t n = json_array_size(arr);
	if (!json_is_object(o) || !json_is_array(arr) || !json_is_boolean(full) || n > REGS_MAX) {
		json_decref(o);
		link_close(c, "a malformed list of registrations");
		return;
	}
	struct registrar_peer_reg *regs = calloc(n ? n : 1, sizeof(*regs));
	if (!regs) {
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		char const *dn = json_string_value(json_array_get(e, 0));
		char const *dev = json_string_value(json_array_get(e, 1));
		json_t *at = json_array_get(e, 2);
		if (!json_is_array(e) || json_array_size(e) != 3 || !dn || !dev ||
		    !json_is_integer(at) || strlen(dn) >= sizeof(regs[i].dn) ||
		    strlen(dev) >= sizeof(regs[i].device) || json_integer_value(at) < 0) {
			free(regs);
			json_decref(o);
			link_close(c, "a malformed registration");
			return;
		}
		text_copy(regs[i].dn, sizeof(regs[i].dn), dn);
		text_copy(regs[i].device, sizeof(regs[i].device), dev);
		regs[i].expires_at = (long long)json_integer_value(at);
	}
	char host[CONFIG_HOST_MAX] = "";
	int port = -1; /* unchanged */
	if (json_is_true(full)) {
		char const *h = json_string_value(json_object_get(o, "host"));
		json_int_t p = json_integer_value(json_object_get(o, "port"));
		port = p > 0 && p < 65536 ? (int)p : 0;
		if (h && !any_address(h) && strlen(h) < sizeof(host) &&
		    strspn(h, "0123456789abcdefABCDEF.:") == strlen(h))
			snprintf(host, sizeof(host), "%s", h);
		else
			link_peer_host(c, host, sizeof(host));
	}
	json_decref(o);
	if (ha->sip.peer_regs)
		ha->sip.peer_regs(ha->sip.arg, ha->node, c->peer.node, host, port, regs, n,
				  json_is_true(full) ? true : false);
	else
		free(regs);
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
