/*
 * The control socket: a Unix stream socket speaking one JSON object per
 * line (docs/control-protocol.md). Store commands run as store-thread jobs;
 * the daemon's own state is reached through the handlers below.
 *
 * Thread: main (libevent) only.
 * Ownership: ctl_server_start() creates the server; ctl_server_stop() closes
 * every connection, removes the socket file and frees it (NULL-safe).
 */
#ifndef SIPREG_CTL_SERVER_H
#define SIPREG_CTL_SERVER_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "sip/thread.h"
#include "store/worker.h"

typedef struct ctl_server ctl_server_t;

/* The daemon's side of the commands that are not store operations. */
struct ctl_handlers {
	/** Status fields known to the daemon (version, uptime, listeners...). */
	json_t *(*status)(void *arg);
	/** The effective configuration, without secrets. */
	json_t *(*config)(void *arg);
	void (*set_log_level)(void *arg, enum log_level level);
	int (*set_trace)(void *arg, bool on);
	/** The SIP thread, for registrations and bans. */
	sip_thread_t *(*sip)(void *arg);
	/** The configuration in effect (for the TLS commands: [tls] dir, listeners). */
	struct config const *(*settings)(void *arg);
	/** The node of a pair, or NULL when it runs alone. */
	struct ha *(*ha)(void *arg);
	void *arg;
};

int ctl_server_start(ctl_server_t **out, struct event_base *base, char const *path,
		     store_worker_t *store, struct ctl_handlers const *h, char *err, size_t errlen);
void ctl_server_stop(ctl_server_t *srv);

#endif
