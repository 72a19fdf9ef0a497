/*
 * The node link (ha/, main thread) and the SIP thread of one node of a
 * pair, wired together: this node's registrations go to the link in the
 * order the SIP thread made them, the other node's come to the registrar,
 * and the link says when the trunks are on standby.
 *
 * Thread: pair_create(), pair_destroy() on the main thread;
 * pair_regs_changed() on the SIP thread (app_start's regs_changed).
 * Ownership: pair_create()/pair_destroy() (NULL-safe).
 */
#ifndef SIPREG_DAEMON_PAIR_H
#define SIPREG_DAEMON_PAIR_H

#include <event2/event.h>

#include "ha/ha.h"
#include "sip/thread.h"

typedef struct pair pair_t;

/* sip returns the SIP thread (NULL before it runs or after it stopped). */
int pair_create(pair_t **out, struct event_base *base, ha_t *ha, sip_thread_t *(*sip)(void *),
		void *sip_arg);
void pair_destroy(pair_t *p);

/* SIP thread: lines whose registration changed (takes regs). */
void pair_regs_changed(void *p, struct registrar_peer_reg *regs, size_t n);

#endif
