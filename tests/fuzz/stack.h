/*
 * The whole SIP side of sipregd in one process, for the harnesses that feed
 * it messages: the sofia agent on a loopback UDP port, the method router,
 * the registrar, the calls and the features, wired by daemon/app.c as in
 * sipregd, over a store in a temporary directory with a fixture of users,
 * devices, lines, a trunk with a DID and a route, and registered phones.
 * Everything runs on the calling thread (the store writes on its own), one
 * message at a time, so each input reaches the deep code, not only the
 * parser.
 *
 * The peers are UDP sockets on other loopback addresses:
 *   STACK_PHONE   127.0.0.2  device SEP001122334455 (Cisco 7965, user
 *                            "alice", password checked), lines 100 and 101
 *   STACK_TRUNK   127.0.0.3  trunk "provider" (no registration; the source
 *                            of its calls), DID 5550100 -> line 200;
 *                            "0..." is routed to it (the 0 stripped)
 *   STACK_CALLEE  127.0.0.4  device "bob-phone" (user "bob"), line 200
 *   STACK_REGISTRAR 127.0.0.5 trunk "itsp", which registers there (and
 *                            again a second after a failure)
 * and line 300 on an identify-mode 7960 (user "carol") registered at
 * STACK_PHONE's address too.
 */
#ifndef SIPREG_FUZZ_STACK_H
#define SIPREG_FUZZ_STACK_H

#include <stdbool.h>
#include <stddef.h>

enum stack_peer { STACK_PHONE, STACK_TRUNK, STACK_CALLEE, STACK_REGISTRAR, STACK_PEERS };

#define STACK_REALM    "fuzz.sipreg"
#define STACK_PASSWORD "fuzz-secret-1"

/* Builds the stack once per process; exits on failure (a harness cannot run without it). */
void stack_open(void);
/* "127.0.0.1:PORT", sipregd's address. */
char const *stack_server(void);
/* "127.0.0.N:PORT", a peer's address. */
char const *stack_peer_addr(enum stack_peer p);

/* Sends a datagram from a peer to sipregd and lets sipregd handle it. */
void stack_send(enum stack_peer from, void const *data, size_t len);
/*
 * Sends a request from a peer; when sipregd challenges it, sends it again
 * with credentials of user (password STACK_PASSWORD) answering that
 * challenge, under a Via of its own. The length of the request with
 * credentials, or 0 when it was not challenged.
 */
size_t stack_send_auth(enum stack_peer from, char const *user, void const *data, size_t len);
/* Hangs up every call (as "call hangup" does). */
void stack_hangup_all(void);
/* Lets sipregd run its due timers and queued work. */
void stack_run(void);
/*
 * The next datagram sipregd sent to peer p (NUL-terminated in buf): its
 * length, or 0 when none is waiting.
 */
size_t stack_recv(enum stack_peer p, char *buf, size_t len);
/* Discards everything waiting at every peer but STACK_REGISTRAR. */
void stack_drain(void);
/* Every n-th call: the write-behind flush and the store's answers (as sipregd's timer does). */
void stack_tick(void);

/* The value of header name (e.g. "Call-ID") in a raw message, copied to out; false if absent. */
bool stack_header(char const *msg, char const *name, char *out, size_t len);
/* All Via header lines of a raw message, each ending in CRLF, copied to out. */
void stack_vias(char const *msg, char *out, size_t len);

#endif
