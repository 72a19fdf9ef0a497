/*
 * The connections (TCP, TLS) that bindings were made over. The binding
 * table takes and gives back the references (reg_binding_hooks); a struct
 * conn lives while any binding holds its connection: it keeps the
 * connection referenced (so sofia's idle timer does not close it) and
 * learns of its close through tport_pend(), when every binding made over
 * it goes.
 *
 * Thread: SIP.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn;
#define TP_CLIENT_T struct conn

#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "registrar/internal.h"

#define LOG_TAG "registrar"

/* A binding's conn is the tport_t it was made over. */
static struct conn *conn_find(registrar_t *r, tport_t const *tp)
{
	for (struct conn *c = r->conns; c; c = c->next) {
		if (c->tp == tp)
			return c;
	}
	return NULL;
}

static void conn_free(registrar_t *r, struct conn *c)
{
	struct conn **pp = &r->conns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	if (c->pend > 0)
		tport_release(c->tp, c->pend, NULL, NULL, c, 0);
	tport_unref(c->tp);
	free(c);
}

static void on_binding_removed(struct binding *b, void *arg)
{
	reg_queue_change(arg, b, STORE_BINDING_DELETE);
}

static void on_conn_closed(tp_stack_t *stack, struct conn *c, tport_t *tp, msg_t *msg, int error)
{
	registrar_t *r = c->r;
	char name[sizeof(c->name)];
	(void)stack, (void)tp, (void)msg;
	text_copy(name, sizeof(name), c->name);
	/* The last binding to go frees c. */
	size_t n = binding_remove_conn(r->bindings, c->tp);
	log_info("connection %s closed (%s): %zu binding%s removed", name,
		 error ? strerror(error) : "by the peer", n, n == 1 ? "" : "s");
}

static int conn_hold(void *conn, void *arg)
{
	registrar_t *r = arg;
	tport_t *tp = conn;
	struct conn *c = conn_find(r, tp);
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return -ENOMEM;
		c->r = r;
		c->tp = tport_ref(tp);
		tp_name_t const *n = tport_name(tp);
		snprintf(c->name, sizeof(c->name), "%s/%s:%s", n->tpn_proto, n->tpn_host,
			 n->tpn_port);
		/* Learn of the close; the reference keeps the idle timer from closing it. */
		tport_set_params(tp, TPTAG_SDWN_ERROR(1), TAG_END());
		c->pend = tport_pend(tp, NULL, on_conn_closed, c);
		c->next = r->conns;
		r->conns = c;
	}
	c->refs++;
	return 0;
}

static void conn_drop(void *conn, void *arg)
{
	registrar_t *r = arg;
	struct conn *c = conn_find(r, conn);
	if (c && --c->refs == 0)
		conn_free(r, c);
}

struct binding_hooks const reg_binding_hooks = {
	.removed = on_binding_removed,
	.conn_hold = conn_hold,
	.conn_drop = conn_drop,
};

void registrar_foreach_conn(registrar_t *r, void (*fn)(tport_t *tp, void *arg), void *arg)
{
	for (struct conn *c = r->conns; c; c = c->next)
		fn(c->tp, arg);
}

void reg_conns_free(registrar_t *r)
{
	while (r->conns)
		conn_free(r, r->conns);
}
