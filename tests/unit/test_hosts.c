/*
 * Trunk hosts (sip/hosts.c): numeric hosts are their own address at once;
 * owners found by address; a new set keeps what it names and drops the rest.
 * Names that need DNS are resolved in tests/e2e/dns.sh against a DNS
 * server of the test's own.
 */
#include "autoconfig.h"

#include <string.h>

#include <sofia-sip/su_wait.h>

#include "sip/hosts.h"
#include "tests/unit/tap.h"

static su_root_t *root;
static hosts_t *h;

static int setup(void)
{
	su_init();
	root = su_root_create(NULL);
	return root && hosts_create(&h, root, NULL) == 0 ? 0 : -1;
}

static int teardown(void)
{
	hosts_destroy(h);
	su_root_destroy(root);
	su_deinit();
	return 0;
}

static char *addresses(char const *owner)
{
	static char buf[256];
	json_t *arr = json_array();
	hosts_addresses(h, owner, arr);
	char *s = json_dumps(arr, JSON_COMPACT);
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	free(s);
	json_decref(arr);
	return buf;
}

static void test_numeric(void)
{
	char const *names[] = { "192.0.2.10:5060", "[2001:db8::1]:5061", "192.0.2.11", "::1",
				"192.0.2.10" };
	char const *owners[] = { "fb", "fb", "gw", "gw", "fb" };
	hosts_set(h, names, owners, 5);
	CU_ASSERT_STRING_EQUAL(hosts_owner(h, "192.0.2.10"), "fb");
	CU_ASSERT_STRING_EQUAL(hosts_owner(h, "2001:db8::1"), "fb");
	CU_ASSERT_STRING_EQUAL(hosts_owner(h, "::1"), "gw");
	CU_ASSERT_PTR_NULL(hosts_owner(h, "192.0.2.12"));
	CU_ASSERT_PTR_NULL(hosts_owner(NULL, "192.0.2.10"));
	/* In the order of the names, each address once. */
	CU_ASSERT_STRING_EQUAL(addresses("fb"), "[\"192.0.2.10\",\"2001:db8::1\"]");
	CU_ASSERT_STRING_EQUAL(addresses("gw"), "[\"192.0.2.11\",\"::1\"]");
	CU_ASSERT_STRING_EQUAL(addresses("none"), "[]");
}

static void test_replace(void)
{
	char const *names[] = { "192.0.2.11", "198.51.100.7:5080" };
	char const *owners[] = { "gw", "itsp" };
	hosts_set(h, names, owners, 2);
	CU_ASSERT_PTR_NULL(hosts_owner(h, "192.0.2.10")); /* fb is gone */
	CU_ASSERT_STRING_EQUAL(hosts_owner(h, "192.0.2.11"), "gw");
	CU_ASSERT_PTR_NULL(hosts_owner(h, "::1"));
	CU_ASSERT_STRING_EQUAL(hosts_owner(h, "198.51.100.7"), "itsp");
	/* Names without an owner, empty names: ignored. */
	char const *odd[] = { "", NULL, "192.0.2.99" };
	char const *who[] = { "a", "b", NULL };
	hosts_set(h, odd, who, 3);
	CU_ASSERT_PTR_NULL(hosts_owner(h, "192.0.2.99"));
	CU_ASSERT_PTR_NULL(hosts_owner(h, "192.0.2.11"));
}

static CU_TestInfo const tests[] = {
	{ "numeric hosts are their own address", test_numeric },
	{ "a new set replaces the old", test_replace },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("trunk hosts", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
