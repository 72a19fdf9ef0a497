/*
 * Hand-off to the main thread: any thread posts a function and its
 * argument; the main thread's event loop runs them in order, woken with
 * event_active() (libevent set up with evthread_use_pthreads()).
 *
 * Thread: handoff_post() from any thread; the rest from the main thread.
 * Ownership: handoff_create()/handoff_destroy() (NULL-safe); destroy runs
 * what is still queued first.
 */
#ifndef SIPREG_HANDOFF_H
#define SIPREG_HANDOFF_H

#include <event2/event.h>

typedef struct handoff handoff_t;

int handoff_create(handoff_t **out, struct event_base *base);
void handoff_destroy(handoff_t *h);

/** Queues fn(arg) for the main thread; 0 or -ENOMEM. */
int handoff_post(handoff_t *h, void (*fn)(void *arg), void *arg);

/** Runs everything queued so far, on the calling (main) thread. */
void handoff_run(handoff_t *h);

#endif
