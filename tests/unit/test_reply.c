/* The one table of answers (sip/reply.c) and the first checks of a request (sip/grammar.c). */
#include "autoconfig.h"

#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

#include "sip/grammar.h"
#include "sip/reply.h"
#include "tests/unit/tap.h"

static void test_every_outcome(void)
{
	for (int o = SIP_R_TRYING; o < SIP_R__COUNT; o++) {
		int st = sip_reply_status(o);
		CU_ASSERT(st >= 100 && st < 700);
		CU_ASSERT_PTR_NOT_NULL(sip_reply_phrase(o));
		CU_ASSERT(strlen(sip_reply_phrase(o)) > 0);
	}
	CU_ASSERT_EQUAL(sip_reply_status(SIP_R_BUSY), 486);
	CU_ASSERT_STRING_EQUAL(sip_reply_phrase(SIP_R_OUT_OF_ORDER), "Out of Order CSeq");
	CU_ASSERT_STRING_EQUAL(sip_reply_phrase(SIP_R_TOO_MANY_CONTACTS), "Too Many Contacts");
	/* Out of range: a server error, never a read past the table. */
	CU_ASSERT_EQUAL(sip_reply_status((enum sip_outcome)999), 500);
}

static void test_cisco_override(void)
{
	/* Refusals a Cisco phone would reboot on become 503 with Retry-After. */
	enum sip_outcome refused[] = { SIP_R_FORBIDDEN, SIP_R_NOT_FOUND, SIP_R_TOO_MANY_CONTACTS,
				       SIP_R_OUT_OF_ORDER, SIP_R_SERVER_ERROR };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		enum sip_outcome o = sip_reply_cisco(refused[i]);
		CU_ASSERT_EQUAL(sip_reply_status(o), 503);
		CU_ASSERT_STRING_EQUAL(sip_reply_retry_after(o), "30");
	}
	/* What it handles itself stays: a challenge, 423 with Min-Expires, a bad request. */
	enum sip_outcome kept[] = { SIP_R_OK, SIP_R_UNAUTHORIZED, SIP_R_INTERVAL_TOO_BRIEF,
				    SIP_R_BAD_REQUEST, SIP_R_BAD_CONTACT };
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		CU_ASSERT_EQUAL(sip_reply_cisco(kept[i]), kept[i]);
		CU_ASSERT_PTR_NULL(sip_reply_retry_after(kept[i]));
	}
}

static void test_results(void)
{
	CU_ASSERT_STRING_EQUAL(sip_reply_result(200), "answered");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(486), "busy");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(600), "busy");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(487), "cancelled");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(603), "declined");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(404), "not-found");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(482), "loop");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(480), "unavailable");
	CU_ASSERT_STRING_EQUAL(sip_reply_result(502), "failed");
}

static sip_t *parse(msg_t **m, char const *text)
{
	*m = msg_make(sip_default_mclass(), 0, text, (ssize_t)strlen(text));
	return *m ? sip_object(*m) : NULL;
}

#define REQ(ruri, extra)                                                                           \
	"OPTIONS " ruri " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"               \
	"From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>\r\nCall-ID: c1\r\n"                \
	"CSeq: 1 OPTIONS\r\n" extra "Content-Length: 0\r\n\r\n"

static void test_request_checks(void)
{
	char unsupported[64];
	msg_t *m;
	sip_t *sip = parse(&m, REQ("sip:b@192.0.2.2", ""));
	CU_ASSERT_EQUAL(sip_request_check(sip, unsupported, sizeof(unsupported)), SIP_R_NONE);
	msg_destroy(m);
	sip = parse(&m, REQ("tel:+15551234", ""));
	CU_ASSERT_EQUAL(sip_request_check(sip, unsupported, sizeof(unsupported)),
			SIP_R_UNSUPPORTED_URI);
	msg_destroy(m);
	sip = parse(&m, REQ("sip:b@192.0.2.2", "Require: 100rel, foo, bar\r\n"));
	CU_ASSERT_EQUAL(sip_request_check(sip, unsupported, sizeof(unsupported)),
			SIP_R_BAD_EXTENSION);
	CU_ASSERT_STRING_EQUAL(unsupported, "foo, bar");
	msg_destroy(m);
	sip = parse(&m, REQ("sip:b@192.0.2.2", "Max-Forwards: many\r\n"));
	CU_ASSERT_EQUAL(sip_request_check(sip, unsupported, sizeof(unsupported)),
			SIP_R_BAD_MAX_FORWARDS);
	CU_ASSERT_EQUAL(sip_reply_status(SIP_R_BAD_MAX_FORWARDS), 400);
	msg_destroy(m);
}

static CU_TestInfo const tests[] = {
	{ "every outcome has a status and a phrase", test_every_outcome },
	{ "a Cisco phone gets 503 for the refusals it reboots on", test_cisco_override },
	{ "call records name final statuses", test_results },
	{ "the first checks of a request name their outcome", test_request_checks },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("replies", NULL, NULL, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
