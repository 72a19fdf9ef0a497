/*
 * Bodies of the remotecc requests sipregd sends Cisco phones (REFER with
 * application/x-cisco-remotecc-request+xml): the do not disturb state and a
 * line's call forward all, one update per body or several as the parts of
 * one multipart/mixed body.
 *
 * Thread: any (pure functions; strings in home).
 */
#ifndef SIPREG_CISCO_REMOTECC_H
#define SIPREG_CISCO_REMOTECC_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_alloc.h>

#define CISCO_REMOTECC_TYPE "application/x-cisco-remotecc-request+xml"

/* <dndupdate>: enable or disable, with call reject. */
char *cisco_remotecc_dnd(su_home_t *home, bool on);
/* <cfwdallupdate> of line index (1-based); target NULL or "" clears it. */
char *cisco_remotecc_cfwdall(su_home_t *home, unsigned index, char const *target);
/*
 * The body of n updates: the one itself, or a multipart/mixed of all;
 * *type gets its Content-Type. NULL when n is 0 or out of memory.
 */
char *cisco_remotecc_body(su_home_t *home, char *const *parts, size_t n, char const **type);

#endif
