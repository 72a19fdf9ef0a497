/*
 * What the registrar's files share: the registrar itself, the connections
 * its bindings hold, the outcome of a request and its context. Private to
 * registrar/ (registrar.c: REGISTER; access.c: who may send what; conns.c:
 * connections; admin.c: what the administrator sees).
 *
 * Thread: SIP.
 */
#ifndef SIPREG_REGISTRAR_INTERNAL_H
#define SIPREG_REGISTRAR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "registrar/auth.h"
#include "registrar/ban.h"
#include "registrar/bindings.h"
#include "registrar/registrar.h"
#include "sip/hosts.h"
#include "sip/reply.h"

/* A connection (TCP, TLS) bindings were made over: held open while they last. */
struct conn {
	struct conn *next;
	struct registrar *r;
	tport_t *tp;
	int pend;
	unsigned refs;
	char name[80];
};

/* A line registered on the other node of a pair, as the calls see it. */
struct peer_reg {
	struct binding b; /* contact sip:DN@HOST:PORT;transport=tls, the node transport's */
	char dn[33], device[65], contact[160];
};

/* The other node: its name, where its node transport listens, its registered lines. */
struct peer_state {
	char self[33], node[33];
	char host[64];
	unsigned port;
	struct peer_reg *regs;
	size_t n, cap;
};

struct registrar {
	nta_agent_t *agent;
	hosts_t const *hosts; /* the trunks' addresses (never banned), or NULL */
	struct registrar_config cfg;
	auth_server_t *auth;
	ban_table_t *bans;
	binding_table_t *bindings;
	directory_t *dir;
	struct conn *conns;
	registrar_sink_f sink;
	void *sink_arg;
	registrar_registered_f on_register; /* after a new registration */
	void *on_register_arg;
	struct store_binding *pending; /* changes not yet written behind */
	size_t n_pending, cap_pending;
	uint32_t batch;	       /* numbers the pending batches, for merging changes */
	uint64_t failed[1024]; /* requests whose failure was counted, by reg_request_key() */
	bool restoring;
	su_home_t *home;      /* what follows */
	sip_server_t *server; /* the Server header, parsed once */
	char *realm_param;    /* realm="..." for the challenges */
	char node_mark[9];
	struct peer_state peer;
	double tokens;	       /* fallback tokens in the bucket ([ha] token_rate) */
	struct timespec token_at; /* when the bucket was last filled */
};

/* A request being handled: REGISTER, or another request to authenticate. */
struct reg_ctx {
	registrar_t *r;
	msg_t *msg;
	sip_t *sip;
	time_t now;
	char addr[64];
	char source[80];
	char transport[8];
	tport_t *tp;
	struct dir_line const *line;
	struct dir_device const *dev;
	char const *dn;
	bool proxy; /* not a REGISTER: Proxy-Authorization, 407 */
};

/* ---- peer.c ---- */

void reg_peer_free(registrar_t *r);
/* The peer's registrations for reg list (node, device, line, contact). */
void reg_peer_list(registrar_t *r, json_t *arr, char const *device);

/* ---- registrar.c ---- */

/** Queues a binding's new state (or its deletion) to be written behind. */
void reg_queue_change(registrar_t *r, struct binding *b, enum store_binding_op op);
/* Hands the queued changes to the sink now (they are otherwise handed over on the tick). */
void reg_flush_changes(registrar_t *r);
/** The request's source as "a.b.c.d" (addr) and "a.b.c.d:port" or "[v6]:port" (hostport). */
void reg_source_of(msg_t *msg, char *addr, size_t alen, char *hostport, size_t hlen);
/** Identifies a request (Call-ID, CSeq, branch): the same for its retransmissions. */
uint64_t reg_request_key(sip_t const *sip);
/**
 * Answers msg with outcome o (sip/reply.h: status, phrase, Retry-After; a
 * Cisco phone gets 503 for most refusals) and the tags given, plus Server.
 */
void reg_reply(registrar_t *r, msg_t *msg, enum sip_outcome o, bool cisco, tag_type_t tag,
	       tag_value_t value, ...);
/** A refusal without further headers. */
#define reg_reply_refusal(r, msg, o, cisco) reg_reply((r), (msg), (o), (cisco), TAG_END())

/* ---- access.c ---- */

/** Authenticates; answers and returns false when the request stops here. */
bool reg_authenticate(struct reg_ctx *c, struct dir_device const **who);

/* ---- conns.c ---- */

/** The binding table's hooks: removal written behind, connections held and dropped. */
extern struct binding_hooks const reg_binding_hooks;
/** Frees every connection (at the end, after the bindings). */
void reg_conns_free(registrar_t *r);

#endif
