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

char const *sdp_origin_apply(struct sdp_origin *o, su_home_t *home, char const *body, size_t len,
			     size_t *out_len)
{
	*out_len = len;
	sdp_parser_t *p = sdp_parse(home, body, (issize_t)len, 0);
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
