/*
 * The location table written behind: every change of a binding is queued
 * (one slot per binding, so a binding changed twice before the batch goes
 * is written once) and the queue goes to the store thread as one batch
 * every [store] flush_interval_ms, or at once when a listing must be exact.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/thread.h"
#include "registrar/internal.h"

#define LOG_TAG "registrar"

/*
 * Queues a binding's new state (or its deletion) for the store thread. A
 * binding changed twice before the batch goes out takes one slot: only its
 * last state is written.
 */
void reg_queue_change(registrar_t *r, struct binding *b, enum store_binding_op op)
{
	struct store_binding *s;
	if (r->restoring)
		return;
	if (b->pending_batch == r->batch && b->pending_slot < r->n_pending) {
		s = &r->pending[b->pending_slot];
	} else {
		if (r->n_pending == r->cap_pending) {
			size_t nc = r->cap_pending ? r->cap_pending * 2 : 64;
			struct store_binding *np = realloc(r->pending, nc * sizeof(*np));
			if (!np) {
				log_error("out of memory: a binding change is not written to the "
					  "database");
				return;
			}
			r->pending = np;
			r->cap_pending = nc;
		}
		b->pending_batch = r->batch;
		b->pending_slot = (uint32_t)r->n_pending;
		s = &r->pending[r->n_pending++];
	}
	s->op = op;
	text_copy(s->dn, sizeof(s->dn), b->dn);
	text_copy(s->contact, sizeof(s->contact), b->contact);
	if (op == STORE_BINDING_DELETE)
		return;
	text_copy(s->device, sizeof(s->device), b->device);
	text_copy(s->source, sizeof(s->source), b->source);
	text_copy(s->transport, sizeof(s->transport), b->transport);
	text_copy(s->instance, sizeof(s->instance), b->instance);
	text_copy(s->user_agent, sizeof(s->user_agent), b->user_agent);
	text_copy(s->call_id, sizeof(s->call_id), b->call_id);
	s->cseq = b->cseq;
	s->expires_at = (long long)b->expires;
	s->derived = b->derived;
}

void reg_flush_changes(registrar_t *r)
{
	if (!r->n_pending || !r->sink)
		return;
	r->sink(r->pending, r->n_pending, r->sink_arg);
	r->pending = NULL;
	r->n_pending = r->cap_pending = 0;
	if (++r->batch == 0) /* 0 marks a binding with no pending change */
		r->batch = 1;
}
