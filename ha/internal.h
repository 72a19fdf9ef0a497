/*
 * What the files of ha/ share: the node's state and its connections.
 * link.c owns connections (TLS, frames, pins, timers), node.c the
 * replication protocol and roles, join.c invitations and joining.
 *
 * Thread: main only.
 */
#ifndef SIPREG_HA_INTERNAL_H
#define SIPREG_HA_INTERNAL_H

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/handoff.h"
#include "ha/ha.h"
#include "ha/wire.h"
#include "store/replica.h"

enum ha_role { ROLE_STANDALONE, ROLE_PRIMARY, ROLE_BACKUP, ROLE_DEMOTED };

struct ha_conn {
	struct ha_conn *next;
	ha_t *ha;
	struct bufferevent *bev;
	SSL *ssl;
	bool outbound;
	bool joining;	    /* a backup's join: no pin yet, the token's CA instead */
	bool authed;	    /* the peer's certificate is the pinned one */
	bool hello_seen;    /* the peer's hello arrived and was accepted */
	bool feeding;	    /* primary: changes flow to this backup */
	bool catching_up;   /* primary: a journal read or snapshot is under way */
	bool closing;	    /* refused: reads nothing more */
	bool need_snapshot; /* primary: the backup needs a whole copy */
	uint64_t sent;	    /* primary: the last change sent */
	char addr[64];
	char peer_fp[HA_FP_MAX];
	struct ha_hello peer;
	struct timeval last_rx;
};

#define LAG_RING 4096

struct ha {
	struct config cfg;
	char node[HA_NODE_MAX];
	char tls_dir[1024];
	char store_path[1024];
	int schema;
	enum ha_role role;
	uint64_t epoch;
	char peer_fp[HA_FP_MAX]; /* pinned; "" before a join */
	char peer_node[HA_NODE_MAX];
	char config_fp[24];
	char note[320]; /* why replication stands still, "" when it does not */
	char config_warning[300];
	uint8_t data_key[32]; /* the store's, read at start: a joining backup receives it */
	bool need_snapshot;   /* joined, no snapshot applied yet */

	struct event_base *base;
	store_worker_t *store;
	struct change_path changes;
	handoff_t *from_store;
	SSL_CTX *server_ctx, *client_ctx, *join_ctx; /* join: no certificate shown */
	struct evconnlistener *listener;
	struct event *tick;
	struct ha_conn *conns;
	struct ha_conn *link; /* the replication link once hellos are exchanged */
	time_t next_dial;

	/* primary */
	uint64_t head;	       /* newest change journaled */
	uint64_t peer_applied; /* what the backup said it applied */
	/* backup */
	uint64_t applied;	    /* last change applied */
	uint64_t received;	    /* last change received (applied, queued or being applied) */
	uint64_t primary_head;	    /* newest the primary has, as it said */
	bool applying;		    /* a batch is on the store thread */
	struct store_change *queue; /* received, not yet applied */
	size_t n_queue, cap_queue;
	uint64_t up_sent; /* outbox: last id sent */
	bool up_reading, up_again;
	uint64_t applied_total;
	unsigned lag_ms[LAG_RING];
	size_t n_lag, lag_pos;
	unsigned conflicts;

	/* invitation (primary) */
	uint8_t invite_hash[32];
	time_t invite_until;
	enum { INVITE_NONE, INVITE_OPEN, INVITE_USED } invite;
	time_t join_window;
	unsigned join_attempts;
	/* SIP: registrations exchanged, trunks (regs.c) */
	struct ha_sip_hooks sip;
	bool regs_synced;    /* this node's whole list went over the current link */
	time_t link_lost_at; /* when the link went down (0: up) */
	int trunks_standby;  /* what the SIP thread was told: 1 standby, 0 registering */
	/* joining (backup) */
	struct ha_join_state *joining;
};

/* link.c */
int link_start(ha_t *ha, char *err, size_t errlen);
void link_stop(ha_t *ha);
/* Dials the peer: a replication link (joining NULL) or a join. */
struct ha_conn *link_dial(ha_t *ha, bool joining);
void link_send(struct ha_conn *c, uint8_t type, void const *body, size_t len);
void link_send_u64(struct ha_conn *c, uint8_t type, uint64_t v);
void link_send_json(struct ha_conn *c, uint8_t type, json_t *o); /* steals o */
/* Sends an error sentence and closes once it is written. */
void link_refuse(struct ha_conn *c, char const *sentence);
void link_close(struct ha_conn *c, char const *why);
/* Whether c is still open (a handler or a store job's completion may outlive it). */
bool link_alive(ha_t *ha, struct ha_conn *c);
void link_tick(ha_t *ha);

/* node.c: called by link.c */
void node_authed(struct ha_conn *c);
void node_frame(struct ha_conn *c, struct ha_frame const *f);
void node_closed(struct ha_conn *c);
void node_set_role(ha_t *ha, enum ha_role r, uint64_t epoch);
char const *node_role_name(enum ha_role r);
void node_save(ha_t *ha, char const *key, char const *value);

/* Store thread, after every job: records and forwards what it changed. */
void node_after_job(store_t *s, void *arg);

/* regs.c: called by node.c and ha.c */
void regs_link_up(ha_t *ha);
void regs_link_down(ha_t *ha);
void regs_frame(struct ha_conn *c, struct ha_frame const *f);
void regs_tick(ha_t *ha);

/* join.c: called by link.c and node.c */
void join_authed(struct ha_conn *c); /* a join connection's TLS is up (backup side) */
void join_frame(struct ha_conn *c, struct ha_frame const *f);
void join_closed(struct ha_conn *c);
void join_free(ha_t *ha);
/* Stopping: a join under way fails (its client hears so). */
void join_stop(ha_t *ha);

#endif
