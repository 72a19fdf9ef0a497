#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tstate;
#define NTA_LEG_MAGIC_T	     void
#define NTA_OUTGOING_MAGIC_T struct tstate
#define SU_TIMER_ARG_T	     struct tstate

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include "b2bua/trunk.h"
#include "b2bua/uac_auth.h"
#include "daemon/log.h"
#include "daemon/thread.h"
#include "sip/dialog.h"
#include "daemon/text.h"

#define LOG_TAG "trunk"

enum tstate_kind {
	TS_ADDRESS_ONLY, /* does not register: trusted by its address */
	TS_REGISTERING,
	TS_REGISTERED,
	TS_FAILED,  /* retried after the back-off */
	TS_STOPPED, /* refused with 403: not retried until the trunk is changed */
	TS_STANDBY, /* the other node holds the trunks */
};

static char const *const kind_names[] = {
	[TS_ADDRESS_ONLY] = "address-only", [TS_REGISTERING] = "registering",
	[TS_REGISTERED] = "registered",	    [TS_FAILED] = "failed",
	[TS_STOPPED] = "stopped",	    [TS_STANDBY] = "standby",
};

struct tstate {
	struct tstate *next;
	trunks_t *ts;
	su_home_t *home;
	su_home_t *chome;	   /* the last challenge and its answer */
	struct dir_trunk const *t; /* in the current directory */
	char name[65];
	char *fingerprint; /* the configuration it was started with */
	nta_leg_t *leg;	   /* From, To, Call-ID and CSeq of the registrations */
	nta_outgoing_t *orq, *ka;
	su_timer_t *timer, *ka_timer;
	enum tstate_kind kind;
	char tls_check[240]; /* the last `trunk test` of its TLS, "" none */
	char reason[160];
	char algorithm[8];
	char seen_as[80];
	unsigned asked;	  /* expiry asked for */
	unsigned granted; /* expiry the registrar granted */
	unsigned failures, retry;
	unsigned stale_run; /* challenges with stale=true since the last 2xx */
	time_t next_at, registered_at;
	bool authed; /* this attempt already carries credentials */
	/* The last challenge, to unregister without waiting for a new one. */
	struct uac_challenge last;
	bool have_last, last_proxy;
	unsigned nc;
};

struct trunks {
	su_root_t *root;
	nta_agent_t *agent;
	struct trunks_config cfg;
	struct tstate *list;
	bool standby;
};

static void start_register(struct tstate *st);

int trunks_create(trunks_t **out, su_root_t *root, nta_agent_t *agent,
		  struct trunks_config const *cfg)
{
	ASSERT_THREAD(SIP);
	trunks_t *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -1;
	ts->root = root;
	ts->agent = agent;
	ts->cfg = *cfg;
	ts->standby = cfg->standby;
	*out = ts;
	return 0;
}

void trunks_set_config(trunks_t *ts, struct trunks_config const *cfg)
{
	ASSERT_THREAD(SIP);
	ts->cfg = *cfg;
}

/* ---- addresses ---- */

/* The host of HOST[:PORT] (brackets kept around IPv6), in home. */
static char *host_only(su_home_t *home, char const *hostport)
{
	char const *end = hostport[0] == '[' ? strchr(hostport, ']') : NULL;
	if (end)
		return su_strndup(home, hostport, (size_t)(end - hostport + 1));
	char const *colon = strchr(hostport, ':');
	if (colon && colon == strrchr(hostport, ':'))
		return su_strndup(home, hostport, (size_t)(colon - hostport));
	return su_strdup(home, hostport);
}

/* The URI parameter naming the trunk's transport, or NULL for UDP. */
static char const *tparam(struct dir_trunk const *t)
{
	if (t->transport && !strcmp(t->transport, "tcp"))
		return "transport=tcp";
	if (t->transport && !strcmp(t->transport, "tls"))
		return "transport=tls";
	return NULL;
}

bool trunks_is_tls(struct dir_trunk const *t)
{
	return t->transport && !strcmp(t->transport, "tls");
}

char *trunks_uri(su_home_t *home, struct dir_trunk const *t, char const *user)
{
	ASSERT_THREAD(SIP);
	return sip_uri(home, user, t->registrar, tparam(t));
}

char *trunks_proxy_uri(su_home_t *home, struct dir_trunk const *t)
{
	ASSERT_THREAD(SIP);
	if (!t->proxy)
		return NULL;
	return su_sprintf(home, "sip:%s;lr%s%s", t->proxy, tparam(t) ? ";" : "",
			  tparam(t) ? tparam(t) : "");
}

sip_contact_t *trunks_contact(trunks_t const *ts, su_home_t *home, struct dir_trunk const *t,
			      char const *user)
{
	ASSERT_THREAD(SIP);
	char const *where = ts->cfg.advertise;
	char *hostport = NULL;
	/* Over TLS: the address of the TLS transport requests to the provider leave by. */
	tport_t *tp = trunks_is_tls(t) ? sip_trunk_tport(ts->agent) : NULL;
	if (tp && tport_name(tp) && !where[0]) {
		tp_name_t const *n = tport_name(tp);
		hostport = su_sprintf(home, "%s%s%s:%s", strchr(n->tpn_host, ':') ? "[" : "",
				      n->tpn_host, strchr(n->tpn_host, ':') ? "]" : "", n->tpn_port);
		where = hostport;
	} else if (!where[0]) {
		sip_contact_t const *m = nta_agent_contact(ts->agent);
		url_t const *u = m ? m->m_url : NULL;
		if (!u || !u->url_host)
			return NULL;
		hostport = su_sprintf(home, "%s%s%s", u->url_host, u->url_port ? ":" : "",
				      u->url_port ? u->url_port : "");
		where = hostport;
	}
	return sip_contact_format(home, "<sip:%s@%s%s%s>", user, where, tparam(t) ? ";" : "",
				  tparam(t) ? tparam(t) : "");
}

char *trunks_host(su_home_t *home, struct dir_trunk const *t)
{
	ASSERT_THREAD(SIP);
	return host_only(home, t->registrar);
}

char *trunks_authorization(su_home_t *home, struct dir_trunk const *t,
			   struct uac_challenge const *ch, char const *method, char const *uri,
			   unsigned nc)
{
	ASSERT_THREAD(SIP);
	char ha1[DIGEST_HEX_SIZE];
	char const *user = t->auth_user ? t->auth_user : t->user;
	char *auth = NULL;
	if (user && t->password && digest_ha1(ha1, ch->alg, user, ch->realm, t->password) == 0)
		auth = uac_authorization(home, ch, user, ha1, method, uri, nc);
	explicit_bzero(ha1, sizeof(ha1));
	return auth;
}

/* ---- state ---- */

/* Everything but the password that, when it changes, makes the trunk start again. */
static char *fingerprint_of(su_home_t *home, struct dir_trunk const *t)
{
#define S(x) ((x) ? (x) : "")
	return su_sprintf(home, "%s|%s|%s|%s|%s|%s|%u|%d|%s", S(t->registrar), S(t->proxy),
			  S(t->user), S(t->auth_user), S(t->realm), S(t->transport), t->expires,
			  t->do_register, S(t->contact_user));
#undef S
}

static bool same_text(char const *a, char const *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static struct tstate *find(trunks_t const *ts, char const *name)
{
	for (struct tstate *st = ts->list; st; st = st->next)
		if (!strcmp(st->name, name))
			return st;
	return NULL;
}

bool trunks_registered(trunks_t const *ts, struct dir_trunk const *t)
{
	ASSERT_THREAD(SIP);
	struct tstate const *st = find(ts, t->name);
	return st && st->kind == TS_REGISTERED;
}

bool trunks_usable(trunks_t const *ts, struct dir_trunk const *t)
{
	ASSERT_THREAD(SIP);
	return !t->do_register || trunks_registered(ts, t);
}

static void cancel_orq(nta_outgoing_t **orq)
{
	if (*orq) {
		nta_outgoing_destroy(*orq);
		*orq = NULL;
	}
}

/* A REGISTER for expires seconds; auth (or NULL) as Authorization or Proxy-Authorization. */
static nta_outgoing_t *send_register(struct tstate *st, unsigned expires, char const *auth,
				     bool proxy, nta_response_f *cb)
{
	trunks_t *ts = st->ts;
	struct dir_trunk const *t = st->t;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_contact_t *m = trunks_contact(ts, home, t, t->contact_user);
	char *ruri = trunks_uri(home, t, NULL);
	char *route = trunks_proxy_uri(home, t);
	nta_outgoing_t *orq = NULL;
	if (m && ruri)
		orq = nta_outgoing_tcreate(
			st->leg, cb, cb ? st : NULL, route ? URL_STRING_MAKE(route) : NULL,
			SIP_METHOD_REGISTER, URL_STRING_MAKE(ruri), SIPTAG_CONTACT(m),
			SIPTAG_EXPIRES_STR(su_sprintf(home, "%u", expires)),
			TAG_IF(ts->cfg.user_agent[0], SIPTAG_USER_AGENT_STR(ts->cfg.user_agent)),
			TAG_IF(auth && !proxy, SIPTAG_AUTHORIZATION_STR(auth)),
			TAG_IF(auth && proxy, SIPTAG_PROXY_AUTHORIZATION_STR(auth)),
			TAG_IF(trunks_is_tls(t), NTATAG_TPORT(sip_trunk_tport(ts->agent))), TAG_END());
	su_home_deinit(home);
	return orq;
}

/* Unregisters with the credentials of the last challenge (no answer is awaited). */
static void send_unregister(struct tstate *st)
{
	if (st->kind != TS_REGISTERED || !st->leg)
		return;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char *auth = st->have_last ? trunks_authorization(home, st->t, &st->last, "REGISTER",
							  trunks_uri(home, st->t, NULL), ++st->nc)
				   : NULL;
	nta_outgoing_t *orq = send_register(st, 0, auth, st->last_proxy, NULL);
	if (orq)
		nta_outgoing_destroy(orq);
	su_home_deinit(home);
	log_notice("trunk %s: unregistered", st->name);
}

static void state_free(struct tstate *st)
{
	cancel_orq(&st->orq);
	cancel_orq(&st->ka);
	if (st->timer)
		su_timer_destroy(st->timer);
	if (st->ka_timer)
		su_timer_destroy(st->ka_timer);
	if (st->leg)
		nta_leg_destroy(st->leg);
	if (st->chome)
		su_home_unref(st->chome);
	su_home_unref(st->home);
	free(st);
}

void trunks_destroy(trunks_t *ts)
{
	ASSERT_THREAD(SIP);
	if (!ts)
		return;
	while (ts->list) {
		struct tstate *st = ts->list;
		ts->list = st->next;
		send_unregister(st);
		state_free(st);
	}
	free(ts);
}

static void on_timer(su_root_magic_t *magic, su_timer_t *timer, struct tstate *st)
{
	(void)magic, (void)timer;
	start_register(st);
}

static void arm(struct tstate *st, unsigned secs)
{
	st->next_at = time(NULL) + secs;
	su_timer_reset(st->timer);
	su_timer_set_interval(st->timer, on_timer, st, (su_duration_t)secs * 1000);
}

static void stop_keepalive(struct tstate *st)
{
	cancel_orq(&st->ka);
	if (st->ka_timer)
		su_timer_reset(st->ka_timer);
}

/* A failed attempt: the reason shown, and the next one after the doubled wait. */
static void failed(struct tstate *st, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failed(struct tstate *st, char const *fmt, ...)
{
	trunks_t *ts = st->ts;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
	va_end(ap);
	stop_keepalive(st);
	st->kind = TS_FAILED;
	st->failures++;
	unsigned cap =
		ts->cfg.retry_max > ts->cfg.retry_min ? ts->cfg.retry_max : ts->cfg.retry_min;
	st->retry =
		st->failures == 1 ? ts->cfg.retry_min : (st->retry > cap / 2 ? cap : st->retry * 2);
	arm(st, st->retry);
	log_warning("trunk %s: registration failed: %s (attempt %u; next in %u s)", st->name,
		    LOGQ(st->reason), st->failures, st->retry);
}

static int on_keepalive_response(struct tstate *st, nta_outgoing_t *orq, sip_t const *sip);

static void on_ka_timer(su_root_magic_t *magic, su_timer_t *timer, struct tstate *st)
{
	(void)magic, (void)timer;
	if (st->kind != TS_REGISTERED || st->ka)
		return;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char *ruri = trunks_uri(home, st->t, NULL);
	char *route = trunks_proxy_uri(home, st->t);
	if (ruri)
		st->ka = nta_outgoing_tcreate(st->leg, on_keepalive_response, st,
					      route ? URL_STRING_MAKE(route) : NULL,
					      SIP_METHOD_OPTIONS, URL_STRING_MAKE(ruri),
					      TAG_IF(trunks_is_tls(st->t),
						     NTATAG_TPORT(sip_trunk_tport(st->ts->agent))),
					      TAG_END());
	su_home_deinit(home);
}

static void start_keepalive(struct tstate *st)
{
	unsigned secs = st->ts->cfg.keepalive;
	if (!secs)
		return;
	if (!st->ka_timer)
		st->ka_timer = su_timer_create(su_root_task(st->ts->root), secs * 1000);
	if (st->ka_timer) {
		su_timer_reset(st->ka_timer);
		su_timer_set_interval(st->ka_timer, on_ka_timer, st, (su_duration_t)secs * 1000);
	}
}

static int on_keepalive_response(struct tstate *st, nta_outgoing_t *orq, sip_t const *sip)
{
	int status = sip ? sip->sip_status->st_status : 408;
	(void)orq;
	if (status < 200)
		return 0;
	cancel_orq(&st->ka);
	if (status == 408 && !sip) {
		/* No answer at all: the provider or the path to it is gone. */
		failed(st, "no answer to the keep-alive OPTIONS");
		return 0;
	}
	/* Any answer (even 405 or 401) shows the path is open. */
	start_keepalive(st);
	return 0;
}

/*
 * The expiry granted to our contact: its expires parameter, else Expires,
 * else what was asked. A registrar may shorten a registration, never make
 * it longer than asked: anything above is taken as what was asked.
 */
static unsigned granted_expiry(struct tstate *st, sip_t const *sip)
{
	for (sip_contact_t const *m = sip->sip_contact; m; m = m->m_next) {
		if (m->m_url->url_user && st->t->contact_user &&
		    !strcmp(m->m_url->url_user, st->t->contact_user) && m->m_expires)
			return text_seconds(m->m_expires, st->asked);
	}
	if (sip->sip_expires)
		return seconds_at_most(sip->sip_expires->ex_delta, st->asked);
	return st->asked;
}

static void registered(struct tstate *st, sip_t const *sip)
{
	sip_via_t const *v = sip->sip_via;
	unsigned granted = granted_expiry(st, sip);
	bool was = st->kind == TS_REGISTERED;
	st->kind = TS_REGISTERED;
	st->granted = granted;
	st->failures = 0;
	st->retry = 0;
	st->stale_run = 0;
	st->reason[0] = '\0';
	st->registered_at = time(NULL);
	if (v && (v->v_received || v->v_rport)) {
		char seen[80];
		snprintf(seen, sizeof(seen), "%s%s%s", v->v_received ? v->v_received : v->v_host,
			 v->v_rport && v->v_rport[0] ? ":" : "",
			 v->v_rport && v->v_rport[0] ? v->v_rport : "");
		if (strcmp(seen, st->seen_as))
			log_notice("trunk %s: the provider sees sipregd as %s (Via %s%s%s)%s",
				   st->name, LOGQ(seen), LOGQ(v->v_host), v->v_port ? ":" : "",
				   v->v_port ? v->v_port : "",
				   st->ts->cfg.advertise[0]
					   ? ""
					   : "; behind NAT, set [sip] advertise to that address");
		text_copy(st->seen_as, sizeof(st->seen_as), seen);
	}
	/* Refresh well before expiry: at half of short grants, 30 s early for long ones. */
	unsigned refresh = granted == 0	   ? st->ts->cfg.retry_min
			   : granted > 120 ? granted - 30
					   : (granted + 1) / 2;
	arm(st, refresh ? refresh : 1);
	if (!was)
		log_notice("trunk %s: registered as %s (%u s, %s)", st->name, st->t->user, granted,
			   st->algorithm[0] ? st->algorithm : "no authentication");
	start_keepalive(st);
}

/* The answer to the registrar's challenge with the trunk's credentials; NULL when none. */
static char *answer(struct tstate *st, sip_t const *sip, int status)
{
	struct dir_trunk const *t = st->t;
	struct uac_challenge ch;
	msg_auth_t const *au =
		status == 407 ? sip->sip_proxy_authenticate : sip->sip_www_authenticate;
	su_home_t *chome = su_home_new(sizeof(*chome));
	if (!chome) {
		failed(st, "out of memory");
		return NULL;
	}
	/* The challenge (kept for the unregistration) replaces the one before. */
	if (st->chome)
		su_home_unref(st->chome);
	st->chome = chome;
	st->have_last = false;
	if (uac_challenge_pick(chome, au, &ch) < 0) {
		failed(st, "%d without a Digest challenge (MD5 or SHA-256) to answer", status);
		return NULL;
	}
	/*
	 * stale=true says the answer was right but its nonce too old; a
	 * registrar that says so again and again without ever granting would
	 * drive a REGISTER storm: the second in a row is a failure, with its
	 * back-off, until a 2xx.
	 */
	if (ch.stale && ++st->stale_run >= 2) {
		failed(st,
		       "%d stale=true %u times in a row without a 2xx: the registrar takes no "
		       "answer",
		       status, st->stale_run);
		return NULL;
	}
	if (st->authed && !ch.stale) {
		failed(st, "%d again after the credentials: wrong user or password", status);
		return NULL;
	}
	if (!t->password) {
		failed(st, "the registrar asks for a password and none is set");
		return NULL;
	}
	if (t->realm && strcmp(t->realm, ch.realm)) {
		failed(st, "challenged in realm '%s', the trunk is set for realm '%s'", ch.realm,
		       t->realm);
		return NULL;
	}
	st->nc = 1;
	char *auth =
		trunks_authorization(chome, t, &ch, "REGISTER", trunks_uri(chome, t, NULL), st->nc);
	if (!auth) {
		failed(st, "cannot compute the digest");
		return NULL;
	}
	st->last = ch;
	st->have_last = true;
	st->last_proxy = status == 407;
	st->authed = true;
	text_copy(st->algorithm, sizeof(st->algorithm), digest_alg_name(ch.alg));
	return auth;
}

static int on_register_response(struct tstate *st, nta_outgoing_t *orq, sip_t const *sip);

static void resend(struct tstate *st, char const *auth, bool proxy)
{
	cancel_orq(&st->orq);
	st->orq = send_register(st, st->asked, auth, proxy, on_register_response);
	if (!st->orq)
		failed(st, "cannot send the REGISTER");
}

static int on_register_response(struct tstate *st, nta_outgoing_t *orq, sip_t const *sip)
{
	int status = sip ? sip->sip_status->st_status : 408;
	char phrase[64];
	(void)orq;
	if (status < 200)
		return 0;
	/* The answer goes with its transaction: read it before that is destroyed. */
	text_copy(phrase, sizeof(phrase), sip ? sip->sip_status->st_phrase : "no answer");
	if (status < 300) {
		registered(st, sip);
		cancel_orq(&st->orq);
		return 0;
	}
	if ((status == 401 || status == 407) && sip) {
		char *auth = answer(st, sip, status);
		if (!auth) {
			cancel_orq(&st->orq);
			return 0;
		}
		resend(st, auth, status == 407);
		return 0;
	}
	if (status == 423 && sip && sip->sip_min_expires &&
	    sip->sip_min_expires->me_delta > st->asked && sip->sip_min_expires->me_delta <= 86400) {
		st->asked = (unsigned)sip->sip_min_expires->me_delta;
		log_notice("trunk %s: the registrar wants at least %u s", st->name, st->asked);
		st->authed = false;
		resend(st, NULL, false);
		return 0;
	}
	cancel_orq(&st->orq);
	if (status == 403) {
		snprintf(st->reason, sizeof(st->reason),
			 "403 %s: the registrar refuses this account; not retried until the "
			 "trunk is changed",
			 phrase);
		stop_keepalive(st);
		st->kind = TS_STOPPED;
		st->next_at = 0;
		su_timer_reset(st->timer);
		log_warning("trunk %s: registration refused: %s", st->name, LOGQ(st->reason));
		return 0;
	}
	failed(st, "%d %s", status, phrase);
	return 0;
}

static void start_register(struct tstate *st)
{
	if (!st->t->do_register)
		return;
	if (st->ts->standby) {
		st->kind = TS_STANDBY;
		snprintf(st->reason, sizeof(st->reason), "%s",
			 "the primary node registers the trunks");
		return;
	}
	if (st->kind != TS_REGISTERED)
		st->kind = TS_REGISTERING;
	st->authed = false;
	st->asked = st->asked ? st->asked : st->t->expires;
	st->next_at = 0;
	resend(st, NULL, false);
}

static struct tstate *state_new(trunks_t *ts, struct dir_trunk const *t)
{
	struct tstate *st = calloc(1, sizeof(*st));
	if (!st || !(st->home = su_home_new(sizeof(*st->home)))) {
		free(st);
		return NULL;
	}
	st->ts = ts;
	st->t = t;
	text_copy(st->name, sizeof(st->name), t->name);
	st->fingerprint = fingerprint_of(st->home, t);
	st->kind = t->do_register ? TS_REGISTERING : TS_ADDRESS_ONLY;
	st->asked = t->expires;
	st->timer = su_timer_create(su_root_task(ts->root), 1000);
	if (t->do_register && t->user) {
		char *host = trunks_host(st->home, t);
		char *aor = sip_uri(st->home, t->user, host, NULL);
		st->leg = nta_leg_tcreate(
			ts->agent, NULL, NULL, SIPTAG_FROM_STR(aor), SIPTAG_TO_STR(aor),
			SIPTAG_CALL_ID(sip_call_id_create(st->home, NULL)), TAG_END());
		if (st->leg)
			nta_leg_tag(st->leg, NULL);
	}
	if (!st->timer || (t->do_register && !st->leg)) {
		state_free(st);
		return NULL;
	}
	return st;
}

void trunks_standby(trunks_t *ts, bool on)
{
	ASSERT_THREAD(SIP);
	if (ts->standby == on)
		return;
	ts->standby = on;
	for (struct tstate *st = ts->list; st; st = st->next) {
		if (!st->t->do_register)
			continue;
		if (on) {
			send_unregister(st); /* our own Contact only */
			cancel_orq(&st->orq);
			stop_keepalive(st);
			su_timer_reset(st->timer);
			st->failures = 0;
			st->next_at = 0;
		}
		start_register(st);
	}
	log_notice("trunks: %s", on ? "on standby, the primary node registers them"
				    : "registering them on this node");
}

void trunks_sync(trunks_t *ts, directory_t const *dir)
{
	ASSERT_THREAD(SIP);
	struct tstate *keep = NULL;
	/* Known trunks: kept when unchanged, started again when changed, dropped when gone. */
	while (ts->list) {
		struct tstate *st = ts->list;
		ts->list = st->next;
		struct dir_trunk const *t = directory_trunk(dir, st->name);
		su_home_t tmp[1] = { SU_HOME_INIT(tmp) };
		char *fp = t ? fingerprint_of(tmp, t) : NULL;
		/* st->t is still the old directory's: the password is compared there. */
		bool same = t && fp && !strcmp(fp, st->fingerprint) &&
			    same_text(t->password, st->t->password);
		su_home_deinit(tmp);
		if (same) {
			st->t = t;
			st->next = keep;
			keep = st;
			continue;
		}
		send_unregister(st);
		log_notice("trunk %s: %s", st->name, t ? "changed, starting again" : "removed");
		state_free(st);
	}
	ts->list = keep;
	for (size_t i = 0; i < directory_count_trunks(dir); i++) {
		struct dir_trunk const *t = directory_trunk_at(dir, i);
		if (find(ts, t->name))
			continue;
		struct tstate *st = state_new(ts, t);
		if (!st) {
			log_error("trunk %s: out of memory, not started", t->name);
			continue;
		}
		st->next = ts->list;
		ts->list = st;
		if (t->do_register)
			start_register(st);
	}
}

/* ---- what sipregctl shows ---- */

static json_t *trunk_json(trunks_t const *ts, directory_t const *dir, hosts_t const *hosts,
			  struct dir_trunk const *t)
{
	struct tstate const *st = find(ts, t->name);
	json_t *addrs = json_array(), *dids = json_array();
	hosts_addresses(hosts, t->name, addrs);
	size_t n_dids = 0;
	for (size_t i = 0; i < directory_count_dids(dir); i++) {
		struct dir_did const *d = directory_did_at(dir, i);
		if (d->trunk != t)
			continue;
		json_array_append_new(dids,
				      json_pack("{s:s, s:s?}", "number", d->number, "dn", d->dn));
		n_dids++;
	}
	json_t *o = json_pack(
		"{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:s, s:i, s:b, s:s?, s:s?, s:b, s:s?, "
		"s:o, s:o, s:I}",
		"name", t->name, "registrar", t->registrar, "proxy", t->proxy, "user", t->user,
		"auth_user", t->auth_user ? t->auth_user : t->user, "password",
		t->password ? "(set)" : "(none)", "realm", t->realm, "transport",
		t->transport ? t->transport : "udp", "expires", (int)t->expires, "register",
		t->do_register, "caller_id", t->caller_id, "default_dn", t->default_dn, "emergency",
		t->emergency, "contact_user", t->contact_user, "addresses", addrs, "dids", dids,
		"did_count", (json_int_t)n_dids);
	if (st) {
		json_object_set_new(o, "state", json_string(kind_names[st->kind]));
		json_object_set_new(o, "reason",
				    st->reason[0] ? json_string(st->reason) : json_null());
		json_object_set_new(o, "failures", json_integer(st->failures));
		json_object_set_new(o, "tls_check",
				    st->tls_check[0] ? json_string(st->tls_check) : json_null());
		json_object_set_new(o, "stale_challenges", json_integer(st->stale_run));
		json_object_set_new(o, "retry_interval",
				    st->kind == TS_FAILED ? json_integer(st->retry) : json_null());
		json_object_set_new(o, "next_attempt",
				    st->next_at ? json_integer((json_int_t)st->next_at)
						: json_null());
		json_object_set_new(o, "granted",
				    st->kind == TS_REGISTERED ? json_integer(st->granted)
							      : json_null());
		json_object_set_new(o, "algorithm",
				    st->algorithm[0] ? json_string(st->algorithm) : json_null());
		json_object_set_new(o, "seen_as",
				    st->seen_as[0] ? json_string(st->seen_as) : json_null());
		json_object_set_new(o, "keepalive",
				    ts->cfg.keepalive && st->kind == TS_REGISTERED
					    ? json_integer(ts->cfg.keepalive)
					    : json_null());
	} else {
		json_object_set_new(o, "state", json_string("starting"));
	}
	return o;
}

void trunks_checked(trunks_t *ts, char const *name, char const *result)
{
	ASSERT_THREAD(SIP);
	struct tstate *st = find(ts, name);
	if (st)
		text_copy(st->tls_check, sizeof(st->tls_check), result);
}

json_t *trunks_json(trunks_t const *ts, directory_t const *dir, hosts_t const *hosts,
		    char const *name)
{
	ASSERT_THREAD(SIP);
	if (name) {
		struct dir_trunk const *t = directory_trunk(dir, name);
		return t ? trunk_json(ts, dir, hosts, t) : NULL;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < directory_count_trunks(dir); i++)
		json_array_append_new(arr, trunk_json(ts, dir, hosts, directory_trunk_at(dir, i)));
	return arr;
}
