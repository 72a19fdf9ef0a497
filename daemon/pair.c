/*
 * Glue between the node link and the SIP thread (see daemon/pair.h). One
 * hand-off queue carries both the whole list of registrations (made on the
 * SIP thread when the link comes up) and every change after it, so the
 * link never sends a change older than the list it follows.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "b2bua/b2bua.h"
#include "daemon/app.h"
#include "daemon/handoff.h"
#include "daemon/log.h"
#include "daemon/pair.h"
#include "daemon/text.h"
#include "sip/node.h"

#define LOG_TAG "ha"

struct pair {
	ha_t *ha;
	handoff_t *to_main;
	sip_thread_t *(*sip)(void *);
	void *sip_arg;
};

/* A list of lines on its way to the link, made on the SIP thread. */
struct regs_job {
	pair_t *p;
	struct registrar_peer_reg *regs;
	size_t n, cap;
	bool full;
	char host[CONFIG_HOST_MAX];
	int port;
	/* dump: the node transport to open */
	char dir[1100];
	unsigned want_port;
};

static void regs_to_link(void *arg)
{
	struct regs_job *j = arg;
	ha_local_regs(j->p->ha, j->regs, j->n, j->full, j->host, j->port);
	free(j);
}

static void post(pair_t *p, struct regs_job *j)
{
	if (handoff_post(p->to_main, regs_to_link, j) < 0) {
		free(j->regs);
		free(j);
	}
}

void pair_regs_changed(void *arg, struct registrar_peer_reg *regs, size_t n)
{
	pair_t *p = arg;
	struct regs_job *j = calloc(1, sizeof(*j));
	if (!j) {
		free(regs);
		return;
	}
	*j = (struct regs_job){ .p = p, .regs = regs, .n = n };
	post(p, j);
}

/* ---- the link is up: the node transport and the whole list ---- */

static void add_line(char const *dn, char const *device, time_t expires, void *arg)
{
	struct regs_job *j = arg;
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 64;
		struct registrar_peer_reg *nr = realloc(j->regs, cap * sizeof(*nr));
		if (!nr)
			return;
		j->regs = nr;
		j->cap = cap;
	}
	struct registrar_peer_reg *r = &j->regs[j->n++];
	memset(r, 0, sizeof(*r));
	text_copy(r->dn, sizeof(r->dn), dn);
	text_copy(r->device, sizeof(r->device), device);
	r->expires_at = (long long)expires;
}

static void dump_run(sip_thread_t *t, void *arg)
{
	struct regs_job *j = arg;
	/* No directory: no certificate for it (said on the main thread); the lines still go. */
	if (j->dir[0]) {
		j->port = sip_node_open(app_agent(t), j->dir, j->host, j->want_port);
		if (j->port < 0)
			log_error("cannot open the SIP transport between the nodes on %s:%u "
				  "(certificate in %s): calls to lines registered on the other "
				  "node cannot go there",
				  j->host, j->want_port, j->dir);
		else
			log_info("SIP between the nodes: TLS on %s port %d", j->host, j->port);
	}
	registrar_foreach_registered(app_registrar(t), add_line, j);
	j->full = true;
	post(j->p, j);
}

static void dump(void *arg, char const *dir, char const *host, unsigned port)
{
	pair_t *p = arg;
	sip_thread_t *t = p->sip(p->sip_arg);
	struct regs_job *j = calloc(1, sizeof(*j));
	if (!t || !j) {
		free(j);
		return;
	}
	j->p = p;
	text_copy(j->dir, sizeof(j->dir), dir);
	text_copy(j->host, sizeof(j->host), host);
	j->want_port = port;
	if (sip_thread_call(t, dump_run, NULL, j) < 0)
		free(j);
}

/* ---- the other node's lines, the trunks ---- */

struct peer_job {
	char self[33], node[33], host[CONFIG_HOST_MAX];
	int port;
	struct registrar_peer_reg *regs;
	size_t n;
	bool full, gone, standby, trunks;
};

static void peer_run(sip_thread_t *t, void *arg)
{
	struct peer_job *j = arg;
	registrar_t *r = app_registrar(t);
	if (j->trunks) {
		b2bua_trunks_standby(app_b2bua(t), j->standby);
	} else if (j->gone) {
		registrar_peer_clear(r);
	} else {
		/* port -1: the list of changes keeps what the whole list said */
		registrar_peer_update(r, j->self, j->node, j->port >= 0 ? j->host : NULL,
				      j->port >= 0 ? (unsigned)j->port : 0, j->regs, j->n, j->full);
	}
	free(j->regs);
	free(j);
}

static void to_sip(pair_t *p, struct peer_job *j)
{
	sip_thread_t *t = p->sip(p->sip_arg);
	if (!t || sip_thread_call(t, peer_run, NULL, j) < 0) {
		free(j->regs);
		free(j);
	}
}

static void peer_regs(void *arg, char const *self, char const *node, char const *host, int port,
		      struct registrar_peer_reg *regs, size_t n, bool full)
{
	struct peer_job *j = calloc(1, sizeof(*j));
	if (!j) {
		free(regs);
		return;
	}
	text_copy(j->self, sizeof(j->self), self);
	text_copy(j->node, sizeof(j->node), node);
	text_copy(j->host, sizeof(j->host), host);
	j->port = port;
	j->regs = regs;
	j->n = n;
	j->full = full;
	to_sip(arg, j);
}

static void peer_gone(void *arg)
{
	struct peer_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->gone = true;
		to_sip(arg, j);
	}
}

static void trunks(void *arg, bool standby)
{
	struct peer_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->trunks = true;
		j->standby = standby;
		to_sip(arg, j);
	}
}

int pair_create(pair_t **out, struct event_base *base, ha_t *ha, sip_thread_t *(*sip)(void *),
		void *sip_arg)
{
	pair_t *p = calloc(1, sizeof(*p));
	if (!p || handoff_create(&p->to_main, base) < 0) {
		free(p);
		return -1;
	}
	p->ha = ha;
	p->sip = sip;
	p->sip_arg = sip_arg;
	struct ha_sip_hooks h = { p, dump, peer_regs, peer_gone, trunks };
	ha_set_sip(ha, &h);
	*out = p;
	return 0;
}

void pair_destroy(pair_t *p)
{
	if (!p)
		return;
	struct ha_sip_hooks none = { 0 };
	handoff_destroy(p->to_main); /* what the SIP thread still posted reaches the link */
	ha_set_sip(p->ha, &none);
	free(p);
}
