/*
 * The node: the role this start runs with (kept in the store once a join
 * or a promotion set it; [ha] role only names the first one), its start
 * and stop, what it refuses, its status, and promotion. The link, the
 * protocol and joining live in link.c, node.c and join.c.
 */
#include "autoconfig.h"

#include "ha/internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "tls/tls.h"

#define LOG_TAG "ha"

/*
 * What changes call handling after a failover, fingerprinted: the realm,
 * [dialplan], [security] and [calls]. Config files are not replicated;
 * the nodes compare this.
 */
static void config_fingerprint(struct config const *c, char *out, size_t len)
{
	char text[2048];
	uint8_t md[32];
	unsigned n = sizeof(md);
	int k = snprintf(text, sizeof(text),
			 "realm=%s\nemergency=%s\nrestricted=%s\nban_failures=%u\nban_window=%u\n"
			 "ban_time=%u\nban_exempt=%s\nring_timeout=%u\nline_calls=%u\n"
			 "max_forks=%u\ndnd_response=%u\n",
			 c->realm, c->emergency, c->restricted, c->ban_failures, c->ban_window,
			 c->ban_time, c->ban_exempt, c->ring_timeout, c->line_calls, c->max_forks,
			 c->dnd_response);
	EVP_Digest(text, (size_t)(k < (int)sizeof(text) ? k : (int)sizeof(text) - 1), md, &n,
		   EVP_sha256(), NULL);
	char hex[65];
	text_hex(hex, md, sizeof(md));
	snprintf(out, len, "%.16s", hex);
}

static enum ha_role role_named(char const *s)
{
	if (!strcmp(s, "primary"))
		return ROLE_PRIMARY;
	if (!strcmp(s, "backup"))
		return ROLE_BACKUP;
	if (!strcmp(s, "demoted"))
		return ROLE_DEMOTED;
	return ROLE_STANDALONE;
}

int ha_create(ha_t **out, struct config const *cfg, char const *node, store_t *store,
	      char const *store_path, char *err, size_t errlen)
{
	char v[HA_FP_MAX + 8];
	struct store_err e = { 0 };
	*out = NULL;
	if (cfg->ha_role == HA_ROLE_STANDALONE) {
		if (store_replica_get(store, "role", v, sizeof(v)) && strcmp(v, "standalone"))
			log_warning(
				"[ha] role = standalone: this node was the %s of a pair and now "
				"runs alone (no link, no replication)",
				v);
		return store_replica_mode(store, REPLICA_OFF, node, &e) < 0 ? -1 : 0;
	}
	if (cfg->ha_role == HA_ROLE_PRIMARY && !cfg->ha_listen.port) {
		snprintf(err, errlen, "[ha] role = primary needs [ha] listen (host:port)");
		return -1;
	}
	if (cfg->ha_role == HA_ROLE_BACKUP && !cfg->ha_peer.port) {
		snprintf(err, errlen,
			 "[ha] role = backup needs [ha] peer (the primary's host:port)");
		return -1;
	}
	ha_t *ha = calloc(1, sizeof(*ha));
	if (!ha) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ha->cfg = *cfg;
	snprintf(ha->node, sizeof(ha->node), "%s", node);
	snprintf(ha->tls_dir, sizeof(ha->tls_dir), "%s", cfg->tls_dir);
	snprintf(ha->store_path, sizeof(ha->store_path), "%s", store_path);
	ha->schema = store_schema_version(store);
	config_fingerprint(cfg, ha->config_fp, sizeof(ha->config_fp));
	store_replica_key(store, ha->data_key);

	/* The stored role wins over [ha] role once a join or a promotion set it. */
	enum ha_role want = cfg->ha_role == HA_ROLE_PRIMARY ? ROLE_PRIMARY : ROLE_BACKUP;
	ha->role = store_replica_get(store, "role", v, sizeof(v)) ? role_named(v) : want;
	if (ha->role == ROLE_STANDALONE)
		ha->role = want;
	static char const *const now[] = { "", "the primary", "the backup", "stood down" };
	if (ha->role != want)
		log_warning("[ha] role = %s, but this node is %s since a join, a promotion or a "
			    "stand-down (sipregctl ha status)",
			    want == ROLE_PRIMARY ? "primary" : "backup", now[ha->role]);
	ha->epoch = store_replica_get(store, "epoch", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	if (ha->role == ROLE_PRIMARY && !ha->epoch)
		ha->epoch = 1;
	if (store_replica_get(store, "peer_fp", ha->peer_fp, sizeof(ha->peer_fp)))
		store_replica_get(store, "peer_node", ha->peer_node, sizeof(ha->peer_node));
	ha->applied = store_replica_get(store, "applied", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	ha->received = ha->applied;
	ha->need_snapshot =
		store_replica_get(store, "need_snapshot", v, sizeof(v)) && !strcmp(v, "1");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ha->epoch);
	if (store_replica_set(store, "role", node_role_name(ha->role), &e) < 0 ||
	    store_replica_set(store, "epoch", v, &e) < 0 ||
	    store_replica_mode(store,
			       ha->role == ROLE_PRIMARY	 ? REPLICA_SOURCE
			       : ha->role == ROLE_BACKUP ? REPLICA_UPSTREAM
							 : REPLICA_OFF,
			       node, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		ha_destroy(ha);
		return -1;
	}
	uint64_t oldest;
	store_replica_journal_span(store, &ha->head, &oldest);
	if (ha->role == ROLE_DEMOTED)
		snprintf(ha->note, sizeof(ha->note),
			 "this node stood down when a promoted peer was found: it refuses "
			 "administrative changes until sipregctl ha join makes it a backup");
	else if (ha->role == ROLE_BACKUP && !ha->peer_fp[0])
		snprintf(ha->note, sizeof(ha->note),
			 "not joined yet: run sipregctl ha invite on the primary, then sipregctl "
			 "ha join TOKEN here");
	ha->trunks_standby = ha_trunks_held(ha) ? 1 : 0;
	*out = ha;
	return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	ha_t *ha = arg;
	if (ha->invite == INVITE_OPEN && time(NULL) == ha->invite_until)
		log_info("the invitation for a backup expired unused");
	link_tick(ha);
	regs_tick(ha);
}

int ha_run(ha_t *ha, struct event_base *base, store_worker_t *w, struct change_path const *changes,
	   char *err, size_t errlen)
{
	if (!ha)
		return 0;
	ha->base = base;
	ha->store = w;
	ha->changes = *changes;
	if (handoff_create(&ha->from_store, base) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	store_worker_set_after(w, node_after_job, ha);
	if (link_start(ha, err, errlen) < 0)
		return -1;
	ha->tick = event_new(base, -1, EV_PERSIST, on_tick, ha);
	struct timeval sec = { 1, 0 };
	if (!ha->tick || event_add(ha->tick, &sec) < 0) {
		snprintf(err, errlen, "cannot start the node link's timer");
		return -1;
	}
	char where[96] = "none";
	if (ha->cfg.ha_listen.port)
		config_listen_format(&ha->cfg.ha_listen, where, sizeof(where));
	log_notice("node %s: %s (epoch %llu), node link on %s%s%s", ha->node,
		   node_role_name(ha->role), (unsigned long long)ha->epoch, where,
		   ha->peer_node[0] ? ", peer " : "", ha->peer_node);
	if (ha->note[0])
		log_warning("%s", ha->note);
	return 0;
}

void ha_destroy(ha_t *ha)
{
	if (!ha)
		return;
	join_stop(ha);
	link_stop(ha);
	if (ha->tick)
		event_free(ha->tick);
	handoff_destroy(ha->from_store); /* what the store thread still posted */
	store_changes_free(ha->queue, ha->n_queue);
	OPENSSL_cleanse(ha->data_key, sizeof(ha->data_key));
	free(ha);
}

void ha_config_reloaded(ha_t *ha, struct config const *cfg)
{
	if (!ha)
		return;
	config_fingerprint(cfg, ha->config_fp, sizeof(ha->config_fp));
	ha->cfg.ha_trunk_takeover = cfg->ha_trunk_takeover;
	ha->cfg.ha_token_rate = cfg->ha_token_rate;
	/* compared again at the next hello */
	if (ha->link)
		link_close(ha->link, "the configuration changed: saying hello again");
}

char const *ha_write_refusal(ha_t *ha)
{
	static char buf[400];
	char where[96] = "";
	if (!ha || ha->role == ROLE_PRIMARY)
		return NULL;
	config_listen_format(&ha->cfg.ha_peer, where, sizeof(where));
	if (ha->role == ROLE_DEMOTED)
		snprintf(buf, sizeof(buf),
			 "this node stood down as primary: make changes on the primary%s%s (%s), "
			 "or run sipregctl ha join here",
			 ha->peer_node[0] ? " " : "", ha->peer_node, where);
	else
		snprintf(buf, sizeof(buf),
			 "this node is the backup: make changes on the primary%s%s (%s)",
			 ha->peer_node[0] ? " " : "", ha->peer_node, where);
	return buf;
}

static unsigned percentile(ha_t *ha, unsigned pct)
{
	unsigned v[LAG_RING];
	size_t n = ha->n_lag;
	if (!n)
		return 0;
	memcpy(v, ha->lag_ms, n * sizeof(v[0]));
	/* insertion sort of at most LAG_RING values: status is rare */
	for (size_t i = 1; i < n; i++) {
		unsigned x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	size_t idx = (n * pct + 99) / 100;
	return v[idx ? idx - 1 : 0];
}

json_t *ha_status(ha_t *ha)
{
	if (!ha)
		return json_pack("{s:s}", "role", "standalone");
	char own_fp[HA_FP_MAX] = "", listen[96] = "", peer[96] = "";
	tls_file_fingerprint(ha->tls_dir, TLS_NODE, own_fp, sizeof(own_fp));
	if (ha->cfg.ha_listen.port)
		config_listen_format(&ha->cfg.ha_listen, listen, sizeof(listen));
	if (ha->cfg.ha_peer.port)
		config_listen_format(&ha->cfg.ha_peer, peer, sizeof(peer));
	char const *state = ha->link	     ? "connected"
			    : ha->joining    ? "joining"
			    : ha->peer_fp[0] ? "disconnected"
					     : "not joined";
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "node",
			      ha->node, "role", node_role_name(ha->role), "epoch",
			      (json_int_t)ha->epoch, "listen", listen, "peer", peer, "peer_node",
			      ha->peer_node, "peer_state", state, "peer_fingerprint", ha->peer_fp,
			      "fingerprint", own_fp, "schema", ha->schema, "config_fingerprint",
			      ha->config_fp);
	json_object_set_new(o, "config_match",
			    ha->link ? json_boolean(!ha->config_warning[0]) : json_null());
	if (ha->config_warning[0])
		json_object_set_new(o, "config_warning", json_string(ha->config_warning));
	if (ha->note[0])
		json_object_set_new(o, "note", json_string(ha->note));
	json_object_set_new(o, "trunks",
			    json_string(ha->trunks_standby ? "standby" : "active"));
	if (ha->role == ROLE_PRIMARY) {
		json_object_set_new(o, "head", json_integer((json_int_t)ha->head));
		json_object_set_new(o, "backup_applied",
				    json_integer((json_int_t)ha->peer_applied));
		json_object_set_new(
			o, "lag_changes",
			json_integer((json_int_t)(ha->link && ha->head > ha->peer_applied
							  ? ha->head - ha->peer_applied
							  : 0)));
		json_object_set_new(
			o, "invite_open",
			json_boolean(ha->invite == INVITE_OPEN && time(NULL) < ha->invite_until));
		json_object_set_new(o, "conflicts", json_integer(ha->conflicts));
	} else {
		uint64_t behind =
			ha->primary_head > ha->applied ? ha->primary_head - ha->applied : 0;
		json_object_set_new(o, "applied", json_integer((json_int_t)ha->applied));
		json_object_set_new(o, "primary_head", json_integer((json_int_t)ha->primary_head));
		json_object_set_new(o, "lag_changes", json_integer((json_int_t)behind));
		json_object_set_new(o, "applied_total",
				    json_integer((json_int_t)ha->applied_total));
		json_object_set_new(
			o, "lag_ms",
			json_pack("{s:i, s:i, s:i, s:i, s:i}", "last",
				  ha->n_lag ? ha->lag_ms[(ha->lag_pos + LAG_RING - 1) % LAG_RING]
					    : 0,
				  "p50", percentile(ha, 50), "p90", percentile(ha, 90), "p99",
				  percentile(ha, 99), "samples", (int)ha->n_lag));
	}
	return o;
}

int ha_promote(ha_t *ha, json_t **data, char *err, size_t errlen)
{
	if (!ha || ha->role == ROLE_PRIMARY) {
		snprintf(err, errlen, "this node is already the %s", ha ? "primary" : "only node");
		return -1;
	}
	if (ha->role == ROLE_BACKUP && ha->need_snapshot) {
		snprintf(err, errlen,
			 "this backup has no copy of the primary's data yet: it cannot "
			 "become the primary");
		return -1;
	}
	if (ha->role == ROLE_DEMOTED) {
		snprintf(err, errlen,
			 "this node stood down for a promoted peer: join it instead "
			 "(sipregctl ha join)");
		return -1;
	}
	if (ha->link)
		link_close(ha->link, "promoted");
	uint64_t epoch = ha->epoch + 1;
	node_set_role(ha, ROLE_PRIMARY, epoch);
	ha->head = ha->applied;
	ha->note[0] = '\0';
	log_notice("promoted: node %s is the primary (epoch %llu), numbering changes on from %llu",
		   ha->node, (unsigned long long)epoch, (unsigned long long)ha->head);
	*data = json_pack("{s:s, s:I, s:I}", "role", "primary", "epoch", (json_int_t)epoch,
			  "from_change", (json_int_t)ha->head);
	return 0;
}
