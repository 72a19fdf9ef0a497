/*
 * The registrar: REGISTER answered statelessly (RFC 3261 §10.3) with
 * digest authentication by the device's digest user, device identity
 * checks, multi-line (bulk) bindings for Cisco phones, bans, and the
 * location table written behind to the store.
 *
 * Thread: SIP (everything here runs on the SIP thread).
 * Ownership: registrar_create()/registrar_destroy() (NULL-safe). The
 * registrar owns the directory it is given, and the bindings.
 */
#ifndef SIPREG_REGISTRAR_H
#define SIPREG_REGISTRAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

#include "sip/hosts.h"
#include "store/directory.h"
#include "store/store.h"

typedef struct registrar registrar_t;

struct registrar_config {
	char realm[128];
	unsigned min_expires;
	unsigned max_expires;
	unsigned default_expires;
	unsigned cucm_max_expires;
	unsigned nonce_lifetime;
	enum dir_algs default_algs; /* DIR_ALGS_MD5, _SHA256 or _BOTH */
	unsigned max_contacts;
	unsigned device_contacts; /* bindings one device may hold per line; beyond, its oldest goes
				   */
	unsigned ban_failures, ban_window, ban_time;
	char ban_exempt[256];	 /* CIDR ranges never banned */
	char identify_from[256]; /* CIDR ranges identify-only devices may authenticate from */
	char server[64];	 /* Server header value */
	unsigned token_rate;	 /* fallback tokens granted a second ([ha] token_rate) */
	/* This server's names, "HOST:PORT ..." (auth_uri_names()): listeners and advertised. */
	char self[1024];
};

/* Receives batches of binding changes to write behind; takes ownership of b (free()). */
typedef void (*registrar_sink_f)(struct store_binding *b, size_t n, void *arg);

int registrar_create(registrar_t **out, nta_agent_t *agent, struct registrar_config const *cfg,
		     char const *secret_hex, registrar_sink_f sink, void *sink_arg);
void registrar_destroy(registrar_t *r);

/** Replaces the directory (takes ownership) and drops bindings it no longer allows. */
void registrar_set_directory(registrar_t *r, directory_t *d);
/** Applies reloadable settings (ban limits, nonce lifetime, expiry bounds). */
void registrar_set_config(registrar_t *r, struct registrar_config const *cfg);

/** Puts back a binding read from the store at start. */
void registrar_restore(registrar_t *r, struct store_binding const *b);

/**
 * True when msg comes from a banned source: it then gets no answer at all.
 * The SIP thread asks once per request, before any handler here sees it.
 */
bool registrar_source_banned(registrar_t *r, msg_t *msg);

/** Handles a REGISTER received statelessly; consumes msg. */
void registrar_handle(registrar_t *r, msg_t *msg, sip_t *sip);

/** Expires bindings and writes changes behind; call every flush interval. */
void registrar_tick(registrar_t *r, time_t now);

/** [{device, index, dn, contact, transport, source, user_agent, expires_in, derived}] */
json_t *registrar_list(registrar_t *r, char const *device);
/** Removes the bindings of a device or a DN; -ENOENT when neither exists. */
int registrar_flush(registrar_t *r, char const *device_or_dn, size_t *removed);
/** [{kind, what, failures, seconds_left, reason}] */
json_t *registrar_bans(registrar_t *r);
bool registrar_unban(registrar_t *r, char const *address);
size_t registrar_count(registrar_t *r);
/** Calls fn for each connection that bindings hold (never closed for being idle). */
void registrar_foreach_conn(registrar_t *r, void (*fn)(tport_t *tp, void *arg), void *arg);

/* ---- for the B2BUA (SIP thread) ---- */
struct binding;

/**
 * Authenticates a request other than REGISTER (Proxy-Authorization; 407
 * with the device's digest policy). Returns the device, msg still the
 * caller's; or NULL after answering msg itself (407, 400, 403). Banned
 * sources never get here (registrar_source_banned()). An `identify` device
 * is accepted only from where it registered.
 */
struct dir_device const *registrar_authorize(registrar_t *r, msg_t *msg, sip_t *sip);

/**
 * The bindings of a line, or NULL; the next with binding_next(). Opaque
 * outside the registrar: read through the functions below, valid until the
 * SIP thread returns to its loop.
 */
struct binding const *registrar_bindings(registrar_t *r, char const *dn);
struct binding const *binding_next(struct binding const *b);
/** The contact URI as the phone sent it (without header parameters). */
char const *binding_contact(struct binding const *b);
/** The device that made it, or NULL. */
char const *binding_device(struct binding const *b);
/** The transport it was made over: "udp", "tcp" or "tls". */
char const *binding_transport(struct binding const *b);

/**
 * True when msg (a request or a response being delivered now) came from
 * where binding b was made: over its connection, or for a binding made
 * without one, connectionless from its source address (any port).
 */
bool registrar_binding_sent(registrar_t *r, struct binding const *b, msg_t *msg);

/** This node's mark for the branch of the requests it sends (8 hex digits). */
char const *registrar_node_mark(registrar_t const *r);

/** True when nonce is one of our own challenges' (for whatever address it was issued to). */
bool registrar_nonce_ours(registrar_t *r, char const *nonce);

/** The connection a binding was made over (TCP, TLS), or NULL (UDP). */
tport_t *registrar_binding_tport(struct binding const *b);

/** The directory in force (valid until the next registrar_set_directory()). */
directory_t const *registrar_directory(registrar_t *r);

/** The realm of our challenges (and of the HA1s in the directory). */
char const *registrar_realm(registrar_t const *r);

/** Installs d and hands back the directory it replaces (the caller frees it). */
directory_t *registrar_swap_directory(registrar_t *r, directory_t *d);

/**
 * The device whose registration (connection, or source address for
 * connectionless bindings) the request came from; NULL when none.
 */
struct dir_device const *registrar_device_at(registrar_t *r, msg_t *msg, sip_t const *sip);

/* Called after the 200 to a new registration (not a refresh) of dn by dev. */
typedef void (*registrar_registered_f)(struct dir_device const *dev, char const *dn, void *arg);
void registrar_set_on_register(registrar_t *r, registrar_registered_f fn, void *arg);
/** The trunks' hosts: their addresses are never banned (NULL: none). */
void registrar_set_hosts(registrar_t *r, hosts_t const *hosts);

/* ---- the other node of a pair (registrar/peer.c) ---- */

/*
 * A Cisco phone's fallback token (REFER to token-registration): granted at
 * [ha] token_rate a second, a burst of one second's worth. False when the
 * bucket is empty, with the seconds to wait in *retry_after.
 */
bool registrar_token_grant(registrar_t *r, unsigned *retry_after);
/** Where msg came from, "a.b.c.d:port" or "[v6]:port", for the log. */
void registrar_source_text(msg_t *msg, char *out, size_t n);

/* A line registered on one node, as the nodes tell each other. */
struct registrar_peer_reg {
	char dn[33];
	char device[65];
	long long expires_at; /* wall clock; 0: no longer registered there */
};

/*
 * What the other node (named node; self names this one) has registered:
 * full replaces everything known, else each entry updates its line. Lines
 * the directory does not know are ignored. Its node transport listens on
 * host:port (port 0: unknown, its lines cannot be called). A line it has
 * registered drops this node's bindings of the same device that were only
 * restored from the database (the phone moved while this node was down).
 */
void registrar_peer_update(registrar_t *r, char const *self, char const *node, char const *host,
			   unsigned port, struct registrar_peer_reg const *regs, size_t n, bool full);
/** The other node is out of reach: nothing is known of its registrations. */
void registrar_peer_clear(registrar_t *r);
/** The other node's name once known ("" before). */
char const *registrar_peer_node(registrar_t const *r);
/** Where dn rings on the other node (one binding), or NULL. */
struct binding const *registrar_peer_binding(registrar_t *r, char const *dn);
/** A binding of the other node's (registrar_peer_binding()). */
bool binding_is_peer(struct binding const *b);
/*
 * When dn's registration here ends (its latest binding's expiry; 0: none
 * left), and in *device that binding's device ("" none).
 */
time_t registrar_line_expires(registrar_t *r, char const *dn, char const **device);
/** Each line registered here, with its device and its latest expiry (as above). */
void registrar_foreach_registered(registrar_t *r,
				  void (*fn)(char const *dn, char const *device, time_t expires,
					     void *arg),
				  void *arg);

#endif
