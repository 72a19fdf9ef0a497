/*
 * The registrar: REGISTER answered statelessly, Cisco identity and bulk
 * lines; authentication is access.c, the connections conns.c, the writing
 * behind writebehind.c, administration admin.c.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "daemon/hash.h"
#include "daemon/text.h"
#include "daemon/log.h"
#include "daemon/thread.h"
#include "registrar/identity.h"
#include "registrar/internal.h"
#include "sip/reply.h"

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

/* ---- set-up ---- */

static void set_server(registrar_t *r)
{
	sip_server_t *old = r->server;
	r->server = r->cfg.server[0] ? sip_server_make(r->home, r->cfg.server) : NULL;
	su_free(r->home, old);
	su_free(r->home, r->realm_param);
	r->realm_param = su_sprintf(r->home, "realm=\"%s\"", r->cfg.realm);
}

int registrar_create(registrar_t **out, nta_agent_t *agent, struct registrar_config const *cfg,
		     char const *secret_hex, registrar_sink_f sink, void *sink_arg)
{
	ASSERT_THREAD(SIP);
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
	    (err = binding_table_create(&r->bindings, &reg_binding_hooks, r)) < 0) {
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
	ASSERT_THREAD(SIP);
	if (!r)
		return;
	/* Bindings stay in the database; only the memory goes. */
	r->restoring = true;
	binding_table_destroy(r->bindings);
	reg_conns_free(r);
	reg_peer_free(r);
	r->restoring = false;
	reg_flush_changes(r);
	free(r->pending);
	auth_server_destroy(r->auth);
	ban_table_destroy(r->bans);
	directory_destroy(r->dir);
	su_home_unref(r->home);
	free(r);
}

void registrar_set_config(registrar_t *r, struct registrar_config const *cfg)
{
	ASSERT_THREAD(SIP);
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
	/* Kept while its line is still the device's, over a transport the device may use. */
	if (line && line->device && b->device && strcmp(line->device->name, b->device) == 0 &&
	    (line->device->transport == DIR_TP_ANY ||
	     !strcasecmp(b->transport, directory_transport_name(line->device->transport))))
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
	ASSERT_THREAD(SIP);
	directory_destroy(registrar_swap_directory(r, d));
}

directory_t *registrar_swap_directory(registrar_t *r, directory_t *d)
{
	ASSERT_THREAD(SIP);
	struct stale_list l = { .dir = d };
	directory_t *old = r->dir;
	r->dir = d;
	/* A line deleted or moved to another device takes its bindings along. */
	binding_foreach(r->bindings, collect_stale, &l);
	for (size_t i = 0; i < l.n; i++)
		binding_remove(r->bindings, l.items[i]);
	if (l.n)
		log_info("%zu binding%s removed: their lines or their devices' transports changed",
			 l.n, l.n == 1 ? "" : "s");
	free(l.items);
	return old;
}

void registrar_restore(registrar_t *r, struct store_binding const *s)
{
	ASSERT_THREAD(SIP);
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
		.restored = true,
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
void reg_source_of(msg_t *msg, char *addr, size_t alen, char *hostport, size_t hlen)
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

uint64_t reg_request_key(sip_t const *sip)
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

/* ---- answers ---- */

/*
 * Every answer to a REGISTER but the challenge goes out here. A Cisco phone
 * takes almost any 4xx to REGISTER as "rejected" and may reboot, so the
 * table gives Cisco devices 503 with Retry-After instead (sip_reply_cisco()).
 */
void reg_reply(registrar_t *r, msg_t *msg, enum sip_outcome o, bool cisco, tag_type_t tag,
	       tag_value_t value, ...)
{
	ta_list ta;
	if (cisco)
		o = sip_reply_cisco(o);
	char const *retry = sip_reply_retry_after(o);
	ta_start(ta, tag, value);
	nta_msg_treply(r->agent, msg, SIP_REPLY(o), TAG_IF(retry, SIPTAG_RETRY_AFTER_STR(retry)),
		       SIPTAG_SERVER(r->server), ta_tags(ta));
	(void)ta_end(ta);
}

/* ---- the REGISTER ---- */

/*
 * Why a contact cannot be bound, or NULL when it can: a URI other than
 * sip:/sips:, a host no phone can be (unspecified, broadcast, multicast),
 * this server itself (a call to it would loop back), or an expires
 * parameter that is no number of seconds.
 */
static char const *contact_refusal(registrar_t *r, sip_contact_t const *m, char const *uri)
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
	if (auth_uri_names(uri, r->cfg.self))
		return "this server's own address";
	return NULL;
}

/* The expiry asked for, bounded (a huge value is "as long as allowed", never a wrap to 0). */
static unsigned requested_expires(struct reg_ctx *c, sip_contact_t const *m)
{
	if (m && m->m_expires)
		return text_seconds(m->m_expires, UINT32_MAX);
	if (c->sip->sip_expires)
		return seconds_at_most(c->sip->sip_expires->ex_delta, UINT32_MAX);
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

/* The binding table's limits, from [registrar] max_contacts and device_contacts. */
static struct binding_limits limits_of(registrar_t const *r)
{
	return (struct binding_limits){ r->cfg.max_contacts, r->cfg.device_contacts };
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
		struct binding_limits lim = limits_of(r);
		if (binding_apply_set(r->bindings, &u, 1, c->now, &lim, &b) < 0 || !b)
			continue;
		reg_queue_change(r, b, STORE_BINDING_UPSERT);
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
		reg_reply(r, c->msg, SIP_R_OK, true, SIPTAG_CONTACT(list), SIPTAG_DATE(date),
			  TAG_IF(ex, SIPTAG_EXPIRES(ex)), SIPTAG_SUPPORTED_STR(CISCO_SUPPORTED),
			  TAG_IF(newreg, SIPTAG_CONTENT_TYPE_STR(
						 "application/x-cisco-remotecc-response+xml")),
			  TAG_IF(newreg, SIPTAG_PAYLOAD_STR(remotecc_response)), TAG_END());
		return;
	}
	reg_reply(r, c->msg, SIP_R_OK, false, SIPTAG_CONTACT(list), SIPTAG_DATE(date), TAG_END());
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
				   text_seconds(sip->sip_contact->m_expires, 1) == 0))) {
		reg_reply(r, c->msg, SIP_R_OK, false, SIPTAG_DATE(sip_date_create(home, sip_now())),
			  TAG_END());
		return;
	}
	if (!sip->sip_to || !sip->sip_to->a_url->url_user || !sip->sip_call_id || !sip->sip_cseq) {
		reg_reply_refusal(r, c->msg, SIP_R_BAD_REQUEST, false);
		return;
	}
	c->dn = sip->sip_to->a_url->url_user;
	c->line = directory_line(r->dir, c->dn);
	c->dev = c->line ? c->line->device : NULL;

	if (!reg_authenticate(c, &who))
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
		reg_reply_refusal(r, c->msg, c->line ? SIP_R_FORBIDDEN : SIP_R_NOT_FOUND, cisco);
		return;
	}
	c->dev = who;
	char claimed[80];
	claimed_device_name(sip, claimed, sizeof(claimed));
	if (claimed[0] && strcasecmp(claimed, who->name) != 0) {
		log_warning("device name mismatch: user %s belongs to device %s but the REGISTER "
			    "from %s names %s; refused",
			    who->user->name, who->name, c->source, LOGQ(claimed));
		reg_reply_refusal(r, c->msg, SIP_R_FORBIDDEN, cisco);
		return;
	}

	uint64_t key = reg_request_key(sip);
	char const *call_id = sip->sip_call_id->i_id;
	uint32_t cseq = sip->sip_cseq->cs_seq;
	unsigned maxexp = who->cucm_mode ? r->cfg.cucm_max_expires : r->cfg.max_expires;
	sip_contact_t const *m = sip->sip_contact;

	/* "Contact: *" with Expires: 0 removes every binding of the AOR. */
	if (m && m->m_url->url_type == url_any) {
		if (m->m_next || !sip->sip_expires || sip->sip_expires->ex_delta != 0) {
			reg_reply_refusal(r, c->msg, SIP_R_BAD_REQUEST, false);
			return;
		}
		enum binding_check chk =
			binding_check(r->bindings, c->dn, NULL, call_id, cseq, key);
		if (chk == BINDING_CHECK_OUT_OF_ORDER) {
			reg_reply_refusal(r, c->msg, SIP_R_OUT_OF_ORDER, cisco);
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

	/* More contacts than a line may hold is refused before any work on them. */
	size_t n_contacts = 0;
	for (sip_contact_t const *k = m; k; k = k->m_next)
		n_contacts++;
	if (n_contacts > r->cfg.max_contacts) {
		log_notice("REGISTER from %s for DN %s: %zu contacts, more than [registrar] "
			   "max_contacts (%u); refused",
			   c->source, LOGQ(c->dn), n_contacts, r->cfg.max_contacts);
		reg_reply_refusal(r, c->msg, SIP_R_TOO_MANY_CONTACTS, cisco);
		return;
	}
	tport_t *conn = c->tp && tport_is_reliable(c->tp) ? c->tp : NULL;
	bool newreg = false;
	size_t removed = 0;
	char const *ua = sip->sip_user_agent ? sip->sip_user_agent->g_string : NULL;
	struct binding *line1 = NULL;
	time_t line1_expires = 0;
	size_t n = n_contacts;
	struct binding_update *ups = n ? su_zalloc(home, n * sizeof(*ups)) : NULL;
	struct binding **out = n ? su_zalloc(home, n * sizeof(*out)) : NULL;
	if (n && (!ups || !out)) {
		reg_reply_refusal(r, c->msg, SIP_R_SERVER_ERROR, cisco);
		return;
	}
	/* Check every contact and make its update; nothing changes before all pass. */
	unsigned granted_max = 0;
	size_t i = 0;
	for (sip_contact_t const *k = m; k; k = k->m_next, i++) {
		char uri[512];
		if (k->m_url->url_type == url_any) {
			reg_reply_refusal(r, c->msg, SIP_R_BAD_REQUEST, false);
			return;
		}
		contact_uri(home, k, uri, sizeof(uri));
		char const *why = contact_refusal(r, k, uri);
		if (why) {
			log_notice("REGISTER from %s for DN %s: contact %s is %s; refused (400)",
				   c->source, LOGQ(c->dn), LOGQ(uri), why);
			reg_reply_refusal(r, c->msg, SIP_R_BAD_CONTACT, cisco);
			return;
		}
		unsigned want = requested_expires(c, k);
		if (want > 0 && want < r->cfg.min_expires) {
			char *min = su_sprintf(home, "%u", r->cfg.min_expires);
			reg_reply(r, c->msg, SIP_R_INTERVAL_TOO_BRIEF, cisco,
				  SIPTAG_MIN_EXPIRES_STR(min), TAG_END());
			return;
		}
		enum binding_check chk = binding_check(r->bindings, c->dn, uri, call_id, cseq, key);
		if (chk == BINDING_CHECK_OUT_OF_ORDER) {
			log_info("REGISTER from %s for DN %s: CSeq %u not above the binding's; "
				 "refused",
				 c->source, LOGQ(c->dn), cseq);
			reg_reply_refusal(r, c->msg, SIP_R_OUT_OF_ORDER, cisco);
			return;
		}
		unsigned grant = want > maxexp ? maxexp : want;
		if (grant > granted_max)
			granted_max = grant;
		struct binding *old = binding_find(r->bindings, c->dn, uri);
		if (grant && (!old || strcmp(old->source, c->source) != 0))
			newreg = true;
		if (!grant && old)
			removed++;
		ups[i] = (struct binding_update){
			.dn = c->dn,
			.device = who->name,
			.contact = su_strdup(home, uri),
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
		if (!ups[i].contact) {
			reg_reply_refusal(r, c->msg, SIP_R_SERVER_ERROR, cisco);
			return;
		}
	}
	/* The whole request is applied at once, or nothing of it. */
	struct binding_limits lim = limits_of(r);
	int err = binding_apply_set(r->bindings, ups, n, c->now, &lim, out);
	if (err < 0) {
		if (err == -ENOSPC)
			log_notice("REGISTER from %s for DN %s: %zu contact%s would exceed "
				   "[registrar] "
				   "max_contacts (%u) or device_contacts (%u); refused, nothing "
				   "changed",
				   c->source, LOGQ(c->dn), n, n == 1 ? "" : "s", lim.per_aor,
				   lim.per_device);
		reg_reply_refusal(r, c->msg,
				  err == -ENOSPC ? SIP_R_TOO_MANY_CONTACTS : SIP_R_SERVER_ERROR,
				  cisco);
		return;
	}
	for (i = 0; i < n; i++) {
		struct binding *b = out[i];
		if (!b)
			continue;
		reg_queue_change(r, b, STORE_BINDING_UPSERT);
		if (!line1) {
			line1 = b;
			line1_expires = b->expires;
		}
	}
	if (who->cucm_mode && c->line->index == 1)
		bind_other_lines(c, line1, line1 ? line1_expires : 0);
	if (newreg)
		log_info("%s registered DN %s from %s (%s)", who->name, LOGQ(c->dn), c->source,
			 LOGQ(ua));
	if (removed) {
		size_t left = 0;
		for (struct binding const *b = binding_first(r->bindings, c->dn); b; b = b->next)
			left++;
		log_info("%s removed %zu contact%s of DN %s (%zu left)", who->name, removed,
			 removed == 1 ? "" : "s", LOGQ(c->dn), left);
	}
	char dn[64];
	text_copy(dn, sizeof(dn), c->dn); /* the reply takes the request with it */
	reply_ok(c, granted_max, newreg);
	if (newreg && r->on_register)
		r->on_register(who, dn, r->on_register_arg);
}

void registrar_handle(registrar_t *r, msg_t *msg, sip_t *sip)
{
	ASSERT_THREAD(SIP);
	struct reg_ctx c = { .r = r, .msg = msg, .sip = sip, .now = time(NULL) };
	char hostport[80];

	reg_source_of(msg, c.addr, sizeof(c.addr), hostport, sizeof(hostport));
	c.tp = tport_delivered_by(nta_agent_tports(r->agent), msg);
	snprintf(c.transport, sizeof(c.transport), "%s",
		 c.tp && tport_name(c.tp) ? tport_name(c.tp)->tpn_proto : "udp");
	text_copy(c.source, sizeof(c.source), hostport);
	handle_register(&c);
}

void registrar_set_hosts(registrar_t *r, hosts_t const *hosts)
{
	ASSERT_THREAD(SIP);
	r->hosts = hosts;
}

void registrar_set_on_register(registrar_t *r, registrar_registered_f fn, void *arg)
{
	ASSERT_THREAD(SIP);
	r->on_register = fn;
	r->on_register_arg = arg;
}

struct binding const *registrar_bindings(registrar_t *r, char const *dn)
{
	ASSERT_THREAD(SIP);
	return binding_first(r->bindings, dn);
}

tport_t *registrar_binding_tport(struct binding const *b)
{
	ASSERT_THREAD(SIP);
	return b->conn;
}

char const *registrar_realm(registrar_t const *r)
{
	ASSERT_THREAD(SIP);
	return r->cfg.realm;
}

directory_t const *registrar_directory(registrar_t *r)
{
	ASSERT_THREAD(SIP);
	return r->dir;
}

void registrar_tick(registrar_t *r, time_t now)
{
	ASSERT_THREAD(SIP);
	size_t n = binding_expire(r->bindings, now);
	if (n)
		log_info("%zu binding%s expired", n, n == 1 ? "" : "s");
	reg_flush_changes(r);
}
