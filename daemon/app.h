/*
 * The daemon's modules on the SIP thread, wired together: the registrar, the
 * calls (b2bua) and the features, with their handlers registered in the
 * method router, their records written behind to the store thread, and the
 * phones' feature changes sent down the change path (daemon/change.h). The
 * SIP layer knows none of them; it calls the hooks app_hooks() fills in.
 *
 * Thread: app_create(), app_hooks() and app_destroy() on the main thread
 * (before the SIP thread starts, after it stopped); the hooks and the other
 * functions on the SIP thread (inside a sip_thread_call() fn).
 * Ownership: app_create() takes the directory; app_destroy() frees (NULL-safe).
 */
#ifndef SIPREG_DAEMON_APP_H
#define SIPREG_DAEMON_APP_H

#include <stddef.h>

#include "b2bua/b2bua.h"
#include "daemon/change.h"
#include "registrar/registrar.h"
#include "sip/thread.h"
#include "store/directory.h"
#include "store/store.h"
#include "store/worker.h"

typedef struct app app_t;

struct app_start {
	struct change_path changes; /* where bindings, records and changes go */
	directory_t *dir;	    /* the first directory (app_create() takes it) */
	struct store_binding const
		*bindings; /* restored at start (read until the SIP thread runs) */
	size_t n_bindings;
	char const *nonce_secret;
	char const *call_prefix; /* NODE-RUN: the ids of calls are NODE-RUN-N */
	bool trunks_standby;	 /* the trunks start on standby (a backup node) */
	/* Lines whose registration changed (SIP thread; takes regs), or NULL. */
	void (*regs_changed)(void *arg, struct registrar_peer_reg *regs, size_t n);
	void *regs_arg;
};

int app_create(app_t **out, struct app_start const *start);
void app_hooks(app_t *a, struct sip_hooks *h);
void app_destroy(app_t *a);

/* On the SIP thread, inside a sip_thread_call() fn. */
registrar_t *app_registrar(sip_thread_t *t);
nta_agent_t *app_agent(sip_thread_t *t);
b2bua_t *app_b2bua(sip_thread_t *t);
/** The calls of an application stepped by its owner (the fuzz harnesses). */
b2bua_t *app_b2bua_of(app_t *a);
/** Hands a new directory to the modules (takes ownership). */
void app_install_directory(sip_thread_t *t, directory_t *d);

#endif
