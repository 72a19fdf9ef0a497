/* The remotecc bodies sipregd pushes to Cisco phones (cisco/remotecc.c), read back as XML. */
#include "autoconfig.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "cisco/remotecc.h"
#include "tests/unit/tap.h"

static su_home_t home[1] = { SU_HOME_INIT(home) };

/* The text of the node at xpath in the document doc, "" when there is none. */
static char const *at(char const *doc, char const *xpath)
{
	static char buf[128];
	buf[0] = '\0';
	xmlDocPtr d = xmlReadMemory(doc, (int)strlen(doc), "remotecc.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	xmlXPathContextPtr ctx = xmlXPathNewContext(d);
	xmlXPathObjectPtr r = ctx ? xmlXPathEvalExpression((xmlChar const *)xpath, ctx) : NULL;
	if (r && r->nodesetval && r->nodesetval->nodeNr > 0) {
		xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
		snprintf(buf, sizeof(buf), "%s", t ? (char const *)t : "");
		xmlFree(t);
	}
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(d);
	return buf;
}

static void test_dnd(void)
{
	char *on = cisco_remotecc_dnd(home, true), *off = cisco_remotecc_dnd(home, false);
	CU_ASSERT_STRING_EQUAL(at(on, "/x-cisco-remotecc-request/dndupdate/state"), "enable");
	CU_ASSERT_STRING_EQUAL(at(on, "/x-cisco-remotecc-request/dndupdate/option"), "callreject");
	CU_ASSERT_STRING_EQUAL(at(off, "/x-cisco-remotecc-request/dndupdate/state"), "disable");
}

static void test_cfwdall(void)
{
	char *set = cisco_remotecc_cfwdall(home, 2, "2001");
	CU_ASSERT_STRING_EQUAL(at(set, "//cfwdallupdate/linenumber"), "2");
	CU_ASSERT_STRING_EQUAL(at(set, "//cfwdallupdate/fwdaddress"), "2001");
	CU_ASSERT_STRING_EQUAL(at(set, "//cfwdallupdate/tovoicemail"), "off");
	char *clear = cisco_remotecc_cfwdall(home, 1, NULL);
	CU_ASSERT_STRING_EQUAL(at(clear, "//cfwdallupdate/linenumber"), "1");
	CU_ASSERT_STRING_EQUAL(at(clear, "//cfwdallupdate/fwdaddress"), "");
}

static void test_body(void)
{
	char const *type = NULL;
	char *one[] = { cisco_remotecc_dnd(home, true) };
	CU_ASSERT_PTR_EQUAL(cisco_remotecc_body(home, one, 1, &type), one[0]);
	CU_ASSERT_STRING_EQUAL(type, CISCO_REMOTECC_TYPE);
	CU_ASSERT_PTR_NULL(cisco_remotecc_body(home, one, 0, &type));
	char *three[] = { cisco_remotecc_dnd(home, false), cisco_remotecc_cfwdall(home, 1, "3001"),
			  cisco_remotecc_cfwdall(home, 2, "") };
	char *body = cisco_remotecc_body(home, three, 3, &type);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(type, "multipart/mixed; boundary=uniqueBoundary");
	/* Three parts, each typed, closed by the final delimiter. */
	size_t parts = 0;
	for (char const *p = body;
	     (p = strstr(p,
			 "--uniqueBoundary\r\nContent-Type: " CISCO_REMOTECC_TYPE "\r\n\r\n<?xml"));
	     p++)
		parts++;
	CU_ASSERT_EQUAL(parts, 3);
	size_t len = strlen(body);
	CU_ASSERT(len > 20 && !strcmp(body + len - 20, "--uniqueBoundary--\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "<fwdaddress>3001</fwdaddress>"));
}

static int teardown(void)
{
	su_home_deinit(home);
	xmlCleanupParser();
	return 0;
}

static CU_TestInfo const tests[] = {
	{ "do not disturb update", test_dnd },
	{ "call forward all update", test_cfwdall },
	{ "one update, or several as a multipart body", test_body },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("remotecc bodies", NULL, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
