#include "autoconfig.h"

#include "registrar/ban.h"

#include "daemon/hash.h"
#include "daemon/text.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ban_entry {
	struct ban_entry *next;
	char *key;
	unsigned failures;
	time_t window_start;
	time_t banned_until;
	char reason[128]; /* the last failure's */
};

struct ban_table {
	struct ban_entry **buckets;
	size_t n_buckets;
	size_t n_entries;
	size_t max_entries;
	unsigned limit, window, ban_time;
};

int ban_table_create(ban_table_t **out, size_t max_entries)
{
	ban_table_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n_buckets = 1024;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->max_entries = max_entries ? max_entries : 1;
	t->limit = 10;
	t->window = 60;
	t->ban_time = 600;
	*out = t;
	return 0;
}

void ban_table_destroy(ban_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct ban_entry *e = t->buckets[i];
		while (e) {
			struct ban_entry *n = e->next;
			free(e->key);
			free(e);
			e = n;
		}
	}
	free(t->buckets);
	free(t);
}

void ban_set_limits(ban_table_t *t, unsigned failures, unsigned window, unsigned ban_time)
{
	t->limit = failures ? failures : 1;
	t->window = window ? window : 1;
	t->ban_time = ban_time ? ban_time : 1;
}

static struct ban_entry *find(ban_table_t *t, char const *key)
{
	for (struct ban_entry *e = t->buckets[hash_fnv1a(key) % t->n_buckets]; e; e = e->next) {
		if (strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/* An entry with no current ban and no failures in its window. */
static bool idle(ban_table_t const *t, struct ban_entry const *e, time_t now)
{
	return e->banned_until <= now && e->window_start + (time_t)t->window <= now;
}

static void sweep(ban_table_t *t, time_t now)
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct ban_entry **pp = &t->buckets[i];
		while (*pp) {
			struct ban_entry *e = *pp;
			if (idle(t, e, now)) {
				*pp = e->next;
				free(e->key);
				free(e);
				t->n_entries--;
			} else {
				pp = &e->next;
			}
		}
	}
}

bool ban_is_banned(ban_table_t *t, char const *key, time_t now)
{
	struct ban_entry *e = find(t, key);
	return e && e->banned_until > now;
}

unsigned ban_failures(ban_table_t *t, char const *key, time_t now)
{
	struct ban_entry *e = find(t, key);
	if (!e || e->window_start + (time_t)t->window <= now)
		return 0;
	return e->failures;
}

unsigned ban_failure(ban_table_t *t, char const *key, time_t now, char const *reason,
		     bool *banned_now)
{
	struct ban_entry *e = find(t, key);
	*banned_now = false;
	if (!e) {
		if (t->n_entries >= t->max_entries)
			sweep(t, now);
		/* Still full: under a flood from very many sources, stop tracking more. */
		if (t->n_entries >= t->max_entries)
			return 0;
		if (!(e = calloc(1, sizeof(*e))) || !(e->key = strdup(key))) {
			free(e);
			return 0;
		}
		size_t k = hash_fnv1a(key) % t->n_buckets;
		e->next = t->buckets[k];
		t->buckets[k] = e;
		t->n_entries++;
	}
	if (e->window_start + (time_t)t->window <= now) {
		e->window_start = now;
		e->failures = 0;
	}
	e->failures++;
	if (reason)
		text_copy(e->reason, sizeof(e->reason), reason);
	if (e->failures >= t->limit && e->banned_until <= now) {
		e->banned_until = now + (time_t)t->ban_time;
		*banned_now = true;
	}
	return e->failures;
}

bool ban_lift(ban_table_t *t, char const *key)
{
	struct ban_entry **pp = &t->buckets[hash_fnv1a(key) % t->n_buckets];
	while (*pp) {
		struct ban_entry *e = *pp;
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			free(e->key);
			free(e);
			t->n_entries--;
			return true;
		}
		pp = &e->next;
	}
	return false;
}

void ban_foreach(ban_table_t *t, time_t now,
		 void (*fn)(char const *key, unsigned failures, long left, char const *reason,
			    void *arg),
		 void *arg)
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct ban_entry *e = t->buckets[i]; e; e = e->next) {
			if (e->banned_until > now)
				fn(e->key, e->failures, (long)(e->banned_until - now), e->reason,
				   arg);
		}
	}
}
