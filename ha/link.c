/*
 * The node link's connections: a listener on [ha] listen, dialing [ha]
 * peer, TLS through libevent's bufferevent_openssl with sipregd's own
 * contexts, the peer's certificate compared with the pinned one before a
 * single message is read, frames in and out, heartbeats and the timers
 * that redial. Every connection and what it receives is bounded.
 */
#include "autoconfig.h"

#include "ha/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "tls/tls.h"

#define LOG_TAG	      "ha"
#define MAX_CONNS     8 /* links and handshakes at once */
#define PING_SECONDS  2
#define IDLE_SECONDS  10 /* nothing heard for this long: the link is down */
#define DIAL_SECONDS  1	 /* a backup redials this often */
#define PROBE_SECONDS 5	 /* a primary looks for a promoted peer this often */
#define OUT_MAX	      (HA_FRAME_MAX + 64u * 1024 * 1024)

static void conn_free(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	for (struct ha_conn **p = &ha->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (c->bev)
		bufferevent_free(c->bev); /* frees the SSL too (BEV_OPT_CLOSE_ON_FREE) */
	free(c);
}

void link_close(struct ha_conn *c, char const *why)
{
	if (c->hello_seen || c->authed)
		log_info("link to %s closed: %s", c->addr, why);
	else
		log_debug("link to %s closed: %s", c->addr, why);
	node_closed(c);
	join_closed(c);
	conn_free(c);
}

void link_send(struct ha_conn *c, uint8_t type, void const *body, size_t len)
{
	uint8_t hdr[5];
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) + len > OUT_MAX)
		return; /* the tick closes a link that does not drain */
	ha_wire_header(hdr, type, len);
	evbuffer_add(out, hdr, sizeof(hdr));
	if (len)
		evbuffer_add(out, body, len);
}

void link_send_u64(struct ha_conn *c, uint8_t type, uint64_t v)
{
	uint8_t b[8];
	ha_wire_put_u64(b, v);
	link_send(c, type, b, sizeof(b));
}

void link_send_json(struct ha_conn *c, uint8_t type, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text)
		link_send(c, type, text, strlen(text));
	if (text)
		OPENSSL_cleanse(text, strlen(text)); /* a joined answer carries keys */
	free(text);
	json_decref(o);
}

static void close_when_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	link_close(arg, "refused");
}

void link_refuse(struct ha_conn *c, char const *sentence)
{
	link_send_json(c, HA_ERROR, json_pack("{s:s}", "error", sentence));
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, close_when_written, NULL, c);
}

bool link_alive(ha_t *ha, struct ha_conn *c)
{
	for (struct ha_conn *x = ha->conns; x; x = x->next)
		if (x == c)
			return true;
	return false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct ha_conn *c = arg;
	ha_t *ha = c->ha;
	struct evbuffer *in = bufferevent_get_input(bev);
	char why[128];
	evutil_gettimeofday(&c->last_rx, NULL);
	for (;;) {
		size_t have = evbuffer_get_length(in), used = 0;
		struct ha_frame f;
		if (have < 5)
			return;
		uint8_t *h = evbuffer_pullup(in, 5);
		/* The header alone says whether the frame can be valid. */
		if (!h || ha_wire_frame(h, 5, &f, &used, why, sizeof(why)) < 0) {
			log_warning("node link %s: %s", c->addr, h ? why : "out of memory");
			link_close(c, why);
			return;
		}
		size_t want =
			((size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]) + 4;
		if (have < want)
			return;
		uint8_t *all = evbuffer_pullup(in, (ssize_t)want);
		if (!all || ha_wire_frame(all, want, &f, &used, why, sizeof(why)) != 1) {
			link_close(c, "a frame cannot be read");
			return;
		}
		/* A handler may close c: nothing more is read from it then. */
		if (c->joining)
			join_frame(c, &f);
		else if (c->authed)
			node_frame(c, &f);
		else {
			link_close(c, "a message before authentication");
			return;
		}
		if (!link_alive(ha, c))
			return;
		evbuffer_drain(in, used);
		if (c->closing)
			return;
	}
}

/* The handshake is done: who is this? */
static void on_connected(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	tls_peer_fingerprint(c->ssl, c->peer_fp, sizeof(c->peer_fp));
	evutil_gettimeofday(&c->last_rx, NULL);
	if (c->joining && c->outbound) {
		join_authed(c);
		return;
	}
	if (ha->peer_fp[0] && !strcmp(c->peer_fp, ha->peer_fp)) {
		c->authed = true;
		node_authed(c);
		return;
	}
	if (!c->outbound && !c->peer_fp[0]) {
		/* no certificate: only a backup joining with a token may talk */
		c->joining = true;
		return;
	}
	log_warning("node link %s %s refused: its certificate %s is not the joined peer's (%s)",
		    c->outbound ? "to" : "from", c->addr, c->peer_fp[0] ? c->peer_fp : "(none)",
		    ha->peer_fp[0] ? ha->peer_fp : "none joined yet");
	link_close(c, "certificate not pinned");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ha_conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		on_connected(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(c->bev);
		char why[160];
		snprintf(why, sizeof(why), "%s", e ? ERR_reason_error_string(e) : strerror(errno));
		log_debug("node link %s: %s", c->addr, why);
		link_close(c, why);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_TIMEOUT))
		link_close(c, what & BEV_EVENT_EOF ? "closed by the peer" : "timed out");
}

/* The server's, the client's, or (joining) a client's without a certificate. */
static SSL_CTX *context(ha_t *ha, bool server, bool joining)
{
	char err[300];
	SSL_CTX **slot = server ? &ha->server_ctx : joining ? &ha->join_ctx : &ha->client_ctx;
	static char said[300];
	if (!*slot &&
	    !(*slot = tls_node_ctx(joining ? NULL : ha->tls_dir, server, err, sizeof(err))) &&
	    strcmp(said, err)) {
		log_warning("node link: %s", err); /* once, not at every attempt */
		snprintf(said, sizeof(said), "%s", err);
	}
	return *slot;
}

static unsigned n_conns(ha_t *ha)
{
	unsigned n = 0;
	for (struct ha_conn *c = ha->conns; c; c = c->next)
		n++;
	return n;
}

static struct ha_conn *conn_new(ha_t *ha, int fd, bool outbound, bool joining, char const *addr)
{
	SSL_CTX *ctx = context(ha, !outbound, joining);
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	struct ha_conn *c = ssl ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	c->ha = ha;
	c->ssl = ssl;
	c->outbound = outbound;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->bev = bufferevent_openssl_socket_new(ha->base, fd, ssl,
						outbound ? BUFFEREVENT_SSL_CONNECTING
							 : BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(c);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	struct timeval hs = { IDLE_SECONDS, 0 };
	bufferevent_set_timeouts(c->bev, &hs, NULL);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = ha->conns;
	ha->conns = c;
	return c;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	ha_t *ha = arg;
	char ip[64] = "?", addr[80];
	(void)l, (void)len;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), "%s", ip);
	if (n_conns(ha) >= MAX_CONNS) {
		/* The oldest connection nobody has authenticated makes room: strangers cannot
		 * hold every slot against the peer. */
		struct ha_conn *oldest = NULL;
		for (struct ha_conn *c = ha->conns; c; c = c->next)
			if (!c->authed && !c->outbound)
				oldest = c; /* the list is newest first */
		if (!oldest) {
			log_warning("node link from %s refused: %d connections already", addr,
				    MAX_CONNS);
			evutil_closesocket(fd);
			return;
		}
		link_close(oldest, "making room for a new connection");
	}
	evutil_make_socket_nonblocking(fd);
	conn_new(ha, fd, false, false, addr);
}

static int sockaddr_of(struct config_listen const *l, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, l->host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)l->port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, l->host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)l->port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

struct ha_conn *link_dial(ha_t *ha, bool joining)
{
	struct sockaddr_storage to, from;
	socklen_t tolen, fromlen;
	char addr[96];
	if (!ha->cfg.ha_peer.port || sockaddr_of(&ha->cfg.ha_peer, &to, &tolen) < 0 ||
	    n_conns(ha) >= MAX_CONNS)
		return NULL;
	int fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* From the link's own address, so the peer sees where this node listens. */
	if (ha->cfg.ha_listen.port) {
		struct config_listen src = ha->cfg.ha_listen;
		src.port = 0;
		if (sockaddr_of(&src, &from, &fromlen) == 0 && from.ss_family == to.ss_family &&
		    bind(fd, (struct sockaddr *)&from, fromlen) < 0)
			log_debug("node link: cannot bind to %s: %s", src.host, strerror(errno));
	}
	config_listen_format(&ha->cfg.ha_peer, addr, sizeof(addr));
	struct ha_conn *c = conn_new(ha, fd, true, joining, addr);
	if (!c)
		return NULL;
	c->joining = joining;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&to, (int)tolen) < 0) {
		link_close(c, "cannot connect");
		return NULL;
	}
	return c;
}

void link_tick(ha_t *ha)
{
	struct timeval now;
	evutil_gettimeofday(&now, NULL);
	for (struct ha_conn *c = ha->conns, *next; c; c = next) {
		next = c->next;
		if (now.tv_sec - c->last_rx.tv_sec > IDLE_SECONDS && c->last_rx.tv_sec) {
			link_close(c, "nothing heard for too long");
			continue;
		}
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_MAX) {
			link_close(c, "the peer does not read");
			continue;
		}
		if (c->hello_seen && now.tv_sec % PING_SECONDS == 0)
			link_send_u64(c, HA_PING,
				      ha->role == ROLE_PRIMARY ? ha->head : ha->applied);
	}
	if (ha->link || ha->joining || !ha->peer_fp[0] || now.tv_sec < ha->next_dial)
		return;
	bool busy = false;
	for (struct ha_conn *c = ha->conns; c; c = c->next)
		busy |= c->outbound;
	if (busy)
		return;
	if (ha->role == ROLE_BACKUP)
		ha->next_dial = now.tv_sec + DIAL_SECONDS;
	else if (ha->role == ROLE_PRIMARY)
		ha->next_dial = now.tv_sec + PROBE_SECONDS;
	else
		return;
	link_dial(ha, false);
}

int link_start(ha_t *ha, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (!ha->cfg.ha_listen.port)
		return 0;
	if (sockaddr_of(&ha->cfg.ha_listen, &ss, &len) < 0) {
		snprintf(err, errlen, "[ha] listen: not an address");
		return -1;
	}
	ha->listener = evconnlistener_new_bind(ha->base, on_accept, ha,
					       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						       LEV_OPT_CLOSE_ON_EXEC,
					       16, (struct sockaddr *)&ss, (int)len);
	if (!ha->listener) {
		char where[96];
		config_listen_format(&ha->cfg.ha_listen, where, sizeof(where));
		snprintf(err, errlen, "[ha] listen: cannot listen on %s: %s", where,
			 strerror(errno));
		return -1;
	}
	return 0;
}

void link_stop(ha_t *ha)
{
	while (ha->conns)
		link_close(ha->conns, "stopping");
	if (ha->listener)
		evconnlistener_free(ha->listener);
	ha->listener = NULL;
	SSL_CTX_free(ha->server_ctx);
	SSL_CTX_free(ha->client_ctx);
	SSL_CTX_free(ha->join_ctx);
	ha->server_ctx = ha->client_ctx = ha->join_ctx = NULL;
}
