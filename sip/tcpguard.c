/*
 * Limits on the TCP connections others open to us, which sofia does not
 * enforce: a message must be complete within tcp_message_timeout of its
 * first byte (sofia's TPTAG_TIMEOUT counts from the last byte, so a client
 * trickling a byte now and then is never closed by it), a connection that
 * carries no registration is closed after tcp_idle_timeout without a
 * message, and one source may hold at most tcp_max_per_source connections
 * (sofia has no accept hook: a sweep every second closes the newest
 * excess). Connections that carry registrations are never closed here.
 *
 * Where a message starts is read from the kernel: the bytes a connection
 * has received (TCP_INFO) against the count when its last message was
 * complete. sofia keeps its sockets to itself and lists its connections
 * only partly, so each sweep finds the accepted sockets among the
 * process's descriptors (on a listener's address, with a peer) and asks
 * sofia for the connection of each peer. Connections sipregd opened (to
 * trunks) are on no listener's address and are left alone.
 *
 * Thread: SIP.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su.h>
#include <sofia-sip/tport.h>

#include "daemon/log.h"
#include "sip/tcpguard.h"

#define LOG_TAG "sip"

struct tconn {
	struct tconn *next; /* in its hash chain */
	tport_t *tp;
	su_sockaddr_t peer;
	int fd;		 /* its socket, as of the last sweep */
	bool closed;	 /* closed here; sofia has yet to let it go */
	bool registered; /* carries a registration (this sweep) */
	bool seen;	 /* in this sweep */
	uint64_t order;	 /* when first seen, to find the newest */
	time_t opened, last_msg, msg_start;
	uint64_t mark; /* bytes received when its last message was complete */
	bool mark_pending;
};

struct tcp_guard {
	nta_agent_t *agent;
	struct tcp_guard_config cfg;
	struct tconn **buckets;
	size_t n_buckets, n;
	uint64_t order;
	unsigned long closed_message, closed_idle, closed_excess;
	unsigned closed_now; /* in this sweep */
};

#define CLOSED_LOGGED 10 /* closures logged one by one in a sweep */

static size_t slot(tcp_guard_t const *g, tport_t const *tp)
{
	uintptr_t h = (uintptr_t)tp;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 7) % g->n_buckets;
}

static struct tconn *find(tcp_guard_t const *g, tport_t const *tp)
{
	for (struct tconn *c = g->buckets[slot(g, tp)]; c; c = c->next) {
		if (c->tp == tp)
			return c;
	}
	return NULL;
}

static void grow(tcp_guard_t *g)
{
	size_t n = g->n_buckets * 2;
	struct tconn **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	struct tconn **old = g->buckets;
	size_t on = g->n_buckets;
	g->buckets = nb;
	g->n_buckets = n;
	for (size_t i = 0; i < on; i++) {
		for (struct tconn *c = old[i], *next; c; c = next) {
			next = c->next;
			size_t k = slot(g, c->tp);
			c->next = nb[k];
			nb[k] = c;
		}
	}
	free(old);
}

int tcp_guard_create(tcp_guard_t **out, nta_agent_t *agent, struct tcp_guard_config const *cfg)
{
	tcp_guard_t *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->agent = agent;
	g->cfg = *cfg;
	g->n_buckets = 256;
	if (!(g->buckets = calloc(g->n_buckets, sizeof(*g->buckets)))) {
		free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
}

void tcp_guard_destroy(tcp_guard_t *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_buckets; i++) {
		for (struct tconn *c = g->buckets[i], *next; c; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(g->buckets);
	free(g);
}

void tcp_guard_set_config(tcp_guard_t *g, struct tcp_guard_config const *cfg)
{
	g->cfg = *cfg;
}

static bool bytes_received(int fd, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return false;
	*out = ti.tcpi_bytes_received;
	return true;
}

static unsigned port_of(su_sockaddr_t const *su)
{
	return ntohs(su->su_port);
}

static bool same_peer(su_sockaddr_t const *a, su_sockaddr_t const *b)
{
	if (a->su_family != b->su_family || a->su_port != b->su_port)
		return false;
	if (a->su_family == AF_INET)
		return a->su_sin.sin_addr.s_addr == b->su_sin.sin_addr.s_addr;
	if (a->su_family == AF_INET6)
		return !memcmp(&a->su_sin6.sin6_addr, &b->su_sin6.sin6_addr, 16);
	return false;
}

/* A connection not yet swept: its socket is found at the next sweep. */
static struct tconn *add(tcp_guard_t *g, tport_t *tp, time_t now, bool mark_pending)
{
	struct tconn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (g->n >= g->n_buckets)
		grow(g);
	c->tp = tp;
	c->fd = -1;
	c->order = ++g->order;
	c->opened = now;
	c->mark_pending = mark_pending;
	size_t h = slot(g, tp);
	c->next = g->buckets[h];
	g->buckets[h] = c;
	g->n++;
	return c;
}

/* The listeners (TCP, TLS) connections are accepted on. */
struct listener {
	tport_t *pri;
	su_sockaddr_t addr;
	char const *proto;
};

static bool on_listener(struct listener const *l, su_sockaddr_t const *local)
{
	if (l->addr.su_family != local->su_family || l->addr.su_port != local->su_port)
		return false;
	if (local->su_family == AF_INET)
		return l->addr.su_sin.sin_addr.s_addr == INADDR_ANY ||
		       l->addr.su_sin.sin_addr.s_addr == local->su_sin.sin_addr.s_addr;
	return IN6_IS_ADDR_UNSPECIFIED(&l->addr.su_sin6.sin6_addr) ||
	       !memcmp(&l->addr.su_sin6.sin6_addr, &local->su_sin6.sin6_addr, 16);
}

/* The connection (tport) an accepted socket is, by its peer's address. */
static tport_t *tport_of(struct listener const *l, su_sockaddr_t const *peer)
{
	char host[64], port[8];
	if (!su_inet_ntop(peer->su_family, SU_ADDR(peer), host, sizeof(host)))
		return NULL;
	snprintf(port, sizeof(port), "%u", port_of(peer));
	tp_name_t tpn = {
		.tpn_proto = l->proto, .tpn_canon = host, .tpn_host = host, .tpn_port = port
	};
	tport_t *tp = tport_by_name(l->pri, &tpn);
	return tp && tport_is_secondary(tp) ? tp : NULL;
}

/*
 * The accepted connections, each with its socket: sofia hands out its
 * connections only as a tree it walks from the middle, so the sockets are
 * found among the process's descriptors (those on a listener's address,
 * with a peer) and each named to sofia by its peer's address.
 */
static size_t accepted(tcp_guard_t *g, struct listener const *ls, size_t n_ls, time_t now,
		       struct tconn ***list, size_t *cap)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || fd < 0 || fd == dirfd(d))
			continue;
		su_sockaddr_t local, peer;
		socklen_t len = sizeof(local);
		if (getsockname((int)fd, &local.su_sa, &len) < 0 ||
		    (local.su_family != AF_INET && local.su_family != AF_INET6))
			continue;
		size_t k = 0;
		while (k < n_ls && !on_listener(&ls[k], &local))
			k++;
		len = sizeof(peer);
		if (k == n_ls || getpeername((int)fd, &peer.su_sa, &len) < 0)
			continue;
		tport_t *tp = tport_of(&ls[k], &peer);
		if (!tp || tport_is_closed(tp) || tport_is_shutdown(tp))
			continue;
		/* Found here first, whatever it has received is the start of a message. */
		struct tconn *c = find(g, tp);
		if (c && c->fd >= 0 && (c->fd != (int)fd || !same_peer(&c->peer, &peer))) {
			/*
			 * sofia freed the connection this entry was for and made a
			 * new one at the same address before a sweep saw the old
			 * one go: nothing of the old one's counts is the new one's.
			 */
			struct tconn *next = c->next;
			uint64_t order = c->order;
			memset(c, 0, sizeof(*c));
			c->next = next;
			c->tp = tp;
			c->order = order;
			c->opened = now;
		}
		if (!c && !(c = add(g, tp, now, false)))
			continue;
		c->peer = peer;
		c->fd = (int)fd;
		if (c->seen || c->closed)
			continue;
		c->seen = true;
		if (n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct tconn **nl = realloc(*list, nc * sizeof(*nl));
			if (!nl)
				break;
			*list = nl;
			*cap = nc;
		}
		(*list)[n++] = c;
	}
	closedir(d);
	return n;
}

void tcp_guard_message(tcp_guard_t *g, tport_t *tp)
{
	time_t now = time(NULL);
	/* A message may come before the first sweep has seen its connection. */
	struct tconn *c = find(g, tp);
	if (!c && !(c = add(g, tp, now, true)))
		return;
	c->last_msg = now;
	c->msg_start = 0;
	/*
	 * Bytes already here past this message count as its: a later byte
	 * starts the next. A phone's connection (registered at the last sweep)
	 * is never closed here: no system call on its every message.
	 */
	if (c->registered || c->fd < 0 || !bytes_received(c->fd, &c->mark))
		c->mark_pending = true;
}

static void close_conn(tcp_guard_t *g, struct tconn *c, char const *why)
{
	tp_name_t const *n = tport_name(c->tp);
	/* A flood is summed up, not logged line by line. */
	if (++g->closed_now <= CLOSED_LOGGED)
		log_notice("connection %s/%s:%s closed: %s", n ? n->tpn_proto : "tcp",
			   n ? n->tpn_host : "?", n ? n->tpn_port : "?", why);
	tport_shutdown(c->tp, 2);
	c->closed = true;
}

static bool same_host(su_sockaddr_t const *a, su_sockaddr_t const *b)
{
	su_sockaddr_t x = *a;
	x.su_port = b->su_port;
	return same_peer(&x, b);
}

/* By source address, then oldest first. */
static int by_source_then_age(void const *a, void const *b)
{
	struct tconn const *x = *(struct tconn *const *)a, *y = *(struct tconn *const *)b;
	int cmp = x->peer.su_family - y->peer.su_family;
	if (!cmp)
		cmp = x->peer.su_family == AF_INET
			      ? memcmp(&x->peer.su_sin.sin_addr, &y->peer.su_sin.sin_addr, 4)
			      : memcmp(&x->peer.su_sin6.sin6_addr, &y->peer.su_sin6.sin6_addr, 16);
	if (!cmp)
		cmp = x->order < y->order ? -1 : x->order > y->order;
	return cmp;
}

/* Closes the newest connections of each source beyond the limit, registered ones spared. */
static void limit_per_source(tcp_guard_t *g, struct tconn **list, size_t n)
{
	unsigned max = g->cfg.max_per_source;
	if (!max || n <= max)
		return;
	qsort(list, n, sizeof(*list), by_source_then_age);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && same_host(&list[j]->peer, &list[i]->peer))
			j++;
		size_t count = j - i;
		for (size_t k = j; count > max && k > i; k--) {
			struct tconn *c = list[k - 1];
			if (c->registered)
				continue;
			close_conn(g, c,
				   "more connections from this address than [sip] "
				   "tcp_max_per_source");
			g->closed_excess++;
			count--;
		}
		i = j;
	}
}

void tcp_guard_sweep(tcp_guard_t *g, time_t now, tcp_guard_registered_f registered, void *arg)
{
	struct listener ls[16];
	size_t n_ls = 0;
	for (tport_t *pri = tport_primaries(nta_agent_tports(g->agent)); pri && n_ls < 16;
	     pri = tport_next(pri)) {
		su_addrinfo_t const *ai = tport_get_address(pri);
		if (!tport_is_reliable(pri) || !ai || ai->ai_addrlen > sizeof(ls[0].addr))
			continue;
		ls[n_ls].pri = pri;
		memcpy(&ls[n_ls].addr, ai->ai_addr, ai->ai_addrlen);
		ls[n_ls].proto = tport_name(pri)->tpn_proto;
		n_ls++;
	}
	for (size_t i = 0; i < g->n_buckets; i++) {
		for (struct tconn *c = g->buckets[i]; c; c = c->next)
			c->seen = c->registered = false;
	}
	struct tconn **list = NULL;
	size_t cap = 0, n_list = n_ls ? accepted(g, ls, n_ls, now, &list, &cap) : 0;
	/* Forget the connections that are gone. */
	for (size_t i = 0; i < g->n_buckets; i++) {
		for (struct tconn **pp = &g->buckets[i]; *pp;) {
			struct tconn *c = *pp;
			if (c->seen) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			free(c);
			g->n--;
		}
	}
	if (registered)
		registered(g, arg);

	unsigned msg_to = g->cfg.message_timeout, idle_to = g->cfg.idle_timeout;
	size_t kept = 0;
	for (size_t i = 0; i < n_list; i++) {
		struct tconn *c = list[i];
		if (c->registered) {
			c->msg_start = 0;
			c->mark_pending = true; /* no system call for the phones' connections */
			list[kept++] = c;
			continue;
		}
		uint64_t bytes = 0;
		bool have = bytes_received(c->fd, &bytes);
		if (have && c->mark_pending) {
			c->mark = bytes;
			c->mark_pending = false;
		}
		if (have && bytes > c->mark && !c->msg_start)
			c->msg_start = now;
		if (msg_to && c->msg_start && now - c->msg_start >= (time_t)msg_to) {
			close_conn(g, c,
				   "a message was not complete within [sip] tcp_message_timeout");
			g->closed_message++;
			continue;
		}
		time_t last = c->last_msg > c->opened ? c->last_msg : c->opened;
		if (idle_to && !c->msg_start && now - last >= (time_t)idle_to) {
			close_conn(g, c,
				   "no message and no registration within [sip] "
				   "tcp_idle_timeout");
			g->closed_idle++;
			continue;
		}
		list[kept++] = c;
	}
	limit_per_source(g, list, kept);
	if (g->closed_now > CLOSED_LOGGED)
		log_notice("%u more connections closed by the TCP limits ([sip] tcp_*)",
			   g->closed_now - CLOSED_LOGGED);
	g->closed_now = 0;
	free(list);
}

void tcp_guard_mark_registered(tcp_guard_t *g, tport_t const *tp)
{
	struct tconn *c = find(g, tp);
	if (c)
		c->registered = true;
}

void tcp_guard_stats(tcp_guard_t const *g, struct tcp_guard_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!g)
		return;
	out->connections = g->n;
	out->closed_message = g->closed_message;
	out->closed_idle = g->closed_idle;
	out->closed_excess = g->closed_excess;
}
