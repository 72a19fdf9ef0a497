/*
 * Fuzz harness: responses to the requests sipregd sends, up to six per
 * input (separated by NUL bytes), each answering the latest request the
 * peer received, with that request's Via, From, To (tagged), Call-ID and
 * CSeq put in after the status line the input gives; "$peer" in the input
 * becomes the peer's own address. The first byte picks the request:
 *   '0' a call from the trunk to DID 5550100 rings bob's phone: the
 *       responses are bob's, to the B leg's INVITE;
 *   '1' alice dials 0123456 out through the trunk: the responses are the
 *       provider's (a 401/407 makes sipregd answer the challenge);
 *   '2' the trunk's own REGISTER (sent again a second after a failure).
 * Every 32 inputs the calls left are hung up.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/stack.h"

#define MSG_MAX 16384

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	stack_open();
	return 0;
}

/* The latest request waiting at peer p, into req (kept when none is new). */
static bool latest_request(enum stack_peer p, char *req)
{
	static char buf[MSG_MAX];
	bool got = false;
	while (stack_recv(p, buf, sizeof(buf)))
		if (strncmp(buf, "SIP/2.0 ", 8) != 0) {
			memcpy(req, buf, sizeof(buf));
			got = true;
		}
	return got;
}

static void start_call(int mode, unsigned long id)
{
	static char const sdp[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\n"
				  "t=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n";
	char msg[1024];
	enum stack_peer from = mode == 0 ? STACK_TRUNK : STACK_PHONE;
	char const *to = mode == 0 ? "5550100" : "0123456";
	char const *caller = mode == 0 ? "4930123456" : "100";
	int n = snprintf(msg, sizeof(msg),
			 "INVITE sip:%s@%s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK-call%lu\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:%s@%s>;tag=a%lu\r\n"
			 "To: <sip:%s@%s>\r\n"
			 "Call-ID: fuzz-call-%lu@fuzz\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Contact: <sip:%s@%s>\r\n"
			 "Content-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 to, stack_server(), stack_peer_addr(from), id, caller, stack_server(), id,
			 to, stack_server(), id, caller, stack_peer_addr(from), strlen(sdp), sdp);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (mode == 0)
		stack_send(from, msg, (size_t)n);
	else
		stack_send_auth(from, "alice", msg, (size_t)n);
}

/* "$peer" replaced by the peer's address. */
static size_t expand(char *out, size_t cap, char const *in, size_t len, char const *peer)
{
	size_t o = 0, pl = strlen(peer);
	for (size_t i = 0; i < len && o + pl < cap; i++) {
		if (len - i >= 5 && !memcmp(in + i, "$peer", 5)) {
			memcpy(out + o, peer, pl);
			o += pl;
			i += 4;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static void respond(enum stack_peer p, char const *req, char const *chunk, size_t len)
{
	static char body[MSG_MAX], out[2 * MSG_MAX + 4096];
	char vias[4096], from[512] = "", to[512] = "", callid[256] = "", cseq[64] = "";
	size_t bl = expand(body, sizeof(body), chunk, len, stack_peer_addr(p));
	size_t first = 0;
	while (first < bl && body[first] != '\n')
		first++;
	size_t status = first && body[first - 1] == '\r' ? first - 1 : first;
	stack_vias(req, vias, sizeof(vias));
	stack_header(req, "From", from, sizeof(from));
	stack_header(req, "To", to, sizeof(to));
	stack_header(req, "Call-ID", callid, sizeof(callid));
	stack_header(req, "CSeq", cseq, sizeof(cseq));
	int n = snprintf(out, sizeof(out),
			 "%.*s\r\n%sFrom: %s\r\nTo: %s%s\r\nCall-ID: %s\r\nCSeq: %s\r\n",
			 (int)status, body, vias, from, to, strstr(to, "tag=") ? "" : ";tag=fz1",
			 callid, cseq);
	if (n < 0 || (size_t)n >= sizeof(out))
		return;
	size_t used = (size_t)n;
	if (first < bl) {
		size_t rest = bl - first - 1;
		if (used + rest > sizeof(out))
			rest = sizeof(out) - used;
		memcpy(out + used, body + first + 1, rest);
		used += rest;
	} else {
		memcpy(out + used, "Content-Length: 0\r\n\r\n", 21);
		used += 21;
	}
	stack_send(p, out, used);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	static unsigned long calls;
	static char req[MSG_MAX];
	if (size < 1 || size > 4 * MSG_MAX)
		return 0;
	int mode = data[0] % 3;
	enum stack_peer p = mode == 0 ? STACK_CALLEE : mode == 1 ? STACK_TRUNK : STACK_REGISTRAR;
	req[0] = '\0';
	if (mode != 2) {
		stack_drain();
		start_call(mode, ++calls);
	}
	char const *d = (char const *)data + 1;
	size_t left = size - 1;
	for (int i = 0; i < 6 && left; i++) {
		char const *end = memchr(d, '\0', left);
		size_t len = end ? (size_t)(end - d) : left;
		latest_request(p, req);
		if (req[0])
			respond(p, req, d, len);
		d += len + (end ? 1 : 0);
		left -= len + (end ? 1 : 0);
	}
	if (mode != 2)
		stack_drain();
	stack_tick();
	if (calls % 32 == 0)
		stack_hangup_all();
	return 0;
}
