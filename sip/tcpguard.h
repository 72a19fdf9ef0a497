/*
 * Limits on the TCP connections others open to sipregd: a message complete
 * within a time of its first byte, idle connections without registrations
 * closed, connections per source bounded. See tcpguard.c.
 *
 * Thread: SIP.
 */
#ifndef SIPREG_TCPGUARD_H
#define SIPREG_TCPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/tport.h>

typedef struct tcp_guard tcp_guard_t;

struct tcp_guard_config {
	unsigned message_timeout; /* s from a message's first byte to its last; 0: none */
	unsigned idle_timeout;	  /* s without a message, no registration; 0: none */
	unsigned max_per_source;  /* connections from one address; 0: no limit */
};

struct tcp_guard_stats {
	size_t connections; /* accepted and open, as of the last sweep */
	unsigned long closed_message, closed_idle, closed_excess;
};

/* Marks, through tcp_guard_mark_registered(), the connections registrations hold. */
typedef void (*tcp_guard_registered_f)(tcp_guard_t *g, void *arg);

int tcp_guard_create(tcp_guard_t **out, nta_agent_t *agent, struct tcp_guard_config const *cfg);
void tcp_guard_destroy(tcp_guard_t *g);
void tcp_guard_set_config(tcp_guard_t *g, struct tcp_guard_config const *cfg);

/** A complete message arrived over tp (any transport; others are ignored). */
void tcp_guard_message(tcp_guard_t *g, tport_t *tp);
/** Once a second: applies the limits to every accepted connection. */
void tcp_guard_sweep(tcp_guard_t *g, time_t now, tcp_guard_registered_f registered, void *arg);
/** From the registered callback: tp carries a registration, never closed here. */
void tcp_guard_mark_registered(tcp_guard_t *g, tport_t const *tp);
void tcp_guard_stats(tcp_guard_t const *g, struct tcp_guard_stats *out);

#endif
