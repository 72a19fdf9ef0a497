/*
 * The node link's messages read as sipregd reads them: the list of
 * registrations one node sends the other (R), whole and as changes, and
 * what is refused before anything reaches the registrar.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "ha/wire.h"
#include "tests/unit/tap.h"

static int decode(char const *json, struct ha_regs *r)
{
	char why[160];
	return ha_regs_decode(json, strlen(json), r, why, sizeof(why));
}

static void test_regs_whole_and_changes(void)
{
	struct ha_regs r, again;
	CU_ASSERT_EQUAL_FATAL(decode("{\"full\":true,\"host\":\"127.0.0.2\",\"port\":5071,\"regs\":"
				     "[[\"1000\",\"SEP001122334455\",1800000000]]}",
				     &r),
			      0);
	CU_ASSERT(r.full);
	CU_ASSERT_STRING_EQUAL(r.host, "127.0.0.2");
	CU_ASSERT_EQUAL(r.port, 5071);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(r.regs[0].dn, "1000");
	CU_ASSERT_STRING_EQUAL(r.regs[0].device, "SEP001122334455");
	CU_ASSERT_EQUAL(r.regs[0].expires_at, 1800000000LL);
	char *text = ha_regs_encode(&r);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_EQUAL_FATAL(decode(text, &again), 0);
	CU_ASSERT_EQUAL(again.n, 1);
	CU_ASSERT_EQUAL(again.port, 5071);
	free(text);
	free(again.regs);
	free(r.regs);

	CU_ASSERT_EQUAL_FATAL(decode("{\"full\":false,\"regs\":[[\"1000\",\"x\",0]]}", &r), 0);
	CU_ASSERT_FALSE(r.full);
	CU_ASSERT_EQUAL(r.port, -1); /* a list of changes says nothing of the transport */
	CU_ASSERT_EQUAL(r.regs[0].expires_at, 0);
	free(r.regs);
}

static void test_regs_refused(void)
{
	static char const *const bad[] = {
		"",
		"[]",
		"{\"regs\":[]}",						/* full missing */
		"{\"full\":1,\"regs\":[]}",					/* not a boolean */
		"{\"full\":false,\"regs\":{}}",					/* not a list */
		"{\"full\":false,\"regs\":[[\"1000\",\"x\"]]}",			/* two fields */
		"{\"full\":false,\"regs\":[[\"1000\",\"x\",-1]]}",		/* before 1970 */
		"{\"full\":false,\"regs\":[[\"\",\"x\",1]]}",			/* no line */
		"{\"full\":false,\"regs\":[[1000,\"x\",1]]}",			/* not text */
		"{\"full\":false,\"regs\":[[\"012345678901234567890123456789012\",\"x\",1]]}",
		"{\"full\":true,\"host\":\"127.0.0.2\",\"port\":70000,\"regs\":[]}",
		"{\"full\":true,\"host\":\"evil.example\",\"port\":5071,\"regs\":[]}",
		"{\"full\":true,\"host\":\"127.0.0.2\",\"regs\":[]}",		/* no port */
		"{\"full\":false,\"full\":true,\"regs\":[]}",			/* twice */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ha_regs r;
		int rc = decode(bad[i], &r);
		CU_ASSERT_EQUAL(rc, -1);
		if (rc == 0)
			free(r.regs);
	}
}

static CU_TestInfo tests[] = {
	{ "registrations: a whole list and a change, read back as written",
	  test_regs_whole_and_changes },
	{ "registrations: malformed lists refused", test_regs_refused },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("wire", NULL, NULL, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
