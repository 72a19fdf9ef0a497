/*
 * The location table: contacts bound to each line (AOR = the DN), with the
 * ordering rules of RFC 3261 §10.3 (Call-ID and CSeq), expiry, and removal
 * by device or by connection.
 *
 * Thread: SIP.
 * Ownership: binding_table_create()/binding_table_destroy(); a struct
 * binding belongs to the table and lives until removed (the remove callback
 * sees it last). The table also owns the references to the connections its
 * bindings were made over: conn_hold when a binding gets a connection,
 * conn_drop when it loses it (another connection, none, or unlinked). No
 * caller changes a connection's count; binding_table_destroy() calls
 * neither (the owner of the connections frees them all at once).
 */
#ifndef SIPREG_BINDINGS_H
#define SIPREG_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct binding_table binding_table_t;

struct binding {
	struct binding *next; /* the next binding of the same AOR */
	char *dn;
	char *device;
	char *contact; /* the contact URI as sent, without its header parameters */
	char *call_id;
	uint32_t cseq;
	uint64_t req_key; /* the request that last wrote it (retransmission check) */
	time_t expires;	  /* wall clock */
	time_t created;
	char source[64]; /* address:port the REGISTER came from */
	char transport[8];
	char *instance;
	char *user_agent;
	void *conn;    /* the connection it was made over, or NULL (opaque here) */
	bool derived;  /* bound by the server on behalf of line 1 */
	bool peer;     /* not ours: the line is registered on the other node (registrar/peer.c) */
	bool restored; /* read from the database at start; no request has written it since */
	/* Its slot in the registrar's batch of changes to write behind (batch 0: none). */
	uint32_t pending_batch, pending_slot;
};

/* What a REGISTER asks for one contact. */
struct binding_update {
	char const *dn;
	char const *device;
	char const *contact;
	char const *call_id;
	uint32_t cseq;
	uint64_t req_key;
	time_t expires; /* absolute; 0 or <= now removes */
	char const *source;
	char const *transport;
	char const *instance;
	char const *user_agent;
	void *conn;
	bool derived;
	bool restored; /* from the database at start, not from a request */
};

enum binding_check {
	BINDING_CHECK_OK,
	BINDING_CHECK_RETRANSMISSION, /* the same request again: answer as before */
	BINDING_CHECK_OUT_OF_ORDER,   /* same Call-ID, CSeq not higher */
};

struct binding_hooks {
	/* Called for each binding just before it is removed. */
	void (*removed)(struct binding *b, void *arg);
	/* A binding takes a reference to conn (non-NULL); 0, or negative to refuse. */
	int (*conn_hold)(void *conn, void *arg);
	/* A binding gives its reference to conn back. */
	void (*conn_drop)(void *conn, void *arg);
};

int binding_table_create(binding_table_t **out, struct binding_hooks const *hooks, void *arg);
void binding_table_destroy(binding_table_t *t);

/** RFC 3261 §10.3 step 6-7 for one contact (or every binding of dn when contact is NULL). */
enum binding_check binding_check(binding_table_t const *t, char const *dn, char const *contact,
				 char const *call_id, uint32_t cseq, uint64_t req_key);

struct binding_limits {
	unsigned per_aor;    /* bindings of one AOR at most (0: no limit) */
	unsigned per_device; /* bindings of one device on one AOR at most (0: no limit) */
};

/**
 * Applies one request's contacts to one AOR (u[0..n-1] share the DN and the
 * device), whole or not at all: each adds, refreshes or (expires <= now)
 * removes a binding, and out[i] gets it (NULL when removed). Beyond
 * per_device, the device's oldest bindings that the request leaves alone
 * are replaced (never another device's). -ENOSPC when the request names
 * more than per_device contacts or the AOR would exceed per_aor; -ENOMEM;
 * on error nothing has changed.
 */
int binding_apply_set(binding_table_t *t, struct binding_update const *u, size_t n, time_t now,
		      struct binding_limits const *lim, struct binding **out);

/** binding_apply_set() for one contact, with a limit per AOR only. */
int binding_apply(binding_table_t *t, struct binding_update const *u, time_t now,
		  unsigned max_per_aor, struct binding **out);

/** The bindings of an AOR (follow ->next), or NULL. */
struct binding *binding_first(binding_table_t const *t, char const *dn);
struct binding *binding_find(binding_table_t const *t, char const *dn, char const *contact);

/** Removes one binding. */
void binding_remove(binding_table_t *t, struct binding *b);
/** Removes every binding of dn (for a "*" unregistration); returns how many. */
size_t binding_remove_aor(binding_table_t *t, char const *dn);
/** Removes the bindings made over conn. */
size_t binding_remove_conn(binding_table_t *t, void const *conn);
/** Removes the bindings of a device (all its lines). */
size_t binding_remove_device(binding_table_t *t, char const *device);
/** Removes the bindings whose time is up. */
size_t binding_expire(binding_table_t *t, time_t now);

size_t binding_count(binding_table_t const *t);
/** Calls fn for every binding, in no particular order; fn must not change the table. */
void binding_foreach(binding_table_t const *t, void (*fn)(struct binding *b, void *arg), void *arg);

#endif
