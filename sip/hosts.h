/*
 * Names kept resolved: the hosts of the trunks (registrar, proxy), so a
 * request from any address a provider's name stands for is known to come
 * from it. Resolved on the SIP thread with sofia's resolver (sresolv), never
 * blocking: NAPTR (SIP services) and SRV (_sip._udp, _sip._tcp, _sips._tcp)
 * lead to targets, whose A and AAAA records give the addresses (RFC 3263),
 * with the name's own A and AAAA besides. Each name is resolved again when
 * the shortest TTL of its answers runs out (at least MIN_REFRESH, at most
 * MAX_REFRESH seconds); until a new answer arrives the old addresses stay.
 * A numeric host is its own address, at once.
 *
 * Thread: SIP. Ownership: hosts_create()/hosts_destroy() (NULL-safe).
 */
#ifndef SIPREG_SIP_HOSTS_H
#define SIPREG_SIP_HOSTS_H

#include <jansson.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

typedef struct hosts hosts_t;

/* resolv_conf: the resolver's configuration file, NULL or "" for the system's. */
int hosts_create(hosts_t **out, su_root_t *root, char const *resolv_conf);
void hosts_destroy(hosts_t *h);

/*
 * The names to keep resolved, each HOST[:PORT] or [V6][:PORT] with the
 * owner it stands for (a trunk's name): replaces the set. Names already
 * known keep their addresses; new ones are resolved now.
 */
void hosts_set(hosts_t *h, char const *const *names, char const *const *owners, size_t n);

/* The owner an address belongs to, or NULL. */
char const *hosts_owner(hosts_t const *h, char const *ip);

/* Appends the addresses of owner's names to arr (in the order of the names). */
void hosts_addresses(hosts_t const *h, char const *owner, json_t *arr);

#endif
