/*
 * The SQLite store: schema and migrations, users with their secrets,
 * devices, lines, and the tables later features fill.
 *
 * Thread: the store thread only (see store/worker.h), except store_open()
 * and store_close(), which run before the thread starts and after it ends.
 * Ownership: store_open() creates a store_t, store_close() frees it
 * (NULL-safe). Listings return new jansson references the caller releases.
 *
 * Every function reports a refusal through struct store_err: a negative
 * errno in code (-EEXIST, -ENOENT, -EINVAL, -EBUSY for "in use", -EIO) and
 * one sentence for the administrator in msg. No secret ever enters msg.
 */
#ifndef SIPREG_STORE_H
#define SIPREG_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "daemon/digest.h"
#include "store/directory.h"

typedef struct store store_t;

struct store_err {
	int code;
	char msg[256];
};

#define STORE_NAME_MAX	   64
#define STORE_PASSWORD_MAX 128
#define STORE_TEXT_MAX	   64

/**
 * Opens (creating if needed) the database at path, applies pending
 * migrations, loads or creates the key file (path + ".key"), and records the
 * realm. If the realm differs from the one recorded, every user's HA1 is
 * derived again from the stored password.
 */
int store_open(store_t **out, char const *path, char const *realm, struct store_err *e);
void store_close(store_t *s);

/** The schema version (number of migrations applied). */
int store_schema_version(store_t *s);

/** Canonical device name: SEP<MAC> names in upper case, others unchanged. */
void store_device_name_canon(char *out, size_t outsize, char const *name);

/* ---- users ---- */
int store_user_add(store_t *s, char const *name, char const *password, struct store_err *e);
int store_user_passwd(store_t *s, char const *name, char const *password, struct store_err *e);
/* The shortest password store_password_policy() accepts. */
#define STORE_PASSWORD_MIN 8
/**
 * The password policy for a user's password: at least STORE_PASSWORD_MIN
 * characters, and not the user's name nor its device's (in any case).
 * -EINVAL with the reason when it falls short.
 */
int store_password_policy(store_t *s, char const *name, char const *password, struct store_err *e);
int store_user_del(store_t *s, char const *name, struct store_err *e);
int store_user_list(store_t *s, json_t **out, struct store_err *e);

/* ---- devices ---- */
struct store_device_spec {
	char const *name;
	char const *model;	 /* NULL: unchanged (set) */
	char const *digest_user; /* NULL: unchanged (set) */
	char const *auth;	 /* "verify" or "identify"; NULL: default (add) or unchanged */
	char const *digest_algs; /* "md5", "sha256", "both", "default"; NULL: unchanged */
	char const *qop;	 /* "auth" or "optional"; NULL: unchanged */
	char const *transport;	 /* "udp", "tcp", "tls" or "any"; NULL: unchanged */
};

int store_device_add(store_t *s, struct store_device_spec const *spec, struct store_err *e);
int store_device_set(store_t *s, struct store_device_spec const *spec, struct store_err *e);
int store_device_del(store_t *s, char const *name, struct store_err *e);
int store_device_list(store_t *s, json_t **out, struct store_err *e);
int store_device_show(store_t *s, char const *name, json_t **out, struct store_err *e);

/* ---- lines ---- */
struct store_line_spec {
	char const *device;
	char const *dn;
	unsigned index; /* 0: the lowest free index */
	char const *display;
	char const *label;
};

/** Adds a line; *index_out receives the index it got (may be NULL). */
int store_line_add(store_t *s, struct store_line_spec const *spec, unsigned *index_out,
		   struct store_err *e);
int store_line_del(store_t *s, char const *dn, struct store_err *e);
int store_line_list(store_t *s, json_t **out, struct store_err *e);
int store_line_show(store_t *s, char const *dn, json_t **out, struct store_err *e);

/* A line's call features; what is left NULL or -1 stays as it is. */
struct store_line_features {
	char const *dn;
	int dnd;		   /* 0 off, 1 on (for the line's whole device), -1 unchanged */
	char const *cfwd_all;	   /* a DN, "off" (or "") to clear, NULL unchanged */
	char const *cfwd_busy;	   /* likewise */
	char const *cfwd_noanswer; /* likewise */
	int noanswer_timeout;	   /* seconds, 0 for the configured ring time, -1 unchanged */
};

int store_line_set(store_t *s, struct store_line_features const *f, struct store_err *e);

/* ---- call records ---- */
struct store_cdr {
	char call_id[64];			     /* NODE-RUN-N, as in the log and call list */
	long long started_at, answered_at, ended_at; /* wall-clock seconds; 0 for none */
	char caller[33], caller_device[65], callee[33];
	char target[33];    /* the line that took the call after forwarding ("" none) */
	char forwarded[16]; /* reason of the last forward ("" none) */
	char result[24];    /* answered, busy, no-answer, cancelled, unavailable, ... */
};

/**
 * Counts one more start of node (a name of letters, digits, '-', '.') and
 * returns its number, for call ids unique across starts and nodes.
 */
int store_next_run(store_t *s, char const *node, unsigned long long *run, struct store_err *e);
/** Writes n call records in one transaction. */
int store_cdr_add(store_t *s, struct store_cdr const *c, size_t n, struct store_err *e);
/** Records started at or after since, newest first, at most limit (0: all). */
int store_cdr_list(store_t *s, long long since, unsigned limit, json_t **out, struct store_err *e);

/* ---- trunks and the dial plan ---- */
struct store_trunk_spec {
	char const *name;
	char const *registrar;				 /* HOST[:PORT] */
	char const *proxy;				 /* NULL: none */
	char const *user, *auth_user, *password, *realm; /* NULL: none (auth user: user) */
	char const *transport;				 /* "udp" (NULL) or "tcp" */
	char const *caller_id, *default_dn;
	long long expires;	 /* 0: 3600 */
	int do_register;	 /* -1: when a user is given */
	int emergency;		 /* 1: the trunk for emergency calls */
	char const *const *dids; /* NUMBER or NUMBER=DN */
	size_t n_dids;
};

int store_trunk_add(store_t *s, struct store_trunk_spec const *t, struct store_err *e);
/**
 * Changes the trunk t->name: NULL fields (and do_register, emergency -1,
 * expires 0) stay as they are; "" clears proxy, user, auth user, realm,
 * caller ID and default line. With set_dids the DIDs are replaced by t's.
 */
int store_trunk_set(store_t *s, struct store_trunk_spec const *t, bool set_dids,
		    struct store_err *e);
int store_trunk_del(store_t *s, char const *name, struct store_err *e);

struct store_route_spec {
	char const *pattern;
	char const *trunk; /* NULL: calls that match are refused */
	unsigned strip;
	char const *prepend;
	int priority;
	bool allow_restricted;
};

/** *id receives the route's number. */
int store_route_add(store_t *s, struct store_route_spec const *r, long long *id,
		    struct store_err *e);
int store_route_del(store_t *s, long long id, struct store_err *e);

/* ---- other listings ---- */
int store_model_list(store_t *s, json_t **out, struct store_err *e);
/** {"users":N,"devices":N,"lines":N,"bindings":N} */
int store_counts(store_t *s, json_t **out, struct store_err *e);

/* ---- the SIP thread's view ---- */

/** Builds a sealed snapshot of users, devices and lines. */
int store_directory_load(store_t *s, directory_t **out, struct store_err *e);

enum store_binding_op {
	STORE_BINDING_UPSERT,
	STORE_BINDING_DELETE, /* the binding (dn, contact) */
};

/* A registration as written behind to the database. */
struct store_binding {
	enum store_binding_op op;
	char dn[33];
	char device[65];
	char contact[512];
	char source[64];
	char transport[8];
	char instance[128];
	char user_agent[128];
	char call_id[256];
	unsigned long cseq;
	long long expires_at; /* wall-clock seconds */
	bool derived;
};

/** Applies a batch of binding changes in one transaction, in order. */
int store_binding_apply(store_t *s, struct store_binding const *b, size_t n, struct store_err *e);

/**
 * Deletes expired bindings and those made over a connection (TCP, TLS:
 * their phones reconnect), then calls fn for each remaining one.
 */
int store_binding_load(store_t *s, long long now,
		       void (*fn)(struct store_binding const *b, void *arg), void *arg,
		       struct store_err *e);

/** The per-install secret for nonces (hex, 64 characters). */
int store_nonce_secret(store_t *s, char *out, size_t outsize, struct store_err *e);

#endif
