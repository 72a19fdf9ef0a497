#include "autoconfig.h"

#include "store/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "daemon/handoff.h"
#include "daemon/log.h"
#include "daemon/thread.h"

#define LOG_TAG "store"

struct job {
	struct job *next;
	store_job_fn fn;
	store_done_fn done;
	void *arg;
};

struct job_queue {
	struct job *head, *tail;
};

struct store_worker {
	store_t *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_queue todo; /* for the store thread */
	bool stopping;
	handoff_t *done; /* completions, for the main thread */
	store_job_fn after; /* under lock */
	void *after_arg;
};

static void queue_push(struct job_queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *queue_take_all(struct job_queue *q)
{
	struct job *all = q->head;
	q->head = q->tail = NULL;
	return all;
}

static void *worker_main(void *arg)
{
	store_worker_t *w = arg;

	thread_set_role(THREAD_STORE);

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->todo.head && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		struct job *j = queue_take_all(&w->todo);
		if (!j && w->stopping)
			break;
		store_job_fn after = w->after;
		void *after_arg = w->after_arg;
		pthread_mutex_unlock(&w->lock);
		while (j) {
			struct job *next = j->next;
			j->fn(w->store, j->arg);
			if (after)
				after(w->store, after_arg);
			if (j->done && handoff_post(w->done, j->done, j->arg) < 0)
				log_error("out of memory: a store job's completion is lost");
			free(j);
			j = next;
		}
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int store_worker_start(store_worker_t **out, store_t *s, struct event_base *base)
{
	store_worker_t *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->store = s;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if ((err = handoff_create(&w->done, base)) < 0)
		goto fail;
	if ((err = -pthread_create(&w->thread, NULL, worker_main, w)) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	handoff_destroy(w->done);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return err;
}

void store_worker_set_after(store_worker_t *w, store_job_fn after, void *arg)
{
	pthread_mutex_lock(&w->lock);
	w->after = after;
	w->after_arg = arg;
	pthread_mutex_unlock(&w->lock);
}

int store_worker_submit(store_worker_t *w, store_job_fn fn, store_done_fn done, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		free(j);
		return -ESHUTDOWN;
	}
	queue_push(&w->todo, j);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void store_worker_stop(store_worker_t *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	handoff_destroy(w->done); /* runs the completions not yet delivered */
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
