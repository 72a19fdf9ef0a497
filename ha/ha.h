/*
 * Two nodes: a primary and a backup joined over a mutual TLS link of
 * sipregd's own (libevent, OpenSSL), the primary's stored changes
 * replicated to the backup as SQLite changesets, a backup's phones'
 * feature changes and call records sent up, invite and join, promote, and
 * the status of it all. See docs/ha.md.
 *
 * Thread: main, except ha_create(), which runs before the store thread
 * starts and reads the replication state from the store directly.
 * Ownership: ha_create()/ha_destroy() (NULL-safe).
 */
#ifndef SIPREG_HA_H
#define SIPREG_HA_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "daemon/change.h"
#include "daemon/config.h"
#include "registrar/registrar.h"
#include "store/store.h"
#include "store/worker.h"

typedef struct ha ha_t;

/*
 * Reads the role, epoch and pinned peer kept in the store, settles the
 * role this start runs with and sets the store recording for it. node is
 * this node's id. -1 with err when the configuration cannot work.
 */
int ha_create(ha_t **out, struct config const *cfg, char const *node, store_t *store,
	      char const *store_path, char *err, size_t errlen);

/* Starts the link (listener, dialing, timers) once the store thread runs. */
int ha_run(ha_t *ha, struct event_base *base, store_worker_t *w, struct change_path const *changes,
	   char *err, size_t errlen);

void ha_destroy(ha_t *ha);

/* SIGHUP: the keys compared with the peer's may have changed (NULL-safe). */
void ha_config_reloaded(ha_t *ha, struct config const *cfg);

/* NULL when this node takes administrative changes; otherwise why not, one sentence. */
char const *ha_write_refusal(ha_t *ha);

/* ha status: role, peer, fingerprints, position, lag, configuration match. */
json_t *ha_status(ha_t *ha);

/* ha invite: a one-time token, valid for seconds (at most 600). 0, or -1 with err. */
int ha_invite(ha_t *ha, unsigned seconds, json_t **data, char *err, size_t errlen);

/* ha join TOKEN: done runs on the main thread once joined (rc 0, data) or refused (err). */
typedef void ha_join_done_f(void *arg, int rc, json_t *data, char const *err);
int ha_join(ha_t *ha, char const *token, ha_join_done_f *done, void *arg, char *err, size_t errlen);

/* ha promote: this backup becomes the primary. */
int ha_promote(ha_t *ha, json_t **data, char *err, size_t errlen);

/* ---- with the SIP thread (ha/regs.c) ---- */

/* What the node link asks of the SIP side; each returns at once (work goes to the SIP thread). */
struct ha_sip_hooks {
	void *arg;
	/*
	 * The link is up: open the SIP transport between the nodes (key and
	 * certificate in dir, on host:port, port 0 any) and answer with every
	 * line registered here through ha_local_regs(full).
	 */
	void (*dump)(void *arg, char const *dir, char const *host, unsigned port);
	/* The other node's lines (takes regs); port -1: unchanged. */
	void (*peer_regs)(void *arg, char const *self, char const *node, char const *host,
			  int port, struct registrar_peer_reg *regs, size_t n, bool full);
	/* The link is down: forget the other node's lines. */
	void (*peer_gone)(void *arg);
	/* Trunks on standby (the primary registers them) or registering here. */
	void (*trunks)(void *arg, bool standby);
};
void ha_set_sip(ha_t *ha, struct ha_sip_hooks const *h);

/*
 * Lines registered here (takes regs; expires_at 0: no longer): the whole
 * list after a dump (with where the node transport listens), else changes.
 */
void ha_local_regs(ha_t *ha, struct registrar_peer_reg *regs, size_t n, bool full,
		   char const *host, int port);

/* Whether this node starts with its trunks on standby (a backup, or a node that stood down). */
bool ha_trunks_held(ha_t const *ha);

#endif
