/* One SDP origin per side of a call (b2bua/sdp_origin.c). */
#include "autoconfig.h"

#include <string.h>

#include <sofia-sip/su_alloc.h>

#include "b2bua/sdp_origin.h"
#include "tests/unit/tap.h"

#define SDP(o, port)                                                                               \
	"v=0\r\n" o "\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio " port " RTP/AVP 0\r\n"

static su_home_t *home;

static int setup(void)
{
	home = su_home_new(sizeof(*home));
	return home ? 0 : -1;
}

static int teardown(void)
{
	su_home_unref(home);
	return 0;
}

static char const *apply(struct sdp_origin *o, char const *body)
{
	size_t n;
	char const *out = sdp_origin_apply(o, home, body, strlen(body), &n);
	CU_ASSERT_EQUAL(strlen(out), n);
	return out;
}

static void test_first_passes(void)
{
	struct sdp_origin o = { 0 };
	char const *a = SDP("o=alice 100 7 IN IP4 192.0.2.1", "4000");
	CU_ASSERT_PTR_EQUAL(apply(&o, a), a); /* byte for byte, the same text */
	CU_ASSERT_TRUE(o.set);
	CU_ASSERT_EQUAL(o.id, 100);
	CU_ASSERT_EQUAL(o.version, 7);
	/* The same description again: the same version, unchanged. */
	CU_ASSERT_PTR_EQUAL(apply(&o, a), a);
	CU_ASSERT_EQUAL(o.version, 7);
}

static void test_other_party(void)
{
	struct sdp_origin o = { 0 };
	apply(&o, SDP("o=alice 100 7 IN IP4 192.0.2.1", "4000"));
	/* Another phone's description: alice's origin, version 8, the rest as it came. */
	char const *out = apply(&o, SDP("o=bob 555 1 IN IP4 192.0.2.9", "5000"));
	CU_ASSERT_STRING_EQUAL(out, SDP("o=alice 100 8 IN IP4 192.0.2.1", "5000"));
	/* It again (a refresh with its own version raised): no change, still 8. */
	out = apply(&o, SDP("o=bob 555 2 IN IP4 192.0.2.9", "5000"));
	CU_ASSERT_STRING_EQUAL(out, SDP("o=alice 100 8 IN IP4 192.0.2.1", "5000"));
	/* A change (hold, another port): 9. */
	out = apply(&o, SDP("o=bob 555 3 IN IP4 192.0.2.9", "5002"));
	CU_ASSERT_STRING_EQUAL(out, SDP("o=alice 100 9 IN IP4 192.0.2.1", "5002"));
}

static void test_not_sdp(void)
{
	struct sdp_origin o = { 0 };
	char const *t = "not a session description";
	CU_ASSERT_PTR_EQUAL(apply(&o, t), t);
	CU_ASSERT_FALSE(o.set);
	char const *no_origin = "v=0\r\ns=-\r\nt=0 0\r\n";
	CU_ASSERT_PTR_EQUAL(apply(&o, no_origin), no_origin);
	CU_ASSERT_FALSE(o.set);
}

/* Descriptions Debian's sofia parser would loop on for ever are not handed to it. */
static void test_parser_traps(void)
{
	struct sdp_origin o = { 0 };
	char const *traps[] = {
		"v=0\r\no=bob 1 1 IN IP4 192.0.2.4\r\ns=-\r\nt=0 0\r\nm=audio 1 R\xff\xff",
		"v=0\r\no=bob 1 1 IN IP4 192.0.2.4\r\ns=-\r\nt=0 0\r\nm=audio 4917PTRV /2AP 0\r\n",
		"v=0\r\no=bob 1 1 IN IP4 192.0.2.4\r\ns=-\r\nt=0 0\r\nm=audio 1 X \"a\"\r\n",
		"v=0\r\n\r\no=bob 1 1 IN IP4 192.0.2.4\r\n",
		"v=0\r\nx\r\n",
	};
	for (size_t i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
		CU_ASSERT_FALSE(sdp_text_safe(traps[i], strlen(traps[i])));
		CU_ASSERT_PTR_EQUAL(apply(&o, traps[i]), traps[i]);
	}
	CU_ASSERT_FALSE(o.set);
	char const *fine = SDP("o=alice 100 9 IN IP4 192.0.2.1", "5002");
	CU_ASSERT_TRUE(sdp_text_safe(fine, strlen(fine)));
	char const *video = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=\xc3\xa9\r\nt=0 0\r\n"
			    "m=audio 5002/2 RTP/SAVP 0 8 101\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
			    "m=application 9 TCP/BFCP *\r\n\r\n";
	CU_ASSERT_TRUE(sdp_text_safe(video, strlen(video)));
}

static CU_TestInfo const tests[] = {
	{ "descriptions that would trap the parser are not parsed", test_parser_traps },
	{ "the first description passes and sets the origin", test_first_passes },
	{ "another party's description keeps the origin", test_other_party },
	{ "what is no SDP passes", test_not_sdp },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("SDP origin", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
