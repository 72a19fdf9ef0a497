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

#include "b2bua/trunk.h"
#include "registrar/registrar.h"
#include "sip/hosts.h"

typedef struct b2bua b2bua_t;

struct b2bua_config {
	unsigned ring_timeout; /* seconds without an answer before 480 */
	unsigned line_calls;   /* calls a line takes at once before 486 */
	unsigned dnd_response; /* status for a call to a device in do not disturb */
	unsigned max_forks;    /* B legs one call may open, over all its forwards */
	char emergency[256];   /* emergency numbers, space separated */
	char restricted[256];  /* international and premium prefixes, space separated */
	struct trunks_config trunks;
};

/* Finished calls' records; takes c (malloc'd, n entries). */
typedef void (*b2bua_cdr_f)(struct store_cdr *c, size_t n, void *arg);
/* A phone changed a line's features (Cisco feature request); to be stored. */
typedef void (*b2bua_feature_f)(struct store_line_features const *f, void *arg);

int b2bua_create(b2bua_t **out, su_root_t *root, nta_agent_t *agent, registrar_t *reg,
		 struct b2bua_config const *cfg, b2bua_cdr_f cdr, b2bua_feature_f feature,
		 void *arg);
/** Hands the records of calls ended since the last tick to the sink. */
void b2bua_tick(b2bua_t *b);
void b2bua_destroy(b2bua_t *b);
void b2bua_set_config(b2bua_t *b, struct b2bua_config const *cfg);
/** The trunks' hosts: an INVITE from one of their addresses comes from that trunk. */
void b2bua_set_hosts(b2bua_t *b, hosts_t const *hosts);

/** An INVITE outside any dialog; takes msg. */
void b2bua_invite(b2bua_t *b, msg_t *msg, sip_t *sip);

size_t b2bua_count(b2bua_t const *b);

/** The registrar installed a new directory: trunks follow it. */
void b2bua_directory_changed(b2bua_t *b, directory_t const *dir);

/** Trunks with their state (an array), or the one named (NULL when none). */
json_t *b2bua_trunks(b2bua_t *b, char const *name);
/* Trunks on standby (the other node registers them) or registering here; see trunks_standby(). */
void b2bua_trunks_standby(b2bua_t *b, bool on);
/* Keeps the result of a TLS check of trunk name (shown by b2bua_trunks()). */
void b2bua_trunk_checked(b2bua_t *b, char const *name, char const *result);
/** The dial plan in the order routes are tried. */
json_t *b2bua_routes(b2bua_t *b);

/** Live calls as a JSON array. */
json_t *b2bua_list(b2bua_t const *b);

/**
 * Ends call id: BYE to both sides of an answered call; a ringing one is
 * cancelled toward the callee and answered 480 to the caller. -1 when no
 * such call.
 */
int b2bua_hangup(b2bua_t *b, char const *id);
/** The NODE-RUN part of the ids of the calls from now on (set once at start). */
void b2bua_set_call_prefix(b2bua_t *b, char const *prefix);

#endif
