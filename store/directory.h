/*
 * An immutable snapshot of users, devices and lines for the SIP thread,
 * built by the store thread and handed over whole; a change made by an
 * administrator produces a new snapshot that replaces the old one.
 *
 * Thread: built on the store thread, then owned and read by the SIP thread.
 * Ownership: directory_destroy() frees the snapshot and everything in it;
 * lookups return pointers into it, valid until it is destroyed.
 */
#ifndef SIPREG_DIRECTORY_H
#define SIPREG_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

/* Digest algorithms offered to a device. */
enum dir_algs {
	DIR_ALGS_DEFAULT = 0, /* from the configuration */
	DIR_ALGS_MD5,
	DIR_ALGS_SHA256,
	DIR_ALGS_BOTH, /* SHA-256 offered first */
};

/* The transports a device may use (device --transport). */
enum dir_transport {
	DIR_TP_ANY = 0,
	DIR_TP_UDP,
	DIR_TP_TCP,
	DIR_TP_TLS,
};

struct dir_user {
	char *name;
	char ha1_md5[33];
	char ha1_sha256[65];
	struct dir_device *device; /* NULL when no device has this digest user */
};

struct dir_device {
	char *name;
	char *model;
	unsigned model_lines;
	bool cisco;	/* a Cisco model (not the third-party ones) */
	bool cucm_mode; /* registers line 1 only; the server binds the rest */
	bool identify;	/* auth identify: the password is not checked */
	bool qop_required;
	bool dnd; /* do not disturb, for every line of the device */
	enum dir_algs algs;
	enum dir_transport transport; /* the only one it may use, or any */
	struct dir_user *user;
	struct dir_line **lines; /* by index - 1; NULL where no line is configured */
};

struct dir_line {
	char *dn;
	unsigned index;
	char *display;
	struct dir_device *device;
	/* Call forwarding targets (DNs), NULL when off. */
	char *cfwd_all, *cfwd_busy, *cfwd_noanswer;
	unsigned noanswer_timeout; /* seconds; 0 takes the configured ring time */
};

/* A line's call forwarding, as stored. */
struct dir_forward {
	char const *all, *busy, *noanswer; /* NULL or "" when off */
	unsigned noanswer_timeout;
};

/* An upstream trunk. Strings are NULL when not set. */
struct dir_trunk {
	char *name;
	char *registrar; /* HOST[:PORT] */
	char *proxy;	 /* HOST[:PORT] of the outbound proxy */
	char *user, *auth_user, *password, *realm;
	char *transport; /* "udp" or "tcp" */
	char *caller_id; /* the number calls go out with (NULL: user) */
	char *default_dn;
	char *contact_user; /* the user part of the Contact registered upstream */
	unsigned expires;
	bool do_register;
	bool emergency;
};

struct dir_did {
	char *number;
	struct dir_trunk const *trunk;
	char *dn; /* NULL: the trunk's default line */
};

struct dir_route {
	long long id;
	char *pattern;
	struct dir_trunk const *trunk; /* NULL: calls that match are refused */
	unsigned strip;
	char *prepend;
	int priority;
	bool allow_restricted; /* international and premium numbers may pass */
};

typedef struct directory directory_t;

directory_t *directory_create(void);
void directory_destroy(directory_t *d);

/* Building (store thread). Each returns 0 or -ENOMEM / -EINVAL. */
int directory_add_user(directory_t *d, char const *name, char const *ha1_md5,
		       char const *ha1_sha256);
struct dir_device_spec {
	char const *name, *model, *digest_user;
	unsigned lines;
	bool cisco, cucm_mode, identify, qop_required, dnd;
	enum dir_algs algs;
	enum dir_transport transport;
};
int directory_add_device(directory_t *d, struct dir_device_spec const *spec);
/* "udp", "tcp", "tls" or "any" (NULL) as a dir_transport. */
enum dir_transport directory_transport_from_text(char const *t);
char const *directory_transport_name(enum dir_transport t);
/** fwd may be NULL (no forwarding). */
int directory_add_line(directory_t *d, char const *dn, char const *device, unsigned index,
		       char const *display, struct dir_forward const *fwd);
/** Copies t (and its strings). */
int directory_add_trunk(directory_t *d, struct dir_trunk const *t);
/** Both for a trunk added before; dn may be NULL; trunk NULL refuses the route's calls. */
int directory_add_did(directory_t *d, char const *number, char const *trunk, char const *dn);
int directory_add_route(directory_t *d, long long id, char const *pattern, char const *trunk,
			unsigned strip, char const *prepend, int priority, bool allow_restricted);
/** Sorts and links everything; call once after adding. */
int directory_seal(directory_t *d);

/* Lookups (SIP thread), after directory_seal(). */
struct dir_user const *directory_user(directory_t const *d, char const *name);
struct dir_device const *directory_device(directory_t const *d, char const *name);
struct dir_line const *directory_line(directory_t const *d, char const *dn);
/** The device's line with the lowest index, or NULL when it has none. */
struct dir_line const *directory_first_line(struct dir_device const *dev);
size_t directory_count_devices(directory_t const *d);
/** The i-th device in name order (i < directory_count_devices()). */
struct dir_device const *directory_device_at(directory_t const *d, size_t i);

size_t directory_count_trunks(directory_t const *d);
/** The i-th trunk in name order. */
struct dir_trunk const *directory_trunk_at(directory_t const *d, size_t i);
struct dir_trunk const *directory_trunk(directory_t const *d, char const *name);
/** The trunk whose registered Contact has this user part, or NULL. */
struct dir_trunk const *directory_trunk_by_contact(directory_t const *d, char const *user);
struct dir_did const *directory_did(directory_t const *d, char const *number);
/** A DID of trunk t that delivers to line dn (for caller ID), or NULL. */
struct dir_did const *directory_did_of_line(directory_t const *d, struct dir_trunk const *t,
					    char const *dn);
size_t directory_count_dids(directory_t const *d);
struct dir_did const *directory_did_at(directory_t const *d, size_t i);
/** Routes in the order they are tried (lowest priority, then most specific). */
size_t directory_count_routes(directory_t const *d);
/** The i-th route in the order they are tried. */
struct dir_route const *directory_route_at(directory_t const *d, size_t i);

/**
 * Whether number matches a dial-plan pattern: digits, '*', '#' and '+'
 * stand for themselves, X for any digit, Z for 1-9, N for 2-9, and a
 * final '.' for one or more characters of any kind. A pattern without a
 * final '.' matches numbers of exactly its length.
 */
bool dialplan_match(char const *pattern, char const *number);
/** Whether a pattern is well formed (the characters above, 1 to 32 of them). */
bool dialplan_pattern_valid(char const *pattern);

#endif
