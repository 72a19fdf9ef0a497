/*
 * The node link's messages: frames of a 4-byte length (big-endian, of
 * what follows it), a 1-byte type and a body. JSON bodies (hello, join,
 * joined, error) are checked field by field into fixed structures; binary
 * bodies start with 64-bit numbers. Nothing here allocates or keeps state:
 * it is what the fuzzer drives.
 *
 * Thread: any.
 */
#ifndef SIPREG_HA_WIRE_H
#define SIPREG_HA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registrar/registrar.h"

enum ha_type {
	HA_HELLO = 'H',	   /* JSON: who I am, my role, epoch, schema, position */
	HA_JOIN = 'J',	   /* JSON: a backup's token and certificate requests */
	HA_JOINED = 'K',   /* JSON: certificates, keys and the primary's identity */
	HA_SNAPSHOT = 'S', /* u64 seq, then the database file */
	HA_CHANGE = 'C',   /* u64 seq, u64 committed at (ms), then a changeset */
	HA_ACK = 'A',	   /* u64: the last change applied */
	HA_UP = 'U',	   /* u64 outbox id, then a changeset (backup to primary) */
	HA_UPACK = 'V',	   /* u64: outbox entries taken up to this id */
	HA_PING = 'P',	   /* u64: sender's head (primary) or applied change (backup) */
	HA_ERROR = 'E',	   /* JSON: one sentence, then the sender closes */
	HA_REGS = 'R',	   /* JSON: the lines registered on the sender (whole, or changes) */
};

#define HA_FRAME_MAX  (256u * 1024 * 1024) /* a snapshot */
#define HA_SMALL_MAX  (1024u * 1024)	   /* every frame but a snapshot or a change */
#define HA_CHANGE_MAX (64u * 1024 * 1024)

struct ha_frame {
	uint8_t type;
	uint8_t const *body;
	size_t len;
};

/*
 * The frame at the start of buf: 1 with *f and *used (bytes it takes), 0
 * when more bytes are needed, -1 when it can never be valid (unknown type,
 * too long for its type); why says which.
 */
int ha_wire_frame(uint8_t const *buf, size_t len, struct ha_frame *f, size_t *used, char *why,
		  size_t whylen);

/* The header of a frame of type with a body of len bytes (5 bytes). */
void ha_wire_header(uint8_t out[5], uint8_t type, size_t len);

void ha_wire_put_u64(uint8_t *p, uint64_t v);
/* The n-th 64-bit number of a binary body; -1 when the body is too short. */
int ha_wire_u64(struct ha_frame const *f, unsigned n, uint64_t *v);

#define HA_NODE_MAX 33
#define HA_FP_MAX   104 /* "SHA256:" and 32 bytes in hex with colons */

struct ha_hello {
	char node[HA_NODE_MAX];
	char role[12]; /* primary, backup, demoted */
	uint64_t epoch;
	int schema;
	uint64_t seq;  /* primary: head; backup: last applied */
	bool snapshot; /* backup: needs a snapshot whatever seq says (just joined) */
	char config_fp[24];
};

struct ha_join {
	char token[48]; /* the secret part, hex */
	char node[HA_NODE_MAX];
	int schema;
	char san[256];			/* for the SIP certificate, "" none */
	char const *csr_node, *csr_sip; /* point into the JSON object given */
};

/* JSON into the structures: 0, or -1 with why. */
int ha_hello_decode(char const *json, size_t len, struct ha_hello *h, char *why, size_t whylen);
/* h JSON text, malloc'd. */
char *ha_hello_encode(struct ha_hello const *h);

/* The join request; csr fields stay valid while *root lives (json_decref it). */
int ha_join_decode(char const *json, size_t len, struct ha_join *j, void **root, char *why,
		   size_t whylen);

/* ---- R: the lines registered on the sender ---- */

struct ha_regs {
	bool full;		       /* the whole list (else changes) */
	char host[64];		       /* full: where its node transport listens ("" unsaid) */
	int port;		       /* full: its port (0 none); -1 in a list of changes */
	struct registrar_peer_reg *regs; /* malloc'd */
	size_t n;
};
#define HA_REGS_MAX 100000 /* lines in one message */

/* Decodes an R message (r->regs to free() on success). 0, or -1 with why. */
int ha_regs_decode(char const *json, size_t len, struct ha_regs *r, char *why, size_t whylen);
/* An R message's JSON text, malloc'd (host, port only in a whole list). */
char *ha_regs_encode(struct ha_regs const *r);

/* A node id as config_parse_node_id() takes it. */
bool ha_node_ok(char const *s);

#endif
