#include "autoconfig.h"

#include "registrar/bindings.h"
#include "registrar/registrar.h"

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

/* A refreshed binding's new strings, made before anything changes. */
struct staged {
	struct binding *old;   /* the binding it refreshes or removes, or NULL for a new one */
	struct binding *fresh; /* a new binding, or the refresh's new strings */
	bool skip;	       /* a later contact of the request names the same URI */
	bool held;	       /* conn_hold was called for u->conn */
	unsigned changed;      /* a refresh: which strings fresh holds (device, call_id, ...) */
};

static void staged_free(binding_table_t *t, struct staged *s, struct binding_update const *u)
{
	if (s->held && t->hooks.conn_drop)
		t->hooks.conn_drop(u->conn, t->arg);
	s->held = false;
	if (s->fresh)
		binding_free(s->fresh);
	s->fresh = NULL;
}

/* Copies src into *dst unless like (the binding's present value) already holds it. */
static int stage_str(char **dst, char const *like, char const *src, bool *changed)
{
	if ((!like && !src) || (like && src && strcmp(like, src) == 0))
		return 0;
	*changed = true;
	return src && !(*dst = strdup(src)) ? -ENOMEM : 0;
}

/*
 * The update's strings in a new struct binding: all of them for a new
 * binding, only those that differ from old's for a refresh (most refreshes
 * copy nothing).
 */
static struct binding *stage_strings(struct binding_update const *u, struct binding const *old,
				     unsigned *changed)
{
	struct binding *f = calloc(1, sizeof(*f));
	bool c[4] = { false };
	if (!f)
		return NULL;
	*changed = 0;
	if ((!old && (set_str(&f->dn, u->dn) < 0 || set_str(&f->contact, u->contact) < 0)) ||
	    stage_str(&f->device, old ? old->device : NULL, u->device, &c[0]) < 0 ||
	    stage_str(&f->call_id, old ? old->call_id : NULL, u->call_id ? u->call_id : "", &c[1]) <
		    0 ||
	    stage_str(&f->instance, old ? old->instance : NULL, u->instance, &c[2]) < 0 ||
	    stage_str(&f->user_agent, old ? old->user_agent : NULL, u->user_agent, &c[3]) < 0) {
		binding_free(f);
		return NULL;
	}
	for (int i = 0; i < 4; i++)
		*changed |= (unsigned)c[i] << i;
	return f;
}

static void swap_str(char **a, char **b)
{
	char *t = *a;
	*a = *b;
	*b = t;
}

static void set_fields(struct binding *b, struct binding_update const *u)
{
	b->cseq = u->cseq;
	b->req_key = u->req_key;
	b->expires = u->expires;
	text_copy(b->source, sizeof(b->source), u->source);
	text_copy(b->transport, sizeof(b->transport), u->transport);
	b->derived = u->derived;
	b->restored = u->restored;
}

static bool same_device(struct binding const *b, char const *device)
{
	return device && b->device && strcmp(b->device, device) == 0;
}

/*
 * Which of the device's bindings this request leaves alone must go so that
 * the device holds at most per_device on the line: its oldest first. Marks
 * them in displace[] (by position in the AOR's list); returns how many, or
 * -1 when the request itself names more than per_device.
 */
static int plan_displacement(struct aor *a, struct staged const *st, struct binding_update const *u,
			     size_t n, unsigned per_device, bool *displace)
{
	char const *device = u[0].device;
	unsigned mine = 0, kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (!st[i].skip && u[i].expires > 0 && st[i].fresh)
			mine++;
	}
	if (mine > per_device)
		return -1;
	size_t k = 0;
	for (struct binding *b = a ? a->first : NULL; b; b = b->next, k++) {
		bool touched = false;
		for (size_t i = 0; i < n && !touched; i++)
			touched = st[i].old == b;
		if (!touched && same_device(b, device))
			kept++;
	}
	int gone = 0;
	while (kept + mine > per_device) {
		struct binding *oldest = NULL;
		size_t at = 0, j = 0;
		for (struct binding *b = a->first; b; b = b->next, j++) {
			bool touched = false;
			for (size_t i = 0; i < n && !touched; i++)
				touched = st[i].old == b;
			if (touched || displace[j] || !same_device(b, device))
				continue;
			if (!oldest || b->created < oldest->created) {
				oldest = b;
				at = j;
			}
		}
		if (!oldest)
			break;
		displace[at] = true;
		kept--;
		gone++;
	}
	return gone;
}

int binding_apply_set(binding_table_t *t, struct binding_update const *u, size_t n, time_t now,
		      struct binding_limits const *lim, struct binding **out)
{
	if (n == 0)
		return 0;
	struct aor *a = aor_find(t, u[0].dn);
	size_t n_old = a ? a->count : 0;
	/* Most requests carry one contact to a line of few: no allocation for those. */
	struct staged st_small[4];
	bool displace_small[32];
	struct staged *st = n <= 4 ? memset(st_small, 0, sizeof(st_small)) : calloc(n, sizeof(*st));
	bool *displace = n_old < 32 ? memset(displace_small, 0, sizeof(displace_small))
				    : calloc(n_old + 1, sizeof(*displace));
	int err = 0;
	if (!st || !displace) {
		err = -ENOMEM;
		goto done;
	}
	/* What each contact of the request does; the last of equal contacts wins. */
	size_t created = 0, removed_n = 0;
	for (size_t i = 0; i < n; i++) {
		out[i] = NULL;
		for (size_t j = i + 1; j < n && !st[i].skip; j++)
			st[i].skip = strcmp(u[i].contact, u[j].contact) == 0;
		if (st[i].skip)
			continue;
		for (struct binding *b = a ? a->first : NULL; b && !st[i].old; b = b->next) {
			if (strcmp(b->contact, u[i].contact) == 0)
				st[i].old = b;
		}
		if (u[i].expires <= now) {
			removed_n += st[i].old != NULL;
			continue;
		}
		created += st[i].old == NULL;
		/* Every string is copied before anything changes. */
		if (!(st[i].fresh = stage_strings(&u[i], st[i].old, &st[i].changed))) {
			err = -ENOMEM;
			goto undo;
		}
	}
	int gone = 0;
	if (lim && lim->per_device && u[0].device &&
	    (gone = plan_displacement(a, st, u, n, lim->per_device, displace)) < 0) {
		err = -ENOSPC;
		goto undo;
	}
	if (lim && lim->per_aor && n_old - removed_n - (size_t)gone + created > lim->per_aor) {
		err = -ENOSPC;
		goto undo;
	}
	/* The connections' references next: a refusal leaves everything as it was. */
	for (size_t i = 0; i < n; i++) {
		if (!st[i].fresh || !u[i].conn || (st[i].old && st[i].old->conn == u[i].conn))
			continue;
		if (t->hooks.conn_hold && t->hooks.conn_hold(u[i].conn, t->arg) < 0) {
			err = -ENOMEM;
			goto undo;
		}
		st[i].held = true;
	}
	if (!a && created && !(a = aor_get(t, u[0].dn))) {
		err = -ENOMEM;
		goto undo;
	}

	/* Nothing fails from here on. */
	if (gone) {
		size_t j = 0;
		for (struct binding *b = a->first; b; j++) {
			struct binding *next = b->next;
			if (displace[j])
				unlink_binding(t, a, b);
			b = next;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct binding *b = st[i].old;
		if (st[i].skip)
			continue;
		if (!st[i].fresh) { /* a removal */
			if (b)
				unlink_binding(t, a, b);
			continue;
		}
		if (!b) {
			b = st[i].fresh;
			st[i].fresh = NULL;
			b->created = now;
			b->next = a->first;
			a->first = b;
			a->count++;
			t->n_bindings++;
		} else {
			struct binding *f = st[i].fresh;
			unsigned ch = st[i].changed;
			if (ch & 1)
				swap_str(&b->device, &f->device);
			if (ch & 2)
				swap_str(&b->call_id, &f->call_id);
			if (ch & 4)
				swap_str(&b->instance, &f->instance);
			if (ch & 8)
				swap_str(&b->user_agent, &f->user_agent);
		}
		if (st[i].held || (!u[i].conn && b->conn)) {
			void *old = b->conn;
			b->conn = u[i].conn;
			st[i].held = false;
			if (old && old != u[i].conn && t->hooks.conn_drop)
				t->hooks.conn_drop(old, t->arg);
		}
		set_fields(b, &u[i]);
		out[i] = b;
	}
	if (a)
		aor_drop_if_empty(t, a);
undo:
	for (size_t i = 0; i < n; i++)
		staged_free(t, &st[i], &u[i]);
done:
	if (st != st_small)
		free(st);
	if (displace != displace_small)
		free(displace);
	return err;
}

int binding_apply(binding_table_t *t, struct binding_update const *u, time_t now,
		  unsigned max_per_aor, struct binding **out)
{
	struct binding_limits lim = { .per_aor = max_per_aor };
	return binding_apply_set(t, u, 1, now, &lim, out);
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

/* ---- read by modules outside the registrar ---- */

struct binding const *binding_next(struct binding const *b)
{
	return b ? b->next : NULL;
}

char const *binding_contact(struct binding const *b)
{
	return b->contact;
}

char const *binding_transport(struct binding const *b)
{
	return b->transport[0] ? b->transport : "udp";
}

char const *binding_device(struct binding const *b)
{
	return b->device;
}
