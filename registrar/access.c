/*
 * Who may send what: digest authentication of REGISTER and of other
 * requests (challenges, failures counted once per request, bans), the
 * identify-only devices' ranges, and the checks that tie a request or a
 * response to where a device registered.
 *
 * Thread: SIP.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/tport.h>

#include "daemon/cidr.h"
#include "daemon/log.h"
#include "daemon/thread.h"
#include "daemon/text.h"
#include "registrar/internal.h"
#include "sip/reply.h"

#define LOG_TAG "registrar"

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
		reg_reply_refusal(r, msg, SIP_R_SERVER_ERROR, false);
		return;
	}
	if (proxy)
		nta_msg_treply(r->agent, msg, SIP_REPLY(SIP_R_PROXY_AUTH),
			       SIPTAG_PROXY_AUTHENTICATE((sip_proxy_authenticate_t *)au),
			       SIPTAG_SERVER(r->server), TAG_END());
	else
		nta_msg_treply(r->agent, msg, SIP_REPLY(SIP_R_UNAUTHORIZED),
			       SIPTAG_WWW_AUTHENTICATE((sip_www_authenticate_t *)au),
			       SIPTAG_SERVER(r->server), TAG_END());
}

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
	uint64_t rk = reg_request_key(c->sip);
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
	if (cidr_list_match(r->cfg.ban_exempt, c->addr) || hosts_owner(r->hosts, c->addr)) {
		log_debug("source %s is exempt from bans", c->addr);
		return;
	}
	char reason[128];
	snprintf(reason, sizeof(reason), "%s %s: user %s, DN %s",
		 c->sip->sip_request->rq_method_name, why, LOGQ(user), LOGQ(c->dn));
	unsigned n = ban_failure(r->bans, c->addr, c->now, reason, &banned);
	if (banned)
		log_warning("ban: source %s banned for %u s after %u failure%s", c->addr,
			    r->cfg.ban_time, n, n == 1 ? "" : "s");
	/*
	 * Per user the failures are counted and reported, never enforced: a
	 * lock on the user would lock out the phone itself, which a guesser
	 * elsewhere could then do at will. Their sources get banned instead.
	 */
	if (user) {
		snprintf(key, sizeof(key), "user:%s", user);
		snprintf(reason, sizeof(reason), "%s %s from %s",
			 c->sip->sip_request->rq_method_name, why, c->source);
		n = ban_failure(r->bans, key, c->now, reason, &banned);
		if (banned)
			log_warning(
				"watch: user %s had %u failed authentications within %u s, from "
				"one source or several",
				LOGQ(user), n, r->cfg.ban_window);
	}
}

/* Authenticates; answers and returns false when the request stops here. */
bool reg_authenticate(struct reg_ctx *c, struct dir_device const **who)
{
	registrar_t *r = c->r;
	msg_auth_t const *au = our_authorization(r, c->sip, c->proxy);
	su_home_t *home = msg_home(c->msg);
	struct auth_creds cr;

	if (!au) {
		reply_challenge(r, c->msg, c->dev, false, c->proxy, c->addr);
		return false;
	}
	if (auth_creds_parse(home, au->au_params, &cr) < 0) {
		reg_reply_refusal(r, c->msg, SIP_R_BAD_REQUEST, false);
		return false;
	}
	struct dir_user const *user = directory_user(r->dir, cr.username);
	struct dir_device const *dev = user ? user->device : NULL;
	char ruri[512];
	url_e(ruri, sizeof(ruri), c->sip->sip_request->rq_url);
	struct auth_check chk = {
		.method = c->sip->sip_request->rq_method_name,
		.ha1_md5 = dev ? user->ha1_md5 : NULL,
		.ha1_sha256 = dev ? user->ha1_sha256 : NULL,
		.verify_password = !dev || !dev->identify,
		.qop_required = dev && dev->qop_required,
		.algs_offered = algs_bits(device_algs(r, dev ? dev : c->dev)),
		.request_key = reg_request_key(c->sip),
		.source = c->addr,
	};
	enum auth_verdict v = auth_verify(r->auth, &cr, &chk, c->now, NULL);
	/*
	 * The digest uri names the Request-URI, or this server (SIPp and some
	 * phones send sip:HOST:PORT of the server with an INVITE to a user);
	 * never another host, so credentials made for another server do not
	 * pass here.
	 */
	if (v == AUTH_OK && !auth_uri_matches(cr.uri, ruri) &&
	    !auth_uri_names(cr.uri, r->cfg.self)) {
		v = AUTH_FAILED;
		log_info("digest uri %s names neither the Request-URI %s nor this server",
			 LOGQ(cr.uri), LOGQ(ruri));
	}
	/* An identify device's user name travels in clear: only from where it may. */
	if (v == AUTH_OK && dev->identify && !cidr_list_match(r->cfg.identify_from, c->addr)) {
		log_warning("%s from %s as device %s (auth identify) refused: outside [registrar] "
			    "identify_from",
			    LOGQ(c->sip->sip_request->rq_method_name), c->source, dev->name);
		reg_reply_refusal(r, c->msg, SIP_R_FORBIDDEN, dev->cisco);
		return false;
	}
	/* device --transport: refused on any other, so nothing is sent to it over another. */
	char const *proto = c->tp && tport_name(c->tp) ? tport_name(c->tp)->tpn_proto : "udp";
	if (v == AUTH_OK && dev->transport != DIR_TP_ANY &&
	    strcasecmp(proto, directory_transport_name(dev->transport))) {
		log_warning("%s from %s as device %s refused: it came over %s, the device may use "
			    "%s only (device --transport)",
			    LOGQ(c->sip->sip_request->rq_method_name), c->source, dev->name, proto,
			    directory_transport_name(dev->transport));
		reg_reply_refusal(r, c->msg, SIP_R_FORBIDDEN, dev->cisco);
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
		reg_reply_refusal(r, c->msg, SIP_R_BAD_REQUEST, false);
		return false;
	case AUTH_FAILED:
		count_failure(c, cr.username, auth_verdict_name(v));
		reply_challenge(r, c->msg, dev ? dev : c->dev, false, c->proxy, c->addr);
		return false;
	case AUTH_ALG_REFUSED: {
		bool sha = device_algs(r, dev ? dev : c->dev) == DIR_ALGS_SHA256;
		log_info(
			"%s from %s for user %s answered with %s, but device %s is challenged with "
			"%s only: the client lacks the device's algorithm (device set %s "
			"--digest-algs both, or a client that has %s); challenged again",
			LOGQ(c->sip->sip_request->rq_method_name), c->source, LOGQ(cr.username),
			LOGQ(cr.algorithm ? cr.algorithm : "MD5"), dev ? dev->name : "?",
			sha ? "SHA-256" : "MD5", dev ? dev->name : "?", sha ? "SHA-256" : "MD5");
		reply_challenge(r, c->msg, dev ? dev : c->dev, false, c->proxy, c->addr);
		return false;
	}
	default:
		log_info("%s from %s for user %s: %s, challenged again",
			 LOGQ(c->sip->sip_request->rq_method_name), c->source,
			 LOGQ(cr.username), auth_verdict_name(v));
		reply_challenge(r, c->msg, dev ? dev : c->dev, false, c->proxy, c->addr);
		return false;
	}
}

bool registrar_source_banned(registrar_t *r, msg_t *msg)
{
	ASSERT_THREAD(SIP);
	char addr[64], hostport[80];
	reg_source_of(msg, addr, sizeof(addr), hostport, sizeof(hostport));
	return ban_is_banned(r->bans, addr, time(NULL));
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
	ASSERT_THREAD(SIP);
	struct reg_ctx c = { .r = r, .msg = msg, .sip = sip, .now = time(NULL), .proxy = true };
	char hostport[80];
	struct dir_device const *who = NULL;

	reg_source_of(msg, c.addr, sizeof(c.addr), hostport, sizeof(hostport));
	c.tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	text_copy(c.source, sizeof(c.source), hostport);
	c.dn = sip->sip_request->rq_url->url_user ? sip->sip_request->rq_url->url_user : "-";
	/* The caller's line sets the challenge's algorithms, as for its REGISTER. */
	if (sip->sip_from && sip->sip_from->a_url->url_user) {
		c.line = directory_line(r->dir, sip->sip_from->a_url->url_user);
		c.dev = c.line ? c.line->device : NULL;
	}
	if (!reg_authenticate(&c, &who))
		return NULL;
	if (who->identify && !from_registered_source(r, who, hostport, c.tp)) {
		log_warning("%s from %s as device %s (auth identify) refused: not where the device "
			    "registered",
			    LOGQ(sip->sip_request->rq_method_name), c.source, who->name);
		reg_reply_refusal(r, msg, SIP_R_FORBIDDEN, false);
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
	ASSERT_THREAD(SIP);
	char addr[64], hostport[80];
	reg_source_of(msg, addr, sizeof(addr), hostport, sizeof(hostport));
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

bool registrar_binding_sent(registrar_t *r, struct binding const *b, msg_t *msg)
{
	ASSERT_THREAD(SIP);
	char addr[64], hostport[80], baddr[64];
	tport_t *tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	if (b->conn)
		return tp == b->conn;
	if (tp && tport_is_reliable(tp))
		return false;
	reg_source_of(msg, addr, sizeof(addr), hostport, sizeof(hostport));
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
	ASSERT_THREAD(SIP);
	return r->node_mark;
}

bool registrar_nonce_ours(registrar_t *r, char const *nonce)
{
	ASSERT_THREAD(SIP);
	return auth_nonce_ours(r->auth, nonce);
}
