/*
 * The one path from a change of the stored configuration to the SIP
 * thread: apply it on the store thread, build a new directory there, install
 * it on the SIP thread, then report on the main thread. An administrator's
 * command and a phone's own feature change (DND, call forward all) both take
 * it, so a phone registering right after the answer sees the change. Later
 * replication and provisioning hook in here.
 *
 * Thread: change_submit() from the main or the SIP thread; apply runs on
 * the store thread, done on the main thread.
 */
#ifndef SIPREG_DAEMON_CHANGE_H
#define SIPREG_DAEMON_CHANGE_H

#include "sip/thread.h"
#include "store/store.h"
#include "store/worker.h"

/* Where changes go: the store worker, and the SIP thread (NULL while it is not running). */
struct change_path {
	store_worker_t *store;
	sip_thread_t *(*sip)(void *arg);
	void *arg;
};

/* Store thread: writes the change; 0, or a negative errno with e set. */
typedef int change_apply_f(store_t *s, void *arg, struct store_err *e);
/*
 * Main thread, once the new directory is installed (or, when apply failed,
 * right after it): err and e are apply's.
 */
typedef void change_done_f(void *arg, int err, struct store_err const *e);

/*
 * Submits a change. 0, or -ESRCH when the store thread is stopping (then
 * neither apply nor done runs).
 */
int change_submit(struct change_path const *p, change_apply_f *apply, change_done_f *done,
		  void *arg);

#endif
