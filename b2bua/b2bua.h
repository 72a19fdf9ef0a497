/*
 * Calls between phones: each call is two dialogs, the caller's (A) and
 * one per binding of the called line (B, forked in parallel; the first 2xx
 * wins, the others are cancelled). Responses, ACK, BYE and in-dialog
 * requests cross from one dialog to the other; SDP passes unchanged.
 *
 * Thread: SIP.
 * Ownership: b2bua_create()/b2bua_destroy() (NULL-safe); calls belong to
 * the b2bua_t.
 */
#ifndef SIPREG_B2BUA_H
#define SIPREG_B2BUA_H

#include <jansson.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_wait.h>

#include "registrar/registrar.h"

typedef struct b2bua b2bua_t;

struct b2bua_config {
	unsigned ring_timeout; /* seconds without an answer before 480 */
	unsigned line_calls;   /* calls a line takes at once before 486 */
};

int b2bua_create(b2bua_t **out, su_root_t *root, nta_agent_t *agent, registrar_t *reg,
		 struct b2bua_config const *cfg);
void b2bua_destroy(b2bua_t *b);
void b2bua_set_config(b2bua_t *b, struct b2bua_config const *cfg);

/** An INVITE outside any dialog; takes msg. */
void b2bua_invite(b2bua_t *b, msg_t *msg, sip_t *sip);

size_t b2bua_count(b2bua_t const *b);

/** Live calls as a JSON array. */
json_t *b2bua_list(b2bua_t const *b);

/**
 * Ends call id: BYE to both sides of an answered call; a ringing one is
 * cancelled toward the callee and answered 480 to the caller. -1 when no
 * such call.
 */
int b2bua_hangup(b2bua_t *b, unsigned id);

#endif
