/*
 * The registrar's side of a pair of nodes: which lines are registered on
 * the other node (the nodes tell each other over their link, so a call to
 * a line registered there can go there), which are registered here (what
 * this node tells), and the fallback tokens a returning primary grants its
 * Cisco phones at a bounded rate, so that they do not all move back at once.
 */
#include "autoconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/thread.h"
#include "registrar/internal.h"

#define LOG_TAG "registrar"

#define PEER_MAX 100000 /* lines the other node may say it has; the directory bounds it first */

/* ---- fallback tokens ---- */

bool registrar_token_grant(registrar_t *r, unsigned *retry_after)
{
	ASSERT_THREAD(SIP);
	double rate = r->cfg.token_rate ? r->cfg.token_rate : 10;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (r->token_at.tv_sec == 0) {
		r->tokens = rate;
	} else {
		double dt = (double)(now.tv_sec - r->token_at.tv_sec) +
			    (double)(now.tv_nsec - r->token_at.tv_nsec) / 1e9;
		r->tokens += dt * rate;
		if (r->tokens > rate)
			r->tokens = rate;
	}
	r->token_at = now;
	if (r->tokens >= 1) {
		r->tokens -= 1;
		return true;
	}
	double wait = (1 - r->tokens) / rate;
	*retry_after = wait < 1 ? 1 : (unsigned)wait + 1;
	return false;
}

void registrar_source_text(msg_t *msg, char *out, size_t n)
{
	char addr[64];
	reg_source_of(msg, addr, sizeof(addr), out, n);
}

/* ---- the other node's lines ---- */

void reg_peer_free(registrar_t *r)
{
	free(r->peer.regs);
	r->peer.regs = NULL;
	r->peer.n = r->peer.cap = 0;
}

static struct peer_reg *peer_find(registrar_t *r, char const *dn)
{
	for (size_t i = 0; i < r->peer.n; i++)
		if (!strcmp(r->peer.regs[i].dn, dn))
			return &r->peer.regs[i];
	return NULL;
}

static void peer_drop(registrar_t *r, struct peer_reg *p)
{
	*p = r->peer.regs[--r->peer.n];
}

/* The binding's pointers point into its own entry: set again whenever entries move. */
static void peer_fix(registrar_t *r)
{
	for (size_t i = 0; i < r->peer.n; i++) {
		struct peer_reg *p = &r->peer.regs[i];
		p->b.dn = p->dn;
		p->b.device = p->device;
		p->b.contact = p->contact;
		p->b.next = NULL;
	}
}

static void peer_set(registrar_t *r, struct registrar_peer_reg const *in)
{
	struct peer_reg *p = peer_find(r, in->dn);
	if (in->expires_at <= (long long)time(NULL)) {
		if (p)
			peer_drop(r, p);
		return;
	}
	if (!p) {
		if (r->peer.n >= PEER_MAX)
			return;
		if (r->peer.n == r->peer.cap) {
			size_t cap = r->peer.cap ? 2 * r->peer.cap : 64;
			struct peer_reg *np = realloc(r->peer.regs, cap * sizeof(*np));
			if (!np)
				return;
			r->peer.regs = np;
			r->peer.cap = cap;
		}
		p = &r->peer.regs[r->peer.n++];
		memset(p, 0, sizeof(*p));
		text_copy(p->dn, sizeof(p->dn), in->dn);
	}
	text_copy(p->device, sizeof(p->device), in->device);
	p->b.expires = (time_t)in->expires_at;
	p->b.peer = true;
	snprintf(p->b.transport, sizeof(p->b.transport), "tls");
	snprintf(p->b.source, sizeof(p->b.source), "%s", r->peer.node);
	bool v6 = strchr(r->peer.host, ':') != NULL;
	snprintf(p->contact, sizeof(p->contact), "sip:%s@%s%s%s:%u;transport=tls", p->dn,
		 v6 ? "[" : "", r->peer.host, v6 ? "]" : "", r->peer.port);
}

/*
 * The other node has dn registered for device: a binding of the same device
 * here that was only read from the database at start (no REGISTER since)
 * is the phone's old registration from before this node went down, and the
 * phone has moved to the other node meanwhile. It goes, so that the line is
 * not shown registered on both nodes and calls to it go where the phone is.
 * A phone that registers to both nodes refreshes its binding here anyway.
 */
static size_t drop_moved(registrar_t *r, char const *dn, char const *device)
{
	size_t n = 0;
	struct binding *b = binding_first(r->bindings, dn);
	while (b) {
		struct binding *next = b->next;
		if (b->restored && b->device && !strcmp(b->device, device)) {
			binding_remove(r->bindings, b);
			n++;
		}
		b = next;
	}
	return n;
}

void registrar_peer_update(registrar_t *r, char const *self, char const *node, char const *host,
			   unsigned port, struct registrar_peer_reg const *regs, size_t n,
			   bool full)
{
	ASSERT_THREAD(SIP);
	text_copy(r->peer.self, sizeof(r->peer.self), self);
	if (strcmp(r->peer.node, node) != 0 || full)
		r->peer.n = 0;
	text_copy(r->peer.node, sizeof(r->peer.node), node);
	if (host && host[0]) {
		text_copy(r->peer.host, sizeof(r->peer.host), host);
		r->peer.port = port;
	}
	size_t ignored = 0, moved = 0;
	long long now = (long long)time(NULL);
	for (size_t i = 0; i < n; i++) {
		struct dir_line const *line = directory_line(r->dir, regs[i].dn);
		if (!line || !line->device) {
			ignored++;
			continue;
		}
		peer_set(r, &regs[i]);
		if (regs[i].expires_at > now && regs[i].device[0])
			moved += drop_moved(r, regs[i].dn, regs[i].device);
	}
	peer_fix(r);
	if (ignored)
		log_info("node %s: %zu registered line%s unknown here, ignored", r->peer.node,
			 ignored, ignored == 1 ? "" : "s");
	if (moved)
		log_notice("node %s has %zu line%s registered that this node had restored from its "
			   "database (the phones moved while it was down): dropped here",
			   r->peer.node, moved, moved == 1 ? "" : "s");
	if (full)
		log_info("node %s: %zu line%s registered there", r->peer.node, r->peer.n,
			 r->peer.n == 1 ? "" : "s");
}

void registrar_peer_clear(registrar_t *r)
{
	ASSERT_THREAD(SIP);
	if (r->peer.n)
		log_info("node %s out of reach: its %zu registered line%s forgotten", r->peer.node,
			 r->peer.n, r->peer.n == 1 ? "" : "s");
	r->peer.n = 0;
	r->peer.port = 0;
}

char const *registrar_peer_node(registrar_t const *r)
{
	return r->peer.node;
}

struct binding const *registrar_peer_binding(registrar_t *r, char const *dn)
{
	ASSERT_THREAD(SIP);
	struct peer_reg *p = dn ? peer_find(r, dn) : NULL;
	if (!p || !r->peer.port)
		return NULL;
	if (p->b.expires <= time(NULL)) {
		peer_drop(r, p);
		peer_fix(r);
		return NULL;
	}
	return &p->b;
}

bool binding_is_peer(struct binding const *b)
{
	return b && b->peer;
}

void reg_peer_list(registrar_t *r, json_t *arr, char const *device)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < r->peer.n; i++) {
		struct peer_reg const *p = &r->peer.regs[i];
		if ((device && strcmp(device, p->device) != 0) || p->b.expires <= now)
			continue;
		struct dir_line const *line = directory_line(r->dir, p->dn);
		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:b}", "node",
				  r->peer.node, "device", p->device, "index",
				  line ? (int)line->index : 0, "dn", p->dn, "contact", p->contact,
				  "transport", "node", "source", r->peer.node, "expires_in",
				  (json_int_t)(p->b.expires - now), "derived", false));
	}
}

/* ---- this node's lines ---- */

struct each_ctx {
	registrar_t *r;
	void (*fn)(char const *dn, char const *device, time_t expires, void *arg);
	void *arg;
};

time_t registrar_line_expires(registrar_t *r, char const *dn, char const **device)
{
	ASSERT_THREAD(SIP);
	time_t latest = 0;
	*device = "";
	for (struct binding *k = binding_first(r->bindings, dn); k; k = k->next)
		if (k->expires > latest) {
			latest = k->expires;
			*device = k->device ? k->device : "";
		}
	return latest;
}

static void each_line(struct binding *b, void *arg)
{
	struct each_ctx *x = arg;
	if (binding_first(x->r->bindings, b->dn) != b) /* once per line, at its first binding */
		return;
	char const *device;
	time_t latest = registrar_line_expires(x->r, b->dn, &device);
	x->fn(b->dn, device, latest, x->arg);
}

void registrar_foreach_registered(registrar_t *r,
				  void (*fn)(char const *dn, char const *device, time_t expires,
					     void *arg),
				  void *arg)
{
	ASSERT_THREAD(SIP);
	struct each_ctx x = { r, fn, arg };
	binding_foreach(r->bindings, each_line, &x);
}
