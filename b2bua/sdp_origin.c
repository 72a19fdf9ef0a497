/*
 * Why this exists: a B2BUA relays descriptions from different phones on
 * one dialog (after an attended transfer the remaining party gets the new
 * party's SDP), but RFC 3264 8 requires the same origin throughout, with the
 * version incremented per change; some phones refuse a new session id.
 * Only the o= line is rewritten; the rest is relayed byte for byte.
 *
 * Thread: SIP.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/sdp.h>

#include "b2bua/sdp_origin.h"

/* FNV-1a over two pieces. */
static uint64_t hash2(char const *a, size_t na, char const *b, size_t nb)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < na; i++)
		h = (h ^ (unsigned char)a[i]) * 1099511628211ULL;
	for (size_t i = 0; i < nb; i++)
		h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
	return h;
}

/* The o= line: its start and its end (before CR/LF); false when there is none. */
static bool find_origin(char const *body, size_t len, size_t *start, size_t *end)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if ((i == 0 || body[i - 1] == '\n') && body[i] == 'o' && body[i + 1] == '=') {
			size_t e = i;
			while (e < len && body[e] != '\r' && body[e] != '\n')
				e++;
			*start = i;
			*end = e;
			return true;
		}
	}
	return false;
}

/* RFC 4566 token characters. */
static bool token_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("-!#$%&'*+.^_`{|}~", ch));
}

/*
 * An m= value as RFC 4566 writes it: media SP port[/count] SP proto SP fmt
 * (SP fmt)*, with tokens for media and formats and tokens joined by '/'
 * for the protocol.
 */
static bool media_line_ok(char const *v, size_t n)
{
	unsigned field = 0;
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && v[e] != ' ')
			e++;
		if (e == i)
			return false; /* two spaces in a row, or one at an end */
		for (size_t k = i; k < e; k++) {
			char ch = v[k];
			bool ok = field == 1   ? (ch >= '0' && ch <= '9') || (ch == '/' && k > i)
				  : field == 2 ? token_char(ch) || (ch == '/' && k > i && k + 1 < e)
					       : token_char(ch);
			if (!ok)
				return false;
		}
		field++;
		i = e + 1;
		if (e == n - 1)
			return false; /* a trailing space */
	}
	return field >= 4;
}

/*
 * Debian 12's sofia-sip loops for ever, allocating as it goes, on an m=
 * line whose format list holds a byte that is no token character (fixed
 * upstream in 2022, "fix parse m-line", not in that build): one INVITE
 * would stop the SIP thread and eat the memory. So sofia parses only what
 * RFC 4566 allows: lines of a lower-case letter, '=' and a value, without
 * NUL or control characters other than TAB, m= lines exactly as its
 * grammar has them; blank lines only at the end.
 */
bool sdp_text_safe(char const *body, size_t len)
{
	if (!body || len > SDP_TEXT_MAX)
		return false;
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && body[e] != '\n')
			e++;
		size_t end = e > i && body[e - 1] == '\r' ? e - 1 : e;
		if (end == i) {
			/* A blank line: only blank lines may follow. */
			for (size_t k = e; k < len; k++)
				if (body[k] != '\r' && body[k] != '\n')
					return false;
			return true;
		}
		if (end - i < 2 || body[i] < 'a' || body[i] > 'z' || body[i + 1] != '=')
			return false;
		for (size_t k = i + 2; k < end; k++) {
			unsigned char ch = (unsigned char)body[k];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return false;
		}
		if (body[i] == 'm' && !media_line_ok(body + i + 2, end - i - 2))
			return false;
		i = e + 1;
	}
	return true;
}

sdp_parser_t *sdp_parse_checked(su_home_t *home, char const *body, size_t len)
{
	return sdp_text_safe(body, len) ? sdp_parse(home, body, (issize_t)len, 0) : NULL;
}

char const *sdp_origin_apply(struct sdp_origin *o, su_home_t *home, char const *body, size_t len,
			     size_t *out_len)
{
	*out_len = len;
	sdp_parser_t *p = sdp_parse_checked(home, body, len);
	sdp_session_t const *sdp = p ? sdp_session(p) : NULL;
	sdp_origin_t const *org = sdp ? sdp->sdp_origin : NULL;
	size_t s, e;
	bool ok = org && org->o_username && org->o_address && org->o_address->c_address &&
		  find_origin(body, len, &s, &e);
	char user[64] = "", nettype[8] = "IN", addrtype[8] = "IP4", address[80] = "";
	unsigned long long id = 0, version = 0;
	if (ok) {
		sdp_connection_t const *c = org->o_address;
		snprintf(user, sizeof(user), "%s", org->o_username);
		snprintf(address, sizeof(address), "%s", c->c_address);
		id = org->o_id;
		version = org->o_version;
		ok = c->c_nettype == sdp_net_in &&
		     (c->c_addrtype == sdp_addr_ip4 || c->c_addrtype == sdp_addr_ip6) &&
		     strlen(org->o_username) < sizeof(user) &&
		     strlen(c->c_address) < sizeof(address);
		if (c->c_addrtype == sdp_addr_ip6)
			snprintf(addrtype, sizeof(addrtype), "IP6");
	}
	if (p)
		sdp_parser_free(p);
	if (!ok)
		return body;
	uint64_t h = hash2(body, s, body + e, len - e);
	if (!o->set) {
		o->set = true;
		snprintf(o->user, sizeof(o->user), "%s", user);
		snprintf(o->nettype, sizeof(o->nettype), "%s", nettype);
		snprintf(o->addrtype, sizeof(o->addrtype), "%s", addrtype);
		snprintf(o->address, sizeof(o->address), "%s", address);
		o->id = id;
		o->version = version;
		o->hash = h;
		return body;
	}
	if (h != o->hash) {
		o->version++;
		o->hash = h;
	}
	char mine[256];
	int m = snprintf(mine, sizeof(mine), "o=%s %llu %llu %s %s %s", o->user, o->id, o->version,
			 o->nettype, o->addrtype, o->address);
	if (m < 0 || (size_t)m >= sizeof(mine))
		return body;
	if ((size_t)m == e - s && !memcmp(mine, body + s, (size_t)m))
		return body;
	size_t total = s + (size_t)m + (len - e);
	char *out = su_alloc(home, total + 1);
	if (!out)
		return body;
	memcpy(out, body, s);
	memcpy(out + s, mine, (size_t)m);
	memcpy(out + s + m, body + e, len - e);
	out[total] = '\0';
	*out_len = total;
	return out;
}
