#include "autoconfig.h"

#include "b2bua/uac_auth.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/su_string.h>

#include "daemon/text.h"

/* A challenge parameter without its quotes, in home; NULL when absent. */
static char *param(su_home_t *home, msg_auth_t const *au, char const *name)
{
	char const *v = msg_params_find(au->au_params, name);
	if (!v)
		return NULL;
	return v[0] == '"' ? msg_unquote_dup(home, v) : su_strdup(home, v);
}

/* Whether a qop list ("auth", "auth,auth-int") names auth. */
static bool offers_auth(char const *qop)
{
	for (char const *p = qop; p && *p;) {
		size_t n = strcspn(p, ", \t");
		if (n == 4 && !strncasecmp(p, "auth", 4))
			return true;
		p += n;
		p += strspn(p, ", \t");
	}
	return false;
}

int uac_challenge_pick(su_home_t *home, msg_auth_t const *au, struct uac_challenge *out)
{
	msg_auth_t const *pick = NULL;
	enum digest_alg alg = DIGEST_MD5;
	for (; au; au = au->au_next) {
		enum digest_alg x = DIGEST_MD5;
		char *a = param(home, au, "algorithm=");
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") ||
		    (a && digest_alg_parse(&x, a) < 0) || !msg_params_find(au->au_params, "nonce="))
			continue;
		if (!pick || (x == DIGEST_SHA256 && alg != DIGEST_SHA256))
			pick = au, alg = x;
	}
	if (!pick)
		return -1;
	char *stale = param(home, pick, "stale=");
	*out = (struct uac_challenge){
		.alg = alg,
		.realm = param(home, pick, "realm="),
		.nonce = param(home, pick, "nonce="),
		.opaque = param(home, pick, "opaque="),
		.qop = offers_auth(param(home, pick, "qop=")),
		.stale = stale && !strcasecmp(stale, "true"),
	};
	if (!out->realm)
		out->realm = su_strdup(home, "");
	return out->nonce && out->realm ? 0 : -1;
}

char *uac_authorization(su_home_t *home, struct uac_challenge const *ch, char const *user,
			char const *ha1, char const *method, char const *uri, unsigned nc)
{
	char cnonce[17], ncs[9], resp[DIGEST_HEX_SIZE];
	unsigned char raw[8];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	text_hex(cnonce, raw, sizeof(raw));
	snprintf(ncs, sizeof(ncs), "%08x", nc);
	if (digest_response(resp, ch->alg, ha1, ch->nonce, ncs, cnonce, ch->qop ? "auth" : NULL,
			    method, uri) < 0)
		return NULL;
	return su_sprintf(home,
			  "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			  "response=\"%s\", algorithm=%s%s%s%s%s%s%s%s%s",
			  user, ch->realm, ch->nonce, uri, resp, digest_alg_name(ch->alg),
			  ch->qop ? ", qop=auth, nc=" : "", ch->qop ? ncs : "",
			  ch->qop ? ", cnonce=\"" : "", ch->qop ? cnonce : "", ch->qop ? "\"" : "",
			  ch->opaque ? ", opaque=\"" : "", ch->opaque ? ch->opaque : "",
			  ch->opaque ? "\"" : "");
}
