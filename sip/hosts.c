/*
 * Trunk hosts kept resolved without blocking (see sip/hosts.h). One round
 * of lookups per name: NAPTR, three SRV names, A and AAAA of the name; each
 * SRV target adds its own A and AAAA. When the last answer of a round is in,
 * the addresses it found replace the old ones (none found: the old stay) and
 * the next round is timed by the shortest TTL seen. Lookups of a name that
 * goes away are orphaned (their answers dropped), never cancelled under
 * sofia's feet.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lookup;
struct name;
#define SRES_CONTEXT_T struct lookup
#define SU_TIMER_ARG_T struct name

#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_wait.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/thread.h"
#include "sip/hosts.h"

#define LOG_TAG "sip"

#define MAX_ADDRS   16	 /* addresses kept per name */
#define MAX_LOOKUPS 32	 /* lookups per name and round */
#define MIN_REFRESH 5	 /* s: the shortest wait between rounds, whatever the TTL */
#define MAX_REFRESH 3600 /* s: the longest */
#define RETRY	    60	 /* s: after a round that found nothing */

struct lookup {
	struct lookup *next;
	hosts_t *h;
	struct name *n; /* NULL: orphaned, the answer is dropped */
};

struct name {
	struct name *next;
	hosts_t *h;
	char hostport[272], host[256], owner[65];
	bool numeric;
	bool keep; /* still wanted (hosts_set) */
	char *addrs[MAX_ADDRS];
	size_t n_addrs;
	char *found[MAX_ADDRS]; /* this round's */
	size_t n_found;
	unsigned outstanding, asked;
	uint32_t min_ttl;
	bool warned;
	struct lookup *lookups;
	su_timer_t *timer;
};

struct hosts {
	su_root_t *root;
	sres_resolver_t *res;
	struct name *names;
	struct lookup *orphans;
};

static void round_start(struct name *n);

int hosts_create(hosts_t **out, su_root_t *root, char const *resolv_conf)
{
	hosts_t *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->root = root;
	h->res = sres_resolver_create(root, resolv_conf && resolv_conf[0] ? resolv_conf : NULL,
				      TAG_END());
	if (!h->res) {
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

static void free_list(char **list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(list[i]);
	*n = 0;
}

static void name_free(struct name *n)
{
	while (n->lookups) { /* their answers come to nobody */
		struct lookup *lk = n->lookups;
		n->lookups = lk->next;
		lk->n = NULL;
		lk->next = n->h->orphans;
		n->h->orphans = lk;
	}
	if (n->timer)
		su_timer_destroy(n->timer);
	free_list(n->addrs, &n->n_addrs);
	free_list(n->found, &n->n_found);
	free(n);
}

void hosts_destroy(hosts_t *h)
{
	if (!h)
		return;
	while (h->names) {
		struct name *n = h->names;
		h->names = n->next;
		name_free(n);
	}
	sres_resolver_destroy(h->res); /* drops the queries still out */
	while (h->orphans) {
		struct lookup *lk = h->orphans;
		h->orphans = lk->next;
		free(lk);
	}
	free(h);
}

/* HOST of HOST[:PORT] or [V6][:PORT]; whether it is an address already. */
static bool split_host(char *out, size_t n, char const *hostport)
{
	if (hostport[0] == '[') {
		text_copy(out, n, hostport + 1);
		char *end = strchr(out, ']');
		if (end)
			*end = '\0';
	} else {
		text_copy(out, n, hostport);
		char *colon = strchr(out, ':');
		if (colon && colon == strrchr(out, ':')) /* one colon: a port; more: bare IPv6 */
			*colon = '\0';
	}
	struct in6_addr a6;
	struct in_addr a4;
	return inet_pton(AF_INET, out, &a4) == 1 || inet_pton(AF_INET6, out, &a6) == 1;
}

static bool has(char *const *list, size_t n, char const *ip)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], ip))
			return true;
	return false;
}

static void add_found(struct name *n, char const *ip)
{
	if (n->n_found < MAX_ADDRS && !has(n->found, n->n_found, ip)) {
		char *copy = strdup(ip);
		if (copy)
			n->found[n->n_found++] = copy;
	}
}

static void answered(sres_context_t *lk, sres_query_t *q, sres_record_t **answers);

/* Asks one question of this round; false when the round asked enough. */
static bool ask(struct name *n, uint16_t type, char const *domain)
{
	if (n->asked >= MAX_LOOKUPS || !domain || !domain[0])
		return false;
	struct lookup *lk = calloc(1, sizeof(*lk));
	if (!lk)
		return false;
	lk->n = n;
	lk->h = n->h;
	lk->next = n->lookups;
	n->lookups = lk;
	n->outstanding++;
	n->asked++;
	if (!sres_query(n->h->res, answered, lk, type, domain)) {
		n->lookups = lk->next;
		n->outstanding--;
		free(lk);
		return false;
	}
	return true;
}

static bool sip_naptr(sres_naptr_record_t const *na)
{
	return na->na_flags && strchr(na->na_flags, 's') &&
	       (!strncasecmp(na->na_services ? na->na_services : "", "SIP+", 4) ||
		!strncasecmp(na->na_services ? na->na_services : "", "SIPS+", 5));
}

static void take(struct name *n, sres_record_t const *r)
{
	char ip[INET6_ADDRSTRLEN];
	sres_common_t const *c = r->sr_record;
	if (c->r_status != 0)
		return;
	switch (c->r_type) {
	case sres_type_a:
		if (inet_ntop(AF_INET, &r->sr_a->a_addr, ip, sizeof(ip)))
			add_found(n, ip);
		break;
	case sres_type_aaaa:
		if (inet_ntop(AF_INET6, &r->sr_aaaa->aaaa_addr, ip, sizeof(ip)))
			add_found(n, ip);
		break;
	case sres_type_srv:
		ask(n, sres_type_a, r->sr_srv->srv_target);
		ask(n, sres_type_aaaa, r->sr_srv->srv_target);
		break;
	case sres_type_naptr:
		if (sip_naptr(r->sr_naptr))
			ask(n, sres_type_srv, r->sr_naptr->na_replace);
		break;
	default:
		return;
	}
	if (!n->min_ttl || c->r_ttl < n->min_ttl)
		n->min_ttl = c->r_ttl;
}

static void on_refresh(su_root_magic_t *magic, su_timer_t *t, struct name *n)
{
	(void)magic, (void)t;
	round_start(n);
}

/* The last answer of a round is in: its addresses replace the old ones. */
static void round_end(struct name *n)
{
	unsigned wait = RETRY;
	if (n->n_found) {
		bool same = n->n_found == n->n_addrs;
		for (size_t i = 0; same && i < n->n_found; i++)
			same = has(n->addrs, n->n_addrs, n->found[i]);
		free_list(n->addrs, &n->n_addrs);
		memcpy(n->addrs, n->found, n->n_found * sizeof(n->found[0]));
		n->n_addrs = n->n_found;
		n->n_found = 0;
		wait = n->min_ttl < MIN_REFRESH	  ? MIN_REFRESH
		       : n->min_ttl > MAX_REFRESH ? MAX_REFRESH
						  : n->min_ttl;
		if (!same) {
			char list[512] = "";
			for (size_t i = 0; i < n->n_addrs; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", n->addrs[i]);
			log_info("trunk %s: host %s is %s (again in %u s)", n->owner, n->host, list,
				 wait);
		}
		n->warned = false;
	} else if (!n->warned) {
		log_warning("trunk %s: host %s does not resolve%s; asking again every %u s",
			    n->owner, n->host,
			    n->n_addrs ? ", its last addresses stay"
				       : ": requests from it are not recognised",
			    RETRY);
		n->warned = true;
	}
	if (n->timer)
		su_timer_set_interval(n->timer, on_refresh, n, wait * 1000);
}

static void answered(sres_context_t *lk, sres_query_t *q, sres_record_t **answers)
{
	struct name *n = lk->n;
	(void)q;
	if (!n) { /* its name went away */
		hosts_t *h = lk->h;
		for (struct lookup **pp = &h->orphans; *pp; pp = &(*pp)->next) {
			if (*pp == lk) {
				*pp = lk->next;
				break;
			}
		}
		free(lk);
		sres_free_answers(h->res, answers);
		return;
	}
	ASSERT_THREAD(SIP);
	for (struct lookup **pp = &n->lookups; *pp; pp = &(*pp)->next) {
		if (*pp == lk) {
			*pp = lk->next;
			break;
		}
	}
	free(lk);
	for (size_t i = 0; answers && answers[i]; i++)
		take(n, answers[i]);
	sres_free_answers(n->h->res, answers);
	if (--n->outstanding == 0)
		round_end(n);
}

static void round_start(struct name *n)
{
	char srv[300];
	if (n->outstanding) /* the last round is still out */
		return;
	free_list(n->found, &n->n_found);
	n->asked = 0;
	n->min_ttl = 0;
	n->outstanding++; /* held while asking, so no answer ends the round early */
	ask(n, sres_type_naptr, n->host);
	static char const *const services[] = { "_sip._udp", "_sip._tcp", "_sips._tcp" };
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		snprintf(srv, sizeof(srv), "%s.%s", services[i], n->host);
		ask(n, sres_type_srv, srv);
	}
	ask(n, sres_type_a, n->host);
	ask(n, sres_type_aaaa, n->host);
	if (--n->outstanding == 0)
		round_end(n);
}

static struct name *find(hosts_t *h, char const *hostport, char const *owner)
{
	for (struct name *n = h->names; n; n = n->next)
		if (!strcmp(n->hostport, hostport) && !strcmp(n->owner, owner))
			return n;
	return NULL;
}

static void name_add(hosts_t *h, char const *hostport, char const *owner)
{
	struct name *n = calloc(1, sizeof(*n));
	if (!n)
		return;
	n->h = h;
	n->keep = true;
	text_copy(n->hostport, sizeof(n->hostport), hostport);
	text_copy(n->owner, sizeof(n->owner), owner);
	n->numeric = split_host(n->host, sizeof(n->host), hostport);
	/* Appended: the names keep the order they were given in. */
	struct name **pp = &h->names;
	while (*pp)
		pp = &(*pp)->next;
	*pp = n;
	if (n->numeric) {
		if ((n->addrs[0] = strdup(n->host)))
			n->n_addrs = 1;
		return;
	}
	n->timer = su_timer_create(su_root_task(h->root), 0);
	round_start(n);
}

void hosts_set(hosts_t *h, char const *const *names, char const *const *owners, size_t count)
{
	ASSERT_THREAD(SIP);
	for (struct name *n = h->names; n; n = n->next)
		n->keep = false;
	for (size_t i = 0; i < count; i++) {
		if (!names[i] || !names[i][0] || !owners[i])
			continue;
		struct name *n = find(h, names[i], owners[i]);
		if (n)
			n->keep = true;
		else
			name_add(h, names[i], owners[i]);
	}
	for (struct name **pp = &h->names; *pp;) {
		struct name *n = *pp;
		if (n->keep) {
			pp = &n->next;
			continue;
		}
		*pp = n->next;
		name_free(n);
	}
}

char const *hosts_owner(hosts_t const *h, char const *ip)
{
	for (struct name const *n = h ? h->names : NULL; n; n = n->next)
		if (has(n->addrs, n->n_addrs, ip))
			return n->owner;
	return NULL;
}

void hosts_addresses(hosts_t const *h, char const *owner, json_t *arr)
{
	char *seen[2 * MAX_ADDRS];
	size_t n_seen = 0;
	for (struct name const *n = h ? h->names : NULL; n; n = n->next) {
		if (strcmp(n->owner, owner))
			continue;
		for (size_t i = 0; i < n->n_addrs; i++) {
			if (has(seen, n_seen, n->addrs[i]))
				continue;
			if (n_seen < sizeof(seen) / sizeof(seen[0]))
				seen[n_seen++] = n->addrs[i];
			json_array_append_new(arr, json_string(n->addrs[i]));
		}
	}
}
