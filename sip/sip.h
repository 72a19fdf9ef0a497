/*
 * The SIP thread: owns the sofia root and the nta agent with its listeners,
 * and answers requests. Nothing sofia leaves this thread.
 *
 * Thread: sip_thread_start()/sip_thread_stop() from main; the other
 * functions from any thread (they hand work over with su_msg or read a
 * snapshot under a lock).
 * Ownership: sip_thread_start() creates the thread object; sip_thread_stop()
 * stops the thread and frees it (NULL-safe).
 */
#ifndef SIPREG_SIP_H
#define SIPREG_SIP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "daemon/config.h"
#include "store/directory.h"
#include "store/store.h"
#include "store/worker.h"

typedef struct sip_thread sip_thread_t;

struct sip_start {
	struct config const *cfg;
	struct event_base *base;	      /* the main thread's, for completions */
	store_worker_t *store;		      /* where bindings are written behind */
	directory_t *dir;		      /* the first directory; the SIP thread takes it */
	struct store_binding const *bindings; /* restored at start (read during start) */
	size_t n_bindings;
	char const *nonce_secret;
	char const *call_prefix; /* NODE-RUN: the ids of calls are NODE-RUN-N */
};

/**
 * Starts the SIP thread and waits until its listeners are bound (0) or
 * binding failed (negative, with the reason in err). The directory is the
 * thread's from then on, even on failure.
 */
int sip_thread_start(sip_thread_t **out, struct sip_start const *start, char *err, size_t errlen);

/**
 * Runs fn on the SIP thread, then done (may be NULL) on the main thread.
 * -ESRCH when the thread is not running (done is not called).
 */
int sip_thread_call(sip_thread_t *t, void (*fn)(sip_thread_t *t, void *arg),
		    void (*done)(void *arg), void *arg);

/* For use inside a sip_thread_call() fn, on the SIP thread. */
struct registrar *sip_thread_registrar(sip_thread_t *t);
/** The calls (SIP thread only). */
struct b2bua *sip_thread_b2bua(sip_thread_t *t);
/** Hands a new directory to the registrar (takes ownership). SIP thread only. */
void sip_thread_install_directory(sip_thread_t *t, directory_t *d);
/** New reloadable settings. SIP thread only. */
void sip_thread_apply_config(sip_thread_t *t, struct config const *cfg);

/** Stops the thread (pending transactions are dropped) and frees it. */
void sip_thread_stop(sip_thread_t *t);

/** Turns the logging of every SIP message sent and received on or off. */
int sip_thread_set_trace(sip_thread_t *t, bool on);
bool sip_thread_trace(sip_thread_t *t);

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
