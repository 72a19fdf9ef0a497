#include "autoconfig.h"

#include "registrar/auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "daemon/hash.h"
#include "daemon/text.h"
#include "store/secret.h"

/*
 * Nonce: 8 hex of time, 8 hex of a counter that starts at a random value,
 * then two MACs of 16 hex each (HMAC-SHA-256, truncated): one over the
 * first 16 (the nonce is ours), one over the first 16 and the address it
 * was issued to (it is used from there). The counter keeps nonces of one
 * second apart; the MACs make them unforgeable. A nonce used without qop
 * is good for one request (and its retransmissions).
 */
#define TS_HEX	 8
#define RND_HEX	 8
#define PART_HEX 16
#define MAC_HEX	 (2 * PART_HEX)
/* The mark of a nonce used without qop in its count slot. */
#define NC_USED_NO_QOP UINT32_MAX

struct nc_slot {
	char nonce[AUTH_NONCE_LEN + 1];
	uint32_t last_nc;
	uint64_t last_key;
	time_t issued;
};

struct auth_server {
	uint8_t secret[64];
	size_t secret_len;
	/* HMAC-SHA-256 with the key's inner and outer blocks hashed once. */
	EVP_MD_CTX *inner, *outer, *work;
	uint32_t counter;
	unsigned lifetime;
	struct nc_slot *slots;
	unsigned n_slots;
};

/* RFC 2104 with the key padded to SHA-256's 64-byte block. */
static int hmac_prepare(auth_server_t *a)
{
	uint8_t ipad[64], opad[64];
	EVP_MD const *md = digest_md(DIGEST_SHA256);
	a->inner = EVP_MD_CTX_new();
	a->outer = EVP_MD_CTX_new();
	a->work = EVP_MD_CTX_new();
	if (!md || !a->inner || !a->outer || !a->work)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(ipad); i++) {
		uint8_t k = i < a->secret_len ? a->secret[i] : 0;
		ipad[i] = k ^ 0x36;
		opad[i] = k ^ 0x5c;
	}
	int ok = EVP_DigestInit_ex2(a->inner, md, NULL) &&
		 EVP_DigestUpdate(a->inner, ipad, sizeof(ipad)) &&
		 EVP_DigestInit_ex2(a->outer, md, NULL) &&
		 EVP_DigestUpdate(a->outer, opad, sizeof(opad));
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	return ok ? 0 : -EIO;
}

int auth_server_create(auth_server_t **out, void const *secret, size_t secret_len,
		       unsigned lifetime, unsigned slots)
{
	auth_server_t *a;
	if (!secret || secret_len == 0 || secret_len > sizeof(a->secret) || slots == 0)
		return -EINVAL;
	if (!(a = calloc(1, sizeof(*a))))
		return -ENOMEM;
	if (!(a->slots = calloc(slots, sizeof(*a->slots)))) {
		free(a);
		return -ENOMEM;
	}
	memcpy(a->secret, secret, secret_len);
	a->secret_len = secret_len;
	if (hmac_prepare(a) < 0) {
		auth_server_destroy(a);
		return -ENOMEM;
	}
	secret_random(&a->counter, sizeof(a->counter));
	a->lifetime = lifetime;
	a->n_slots = slots;
	*out = a;
	return 0;
}

void auth_server_destroy(auth_server_t *a)
{
	if (!a)
		return;
	OPENSSL_cleanse(a->secret, sizeof(a->secret));
	EVP_MD_CTX_free(a->inner);
	EVP_MD_CTX_free(a->outer);
	EVP_MD_CTX_free(a->work);
	free(a->slots);
	free(a);
}

void auth_server_set_lifetime(auth_server_t *a, unsigned lifetime)
{
	a->lifetime = lifetime;
}

/* PART_HEX hex of the HMAC over the nonce's first 16 characters and, when given, the address. */
static void nonce_mac(auth_server_t *a, char const *prefix, char const *source,
		      char out[PART_HEX + 1])
{
	uint8_t ih[EVP_MAX_MD_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned ilen = 0, len = 0;
	/* A separator no address holds, so the two kinds of input never meet. */
	char const *tail = source ? source : "";
	/* Cannot fail short of memory exhaustion; a failure yields a MAC nothing matches. */
	if (!EVP_MD_CTX_copy_ex(a->work, a->inner) ||
	    !EVP_DigestUpdate(a->work, prefix, TS_HEX + RND_HEX) ||
	    !EVP_DigestUpdate(a->work, source ? "@" : "#", 1) ||
	    !EVP_DigestUpdate(a->work, tail, strlen(tail)) ||
	    !EVP_DigestFinal_ex(a->work, ih, &ilen) || !EVP_MD_CTX_copy_ex(a->work, a->outer) ||
	    !EVP_DigestUpdate(a->work, ih, ilen) || !EVP_DigestFinal_ex(a->work, md, &len)) {
		memset(out, 'x', PART_HEX);
		out[PART_HEX] = '\0';
		return;
	}
	text_hex(out, md, PART_HEX / 2);
}

void auth_nonce_make(auth_server_t *a, time_t now, char const *source, char out[AUTH_NONCE_LEN + 1])
{
	uint32_t ts = (uint32_t)((uint64_t)now & 0xffffffffu), n = a->counter++;
	uint8_t raw[8] = { ts >> 24, ts >> 16, ts >> 8, ts, n >> 24, n >> 16, n >> 8, n };
	text_hex(out, raw, sizeof(raw));
	nonce_mac(a, out, NULL, out + TS_HEX + RND_HEX);
	nonce_mac(a, out, source ? source : "", out + TS_HEX + RND_HEX + PART_HEX);
}

void auth_node_mark(auth_server_t *a, char out[9])
{
	char mac[PART_HEX + 1];
	/* Not a nonce's prefix (those are hex): no nonce MAC can equal it. */
	nonce_mac(a, "node-mark:sipreg", NULL, mac);
	memcpy(out, mac, 8);
	out[8] = '\0';
}

/* 0 when the nonce has our form and its first MAC: made here, for some address. */
static int nonce_check_ours(auth_server_t *a, char const *nonce)
{
	char mac[PART_HEX + 1];
	if (!nonce || strlen(nonce) != AUTH_NONCE_LEN)
		return -EINVAL;
	for (size_t i = 0; i < AUTH_NONCE_LEN; i++) {
		char c = nonce[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EINVAL;
	}
	nonce_mac(a, nonce, NULL, mac);
	return CRYPTO_memcmp(mac, nonce + TS_HEX + RND_HEX, PART_HEX) == 0 ? 0 : -EINVAL;
}

bool auth_nonce_ours(auth_server_t *a, char const *nonce)
{
	return nonce_check_ours(a, nonce) == 0;
}

/* 0 and the issue time when the nonce is ours and was issued to source. */
static int nonce_parse(auth_server_t *a, char const *nonce, char const *source, time_t now,
		       time_t *issued)
{
	char mac[PART_HEX + 1];
	if (nonce_check_ours(a, nonce) < 0)
		return -EINVAL;
	nonce_mac(a, nonce, source ? source : "", mac);
	if (CRYPTO_memcmp(mac, nonce + TS_HEX + RND_HEX + PART_HEX, PART_HEX) != 0)
		return -EINVAL;
	char ts[TS_HEX + 1];
	memcpy(ts, nonce, TS_HEX);
	ts[TS_HEX] = '\0';
	/* The stamp holds the low 32 bits of the time; rebuild the rest from now. */
	uint64_t low = strtoull(ts, NULL, 16);
	uint64_t t = ((uint64_t)now & ~(uint64_t)0xffffffffu) | low;
	if (t > (uint64_t)now + 60)
		t -= (uint64_t)1 << 32;
	*issued = (time_t)t;
	return 0;
}

int auth_challenge_format(char *buf, size_t len, char const *realm, char const *nonce,
			  enum digest_alg alg, bool stale)
{
	int n = snprintf(buf, len,
			 "Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s", realm,
			 nonce, digest_alg_name(alg), stale ? ", stale=true" : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

char const *auth_verdict_name(enum auth_verdict v)
{
	static char const *const names[] = {
		[AUTH_OK] = "ok",
		[AUTH_FAILED] = "wrong credentials",
		[AUTH_STALE] = "stale nonce",
		[AUTH_BAD_NONCE] = "unknown nonce",
		[AUTH_REPLAY] = "replayed nonce count",
		[AUTH_QOP_REQUIRED] = "qop required",
		[AUTH_ALG_REFUSED] = "algorithm not offered",
		[AUTH_MALFORMED] = "malformed credentials",
	};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static bool is_nc(char const *nc)
{
	if (!nc || strlen(nc) != 8)
		return false;
	for (int i = 0; i < 8; i++) {
		char c = nc[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/*
 * The slot tracking a nonce: found, or taken over from an expired or the
 * oldest one among a few probes. *fresh tells a new slot.
 */
static struct nc_slot *nc_slot(auth_server_t *a, char const *nonce, time_t issued, time_t now,
			       bool *fresh)
{
	uint64_t h = hash_fnv1a(nonce);
	struct nc_slot *victim = NULL;
	for (unsigned i = 0; i < 8; i++) {
		struct nc_slot *s = &a->slots[(h + i) % a->n_slots];
		if (strcmp(s->nonce, nonce) == 0) {
			*fresh = false;
			return s;
		}
		bool dead = !s->nonce[0] || s->issued + (time_t)a->lifetime < now;
		if (dead && (!victim || victim->nonce[0]))
			victim = s;
		else if (!victim || (victim->nonce[0] && s->issued < victim->issued))
			victim = s;
	}
	text_copy(victim->nonce, sizeof(victim->nonce), nonce);
	victim->issued = issued;
	victim->last_nc = 0;
	victim->last_key = 0;
	*fresh = true;
	return victim;
}

enum auth_verdict auth_verify(auth_server_t *a, struct auth_creds const *c,
			      struct auth_check const *chk, time_t now, enum digest_alg *alg_out)
{
	enum digest_alg alg = DIGEST_MD5;
	bool qop = c->qop && c->qop[0];
	time_t issued;
	char expect[DIGEST_HEX_SIZE];

	if (!c->username || !c->nonce || !c->uri || !c->response || !chk->method)
		return AUTH_MALFORMED;
	if (qop && (strcasecmp(c->qop, "auth") != 0 || !is_nc(c->nc) || !c->cnonce))
		return AUTH_MALFORMED;
	if (c->algorithm && digest_alg_parse(&alg, c->algorithm) < 0)
		return AUTH_ALG_REFUSED;
	if (alg_out)
		*alg_out = alg;
	if (!(chk->algs_offered & (1u << alg)))
		return AUTH_ALG_REFUSED;
	if (nonce_parse(a, c->nonce, chk->source, now, &issued) < 0)
		return AUTH_BAD_NONCE;
	if (chk->qop_required && !qop)
		return AUTH_QOP_REQUIRED;

	if (chk->verify_password || !(alg == DIGEST_SHA256 ? chk->ha1_sha256 : chk->ha1_md5)) {
		char const *ha1 = alg == DIGEST_SHA256 ? chk->ha1_sha256 : chk->ha1_md5;
		/* An unknown user costs the same work as a known one. */
		char const *use = ha1 ? ha1
				      : (alg == DIGEST_SHA256 ? "0000000000000000000000000000000000"
								"000000000000000000000000000000"
							      : "00000000000000000000000000000000");
		if (digest_response(expect, alg, use, c->nonce, c->nc, c->cnonce, c->qop,
				    chk->method, c->uri) < 0)
			return AUTH_MALFORMED;
		bool same = digest_equal(expect, c->response);
		if (!ha1 || !same)
			return AUTH_FAILED;
	}
	if (issued + (time_t)a->lifetime < now || issued > now + 60)
		return AUTH_STALE;
	if (!qop) {
		/*
		 * RFC 2069: nothing in the response changes from one request to
		 * the next, so the nonce serves one request; the same request
		 * again (a retransmission) is answered alike. Used again: a new
		 * challenge (stale, the credentials were right).
		 */
		bool fresh;
		struct nc_slot *s = nc_slot(a, c->nonce, issued, now, &fresh);
		if (!fresh && s->last_nc == NC_USED_NO_QOP) {
			if (chk->request_key && chk->request_key == s->last_key)
				return AUTH_OK;
			return AUTH_STALE;
		}
		if (!fresh && s->last_nc)
			return AUTH_REPLAY; /* counted with qop before: no mixing */
		s->last_nc = NC_USED_NO_QOP;
		s->last_key = chk->request_key;
		return AUTH_OK;
	}
	uint32_t nc = (uint32_t)strtoul(c->nc, NULL, 16);
	bool fresh;
	struct nc_slot *s = nc_slot(a, c->nonce, issued, now, &fresh);
	if (nc == 0 || nc == NC_USED_NO_QOP)
		return AUTH_REPLAY;
	if (!fresh && nc <= s->last_nc) {
		/* The same request again (a retransmission) is no replay. */
		if (nc == s->last_nc && chk->request_key && chk->request_key == s->last_key)
			return AUTH_OK;
		return AUTH_REPLAY;
	}
	s->last_nc = nc;
	s->last_key = chk->request_key;
	return AUTH_OK;
}

bool auth_uri_matches(char const *digest_uri, char const *request_uri)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	bool same = false;
	/* request_uri is the parsed Request-URI written back: the same text is the same URI. */
	if (digest_uri && request_uri && strcmp(digest_uri, request_uri) == 0)
		return true;
	if (digest_uri && request_uri) {
		url_t *a = url_make(home, digest_uri);
		url_t *b = url_make(home, request_uri);
		same = a && b && a->url_type != url_invalid && url_cmp(a, b) == 0;
	}
	su_home_deinit(home);
	return same;
}

bool auth_uri_names(char const *digest_uri, char const *names)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	bool found = false;
	url_t *u = digest_uri ? url_make(home, digest_uri) : NULL;
	if (u && (u->url_type == url_sip || u->url_type == url_sips) && u->url_host && names) {
		char const *port = u->url_port && u->url_port[0]
					   ? u->url_port
					   : (u->url_type == url_sips ? "5061" : "5060");
		/* url_host keeps an IPv6 address's brackets, as the names do. */
		char want[300];
		int n = snprintf(want, sizeof(want), "%s:%s", u->url_host, port);
		size_t plen = strlen(port);
		for (char const *p = names; n > 0 && (size_t)n < sizeof(want) && *p && !found;) {
			size_t len = strcspn(p, " ");
			if (len == (size_t)n && strncasecmp(p, want, len) == 0)
				found = true;
			else if (len == plen + 2 && p[0] == '*' && p[1] == ':' &&
				 strncmp(p + 2, port, plen) == 0)
				found = true;
			p += len;
			p += strspn(p, " ");
		}
	}
	su_home_deinit(home);
	return found;
}

int auth_creds_parse(void *home, char const *const *params, struct auth_creds *out)
{
	auth_response_t ar[1] = { { sizeof(ar) } };
	/* sofia asserts on a header without parameters: checked here first. */
	if (!params || auth_digest_response_get(home, ar, params) < 0 ||
	    !ar->ar_username)
		return -1;
	*out = (struct auth_creds){
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
	return 0;
}
