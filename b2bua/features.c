/*
 * Why this exists: Cisco phones (and other clients) ask the call server for
 * features outside calls, and the server pushes state back to them. Here:
 * PUBLISH of presence (RFC 3903: entity tags, refresh, removal; a Cisco
 * phone's do-not-disturb key rides on it), REFER and NOTIFY outside dialogs
 * (soft keys, alarms, hook state), and the remotecc REFERs that push DND and
 * forwarding changes to a phone.
 *
 * Thread: SIP.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

struct push;
#define NTA_LEG_MAGIC_T	     void
#define NTA_OUTGOING_MAGIC_T struct push

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/tport.h>

#include "b2bua/features.h"
#include "cisco/remotecc.h"
#include "daemon/log.h"
#include "daemon/thread.h"
#include "daemon/text.h"
#include "sip/reply.h"

#define LOG_TAG "features"

#define PIDF_NS "urn:ietf:params:xml:ns:pidf"
/* Publications kept (one per device and entity tag) before the oldest is dropped. */
#define MAX_PUBLICATIONS 4096

/* A remotecc REFER on its way to a phone, until its final response. */
struct push {
	struct push *next;
	features_t *f;
	nta_leg_t *leg;
	nta_outgoing_t *orq;
	char device[80];
};

/* A presence publication that a PUBLISH may refresh, modify or remove (RFC 3903). */
struct publication {
	char etag[24];
	char device[80];
	time_t expires;
};

struct features {
	nta_agent_t *agent;
	registrar_t *reg;
	b2bua_feature_f change;
	void *arg;
	struct push *pushes;
	size_t n_pushes;
	unsigned long etag; /* numbers the entity tags of PUBLISH answers */
	unsigned long cid;  /* numbers the Content-IDs of pushes */
	struct publication *pubs;
	size_t n_pubs, cap_pubs;
};

int features_create(features_t **out, nta_agent_t *agent, registrar_t *reg, b2bua_feature_f change,
		    void *arg)
{
	ASSERT_THREAD(SIP);
	features_t *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->agent = agent;
	f->reg = reg;
	f->change = change;
	f->arg = arg;
	f->etag = (unsigned long)time(NULL);
	*out = f;
	return 0;
}

static void push_free(struct push *p)
{
	if (p->orq)
		nta_outgoing_destroy(p->orq);
	if (p->leg)
		nta_leg_destroy(p->leg);
	free(p);
}

void features_destroy(features_t *f)
{
	ASSERT_THREAD(SIP);
	if (!f)
		return;
	while (f->pushes) {
		struct push *p = f->pushes;
		f->pushes = p->next;
		push_free(p);
	}
	free(f->pubs);
	free(f);
}

/*
 * The device a feature request comes from: where it registered, without a
 * challenge; otherwise it must authenticate (407). NULL when the request
 * was answered or dropped.
 */
static struct dir_device const *requester(features_t *f, msg_t *msg, sip_t *sip)
{
	struct dir_device const *dev = registrar_device_at(f->reg, msg, sip);
	return dev ? dev : registrar_authorize(f->reg, msg, sip);
}

/* A request that claims a dialog we do not have. */
static bool stray_in_dialog(features_t *f, msg_t *msg, sip_t *sip)
{
	if (sip->sip_to && sip->sip_to->a_tag) {
		nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_NO_TRANSACTION), TAG_END());
		return true;
	}
	return false;
}

/* ---- PUBLISH Event: presence (do not disturb) ---- */

/* Looks for <dnd/> and <available/> in any namespace. */
static void scan_presence(xmlNode const *n, bool *dnd, bool *available)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE) {
			if (!strcmp((char const *)n->name, "dnd"))
				*dnd = true;
			else if (!strcmp((char const *)n->name, "available"))
				*available = true;
			scan_presence(n->children, dnd, available);
		}
	}
}

int features_presence_dnd(char const *data, size_t len)
{
	if (!data || !len || len > 65536)
		return -1;
	xmlDoc *doc = xmlReadMemory(data, (int)len, "presence.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -1;
	xmlNode *root = xmlDocGetRootElement(doc);
	bool pidf = root && !strcmp((char const *)root->name, "presence") && root->ns &&
		    root->ns->href && !strcmp((char const *)root->ns->href, PIDF_NS);
	bool dnd = false, available = false;
	if (pidf)
		scan_presence(root, &dnd, &available);
	xmlFreeDoc(doc);
	return !pidf ? -1 : dnd ? 1 : available ? 0 : 2;
}

static struct publication *publication_find(features_t *f, char const *etag, time_t now)
{
	for (size_t i = 0; i < f->n_pubs; i++)
		if (!strcmp(f->pubs[i].etag, etag))
			return f->pubs[i].expires > now ? &f->pubs[i] : NULL;
	return NULL;
}

static void publication_drop(features_t *f, struct publication *p)
{
	*p = f->pubs[--f->n_pubs];
}

/* A new publication of dev, or NULL; expired ones and the oldest beyond the bound make room. */
static struct publication *publication_add(features_t *f, char const *device, time_t now)
{
	for (size_t i = 0; i < f->n_pubs;)
		if (f->pubs[i].expires <= now)
			publication_drop(f, &f->pubs[i]);
		else
			i++;
	if (f->n_pubs == MAX_PUBLICATIONS) {
		size_t oldest = 0;
		for (size_t i = 1; i < f->n_pubs; i++)
			if (f->pubs[i].expires < f->pubs[oldest].expires)
				oldest = i;
		publication_drop(f, &f->pubs[oldest]);
	}
	if (f->n_pubs == f->cap_pubs) {
		size_t cap = f->cap_pubs ? 2 * f->cap_pubs : 16;
		struct publication *p = realloc(f->pubs, cap * sizeof(*p));
		if (!p)
			return NULL;
		f->pubs = p;
		f->cap_pubs = cap;
	}
	struct publication *p = &f->pubs[f->n_pubs++];
	memset(p, 0, sizeof(*p));
	text_copy(p->device, sizeof(p->device), device);
	return p;
}

void features_publish(features_t *f, msg_t *msg, sip_t *sip)
{
	ASSERT_THREAD(SIP);
	if (stray_in_dialog(f, msg, sip))
		return;
	if (!sip->sip_event || strcasecmp(sip->sip_event->o_type, "presence") != 0) {
		nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_BAD_EVENT),
			       SIPTAG_ALLOW_EVENTS_STR("presence"), TAG_END());
		return;
	}
	struct dir_device const *dev = requester(f, msg, sip);
	if (!dev)
		return;
	time_t now = time(NULL);
	sip_if_match_t const *im = sip->sip_if_match;
	struct publication *pub = NULL;
	if (im && im->g_string) {
		pub = publication_find(f, im->g_string, now);
		if (!pub || strcmp(pub->device, dev->name) != 0) {
			log_info("PUBLISH from %s: SIP-If-Match %s names no publication of its "
				 "(412)",
				 dev->name, LOGQ(im->g_string));
			nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_PRECONDITION_FAILED),
				       TAG_END());
			return;
		}
	} else if (!sip->sip_payload || !sip->sip_payload->pl_len) {
		nta_msg_treply(f->agent, msg, 400, "A New Publication Needs A Body", TAG_END());
		return;
	}
	int want = 2;
	if (sip->sip_payload && sip->sip_payload->pl_len) {
		want = features_presence_dnd(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
		if (want < 0) {
			log_info("PUBLISH from %s: the body is not a PIDF document (400)",
				 dev->name);
			nta_msg_treply(f->agent, msg, 400, "Not A PIDF Document", TAG_END());
			return;
		}
	}
	unsigned long exp = sip->sip_expires ? sip->sip_expires->ex_delta : 3600;
	if (exp > 86400)
		exp = 86400;
	if (exp == 0) { /* removal */
		if (pub)
			publication_drop(f, pub);
		nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_OK), SIPTAG_EXPIRES_STR("0"),
			       TAG_END());
		return;
	}
	if (!pub && !(pub = publication_add(f, dev->name, now))) {
		nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_SERVER_ERROR), TAG_END());
		return;
	}
	snprintf(pub->etag, sizeof(pub->etag), "%lx", ++f->etag);
	pub->expires = now + (time_t)exp;
	struct dir_line const *line = directory_first_line(dev);
	if ((want == 0 || want == 1) && line && (want == 1) != dev->dnd && f->change) {
		struct store_line_features ch = {
			.dn = line->dn,
			.dnd = want,
			.noanswer_timeout = -1,
		};
		f->change(&ch, f->arg);
		log_notice("%s: do not disturb %s by the phone", dev->name, want ? "on" : "off");
	}
	char etag[48], expires[16];
	snprintf(etag, sizeof(etag), "SIP-ETag: %s", pub->etag);
	snprintf(expires, sizeof(expires), "%lu", exp);
	nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_OK), SIPTAG_HEADER_STR(etag),
		       SIPTAG_EXPIRES_STR(expires), TAG_END());
}

/* ---- REFER and NOTIFY outside dialogs ---- */

/* Refer-To: <urn:X-cisco-remotecc:token-registration> (any case): a phone asks to move back. */
static bool token_request(msg_t *msg, sip_t const *sip)
{
	sip_refer_to_t const *rt = sip->sip_refer_to;
	if (!rt || !rt->r_url->url_scheme || strcasecmp(rt->r_url->url_scheme, "urn") != 0)
		return false;
	char const *text = url_as_string(msg_home(msg), rt->r_url);
	return text && !strcasecmp(text, "urn:x-cisco-remotecc:token-registration");
}

/*
 * A phone that failed over asks this node, its better-ranked server, for a
 * token to register back. It is not registered here (yet), so the request
 * is answered without a registration or a challenge (Cisco firmware cannot
 * answer one for REFER): the token lets nothing happen, the phone then
 * registers with its digest. Tokens go out at [ha] token_rate; the rest
 * wait (503, Retry-After), so a returning node is not flooded.
 */
static void grant_token(features_t *f, msg_t *msg, sip_t *sip)
{
	unsigned wait = 0;
	char from[80] = "", source[80] = "";
	if (sip->sip_from && sip->sip_from->a_url->url_user)
		text_copy(from, sizeof(from), sip->sip_from->a_url->url_user);
	registrar_source_text(msg, source, sizeof(source));
	if (registrar_token_grant(f->reg, &wait)) {
		log_info("fallback token granted to %s (%s)", LOGQ(from), source);
		nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_ACCEPTED), TAG_END());
		return;
	}
	char retry[16];
	snprintf(retry, sizeof(retry), "%u", wait);
	log_debug("fallback token for %s (%s): none left this second, retry in %s s (503)",
		  LOGQ(from), source, retry);
	nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_SERVICE_UNAVAILABLE),
		       SIPTAG_RETRY_AFTER_STR(retry), TAG_END());
}

void features_refer(features_t *f, msg_t *msg, sip_t *sip)
{
	ASSERT_THREAD(SIP);
	if (stray_in_dialog(f, msg, sip))
		return;
	if (token_request(msg, sip)) {
		grant_token(f, msg, sip);
		return;
	}
	struct dir_device const *dev = requester(f, msg, sip);
	if (!dev)
		return;
	/* Soft keys, alarms, token registration: accepted; none is a transfer. */
	log_debug("REFER from %s (%s) accepted", dev->name,
		  LOGQ(sip->sip_content_type ? sip->sip_content_type->c_type : NULL));
	nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_ACCEPTED), TAG_END());
}

void features_notify(features_t *f, msg_t *msg, sip_t *sip)
{
	ASSERT_THREAD(SIP);
	if (stray_in_dialog(f, msg, sip))
		return;
	char const *event = sip->sip_event ? sip->sip_event->o_type : NULL;
	if (!event || (strcasecmp(event, "dialog") && strcasecmp(event, "refer"))) {
		nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_BAD_EVENT),
			       SIPTAG_ALLOW_EVENTS_STR("dialog, refer"), TAG_END());
		return;
	}
	struct dir_device const *dev = requester(f, msg, sip);
	if (!dev)
		return;
	log_debug("NOTIFY %s from %s accepted", LOGQ(event), dev->name);
	nta_msg_treply(f->agent, msg, SIP_REPLY(SIP_R_OK), TAG_END());
}

/* ---- pushing state to a phone ---- */

static int on_push_response(struct push *p, nta_outgoing_t *orq, sip_t const *sip)
{
	int status = sip ? sip->sip_status->st_status : 408;
	(void)orq;
	if (status < 200)
		return 0;
	if (status >= 300)
		log_info("remotecc update to %s answered %d", p->device, status);
	features_t *f = p->f;
	for (struct push **pp = &f->pushes; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			f->n_pushes--;
			break;
		}
	}
	push_free(p);
	return 0;
}

/* In-dialog requests on a push's REFER (the phone's NOTIFY Event: refer). */
static int on_push_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	(void)magic, (void)leg, (void)irq;
	return sip->sip_request->rq_method == sip_method_notify ? 200 : 481;
}

/* The binding to reach the device at: line 1's, or the first line with one. */
static struct binding const *device_binding(features_t *f, struct dir_device const *dev,
					    struct dir_line const **line)
{
	for (unsigned i = 0; i < dev->model_lines; i++) {
		struct dir_line const *l = dev->lines[i];
		if (!l)
			continue;
		for (struct binding const *b = registrar_bindings(f->reg, l->dn); b;
		     b = binding_next(b)) {
			if (binding_device(b) && !strcmp(binding_device(b), dev->name)) {
				*line = l;
				return b;
			}
		}
	}
	return NULL;
}

/*
 * Sends the device one REFER carrying its do not disturb state (with_dnd)
 * and the call forward all of the lines whose bit is set in lines (bit i
 * for index i + 1); several updates go as parts of one multipart body.
 */
static void push_state(features_t *f, struct dir_device const *dev, bool with_dnd, uint64_t lines)
{
	struct dir_line const *line = NULL;
	struct binding const *bd = device_binding(f, dev, &line);
	if (!bd)
		return; /* not registered: it gets the state when it registers */
	struct push *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->f = f;
	text_copy(p->device, sizeof(p->device), dev->name);
	su_home_t home[1] = { SU_HOME_INIT(home) };

	char *parts[65];
	unsigned n = 0;
	if (with_dnd)
		parts[n++] = cisco_remotecc_dnd(home, dev->dnd);
	for (unsigned i = 0; i < dev->model_lines && i < 64; i++)
		if ((lines >> i) & 1 && dev->lines[i])
			parts[n++] = cisco_remotecc_cfwdall(home, i + 1, dev->lines[i]->cfwd_all);
	char const *type = NULL;
	char *body = cisco_remotecc_body(home, parts, n, &type);
	sip_contact_t const *me = nta_agent_contact(f->agent);
	url_t *u = url_hdup(home, me->m_url);
	char const *host = u ? url_as_string(home, u) : NULL;
	if (u) {
		u->url_user = line->dn;
		u->url_params = NULL;
	}
	char const *aor = u ? url_as_string(home, u) : NULL;
	char *cid = su_sprintf(home, "%lu-%lx@sipreg", ++f->cid, (unsigned long)time(NULL));
	tport_t *tp = registrar_binding_tport(bd);
	if (n && body && aor && host && cid) {
		p->leg = nta_leg_tcreate(f->agent, on_push_request, NULL, SIPTAG_FROM_STR(aor),
					 SIPTAG_TO_STR(aor),
					 SIPTAG_CALL_ID(sip_call_id_create(home, NULL)), TAG_END());
		if (p->leg && nta_leg_tag(p->leg, NULL))
			p->orq = nta_outgoing_tcreate(
				p->leg, on_push_response, p, NULL, SIP_METHOD_REFER,
				URL_STRING_MAKE(binding_contact(bd)),
				SIPTAG_REFER_TO_STR(su_sprintf(home, "cid:%s", cid)),
				SIPTAG_REFERRED_BY_STR(su_sprintf(home, "<%s>", host)),
				SIPTAG_REQUIRE_STR("norefersub"),
				SIPTAG_HEADER_STR(su_sprintf(home, "Content-Id: <%s>", cid)),
				SIPTAG_CONTACT(me), SIPTAG_CONTENT_TYPE_STR(type),
				SIPTAG_PAYLOAD_STR(body), TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	}
	su_home_deinit(home);
	if (!p->orq) {
		log_error("cannot send the remotecc update to %s", dev->name);
		push_free(p);
		return;
	}
	p->next = f->pushes;
	f->pushes = p;
	f->n_pushes++;
	log_debug("remotecc update to %s: %u part%s", dev->name, n, n == 1 ? "" : "s");
}

void features_registered(features_t *f, struct dir_device const *dev, char const *dn)
{
	ASSERT_THREAD(SIP);
	/* The remotecc channel is the CUCM-mode phones'; they register line 1 only. */
	if (!dev->cisco || !dev->cucm_mode || !dev->lines[0] || strcmp(dev->lines[0]->dn, dn))
		return;
	uint64_t lines = 0;
	for (unsigned i = 0; i < dev->model_lines && i < 64; i++)
		if (dev->lines[i])
			lines |= (uint64_t)1 << i;
	push_state(f, dev, true, lines);
}

static bool same_text(char const *a, char const *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

void features_directory_changed(features_t *f, directory_t const *old, directory_t const *now)
{
	ASSERT_THREAD(SIP);
	size_t n = directory_count_devices(now);
	for (size_t i = 0; i < n; i++) {
		struct dir_device const *dev = directory_device_at(now, i);
		struct dir_device const *was = directory_device(old, dev->name);
		if (!dev->cisco || !dev->cucm_mode || !was)
			continue;
		uint64_t lines = 0;
		for (unsigned k = 0; k < dev->model_lines && k < 64; k++) {
			struct dir_line const *l = dev->lines[k];
			struct dir_line const *o = k < was->model_lines ? was->lines[k] : NULL;
			if (l && (!o || !same_text(l->cfwd_all, o->cfwd_all)))
				lines |= (uint64_t)1 << k;
		}
		if (lines || dev->dnd != was->dnd)
			push_state(f, dev, dev->dnd != was->dnd, lines);
	}
}
