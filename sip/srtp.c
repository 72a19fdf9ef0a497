/*
 * SRTP keys travel in the session description (SDES, RFC 4568): on a leg
 * that is not TLS they are in clear for anyone on the path, and whoever
 * reads them reads the media. sipregd sends them only where both the leg
 * they come from and the leg they go to are TLS; toward any other, the
 * description goes without them when the offer also allows plain RTP, and
 * the call is refused (488) when it does not. Line by line, without a
 * parser: the rest of the description passes byte for byte.
 */
#include "autoconfig.h"

#include "sip/srtp.h"

#include <string.h>
#include <strings.h>

/* The next line of [p, end): its length without the line end, and where the next starts. */
static char const *next_line(char const *p, char const *end, size_t *len)
{
	char const *nl = memchr(p, '\n', (size_t)(end - p));
	char const *stop = nl ? nl : end;
	*len = (size_t)(stop - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : end;
}

static bool starts(char const *p, size_t len, char const *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && !strncasecmp(p, prefix, n);
}

/* The transport protocol of an m= line ("RTP/SAVP"), as a pointer and length. */
static char const *m_proto(char const *p, size_t len, size_t *plen)
{
	char const *end = p + len, *q = p;
	for (int field = 0; field < 2; field++) { /* skip "m=audio" and the port */
		while (q < end && *q != ' ')
			q++;
		while (q < end && *q == ' ')
			q++;
	}
	char const *s = q;
	while (q < end && *q != ' ')
		q++;
	*plen = (size_t)(q - s);
	return s;
}

bool srtp_has_keys(char const *sdp, size_t len)
{
	char const *p = sdp, *end = sdp + len;
	while (p < end) {
		size_t n;
		char const *line = p;
		p = next_line(p, end, &n);
		if (starts(line, n, "a=crypto:"))
			return true;
	}
	return false;
}

bool srtp_plain_allowed(char const *sdp, size_t len, bool fallback_header)
{
	char const *p = sdp, *end = sdp + len;
	bool saved_only = false, in_savp = false, keys = false;
	if (fallback_header)
		return true;
	while (p < end) {
		size_t n, plen;
		char const *line = p;
		p = next_line(p, end, &n);
		if (starts(line, n, "m=")) {
			char const *proto = m_proto(line, n, &plen);
			in_savp = plen >= 8 && !strncasecmp(proto, "RTP/SAVP", 8);
		} else if (starts(line, n, "a=crypto:")) {
			keys = true;
			saved_only |= in_savp;
		} else if (starts(line, n, "a=X-cisco-srtp-fallback")) {
			return true;
		}
	}
	return keys && !saved_only;
}

long srtp_strip(char const *sdp, size_t len, char *out, size_t outlen)
{
	char const *p = sdp, *end = sdp + len;
	size_t o = 0;
	while (p < end) {
		size_t n, plen;
		char const *line = p;
		p = next_line(p, end, &n);
		size_t whole = (size_t)(p - line); /* with its line end */
		if (starts(line, n, "a=crypto:"))
			continue;
		if (o + whole + 1 > outlen)
			return -1;
		if (starts(line, n, "m=")) {
			char const *proto = m_proto(line, n, &plen);
			if (plen >= 8 && !strncasecmp(proto, "RTP/SAVP", 8)) {
				/* RTP/SAVP -> RTP/AVP, RTP/SAVPF -> RTP/AVPF: one byte less. */
				size_t at = (size_t)(proto - line) + 4;
				memcpy(out + o, line, at);
				memcpy(out + o + at, line + at + 1, whole - at - 1);
				o += whole - 1;
				continue;
			}
		}
		memcpy(out + o, line, whole);
		o += whole;
	}
	out[o] = '\0';
	return (long)o;
}

void srtp_mask(char *text)
{
	for (char *p = text; (p = strstr(p, "a=crypto:"));) {
		char *key = strstr(p, "inline:");
		char *eol = p + strcspn(p, "\r\n");
		p += 9;
		if (!key || key > eol)
			continue;
		key += 7;
		/* The key and its lifetime/MKI parameters up to the line's end. */
		for (; key < eol && *key != ' '; key++)
			*key = '*';
	}
}
