#include "autoconfig.h"

#include "daemon/handoff.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct item {
	struct item *next;
	void (*fn)(void *arg);
	void *arg;
};

struct handoff {
	pthread_mutex_t lock;
	struct item *head, *tail; /* under lock */
	struct event *wake;
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	handoff_run(arg);
}

int handoff_create(handoff_t **out, struct event_base *base)
{
	handoff_t *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	if (!(h->wake = event_new(base, -1, 0, on_wake, h))) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void handoff_destroy(handoff_t *h)
{
	if (!h)
		return;
	handoff_run(h);
	event_free(h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int handoff_post(handoff_t *h, void (*fn)(void *arg), void *arg)
{
	struct item *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->fn = fn;
	it->arg = arg;
	pthread_mutex_lock(&h->lock);
	if (h->tail)
		h->tail->next = it;
	else
		h->head = it;
	h->tail = it;
	pthread_mutex_unlock(&h->lock);
	event_active(h->wake, EV_READ, 0);
	return 0;
}

void handoff_run(handoff_t *h)
{
	pthread_mutex_lock(&h->lock);
	struct item *it = h->head;
	h->head = h->tail = NULL;
	pthread_mutex_unlock(&h->lock);
	while (it) {
		struct item *next = it->next;
		it->fn(it->arg);
		free(it);
		it = next;
	}
}
