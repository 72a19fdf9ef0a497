#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct registrar;
struct conn;
#define TP_CLIENT_T struct conn

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "daemon/cidr.h"
#include "daemon/hash.h"
#include "daemon/text.h"
#include "daemon/log.h"
#include "registrar/auth.h"
#include "registrar/ban.h"
#include "registrar/bindings.h"
#include "registrar/identity.h"
#include "registrar/registrar.h"

#define LOG_TAG "registrar"

/* What the answer to a Cisco phone's first REGISTER selects: unsolicited
 * NOTIFYs rather than subscriptions (usecallmanager and CUCM answer alike). */
static char const remotecc_response[] =
	"<x-cisco-remotecc-response><response><code>200</code><optionsind>"
	"<combine max=\"6\"><remotecc><status/></remotecc><service-control/></combine>"
	"<dialog usage=\"hook status\"><unot/></dialog>"
	"<dialog usage=\"shared line\"><unot/></dialog>"
	"<presence usage=\"blf speed dial\"><unot/></presence>"
	"<joinreq></joinreq></optionsind></response></x-cisco-remotecc-response>";

#define CISCO_SUPPORTED "X-cisco-sis-7.0.0"
#define RETRY_AFTER	"30"

/* A connection (TCP, TLS) bindings were made over: held open while they last. */
struct conn {
	struct conn *next;
	struct registrar *r;
	tport_t *tp;
	int pend;
	unsigned refs;
	char name[80];
};

struct registrar {
	nta_agent_t *agent;
	struct registrar_config cfg;
	auth_server_t *auth;
	ban_table_t *bans;
	binding_table_t *bindings;
	directory_t *dir;
	struct conn *conns;
	registrar_sink_f sink;
	void *sink_arg;
	registrar_registered_f on_register; /* after a new registration */
	void *on_register_arg;
	struct store_binding *pending; /* changes not yet written behind */
	size_t n_pending, cap_pending;
	uint32_t batch; /* numbers the pending batches, for merging changes */
	uint64_t failed[1024]; /* requests whose failure was counted, by request_key() */
	bool restoring;
	su_home_t *home;      /* what follows */
	sip_server_t *server; /* the Server header, parsed once */
	char *realm_param;    /* realm="..." for the challenges */
	char node_mark[9];
};

/* The outcome of a REGISTER, mapped to a status in one place. */
enum reg_outcome {
	REG_OK,
	REG_CHALLENGE,
	REG_BAD_REQUEST,
	REG_FORBIDDEN, /* another device's line, a device name that does not match */
	REG_NOT_FOUND, /* a DN nobody has */
	REG_INTERVAL_TOO_BRIEF,
	REG_OUT_OF_ORDER,
	REG_TOO_MANY_CONTACTS,
	REG_BAD_CONTACT, /* not SIP, an address nobody can be reached at, or this server */
	REG_SERVER_ERROR,
};

static struct {
	int status;
	char const *phrase;
} const outcome_status[] = {
	[REG_OK] = { 200, "OK" },
	[REG_CHALLENGE] = { 401, "Unauthorized" },
	[REG_BAD_REQUEST] = { 400, "Bad Request" },
	[REG_FORBIDDEN] = { 403, "Forbidden" },
	[REG_NOT_FOUND] = { 404, "Not Found" },
	[REG_INTERVAL_TOO_BRIEF] = { 423, "Interval Too Brief" },
	[REG_OUT_OF_ORDER] = { 500, "Out of Order CSeq" },
	[REG_TOO_MANY_CONTACTS] = { 403, "Too Many Contacts" },
	[REG_BAD_CONTACT] = { 400, "Bad Contact" },
	[REG_SERVER_ERROR] = { 500, "Server Internal Error" },
};

/* ---- write-behind ---- */

/*
 * Queues a binding's new state (or its deletion) for the store thread. A
 * binding changed twice before the batch goes out takes one slot: only its
 * last state is written.
 */
static void queue_change(registrar_t *r, struct binding *b, enum store_binding_op op)
{
	struct store_binding *s;
	if (r->restoring)
		return;
	if (b->pending_batch == r->batch && b->pending_slot < r->n_pending) {
		s = &r->pending[b->pending_slot];
	} else {
		if (r->n_pending == r->cap_pending) {
			size_t nc = r->cap_pending ? r->cap_pending * 2 : 64;
			struct store_binding *np = realloc(r->pending, nc * sizeof(*np));
			if (!np) {
				log_error("out of memory: a binding change is not written to the "
					  "database");
				return;
			}
			r->pending = np;
			r->cap_pending = nc;
		}
		b->pending_batch = r->batch;
		b->pending_slot = (uint32_t)r->n_pending;
		s = &r->pending[r->n_pending++];
	}
	s->op = op;
	text_copy(s->dn, sizeof(s->dn), b->dn);
	text_copy(s->contact, sizeof(s->contact), b->contact);
	if (op == STORE_BINDING_DELETE)
		return;
	text_copy(s->device, sizeof(s->device), b->device);
	text_copy(s->source, sizeof(s->source), b->source);
	text_copy(s->transport, sizeof(s->transport), b->transport);
	text_copy(s->instance, sizeof(s->instance), b->instance);
	text_copy(s->user_agent, sizeof(s->user_agent), b->user_agent);
	text_copy(s->call_id, sizeof(s->call_id), b->call_id);
	s->cseq = b->cseq;
	s->expires_at = (long long)b->expires;
	s->derived = b->derived;
}

static void flush_changes(registrar_t *r)
{
	if (!r->n_pending || !r->sink)
		return;
	r->sink(r->pending, r->n_pending, r->sink_arg);
	r->pending = NULL;
	r->n_pending = r->cap_pending = 0;
	if (++r->batch == 0) /* 0 marks a binding with no pending change */
		r->batch = 1;
}

/* ---- connections ---- */

/*
 * A binding's conn is the tport_t it was made over. The binding table
 * holds and drops the references (conn_hold, conn_drop); a struct conn
 * lives while any binding holds its connection: it keeps the connection
 * referenced (so sofia's idle timer does not close it) and learns of its
 * close through tport_pend().
 */
static struct conn *conn_find(registrar_t *r, tport_t const *tp)
{
	for (struct conn *c = r->conns; c; c = c->next) {
		if (c->tp == tp)
			return c;
	}
	return NULL;
}

static void conn_free(registrar_t *r, struct conn *c)
{
	struct conn **pp = &r->conns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	if (c->pend > 0)
		tport_release(c->tp, c->pend, NULL, NULL, c, 0);
	tport_unref(c->tp);
	free(c);
}

static void on_binding_removed(struct binding *b, void *arg)
{
	queue_change(arg, b, STORE_BINDING_DELETE);
}

static void on_conn_closed(tp_stack_t *stack, struct conn *c, tport_t *tp, msg_t *msg, int error)
{
	registrar_t *r = c->r;
	char name[sizeof(c->name)];
	(void)stack, (void)tp, (void)msg;
	text_copy(name, sizeof(name), c->name);
	/* The last binding to go frees c. */
	size_t n = binding_remove_conn(r->bindings, c->tp);
	log_info("connection %s closed (%s): %zu binding%s removed", name,
		 error ? strerror(error) : "by the peer", n, n == 1 ? "" : "s");
}

static int conn_hold(void *conn, void *arg)
{
	registrar_t *r = arg;
	tport_t *tp = conn;
	struct conn *c = conn_find(r, tp);
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return -ENOMEM;
		c->r = r;
		c->tp = tport_ref(tp);
		tp_name_t const *n = tport_name(tp);
		snprintf(c->name, sizeof(c->name), "%s/%s:%s", n->tpn_proto, n->tpn_host,
			 n->tpn_port);
		/* Learn of the close; the reference keeps the idle timer from closing it. */
		tport_set_params(tp, TPTAG_SDWN_ERROR(1), TAG_END());
		c->pend = tport_pend(tp, NULL, on_conn_closed, c);
		c->next = r->conns;
		r->conns = c;
	}
	c->refs++;
	return 0;
}

static void conn_drop(void *conn, void *arg)
{
	registrar_t *r = arg;
	struct conn *c = conn_find(r, conn);
	if (c && --c->refs == 0)
		conn_free(r, c);
}

/* ---- set-up ---- */

static unsigned algs_bits(enum dir_algs a)
{
	switch (a) {
	case DIR_ALGS_SHA256:
		return AUTH_ALG_SHA256;
	case DIR_ALGS_BOTH:
		return AUTH_ALG_SHA256 | AUTH_ALG_MD5;
	default:
		return AUTH_ALG_MD5;
	}
}

static enum dir_algs device_algs(registrar_t *r, struct dir_device const *d)
{
	return d && d->algs != DIR_ALGS_DEFAULT ? d->algs : r->cfg.default_algs;
}

static void set_server(registrar_t *r)
{
	sip_server_t *old = r->server;
	r->server = r->cfg.server[0] ? sip_server_make(r->home, r->cfg.server) : NULL;
	su_free(r->home, old);
	su_free(r->home, r->realm_param);
	r->realm_param = su_sprintf(r->home, "realm=\"%s\"", r->cfg.realm);
}

static struct binding_hooks const binding_hooks = {
	.removed = on_binding_removed,
	.conn_hold = conn_hold,
	.conn_drop = conn_drop,
};

int registrar_create(registrar_t **out, nta_agent_t *agent, struct registrar_config const *cfg,
		     char const *secret_hex, registrar_sink_f sink, void *sink_arg)
{
	registrar_t *r = calloc(1, sizeof(*r));
	int err;
	if (!r)
		return -ENOMEM;
	r->agent = agent;
	r->cfg = *cfg;
	r->sink = sink;
	r->sink_arg = sink_arg;
	r->batch = 1;
	if (!(r->home = su_home_new(sizeof(*r->home)))) {
		free(r);
		return -ENOMEM;
	}
	set_server(r);
	if ((err = auth_server_create(&r->auth, secret_hex, strlen(secret_hex), cfg->nonce_lifetime,
				      65536)) < 0 ||
	    (err = ban_table_create(&r->bans, 100000)) < 0 ||
	    (err = binding_table_create(&r->bindings, &binding_hooks, r)) < 0) {
		registrar_destroy(r);
		return err;
	}
	ban_set_limits(r->bans, cfg->ban_failures, cfg->ban_window, cfg->ban_time);
	auth_node_mark(r->auth, r->node_mark);
	*out = r;
	return 0;
}

void registrar_destroy(registrar_t *r)
{
	if (!r)
		return;
	/* Bindings stay in the database; only the memory goes. */
	r->restoring = true;
	binding_table_destroy(r->bindings);
	while (r->conns)
		conn_free(r, r->conns);
	r->restoring = false;
	flush_changes(r);
	free(r->pending);
	auth_server_destroy(r->auth);
	ban_table_destroy(r->bans);
	directory_destroy(r->dir);
	su_home_unref(r->home);
	free(r);
}

void registrar_set_config(registrar_t *r, struct registrar_config const *cfg)
{
	r->cfg = *cfg;
	set_server(r);
	auth_server_set_lifetime(r->auth, cfg->nonce_lifetime);
	ban_set_limits(r->bans, cfg->ban_failures, cfg->ban_window, cfg->ban_time);
}

struct stale_list {
	struct binding **items;
	size_t n, cap;
	directory_t const *dir;
};

static void collect_stale(struct binding *b, void *arg)
{
	struct stale_list *l = arg;
	struct dir_line const *line = directory_line(l->dir, b->dn);
	if (line && line->device && b->device && strcmp(line->device->name, b->device) == 0)
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct binding **ni = realloc(l->items, nc * sizeof(*ni));
		if (!ni)
			return;
		l->items = ni;
		l->cap = nc;
	}
	l->items[l->n++] = b;
}

void registrar_set_directory(registrar_t *r, directory_t *d)
{
	directory_destroy(registrar_swap_directory(r, d));
}

directory_t *registrar_swap_directory(registrar_t *r, directory_t *d)
{
	struct stale_list l = { .dir = d };
	directory_t *old = r->dir;
	r->dir = d;
	/* A line deleted or moved to another device takes its bindings along. */
	binding_foreach(r->bindings, collect_stale, &l);
	for (size_t i = 0; i < l.n; i++)
		binding_remove(r->bindings, l.items[i]);
	if (l.n)
		log_info("%zu binding%s removed: their lines changed", l.n, l.n == 1 ? "" : "s");
	free(l.items);
	return old;
}

void registrar_restore(registrar_t *r, struct store_binding const *s)
{
	struct binding *b;
	struct binding_update u = {
		.dn = s->dn,
		.device = s->device,
		.contact = s->contact,
		.call_id = s->call_id,
		.cseq = (uint32_t)s->cseq,
		.expires = (time_t)s->expires_at,
		.source = s->source,
		.transport = s->transport,
		.instance = s->instance[0] ? s->instance : NULL,
		.user_agent = s->user_agent[0] ? s->user_agent : NULL,
		.derived = s->derived,
	};
	r->restoring = true;
	binding_apply(r->bindings, &u, time(NULL), 0, &b);
	r->restoring = false;
}

/* ---- helpers on the request ---- */

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
	char tmp[12];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* The request's source as "a.b.c.d" (addr) and "a.b.c.d:port" or "[v6]:port" (hostport). */
static void source_of(msg_t *msg, char *addr, size_t alen, char *hostport, size_t hlen)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	su_sockaddr_t const *su = ai ? (su_sockaddr_t const *)ai->ai_addr : NULL;
	char ip[64] = "?";
	unsigned port = 0;
	if (su && su->su_family == AF_INET) {
		uint8_t const *a = (uint8_t const *)&su->su_sin.sin_addr;
		char *p = ip;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_uint(p, a[i]);
		}
		*p = '\0';
		port = ntohs(su->su_port);
	} else if (su) {
		su_inet_ntop(su->su_family, SU_ADDR(su), ip, sizeof(ip));
		port = ntohs(su->su_port);
	}
	size_t n = strlen(ip);
	text_copy(addr, alen, ip);
	bool v6 = memchr(ip, ':', n) != NULL;
	if (hlen < n + 10) {
		text_copy(hostport, hlen, ip);
		return;
	}
	char *p = hostport;
	if (v6)
		*p++ = '[';
	memcpy(p, ip, n);
	p += n;
	if (v6)
		*p++ = ']';
	*p++ = ':';
	p = put_uint(p, port);
	*p = '\0';
}

static uint64_t request_key(sip_t const *sip)
{
	uint64_t h = HASH_FNV1A_INIT;
	char cseq[16];
	char const *parts[3] = { sip->sip_call_id ? sip->sip_call_id->i_id : "", cseq,
				 sip->sip_via && sip->sip_via->v_branch ? sip->sip_via->v_branch
									: "" };
	*put_uint(cseq, sip->sip_cseq ? sip->sip_cseq->cs_seq : 0) = '\0';
	/* A separator between the parts, so "ab"+"c" and "a"+"bc" differ. */
	for (int i = 0; i < 3; i++)
		h = hash_fnv1a_add(hash_fnv1a_add(h, parts[i]), "\xff");
	return h ? h : 1;
}

/* The device name the phone gives, from any of the three places; "" if none. */
static void claimed_device_name(sip_t const *sip, char *out, size_t len)
{
	out[0] = '\0';
	for (sip_contact_t const *m = sip->sip_contact; m; m = m->m_next) {
		for (msg_param_t const *p = m->m_params; p && *p; p++) {
			if (identity_from_contact_param(*p, out, len))
				return;
		}
	}
	if (sip->sip_reason) {
		char const *text = msg_params_find(sip->sip_reason->re_params, "text=");
		if (text && identity_from_reason_text(text, out, len))
			return;
	}
	for (sip_contact_t const *m = sip->sip_contact; m; m = m->m_next) {
		char const *inst = msg_params_find(m->m_params, "+sip.instance=");
		if (inst && identity_from_instance(inst, out, len))
			return;
	}
}

static bool is_keepalive(sip_t const *sip)
{
	for (sip_contact_t const *m = sip->sip_contact; m; m = m->m_next) {
		for (msg_param_t const *p = m->m_params; p && *p; p++) {
			if (identity_is_keepalive_param(*p))
				return true;
		}
	}
	return false;
}

/* Our credentials among the Authorization headers: Digest, our realm. */
static msg_auth_t const *our_authorization(registrar_t *r, sip_t const *sip, bool proxy)
{
	msg_auth_t const *first = proxy ? (msg_auth_t const *)sip->sip_proxy_authorization
					: (msg_auth_t const *)sip->sip_authorization;
	for (msg_auth_t const *au = first; au; au = au->au_next) {
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0)
			continue;
		char const *realm = msg_params_find(au->au_params, "realm=");
		if (!realm)
			continue;
		size_t n = strlen(realm);
		if (n >= 2 && realm[0] == '"' && realm[n - 1] == '"' &&
		    n - 2 == strlen(r->cfg.realm) && strncmp(realm + 1, r->cfg.realm, n - 2) == 0)
			return au;
		if (strcmp(realm, r->cfg.realm) == 0)
			return au;
	}
	return NULL;
}

/* ---- answers ---- */

static void reply_refusal(registrar_t *r, msg_t *msg, enum reg_outcome o, bool cisco);

/*
 * One WWW-Authenticate built from its parameters (what auth_challenge_format()
 * writes as text), so the reply does not parse it back.
 */
static msg_auth_t *challenge_header(registrar_t *r, su_home_t *home, char const *nonce,
				    enum digest_alg alg, bool stale, bool proxy)
{
	msg_auth_t *au = (msg_auth_t *)msg_header_alloc(
		home, proxy ? sip_proxy_authenticate_class : sip_www_authenticate_class, 0);
	msg_param_t *params = su_zalloc(home, 6 * sizeof(*params));
	size_t n = strlen(nonce);
	char *np = su_alloc(home, n + sizeof("nonce=\"\""));
	if (!au || !params || !np)
		return NULL;
	memcpy(np, "nonce=\"", 7);
	memcpy(np + 7, nonce, n);
	memcpy(np + 7 + n, "\"", 2);
	params[0] = r->realm_param;
	params[1] = np;
	params[2] = alg == DIGEST_SHA256 ? "algorithm=SHA-256" : "algorithm=MD5";
	params[3] = "qop=\"auth\"";
	params[4] = stale ? "stale=true" : NULL;
	au->au_scheme = "Digest";
	au->au_params = params;
	return au;
}

/* 401 with WWW-Authenticate (REGISTER), or 407 with Proxy-Authenticate (other requests). */
static void reply_challenge(registrar_t *r, msg_t *msg, struct dir_device const *dev, bool stale,
			    bool proxy, char const *addr)
{
	su_home_t *home = msg_home(msg);
	char nonce[AUTH_NONCE_LEN + 1];
	enum dir_algs algs = device_algs(r, dev);
	msg_auth_t *au;

	auth_nonce_make(r->auth, time(NULL), addr, nonce);
	if (algs == DIR_ALGS_BOTH) {
		au = challenge_header(r, home, nonce, DIGEST_SHA256, stale, proxy);
		if (au &&
		    !(au->au_next = challenge_header(r, home, nonce, DIGEST_MD5, stale, proxy)))
			au = NULL;
	} else {
		au = challenge_header(r, home, nonce,
				      algs == DIR_ALGS_SHA256 ? DIGEST_SHA256 : DIGEST_MD5, stale,
				      proxy);
	}
	if (!au) {
		reply_refusal(r, msg, REG_SERVER_ERROR, false);
		return;
	}
	if (proxy)
		nta_msg_treply(r->agent, msg, SIP_407_PROXY_AUTH_REQUIRED,
			       SIPTAG_PROXY_AUTHENTICATE((sip_proxy_authenticate_t *)au),
			       SIPTAG_SERVER(r->server), TAG_END());
	else
		nta_msg_treply(r->agent, msg, SIP_401_UNAUTHORIZED,
			       SIPTAG_WWW_AUTHENTICATE((sip_www_authenticate_t *)au),
			       SIPTAG_SERVER(r->server), TAG_END());
}

/*
 * A refusal. A Cisco phone takes almost any 4xx to REGISTER as "rejected"
 * and may reboot, so Cisco devices get 503 with Retry-After instead.
 */
static void reply_refusal(registrar_t *r, msg_t *msg, enum reg_outcome o, bool cisco)
{
	if (cisco && o != REG_INTERVAL_TOO_BRIEF && o != REG_BAD_REQUEST && o != REG_BAD_CONTACT) {
		nta_msg_treply(r->agent, msg, SIP_503_SERVICE_UNAVAILABLE,
			       SIPTAG_RETRY_AFTER_STR(RETRY_AFTER), SIPTAG_SERVER(r->server),
			       TAG_END());
		return;
	}
	nta_msg_treply(r->agent, msg, outcome_status[o].status, outcome_status[o].phrase,
		       SIPTAG_SERVER(r->server), TAG_END());
}

/* ---- the REGISTER ---- */

struct reg_ctx {
	registrar_t *r;
	msg_t *msg;
	sip_t *sip;
	time_t now;
	char addr[64];
	char source[80];
	char transport[8];
	tport_t *tp;
	struct dir_line const *line;
	struct dir_device const *dev;
	char const *dn;
	bool proxy; /* not a REGISTER: Proxy-Authorization, 407 */
};

static void count_failure(struct reg_ctx *c, char const *user, char const *why)
{
	registrar_t *r = c->r;
	bool banned = false;
	char key[128];
	/*
	 * One failure per request: a retransmission (same Call-ID, CSeq and
	 * branch), sent again while our challenge was lost, is not a second
	 * guess.
	 */
	uint64_t rk = request_key(c->sip);
	uint64_t *seen = &r->failed[rk % (sizeof(r->failed) / sizeof(r->failed[0]))];
	if (*seen == rk) {
		log_debug("auth failure from %s: the same request again, not counted", c->source);
		return;
	}
	*seen = rk;
	/*
	 * One line per failure, in a fixed form a fail2ban filter can match: the
	 * true source (from the socket) first, where no field from the request
	 * can come before it, then those fields quoted and escaped.
	 */
	log_warning("auth failure: source=%s user=%s dn=%s reason=%s", c->source, LOGQ(user),
		    LOGQ(c->dn), why);
	/*
	 * Never banned: the ranges of [security] ban_exempt, and the trunks'
	 * providers (their failures are the trunk's state, not an attack).
	 */
	if (cidr_list_match(r->cfg.ban_exempt, c->addr) ||
	    directory_trunk_by_addr(r->dir, c->addr)) {
		log_debug("source %s is exempt from bans", c->addr);
		return;
	}
	char reason[128];
	snprintf(reason, sizeof(reason), "%s %s: user %s, DN %s",
		 c->sip->sip_request->rq_method_name, why, LOGQ(user), LOGQ(c->dn));
	unsigned n = ban_failure(r->bans, c->addr, c->now, reason, &banned);
	if (banned)
		log_warning("ban: source %s banned for %u s after %u failures", c->addr,
			    r->cfg.ban_time, n);
	/*
	 * Per user the failures are counted and reported, never enforced: a
	 * lock on the user would lock out the phone itself, which a guesser
	 * elsewhere could then do at will. Their sources get banned instead.
	 */
	if (user) {
		snprintf(key, sizeof(key), "user:%s", user);
		snprintf(reason, sizeof(reason), "%s %s from %s", c->sip->sip_request->rq_method_name,
			 why, c->source);
		n = ban_failure(r->bans, key, c->now, reason, &banned);
		if (banned)
			log_warning(
				"watch: user %s had %u failed authentications within %u s, from "
				"one source or several",
				LOGQ(user), n, r->cfg.ban_window);
	}
}

/* Authenticates; answers and returns false when the request stops here. */
static bool authenticate(struct reg_ctx *c, struct dir_device const **who)
{
	registrar_t *r = c->r;
	msg_auth_t const *au = our_authorization(r, c->sip, c->proxy);
	su_home_t *home = msg_home(c->msg);
	auth_response_t ar[1] = { { sizeof(ar) } };

	if (!au) {
		reply_challenge(r, c->msg, c->dev, false, c->proxy, c->addr);
		return false;
	}
	if (auth_digest_response_get(home, ar, au->au_params) < 0 || !ar->ar_username) {
		reply_refusal(r, c->msg, REG_BAD_REQUEST, false);
		return false;
	}
	struct dir_user const *user = directory_user(r->dir, ar->ar_username);
	struct dir_device const *dev = user ? user->device : NULL;
	char ruri[512];
	url_e(ruri, sizeof(ruri), c->sip->sip_request->rq_url);
	struct auth_creds cr = {
		.username = ar->ar_username,
		.realm = ar->ar_realm,
		.nonce = ar->ar_nonce,
		.uri = ar->ar_uri,
		.response = ar->ar_response,
		.algorithm = ar->ar_algorithm,
		.cnonce = ar->ar_cnonce,
		.qop = ar->ar_qop,
		.nc = ar->ar_nc,
	};
	struct auth_check chk = {
		.method = c->sip->sip_request->rq_method_name,
		.ha1_md5 = dev ? user->ha1_md5 : NULL,
		.ha1_sha256 = dev ? user->ha1_sha256 : NULL,
		.verify_password = !dev || !dev->identify,
		.qop_required = dev && dev->qop_required,
		.algs_offered = algs_bits(device_algs(r, dev ? dev : c->dev)),
		.request_key = request_key(c->sip),
		.source = c->addr,
	};
	enum auth_verdict v = auth_verify(r->auth, &cr, &chk, c->now, NULL);
	/*
	 * The digest uri names the Request-URI, or this server (SIPp and some
	 * phones send sip:HOST:PORT of the server with an INVITE to a user);
	 * never another host, so credentials made for another server do not
	 * pass here.
	 */
	if (v == AUTH_OK && !auth_uri_matches(ar->ar_uri, ruri) &&
	    !auth_uri_names(ar->ar_uri, r->cfg.self))
		v = AUTH_FAILED, log_info("digest uri %s names neither the Request-URI %s nor this "
					  "server",
					  LOGQ(ar->ar_uri), LOGQ(ruri));
	/* An identify device's user name travels in clear: only from where it may. */
	if (v == AUTH_OK && dev->identify && !cidr_list_match(r->cfg.identify_from, c->addr)) {
		log_warning("%s from %s as device %s (auth identify) refused: outside [registrar] "
			    "identify_from",
			    LOGQ(c->sip->sip_request->rq_method_name), c->source, dev->name);
		reply_refusal(r, c->msg, REG_FORBIDDEN, dev->cisco);
		return false;
	}
	switch (v) {
	case AUTH_OK:
		*who = dev;
		return true;
	case AUTH_STALE:
		reply_challenge(r, c->msg, dev, true, c->proxy, c->addr);
		return false;
	case AUTH_MALFORMED:
		reply_refusal(r, c->msg, REG_BAD_REQUEST, false);
		return false;
	case AUTH_FAILED:
		count_failure(c, ar->ar_username, auth_verdict_name(v));
		reply_challenge(r, c->msg, dev ? dev : c->dev, false, c->proxy, c->addr);
		return false;
	default:
		log_info("%s from %s for user %s: %s, challenged again",
			 LOGQ(c->sip->sip_request->rq_method_name), c->source, LOGQ(ar->ar_username),
			 auth_verdict_name(v));
		reply_challenge(r, c->msg, dev ? dev : c->dev, false, c->proxy, c->addr);
		return false;
	}
}

/*
 * Why a contact cannot be bound, or NULL when it can: a URI other than
 * sip:/sips:, a host no phone can be (unspecified, broadcast, multicast),
 * this server itself (a call to it would loop back), or an expires
 * parameter that is no number of seconds.
 */
static char const *contact_refusal(registrar_t *r, su_home_t *home, sip_contact_t const *m)
{
	url_t const *u = m->m_url;
	if (u->url_type != url_sip && u->url_type != url_sips)
		return "not a SIP URI";
	if (!u->url_host || !u->url_host[0])
		return "no host";
	if (m->m_expires &&
	    (!m->m_expires[0] || strspn(m->m_expires, "0123456789") != strlen(m->m_expires) ||
	     strlen(m->m_expires) > 10))
		return "an expires parameter that is not a number of seconds";
	char host[64];
	size_t n = strlen(u->url_host);
	if (u->url_host[0] == '[' && n >= 2 && n - 2 < sizeof(host)) {
		memcpy(host, u->url_host + 1, n - 2);
		host[n - 2] = '\0';
	} else {
		text_copy(host, sizeof(host), u->url_host);
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		uint32_t a = ntohl(a4.s_addr);
		if (a == 0 || a == 0xffffffffu || (a >> 28) == 0xe)
			return "an unspecified, broadcast or multicast address";
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_MULTICAST(&a6))
			return "an unspecified or multicast address";
	}
	char *text = url_as_string(home, (url_t *)u);
	if (text && auth_uri_names(text, r->cfg.self))
		return "this server's own address";
	return NULL;
}

static unsigned requested_expires(struct reg_ctx *c, sip_contact_t const *m)
{
	if (m && m->m_expires)
		return (unsigned)strtoul(m->m_expires, NULL, 10);
	if (c->sip->sip_expires)
		return (unsigned)c->sip->sip_expires->ex_delta;
	return c->r->cfg.default_expires;
}

static void contact_uri(su_home_t *home, sip_contact_t const *m, char *out, size_t len)
{
	char *s = url_as_string(home, m->m_url);
	snprintf(out, len, "%s", s ? s : "");
}

/* "sip:<dn>@<host:port of line 1's contact>" with its transport, for a line bound by us. */
static void derived_contact(su_home_t *home, char const *line1, char const *dn, char *out,
			    size_t len)
{
	url_t *u = url_make(home, line1);
	out[0] = '\0';
	if (!u || !u->url_host)
		return;
	char const *tp = u->url_params ? strstr(u->url_params, "transport=") : NULL;
	char tparam[32] = "";
	if (tp) {
		size_t n = strcspn(tp, ";");
		snprintf(tparam, sizeof(tparam), ";%.*s", (int)(n < 30 ? n : 30), tp);
	}
	snprintf(out, len, "%s:%s@%s%s%s%s", u->url_scheme ? u->url_scheme : "sip", dn, u->url_host,
		 u->url_port ? ":" : "", u->url_port ? u->url_port : "", tparam);
}

/* Binds (or unbinds) lines 2..N of a CUCM-mode device along with line 1. */
static void bind_other_lines(struct reg_ctx *c, struct binding const *line1, time_t expires)
{
	registrar_t *r = c->r;
	su_home_t *home = msg_home(c->msg);
	for (unsigned i = 1; i < c->dev->model_lines; i++) {
		struct dir_line const *l = c->dev->lines[i];
		if (!l)
			continue;
		if (!line1 || expires <= c->now) {
			for (struct binding *b = binding_first(r->bindings, l->dn); b;) {
				struct binding *next = b->next;
				if (b->derived)
					binding_remove(r->bindings, b);
				b = next;
			}
			continue;
		}
		char contact[512];
		derived_contact(home, line1->contact, l->dn, contact, sizeof(contact));
		if (!contact[0])
			continue;
		struct binding_update u = {
			.dn = l->dn,
			.device = c->dev->name,
			.contact = contact,
			.call_id = line1->call_id,
			.cseq = line1->cseq,
			.expires = expires,
			.source = line1->source,
			.transport = line1->transport,
			.instance = line1->instance,
			.user_agent = line1->user_agent,
			.conn = line1->conn,
			.derived = true,
		};
		struct binding *b;
		if (binding_apply(r->bindings, &u, c->now, r->cfg.max_contacts, &b) < 0)
			continue;
		queue_change(r, b, STORE_BINDING_UPSERT);
	}
}

static void reply_ok(struct reg_ctx *c, unsigned granted_max, bool newreg)
{
	registrar_t *r = c->r;
	su_home_t *home = msg_home(c->msg);
	sip_contact_t *list = NULL, **tail = &list;
	for (struct binding *b = binding_first(r->bindings, c->dn); b; b = b->next) {
		if (!b->device || strcmp(b->device, c->dev->name) != 0)
			continue;
		long left = (long)(b->expires - c->now);
		sip_contact_t *m = sip_contact_format(home, "<%s>;expires=%ld", b->contact,
						      left > 0 ? left : 0);
		if (m) {
			*tail = m;
			tail = &m->m_next;
		}
	}
	sip_date_t *date = sip_date_create(home, sip_now());
	if (c->dev->cisco) {
		sip_expires_t *ex = granted_max ? sip_expires_create(home, granted_max) : NULL;
		nta_msg_treply(r->agent, c->msg, SIP_200_OK, SIPTAG_CONTACT(list),
			       SIPTAG_DATE(date), TAG_IF(ex, SIPTAG_EXPIRES(ex)),
			       SIPTAG_SUPPORTED_STR(CISCO_SUPPORTED), SIPTAG_SERVER(r->server),
			       TAG_IF(newreg, SIPTAG_CONTENT_TYPE_STR(
						      "application/x-cisco-remotecc-response+xml")),
			       TAG_IF(newreg, SIPTAG_PAYLOAD_STR(remotecc_response)), TAG_END());
		return;
	}
	nta_msg_treply(r->agent, c->msg, SIP_200_OK, SIPTAG_CONTACT(list), SIPTAG_DATE(date),
		       SIPTAG_SERVER(r->server), TAG_END());
}

static void handle_register(struct reg_ctx *c)
{
	registrar_t *r = c->r;
	sip_t *sip = c->sip;
	su_home_t *home = msg_home(c->msg);
	struct dir_device const *who = NULL;

	/* Keep-alive to a standby server: answer, touch nothing. */
	if (is_keepalive(sip) && ((sip->sip_expires && sip->sip_expires->ex_delta == 0) ||
				  (sip->sip_contact && sip->sip_contact->m_expires &&
				   strtoul(sip->sip_contact->m_expires, NULL, 10) == 0))) {
		nta_msg_treply(r->agent, c->msg, SIP_200_OK,
			       SIPTAG_DATE(sip_date_create(home, sip_now())),
			       SIPTAG_SERVER(r->server), TAG_END());
		return;
	}
	if (!sip->sip_to || !sip->sip_to->a_url->url_user || !sip->sip_call_id || !sip->sip_cseq) {
		reply_refusal(r, c->msg, REG_BAD_REQUEST, false);
		return;
	}
	c->dn = sip->sip_to->a_url->url_user;
	c->line = directory_line(r->dir, c->dn);
	c->dev = c->line ? c->line->device : NULL;

	if (!authenticate(c, &who))
		return;

	bool cisco = who->cisco;
	/* One digest user per phone: it must own the line it registers. */
	if (!c->line || c->line->device != who) {
		if (c->line)
			log_warning("hijack attempt: user %s (device %s) tried to register DN %s "
				    "of device %s from %s; refused, that device's bindings kept",
				    who->user->name, who->name, LOGQ(c->dn), c->line->device->name,
				    c->source);
		else
			log_notice("device %s registered unknown DN %s from %s; refused", who->name,
				   LOGQ(c->dn), c->source);
		reply_refusal(r, c->msg, c->line ? REG_FORBIDDEN : REG_NOT_FOUND, cisco);
		return;
	}
	c->dev = who;
	char claimed[80];
	claimed_device_name(sip, claimed, sizeof(claimed));
	if (claimed[0] && strcasecmp(claimed, who->name) != 0) {
		log_warning("device name mismatch: user %s belongs to device %s but the REGISTER "
			    "from %s names %s; refused",
			    who->user->name, who->name, c->source, LOGQ(claimed));
		reply_refusal(r, c->msg, REG_FORBIDDEN, cisco);
		return;
	}

	uint64_t key = request_key(sip);
	char const *call_id = sip->sip_call_id->i_id;
	uint32_t cseq = sip->sip_cseq->cs_seq;
	unsigned maxexp = who->cucm_mode ? r->cfg.cucm_max_expires : r->cfg.max_expires;
	sip_contact_t const *m = sip->sip_contact;

	/* "Contact: *" with Expires: 0 removes every binding of the AOR. */
	if (m && m->m_url->url_type == url_any) {
		if (m->m_next || !sip->sip_expires || sip->sip_expires->ex_delta != 0) {
			reply_refusal(r, c->msg, REG_BAD_REQUEST, false);
			return;
		}
		enum binding_check chk =
			binding_check(r->bindings, c->dn, NULL, call_id, cseq, key);
		if (chk == BINDING_CHECK_OUT_OF_ORDER) {
			reply_refusal(r, c->msg, REG_OUT_OF_ORDER, cisco);
			return;
		}
		size_t n = binding_remove_aor(r->bindings, c->dn);
		if (c->line->index == 1 && who->cucm_mode)
			bind_other_lines(c, NULL, 0);
		log_info("%s unregistered DN %s (%zu binding%s)", who->name, LOGQ(c->dn), n,
			 n == 1 ? "" : "s");
		reply_ok(c, 0, false);
		return;
	}

	/* Check every contact before changing anything. */
	unsigned granted_max = 0;
	for (sip_contact_t const *k = m; k; k = k->m_next) {
		char uri[512];
		if (k->m_url->url_type == url_any) {
			reply_refusal(r, c->msg, REG_BAD_REQUEST, false);
			return;
		}
		char const *why = contact_refusal(r, home, k);
		if (why) {
			log_notice("REGISTER from %s for DN %s: contact %s is %s; refused (400)",
				   c->source, LOGQ(c->dn), LOGQ(url_as_string(home, k->m_url)),
				   why);
			reply_refusal(r, c->msg, REG_BAD_CONTACT, cisco);
			return;
		}
		unsigned want = requested_expires(c, k);
		if (want > 0 && want < r->cfg.min_expires) {
			char *min = su_sprintf(home, "%u", r->cfg.min_expires);
			nta_msg_treply(r->agent, c->msg, SIP_423_INTERVAL_TOO_BRIEF,
				       SIPTAG_MIN_EXPIRES_STR(min), SIPTAG_SERVER(r->server),
				       TAG_END());
			return;
		}
		contact_uri(home, k, uri, sizeof(uri));
		enum binding_check chk = binding_check(r->bindings, c->dn, uri, call_id, cseq, key);
		if (chk == BINDING_CHECK_OUT_OF_ORDER) {
			log_info("REGISTER from %s for DN %s: CSeq %u not above the binding's; "
				 "refused",
				 c->source, LOGQ(c->dn), cseq);
			reply_refusal(r, c->msg, REG_OUT_OF_ORDER, cisco);
			return;
		}
	}

	tport_t *conn = c->tp && tport_is_reliable(c->tp) ? c->tp : NULL;
	bool newreg = false;
	char const *ua = sip->sip_user_agent ? sip->sip_user_agent->g_string : NULL;
	struct binding *line1 = NULL;
	time_t line1_expires = 0;
	for (sip_contact_t const *k = m; k; k = k->m_next) {
		char uri[512];
		contact_uri(home, k, uri, sizeof(uri));
		unsigned want = requested_expires(c, k);
		unsigned grant = want > maxexp ? maxexp : want;
		if (grant > granted_max)
			granted_max = grant;
		struct binding *old = binding_find(r->bindings, c->dn, uri);
		if (grant && (!old || strcmp(old->source, c->source) != 0))
			newreg = true;
		struct binding_update u = {
			.dn = c->dn,
			.device = who->name,
			.contact = uri,
			.call_id = call_id,
			.cseq = cseq,
			.req_key = key,
			.expires = grant ? c->now + (time_t)grant : 0,
			.source = c->source,
			.transport = c->transport,
			.instance = msg_params_find(k->m_params, "+sip.instance="),
			.user_agent = ua,
			.conn = conn,
		};
		struct binding *b = NULL;
		int err = binding_apply(r->bindings, &u, c->now, r->cfg.max_contacts, &b);
		if (err < 0) {
			reply_refusal(r, c->msg,
				      err == -ENOSPC ? REG_TOO_MANY_CONTACTS : REG_SERVER_ERROR,
				      cisco);
			return;
		}
		if (b) {
			queue_change(r, b, STORE_BINDING_UPSERT);
			if (!line1) {
				line1 = b;
				line1_expires = b->expires;
			}
		}
	}
	if (who->cucm_mode && c->line->index == 1)
		bind_other_lines(c, line1, line1 ? line1_expires : 0);
	if (newreg)
		log_info("%s registered DN %s from %s (%s)", who->name, LOGQ(c->dn), c->source,
			 LOGQ(ua));
	char dn[64];
	text_copy(dn, sizeof(dn), c->dn); /* the reply takes the request with it */
	reply_ok(c, granted_max, newreg);
	if (newreg && r->on_register)
		r->on_register(who, dn, r->on_register_arg);
}

bool registrar_source_banned(registrar_t *r, msg_t *msg)
{
	char addr[64], hostport[80];
	source_of(msg, addr, sizeof(addr), hostport, sizeof(hostport));
	return ban_is_banned(r->bans, addr, time(NULL));
}

void registrar_handle(registrar_t *r, msg_t *msg, sip_t *sip)
{
	struct reg_ctx c = { .r = r, .msg = msg, .sip = sip, .now = time(NULL) };
	char hostport[80];

	source_of(msg, c.addr, sizeof(c.addr), hostport, sizeof(hostport));
	if (ban_is_banned(r->bans, c.addr, c.now)) {
		msg_destroy(msg); /* a banned source gets no answer at all */
		return;
	}
	c.tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	snprintf(c.transport, sizeof(c.transport), "%s",
		 c.tp && tport_name(c.tp) ? tport_name(c.tp)->tpn_proto : "udp");
	text_copy(c.source, sizeof(c.source), hostport);
	handle_register(&c);
}

/* True when the request comes from where one of the device's bindings was made. */
static bool from_registered_source(registrar_t *r, struct dir_device const *dev,
				   char const *hostport, tport_t *tp)
{
	for (unsigned i = 0; i < dev->model_lines; i++) {
		struct dir_line const *l = dev->lines[i];
		if (!l)
			continue;
		for (struct binding *b = binding_first(r->bindings, l->dn); b; b = b->next) {
			if (!b->device || strcmp(b->device, dev->name) != 0)
				continue;
			if (b->conn ? b->conn == tp : strcmp(b->source, hostport) == 0)
				return true;
		}
	}
	return false;
}

struct dir_device const *registrar_authorize(registrar_t *r, msg_t *msg, sip_t *sip)
{
	struct reg_ctx c = { .r = r, .msg = msg, .sip = sip, .now = time(NULL), .proxy = true };
	char hostport[80];
	struct dir_device const *who = NULL;

	source_of(msg, c.addr, sizeof(c.addr), hostport, sizeof(hostport));
	if (ban_is_banned(r->bans, c.addr, c.now)) {
		msg_destroy(msg);
		return NULL;
	}
	c.tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	text_copy(c.source, sizeof(c.source), hostport);
	c.dn = sip->sip_request->rq_url->url_user ? sip->sip_request->rq_url->url_user : "-";
	/* The caller's line sets the challenge's algorithms, as for its REGISTER. */
	if (sip->sip_from && sip->sip_from->a_url->url_user) {
		c.line = directory_line(r->dir, sip->sip_from->a_url->url_user);
		c.dev = c.line ? c.line->device : NULL;
	}
	if (!authenticate(&c, &who))
		return NULL;
	if (who->identify && !from_registered_source(r, who, hostport, c.tp)) {
		log_warning("%s from %s as device %s (auth identify) refused: not where the device "
			    "registered",
			    LOGQ(sip->sip_request->rq_method_name), c.source, who->name);
		nta_msg_treply(r->agent, msg, SIP_403_FORBIDDEN, SIPTAG_SERVER(r->server),
			       TAG_END());
		return NULL;
	}
	return who;
}

struct device_at_ctx {
	registrar_t *r;
	char const *hostport;
	tport_t *tp;
	struct dir_device const *found;
};

static void device_at_one(struct binding *b, void *arg)
{
	struct device_at_ctx *x = arg;
	if (x->found || !b->device ||
	    !(b->conn ? b->conn == x->tp : !strcmp(b->source, x->hostport)))
		return;
	x->found = directory_device(x->r->dir, b->device);
}

struct dir_device const *registrar_device_at(registrar_t *r, msg_t *msg, sip_t const *sip)
{
	char addr[64], hostport[80];
	source_of(msg, addr, sizeof(addr), hostport, sizeof(hostport));
	tport_t *tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	/* The line in From first; some phones put only part of it there, so then all. */
	if (sip->sip_from && sip->sip_from->a_url->url_user) {
		struct dir_line const *l = directory_line(r->dir, sip->sip_from->a_url->url_user);
		if (l && l->device && from_registered_source(r, l->device, hostport, tp))
			return l->device;
	}
	struct device_at_ctx x = { r, hostport, tp, NULL };
	binding_foreach(r->bindings, device_at_one, &x);
	return x.found;
}

void registrar_set_on_register(registrar_t *r, registrar_registered_f fn, void *arg)
{
	r->on_register = fn;
	r->on_register_arg = arg;
}

struct binding *registrar_bindings(registrar_t *r, char const *dn)
{
	return binding_first(r->bindings, dn);
}

bool registrar_binding_sent(registrar_t *r, struct binding const *b, msg_t *msg)
{
	char addr[64], hostport[80], baddr[64];
	tport_t *tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	if (b->conn)
		return tp == b->conn;
	if (tp && tport_is_reliable(tp))
		return false;
	source_of(msg, addr, sizeof(addr), hostport, sizeof(hostport));
	/* The binding's source is "a.b.c.d:port" or "[v6]:port": compare the address. */
	char const *s = b->source;
	size_t n = s[0] == '[' ? strcspn(s + 1, "]") : strcspn(s, ":");
	if (n >= sizeof(baddr))
		return false;
	memcpy(baddr, s[0] == '[' ? s + 1 : s, n);
	baddr[n] = '\0';
	return strcmp(baddr, addr) == 0;
}

char const *registrar_node_mark(registrar_t const *r)
{
	return r->node_mark;
}

bool registrar_nonce_ours(registrar_t *r, char const *nonce)
{
	return auth_nonce_ours(r->auth, nonce);
}

tport_t *registrar_binding_tport(struct binding const *b)
{
	return b->conn;
}

char const *registrar_realm(registrar_t const *r)
{
	return r->cfg.realm;
}

directory_t const *registrar_directory(registrar_t *r)
{
	return r->dir;
}

void registrar_tick(registrar_t *r, time_t now)
{
	size_t n = binding_expire(r->bindings, now);
	if (n)
		log_debug("%zu binding%s expired", n, n == 1 ? "" : "s");
	flush_changes(r);
}

/* ---- administration ---- */

struct list_ctx {
	registrar_t *r;
	json_t *arr;
	char const *device;
	time_t now;
};

static void list_one(struct binding *b, void *arg)
{
	struct list_ctx *l = arg;
	if (l->device && (!b->device || strcmp(b->device, l->device) != 0))
		return;
	struct dir_line const *line = directory_line(l->r->dir, b->dn);
	long left = (long)(b->expires - l->now);
	json_array_append_new(
		l->arr, json_pack("{s:s?, s:i, s:s, s:s, s:s, s:s, s:s?, s:I, s:b}", "device",
				  b->device, "index", line ? (int)line->index : 0, "dn", b->dn,
				  "contact", b->contact, "transport", b->transport, "source",
				  b->source, "user_agent", b->user_agent, "expires_in",
				  (json_int_t)(left > 0 ? left : 0), "derived", b->derived));
}

static int cmp_entries(void const *a, void const *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "device")) ?: "",
		       json_string_value(json_object_get(y, "device")) ?: "");
	if (c)
		return c;
	c = (int)(json_integer_value(json_object_get(x, "index")) -
		  json_integer_value(json_object_get(y, "index")));
	if (c)
		return c;
	return strcmp(json_string_value(json_object_get(x, "contact")),
		      json_string_value(json_object_get(y, "contact")));
}

json_t *registrar_list(registrar_t *r, char const *device)
{
	struct list_ctx l = { r, json_array(), device, time(NULL) };
	binding_foreach(r->bindings, list_one, &l);
	/* Sorted by device and line, for people reading it. */
	size_t n = json_array_size(l.arr);
	json_t **items = calloc(n ? n : 1, sizeof(*items));
	json_t *sorted = json_array();
	if (!items)
		return l.arr;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(l.arr, i));
	qsort(items, n, sizeof(*items), cmp_entries);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(sorted, items[i]);
	free(items);
	json_decref(l.arr);
	return sorted;
}

int registrar_flush(registrar_t *r, char const *what, size_t *removed)
{
	*removed = 0;
	struct dir_device const *dev = directory_device(r->dir, what);
	if (dev) {
		*removed = binding_remove_device(r->bindings, dev->name);
		return 0;
	}
	struct dir_line const *line = directory_line(r->dir, what);
	if (line) {
		*removed = binding_remove_aor(r->bindings, line->dn);
		return 0;
	}
	return -ENOENT;
}

static void ban_one(char const *key, unsigned failures, long left, char const *reason, void *arg)
{
	bool user = strncmp(key, "user:", 5) == 0;
	json_array_append_new(arg, json_pack("{s:s, s:s, s:i, s:I, s:s}", "kind",
					     user ? "user" : "address", "what",
					     user ? key + 5 : key, "failures", (int)failures,
					     "seconds_left", (json_int_t)left, "reason", reason));
}

json_t *registrar_bans(registrar_t *r)
{
	json_t *arr = json_array();
	ban_foreach(r->bans, time(NULL), ban_one, arr);
	return arr;
}

bool registrar_unban(registrar_t *r, char const *address)
{
	char key[128];
	if (strncmp(address, "user:", 5) == 0)
		return ban_lift(r->bans, address);
	if (ban_lift(r->bans, address))
		return true;
	snprintf(key, sizeof(key), "user:%s", address);
	return ban_lift(r->bans, key);
}

size_t registrar_count(registrar_t *r)
{
	return binding_count(r->bindings);
}
