/*
 * Where a dialled number goes, decided from the directory alone: the dial
 * plan's route (the first route that matches and whose trunk can take the
 * call, else the first that matches, so its refusal names it), the
 * emergency trunk, and the caller id a line has on a trunk. Pure functions:
 * the trunks' state comes in as callbacks, so they are tested without sofia.
 *
 * Thread: any (the directory is immutable).
 */
#ifndef SIPREG_B2BUA_ROUTE_H
#define SIPREG_B2BUA_ROUTE_H

#include <stdbool.h>

#include "store/directory.h"

/* What the trunks can do now (b2bua/trunk.c answers on the SIP thread). */
struct route_trunks {
	bool (*usable)(void *arg, struct dir_trunk const *t);	  /* may carry a call now */
	bool (*registered)(void *arg, struct dir_trunk const *t); /* its registration holds */
	void *arg;
};

/* The route of number: NULL when no route matches; a route with no trunk blocks. */
struct dir_route const *route_for_number(directory_t const *dir, char const *number,
					 struct route_trunks const *tr);

/*
 * The trunk of an emergency call: the one marked emergency, else the first
 * registered, else the first usable; NULL when there is none.
 */
struct dir_trunk const *route_emergency_trunk(directory_t const *dir,
					      struct route_trunks const *tr);

/* The number a call from line dn goes out with on trunk t: the line's DID, else the trunk's. */
char const *route_caller_id(directory_t const *dir, struct dir_trunk const *t, char const *dn);

#endif
