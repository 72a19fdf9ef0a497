/*
 * The SIP thread: owns the sofia root and the nta agent with its
 * listeners, the method router (sip/dispatch.h) and the TCP connection
 * limits. It knows no application: the modules that answer requests are
 * made, ticked and destroyed on it through the hooks given at start
 * (daemon/app.c wires the registrar, the calls and the features).
 *
 * Thread: sip_thread_start()/sip_thread_stop() from main; sip_thread_call(),
 * sip_thread_set_trace() and sip_thread_status() from any thread (they hand
 * work over with su_msg or read a snapshot under a lock).
 * Ownership: sip_thread_start() creates the thread object; sip_thread_stop()
 * stops the thread and frees it (NULL-safe).
 */
#ifndef SIPREG_SIP_THREAD_H
#define SIPREG_SIP_THREAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <event2/event.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "sip/dispatch.h"

typedef struct sip_thread sip_thread_t;

/* What the modules get when the SIP thread has bound its listeners. */
struct sip_env {
	su_root_t *root;
	nta_agent_t *agent;
	sip_dispatch_t *dispatch;
	struct config const *cfg;
};

/* The application on the SIP thread; every hook but status runs there. */
struct sip_hooks {
	/* Makes the modules and registers their handlers; -1 with err set when it cannot. */
	int (*start)(void *arg, struct sip_env const *env, char *err, size_t errlen);
	/* Every [store] flush_interval_ms. */
	void (*tick)(void *arg, time_t now);
	/* Calls each(tp, ctx) for every connection a registration holds (TCP limits spare them). */
	void (*connections)(void *arg, void (*each)(tport_t *tp, void *ctx), void *ctx);
	/* New reloadable settings. */
	void (*apply_config)(void *arg, struct config const *cfg);
	/* After every sip_thread_call() fn: figures that fn may have changed. */
	void (*after_call)(void *arg);
	/* Adds its figures to a status object (any thread). */
	void (*status)(void *arg, json_t *obj);
	/* Destroys the modules, before the agent goes. */
	void (*stop)(void *arg);
	void *arg;
};

struct sip_start {
	struct config const *cfg;
	struct event_base *base; /* the main thread's, for completions */
	struct sip_hooks hooks;
};

/**
 * Starts the SIP thread and waits until its listeners are bound and the
 * hooks' start returned (0), or either failed (negative, with the reason
 * in err).
 */
int sip_thread_start(sip_thread_t **out, struct sip_start const *start, char *err, size_t errlen);

/**
 * Runs fn on the SIP thread, then done (may be NULL) on the main thread.
 * -ESRCH when the thread is not running (done is not called).
 */
int sip_thread_call(sip_thread_t *t, void (*fn)(sip_thread_t *t, void *arg),
		    void (*done)(void *arg), void *arg);

/** The hooks' arg (the application), for use inside a sip_thread_call() fn. */
void *sip_thread_app(sip_thread_t *t);
/** New reloadable settings (SIP thread only): the TCP limits, then the hooks. */
void sip_thread_apply_config(sip_thread_t *t, struct config const *cfg);

/** Extends sofia's SIP parser (once per process; sip_thread_start() does it). */
void sip_parser_extend(void);

/** Stops the thread (pending transactions are dropped) and frees it. */
void sip_thread_stop(sip_thread_t *t);

/** Turns the logging of every SIP message sent and received on or off. */
int sip_thread_set_trace(sip_thread_t *t, bool on);

/** {"listeners":[...], "requests":N, ...}: a new reference. */
json_t *sip_thread_status(sip_thread_t *t);

/* ---- sofia's own logs (sip/sofia_log.c) ---- */

/** Sends sofia's logs into ours; call once before the SIP thread starts. */
void sofia_log_redirect(void);
/** Sets sofia's log levels to match ours. */
void sofia_log_set_level(enum log_level level);
/** How many transactions were still open when the agent was destroyed (and resets it). */
unsigned long sofia_log_dropped_transactions(void);

#endif
