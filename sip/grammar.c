/*
 * Why this exists: sofia's parser drops some requests RFC 3261 calls valid
 * or answerable, so their senders got no answer at all. Its method grammar
 * is narrower than RFC 3261's token (no '+', '`' or '%'), so a request of an
 * unknown method such as RFC 4475's "intmeth" was garbage instead of a 501;
 * a request line with whitespace inside the Request-URI ("lwsruri") was
 * garbage instead of a 400. The request-line and CSeq decoders below take
 * sofia's result when it has one and otherwise read the line by RFC 3261.
 *
 * Also here: the checks a UAS makes before it looks at a request (RFC 3261
 * 8.2.2): an unknown URI scheme, Require, and a broken Max-Forwards.
 *
 * Thread: sip_grammar_install() on the parser class before it is used; the rest any.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_alloc.h>

#include "sip/grammar.h"

static msg_parse_f *sofia_request_d, *sofia_cseq_d;

/* RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
 */
static size_t token_span(char const *s)
{
	size_t n = 0;
	while (s[n] && (isalnum((unsigned char)s[n]) || strchr("-.!%*_+`'~", s[n])))
		n++;
	return n;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Request-Line = Method SP Request-URI SP SIP-Version, read from a copy of the line. */
static issize_t request_d(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	char *line = su_strndup(home, s, slen);
	if (sofia_request_d(home, h, s, slen) == 0)
		return 0;
	if (!line)
		return -1;
	sip_request_t *rq = (sip_request_t *)h;
	size_t m = token_span(line);
	if (m == 0 || line[m] != ' ')
		return -1;
	line[m] = '\0';
	char *uri = line + m + 1;
	while (*uri == ' ')
		uri++;
	char *sp = strrchr(uri, ' ');
	if (!sp || sp == uri)
		return -1;
	char *version = sp + 1;
	while (sp > uri && sp[-1] == ' ')
		sp--;
	*sp = '\0';
	char const *v = NULL;
	if (sip_version_d(&version, &v) < 0 || *version)
		return -1;
	rq->rq_method_name = line;
	rq->rq_method = sip_method_code(line);
	rq->rq_version = v;
	memset(rq->rq_url, 0, sizeof(rq->rq_url));
	if (strpbrk(uri, " \t") || url_d(rq->rq_url, uri) < 0) {
		/* nta answers a request with an invalid Request-URI 400 itself. */
		memset(rq->rq_url, 0, sizeof(rq->rq_url));
		rq->rq_url->url_type = url_invalid;
		rq->rq_url->url_scheme = "invalid";
	}
	return 0;
}

/* CSeq = 1*DIGIT LWS Method */
static issize_t cseq_d(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	char *value = su_strndup(home, s, slen);
	if (sofia_cseq_d(home, h, s, slen) == 0)
		return 0;
	if (!value || !isdigit((unsigned char)value[0]))
		return -1;
	char *end;
	errno = 0;
	unsigned long long seq = strtoull(value, &end, 10);
	if (errno || seq > UINT32_MAX || !is_lws(*end))
		return -1;
	while (is_lws(*end))
		end++;
	size_t m = token_span(end);
	if (m == 0)
		return -1;
	for (char const *p = end + m; *p; p++)
		if (!is_lws(*p))
			return -1;
	end[m] = '\0';
	sip_cseq_t *cs = (sip_cseq_t *)h;
	cs->cs_seq = (uint32_t)seq;
	cs->cs_method_name = end;
	cs->cs_method = sip_method_code(end);
	return 0;
}

/*
 * sofia's header classes are read-only, so the parser class gets copies
 * with these decoders. The request line is found by its hash; CSeq by
 * name when parsing and by class when sofia adds a CSeq of its own, so the
 * copy takes CSeq's place for parsing and the original moves to the next
 * free slot of its probe sequence, where sofia still finds it.
 */
static struct msg_hclass_s request_class, cseq_class;

int sip_grammar_install(msg_mclass_t *mc)
{
	short n = mc->mc_hash_size, at = -1, free_slot = -1;
	for (short i = 0; i < n; i++)
		if (mc->mc_hash[i].hr_class == sip_cseq_class)
			at = i;
	if (at < 0)
		return -1;
	for (short k = 1; k < n; k++) {
		short j = (short)((at + k) % n);
		if (!mc->mc_hash[j].hr_class) {
			free_slot = j;
			break;
		}
	}
	if (free_slot < 0)
		return -1;
	request_class = *sip_request_class;
	request_class.hc_parse = request_d;
	sofia_request_d = sip_request_class->hc_parse;
	mc->mc_request->hr_class = &request_class;
	cseq_class = *sip_cseq_class;
	cseq_class.hc_parse = cseq_d;
	sofia_cseq_d = sip_cseq_class->hc_parse;
	mc->mc_hash[free_slot] = mc->mc_hash[at];
	mc->mc_hash[at].hr_class = &cseq_class;
	mc->mc_hash_used++;
	return 0;
}

static bool supported(char const *tag)
{
	static char const *const tags[] = { "replaces", "norefersub", "100rel", "timer" };
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!strcasecmp(tag, tags[i]))
			return true;
	return false;
}

enum sip_outcome sip_require_check(sip_t const *sip, char *unsupported, size_t n)
{
	sip_method_t m = sip->sip_request ? sip->sip_request->rq_method : sip_method_unknown;
	if (n)
		unsupported[0] = '\0';
	if (m == sip_method_ack || m == sip_method_cancel)
		return SIP_R_NONE;
	bool refuse = false;
	for (sip_require_t const *r = sip->sip_require; r; r = r->k_next) {
		for (msg_param_t const *t = r->k_items; t && *t; t++) {
			if (supported(*t))
				continue;
			size_t used = strlen(unsupported);
			if (used + strlen(*t) + 3 < n)
				snprintf(unsupported + used, n - used, "%s%s", used ? ", " : "",
					 *t);
			refuse = true;
		}
	}
	return refuse ? SIP_R_BAD_EXTENSION : SIP_R_NONE;
}

enum sip_outcome sip_request_check(sip_t const *sip, char *unsupported, size_t n)
{
	if (n)
		unsupported[0] = '\0';
	url_t const *u = sip->sip_request->rq_url;
	if (u->url_type != url_sip && u->url_type != url_sips)
		return SIP_R_UNSUPPORTED_URI;
	for (sip_header_t const *h = (sip_header_t const *)sip->sip_error; h; h = h->sh_next) {
		char const *name = h->sh_class == sip_error_class ? h->sh_error->er_name
								  : h->sh_class->hc_name;
		if (name && !strcasecmp(name, "Max-Forwards"))
			return SIP_R_BAD_MAX_FORWARDS;
	}
	return sip_require_check(sip, unsupported, n);
}
