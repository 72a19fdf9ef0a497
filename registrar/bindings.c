#include "autoconfig.h"

#include "registrar/bindings.h"

#include "daemon/hash.h"
#include "daemon/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One AOR and its bindings, in a chained hash table keyed by DN. */
struct aor {
	struct aor *next;
	char *dn;
	struct binding *first;
	unsigned count;
};

struct binding_table {
	struct aor **buckets;
	size_t n_buckets;
	size_t n_aors;
	size_t n_bindings;
	struct binding_hooks hooks;
	void *arg;
};

int binding_table_create(binding_table_t **out, struct binding_hooks const *hooks, void *arg)
{
	binding_table_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n_buckets = 256;
	if (!(t->buckets = calloc(t->n_buckets, sizeof(*t->buckets)))) {
		free(t);
		return -ENOMEM;
	}
	if (hooks)
		t->hooks = *hooks;
	t->arg = arg;
	*out = t;
	return 0;
}

static void binding_free(struct binding *b)
{
	free(b->dn);
	free(b->device);
	free(b->contact);
	free(b->call_id);
	free(b->instance);
	free(b->user_agent);
	free(b);
}

void binding_table_destroy(binding_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct aor *a = t->buckets[i];
		while (a) {
			struct aor *an = a->next;
			struct binding *b = a->first;
			while (b) {
				struct binding *bn = b->next;
				binding_free(b);
				b = bn;
			}
			free(a->dn);
			free(a);
			a = an;
		}
	}
	free(t->buckets);
	free(t);
}

static struct aor *aor_find(binding_table_t const *t, char const *dn)
{
	for (struct aor *a = t->buckets[hash_fnv1a(dn) % t->n_buckets]; a; a = a->next) {
		if (strcmp(a->dn, dn) == 0)
			return a;
	}
	return NULL;
}

static void grow(binding_table_t *t)
{
	size_t n = t->n_buckets * 2;
	struct aor **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct aor *a = t->buckets[i];
		while (a) {
			struct aor *next = a->next;
			size_t k = hash_fnv1a(a->dn) % n;
			a->next = nb[k];
			nb[k] = a;
			a = next;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->n_buckets = n;
}

static struct aor *aor_get(binding_table_t *t, char const *dn)
{
	struct aor *a = aor_find(t, dn);
	if (a)
		return a;
	if (t->n_aors >= t->n_buckets)
		grow(t);
	if (!(a = calloc(1, sizeof(*a))) || !(a->dn = strdup(dn))) {
		free(a);
		return NULL;
	}
	size_t k = hash_fnv1a(dn) % t->n_buckets;
	a->next = t->buckets[k];
	t->buckets[k] = a;
	t->n_aors++;
	return a;
}

static void aor_drop_if_empty(binding_table_t *t, struct aor *a)
{
	if (a->first)
		return;
	struct aor **pp = &t->buckets[hash_fnv1a(a->dn) % t->n_buckets];
	while (*pp && *pp != a)
		pp = &(*pp)->next;
	if (*pp)
		*pp = a->next;
	free(a->dn);
	free(a);
	t->n_aors--;
}

struct binding *binding_first(binding_table_t const *t, char const *dn)
{
	struct aor *a = aor_find(t, dn);
	return a ? a->first : NULL;
}

struct binding *binding_find(binding_table_t const *t, char const *dn, char const *contact)
{
	for (struct binding *b = binding_first(t, dn); b; b = b->next) {
		if (strcmp(b->contact, contact) == 0)
			return b;
	}
	return NULL;
}

static enum binding_check check_one(struct binding const *b, char const *call_id, uint32_t cseq,
				    uint64_t req_key)
{
	if (strcmp(b->call_id, call_id) != 0)
		return BINDING_CHECK_OK;
	if (cseq > b->cseq)
		return BINDING_CHECK_OK;
	if (cseq == b->cseq && req_key && req_key == b->req_key)
		return BINDING_CHECK_RETRANSMISSION;
	return BINDING_CHECK_OUT_OF_ORDER;
}

enum binding_check binding_check(binding_table_t const *t, char const *dn, char const *contact,
				 char const *call_id, uint32_t cseq, uint64_t req_key)
{
	enum binding_check worst = BINDING_CHECK_OK;
	for (struct binding *b = binding_first(t, dn); b; b = b->next) {
		if (b->derived || (contact && strcmp(b->contact, contact) != 0))
			continue;
		enum binding_check c = check_one(b, call_id, cseq, req_key);
		if (c > worst)
			worst = c;
	}
	return worst;
}

static int set_str(char **dst, char const *src)
{
	if (*dst && src && strcmp(*dst, src) == 0)
		return 0;
	char *copy = NULL;
	if (src && !(copy = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static void unlink_binding(binding_table_t *t, struct aor *a, struct binding *b)
{
	struct binding **pp = &a->first;
	while (*pp && *pp != b)
		pp = &(*pp)->next;
	if (*pp)
		*pp = b->next;
	a->count--;
	t->n_bindings--;
	if (t->hooks.removed)
		t->hooks.removed(b, t->arg);
	if (b->conn && t->hooks.conn_drop)
		t->hooks.conn_drop(b->conn, t->arg);
	binding_free(b);
}

int binding_apply(binding_table_t *t, struct binding_update const *u, time_t now,
		  unsigned max_per_aor, struct binding **out)
{
	struct aor *a = aor_find(t, u->dn);
	struct binding *b = NULL;
	bool created = false;
	*out = NULL;

	if (a) {
		for (b = a->first; b && strcmp(b->contact, u->contact) != 0; b = b->next)
			;
	}
	if (u->expires <= now) {
		if (b) {
			unlink_binding(t, a, b);
			aor_drop_if_empty(t, a);
		}
		return 0;
	}
	if (!b) {
		if (!a && !(a = aor_get(t, u->dn)))
			return -ENOMEM;
		if (max_per_aor && a->count >= max_per_aor) {
			aor_drop_if_empty(t, a);
			return -ENOSPC;
		}
		if (!(b = calloc(1, sizeof(*b))) || !(b->dn = strdup(u->dn)) ||
		    !(b->contact = strdup(u->contact))) {
			if (b)
				binding_free(b);
			aor_drop_if_empty(t, a);
			return -ENOMEM;
		}
		b->created = now;
		created = true;
		b->next = a->first;
		a->first = b;
		a->count++;
		t->n_bindings++;
	}
	/* The new connection's reference first, so a refusal leaves the old one. */
	if (u->conn != b->conn) {
		if (u->conn && t->hooks.conn_hold && t->hooks.conn_hold(u->conn, t->arg) < 0) {
			if (created) {
				unlink_binding(t, a, b);
				aor_drop_if_empty(t, a);
			}
			return -ENOMEM;
		}
		void *old = b->conn;
		b->conn = u->conn;
		if (old && t->hooks.conn_drop)
			t->hooks.conn_drop(old, t->arg);
	}
	if (set_str(&b->device, u->device) < 0 ||
	    set_str(&b->call_id, u->call_id ? u->call_id : "") < 0 ||
	    set_str(&b->instance, u->instance) < 0 || set_str(&b->user_agent, u->user_agent) < 0) {
		unlink_binding(t, a, b);
		aor_drop_if_empty(t, a);
		return -ENOMEM;
	}
	b->cseq = u->cseq;
	b->req_key = u->req_key;
	b->expires = u->expires;
	text_copy(b->source, sizeof(b->source), u->source);
	text_copy(b->transport, sizeof(b->transport), u->transport);
	b->derived = u->derived;
	*out = b;
	return 0;
}

void binding_remove(binding_table_t *t, struct binding *b)
{
	struct aor *a = aor_find(t, b->dn);
	if (!a)
		return;
	unlink_binding(t, a, b);
	aor_drop_if_empty(t, a);
}

size_t binding_remove_aor(binding_table_t *t, char const *dn)
{
	struct aor *a = aor_find(t, dn);
	size_t n = 0;
	if (!a)
		return 0;
	while (a->first) {
		unlink_binding(t, a, a->first);
		n++;
	}
	aor_drop_if_empty(t, a);
	return n;
}

/* Removes every binding for which match() holds. */
static size_t remove_where(binding_table_t *t, bool (*match)(struct binding const *, void const *),
			   void const *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct aor *a = t->buckets[i];
		while (a) {
			struct aor *an = a->next;
			struct binding *b = a->first;
			while (b) {
				struct binding *bn = b->next;
				if (match(b, arg)) {
					unlink_binding(t, a, b);
					n++;
				}
				b = bn;
			}
			aor_drop_if_empty(t, a);
			a = an;
		}
	}
	return n;
}

static bool match_conn(struct binding const *b, void const *conn)
{
	return b->conn == conn;
}

static bool match_device(struct binding const *b, void const *device)
{
	return b->device && strcmp(b->device, device) == 0;
}

static bool match_expired(struct binding const *b, void const *now)
{
	return b->expires <= *(time_t const *)now;
}

size_t binding_remove_conn(binding_table_t *t, void const *conn)
{
	return conn ? remove_where(t, match_conn, conn) : 0;
}

size_t binding_remove_device(binding_table_t *t, char const *device)
{
	return remove_where(t, match_device, device);
}

size_t binding_expire(binding_table_t *t, time_t now)
{
	return remove_where(t, match_expired, &now);
}

size_t binding_count(binding_table_t const *t)
{
	return t->n_bindings;
}

void binding_foreach(binding_table_t const *t, void (*fn)(struct binding *b, void *arg), void *arg)
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct aor *a = t->buckets[i]; a; a = a->next) {
			for (struct binding *b = a->first; b; b = b->next)
				fn(b, arg);
		}
	}
}
