/*
 * The routing decisions of outbound calls (see b2bua/route.h), kept apart
 * from the SIP that carries them out (b2bua/invite.c).
 */
#include "autoconfig.h"

#include <stddef.h>

#include "b2bua/route.h"

struct dir_route const *route_for_number(directory_t const *dir, char const *number,
					 struct route_trunks const *tr)
{
	struct dir_route const *first = NULL;
	for (size_t i = 0; number && i < directory_count_routes(dir); i++) {
		struct dir_route const *r = directory_route_at(dir, i);
		if (!dialplan_match(r->pattern, number))
			continue;
		if (!first)
			first = r; /* the first that matches decides blocking and restriction */
		if (!r->trunk || tr->usable(tr->arg, r->trunk))
			return r;
	}
	return first;
}

struct dir_trunk const *route_emergency_trunk(directory_t const *dir, struct route_trunks const *tr)
{
	struct dir_trunk const *registered = NULL, *usable = NULL;
	for (size_t i = 0; i < directory_count_trunks(dir); i++) {
		struct dir_trunk const *t = directory_trunk_at(dir, i);
		if (t->emergency)
			return t;
		if (!registered && tr->registered(tr->arg, t))
			registered = t;
		if (!usable && tr->usable(tr->arg, t))
			usable = t;
	}
	return registered ? registered : usable;
}

char const *route_caller_id(directory_t const *dir, struct dir_trunk const *t, char const *dn)
{
	struct dir_did const *did = directory_did_of_line(dir, t, dn);
	if (did)
		return did->number;
	return t->caller_id ? t->caller_id : t->user ? t->user : dn;
}
