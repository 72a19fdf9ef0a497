/*
 * Failed authentications counted per source address and per user, and the
 * timed bans that follow: N failures within a window bans a source for a
 * while. Bounded in size; entries that have nothing left to say are reused.
 *
 * Thread: SIP.
 * Ownership: ban_table_create()/ban_table_destroy() (NULL-safe).
 */
#ifndef SIPREG_BAN_H
#define SIPREG_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct ban_table ban_table_t;

int ban_table_create(ban_table_t **out, size_t max_entries);
void ban_table_destroy(ban_table_t *t);

/** failures within window seconds ban for ban_time seconds. */
void ban_set_limits(ban_table_t *t, unsigned failures, unsigned window, unsigned ban_time);

/** True while key (an address, or "user:NAME") is banned. */
bool ban_is_banned(ban_table_t *t, char const *key, time_t now);

/**
 * Counts one failure for key; returns the failures counted in the current
 * window. reason (may be NULL) says what failed, kept as the last one for
 * ban_foreach(). *banned_now is set when this failure started a ban.
 */
unsigned ban_failure(ban_table_t *t, char const *key, time_t now, char const *reason,
		     bool *banned_now);

/** Failures counted for key in its current window (0 once the window has passed). */
unsigned ban_failures(ban_table_t *t, char const *key, time_t now);

/** Lifts a ban and forgets the failures of key; false when there was none. */
bool ban_lift(ban_table_t *t, char const *key);

/** Calls fn for each current ban with the seconds left and the last failure's reason. */
void ban_foreach(ban_table_t *t, time_t now,
		 void (*fn)(char const *key, unsigned failures, long left, char const *reason,
			    void *arg),
		 void *arg);

#endif
