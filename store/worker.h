/*
 * The store thread: owns the store_t (the only SQLite write connection) and
 * runs jobs submitted from other threads, one at a time, in order. A job's
 * completion runs afterwards on the main thread's event base.
 *
 * Thread: store_worker_submit() from any thread; start and stop from main.
 * Ownership: the worker borrows the store_t for its lifetime; the caller
 * closes the store after store_worker_stop(). A job's arg belongs to the
 * submitter; fn and done must not free it before done has run.
 */
#ifndef SIPREG_STORE_WORKER_H
#define SIPREG_STORE_WORKER_H

#include <event2/event.h>

#include "store/store.h"

typedef struct store_worker store_worker_t;

/** Runs on the store thread. */
typedef void (*store_job_fn)(store_t *s, void *arg);
/** Runs on the main thread after fn; may be NULL. */
typedef void (*store_done_fn)(void *arg);

/** Starts the thread. base needs evthread_use_pthreads() set up before it was made. */
int store_worker_start(store_worker_t **out, store_t *s, struct event_base *base);

/**
 * Runs after(s, arg) on the store thread after every job from the next
 * batch on (replication records what the job changed). NULL removes it.
 */
void store_worker_set_after(store_worker_t *w, store_job_fn after, void *arg);

/** Queues a job; -ESHUTDOWN once stopping has begun. */
int store_worker_submit(store_worker_t *w, store_job_fn fn, store_done_fn done, void *arg);

/**
 * Runs every queued job, stops the thread and frees the worker (NULL-safe).
 * Completions not yet delivered run here, on the calling (main) thread.
 */
void store_worker_stop(store_worker_t *w);

#endif
