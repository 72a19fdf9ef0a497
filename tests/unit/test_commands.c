/* The control protocol's command table (ctl/commands.c). */
#include "autoconfig.h"

#include <string.h>

#include "ctl/commands.h"
#include "tests/unit/tap.h"

/* Every command sipregctl sends, as documented in docs/control-protocol.md. */
static char const *const documented[] = {
	"config",      "log.level",	"trace",      "status",	    "user.add",	  "user.passwd",
	"user.del",    "user.list",	"device.add", "device.set", "device.del", "device.list",
	"device.show", "device.models", "line.add",   "line.del",   "line.list",  "line.show",
	"line.set",    "cdr.list",	"trunk.add",  "trunk.del",  "trunk.set",  "route.add",
	"route.del",   "reg.list",	"reg.show",   "reg.flush",  "ban.list",	  "ban.del",
	"call.list",   "call.hangup",	"trunk.list", "trunk.show", "route.list",
};

static void test_each_has_its_handler(void)
{
	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++) {
		struct ctl_command const *c = ctl_command_find(documented[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_STRING_EQUAL(c->name, documented[i]);
		/* Exactly the handler of the thread it runs on. */
		CU_ASSERT_EQUAL(c->local != NULL, c->thread == THREAD_MAIN);
		CU_ASSERT_EQUAL(c->store != NULL, c->thread == THREAD_STORE);
		CU_ASSERT_EQUAL(c->sip != NULL, c->thread == THREAD_SIP);
	}
}

static void test_kinds(void)
{
	CU_ASSERT_PTR_NULL(ctl_command_find("user"));
	CU_ASSERT_PTR_NULL(ctl_command_find("user.add.x"));
	CU_ASSERT_PTR_NULL(ctl_command_find(""));
	/* Changes to the configuration are marked (logged, a new directory). */
	CU_ASSERT_TRUE(ctl_command_find("line.set")->changes);
	CU_ASSERT_FALSE(ctl_command_find("line.list")->changes);
	CU_ASSERT_TRUE(ctl_command_find("status")->status);
	/* SIP-thread commands check the argument they cannot do without first. */
	CU_ASSERT_STRING_EQUAL(ctl_command_find("reg.flush")->required, "what");
	CU_ASSERT_STRING_EQUAL(ctl_command_find("ban.del")->required, "address");
}

static void test_describe_hides_passwords(void)
{
	char buf[256];
	json_t *args =
		json_pack("{s:s, s:s, s:i}", "name", "alice", "password", "s3cret", "index", 2);
	ctl_describe(buf, sizeof(buf), "user.add", args);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"name\"=\"alice\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"index\"=2"));
	CU_ASSERT_PTR_NULL(strstr(buf, "s3cret"));
	json_decref(args);
}

/* Keys and values are quoted: a request cannot write a log line of its own. */
static void test_describe_quotes(void)
{
	char buf[256];
	json_t *args = json_pack("{s:s}", "name\n2026-01-01 x", "a\" b=\"c\nd");
	ctl_describe(buf, sizeof(buf), "user.del", args);
	CU_ASSERT_PTR_NULL(strpbrk(buf, "\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"a\\\" b=\\\"c\\x0ad\""));
	json_decref(args);
}

static CU_TestInfo const tests[] = {
	{ "every command has the handler of its thread", test_each_has_its_handler },
	{ "unknown commands, changes, required arguments", test_kinds },
	{ "the log line of a request never holds a password", test_describe_hides_passwords },
	{ "the log line of a request quotes keys and values", test_describe_quotes },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("control commands", NULL, NULL, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
