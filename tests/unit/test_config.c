#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cidr.h"
#include "daemon/config.h"
#include "tests/unit/tap.h"

static struct config cfg;
static char err[700];

static int load(char const *text)
{
	config_defaults(&cfg);
	err[0] = '\0';
	return config_load_string(&cfg, "test.conf", text, err, sizeof(err));
}

/* The text must fail on the given line with a message holding want. */
static void expect_error(char const *text, unsigned line, char const *want)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "test.conf:%u: ", line);
	CU_ASSERT_EQUAL(load(text), -EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, prefix, strlen(prefix)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
		printf("# got '%s', wanted '%s...%s'\n", err, prefix, want);
}

static void test_defaults(void)
{
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(cfg.n_listen, 1);
	CU_ASSERT_STRING_EQUAL(cfg.listen[0].host, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.listen[0].port, 5060);
	CU_ASSERT_STRING_EQUAL(cfg.realm, "sipreg");
	CU_ASSERT_STRING_EQUAL(cfg.store_path, "sipreg.db");
	CU_ASSERT_STRING_EQUAL(cfg.ctl_socket, "sipregd.sock");
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LVL_INFO);
	CU_ASSERT_EQUAL(cfg.log_target, LOG_TARGET_STDERR);
	/* An empty file is the defaults. */
	CU_ASSERT_EQUAL(load(""), 0);
	CU_ASSERT_EQUAL(cfg.listen[0].port, 5060);
}

static void test_full_file(void)
{
	int rc = load("# a comment\n"
		      "; another comment\n"
		      "\n"
		      "[sip]\n"
		      "listen = 127.0.0.2:5070, [::1]:5080\n"
		      "listen = 127.0.0.3:5090\n"
		      "realm = lab.example\n"
		      "[store]\n"
		      "path = /var/lib/sipreg/db\n"
		      "flush_interval_ms = 250\n"
		      "[ctl]\n"
		      "socket = /run/sipreg.sock\n"
		      "[log]\n"
		      "level = debug\n"
		      "target = syslog\n"
		      "[security]\n"
		      "ban_failures = 3\n"
		      "ban_window = 30\n"
		      "ban_time = 900\n");
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		printf("# %s\n", err);
	CU_ASSERT_EQUAL(cfg.n_listen, 3);
	CU_ASSERT_STRING_EQUAL(cfg.listen[0].host, "127.0.0.2");
	CU_ASSERT_EQUAL(cfg.listen[0].port, 5070);
	CU_ASSERT_STRING_EQUAL(cfg.listen[1].host, "::1");
	CU_ASSERT_EQUAL(cfg.listen[1].port, 5080);
	CU_ASSERT_EQUAL(cfg.listen[2].port, 5090);
	CU_ASSERT_STRING_EQUAL(cfg.realm, "lab.example");
	CU_ASSERT_STRING_EQUAL(cfg.store_path, "/var/lib/sipreg/db");
	CU_ASSERT_EQUAL(cfg.store_flush_ms, 250);
	CU_ASSERT_STRING_EQUAL(cfg.ctl_socket, "/run/sipreg.sock");
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LVL_DEBUG);
	CU_ASSERT_EQUAL(cfg.log_target, LOG_TARGET_SYSLOG);
	CU_ASSERT_EQUAL(cfg.ban_failures, 3);
	CU_ASSERT_EQUAL(cfg.ban_window, 30);
	CU_ASSERT_EQUAL(cfg.ban_time, 900);

	char buf[96];
	config_listen_format(&cfg.listen[1], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "[::1]:5080");
}

static void test_spacing(void)
{
	CU_ASSERT_EQUAL(load("[log]\n   level=info   \r\n"), 0);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LVL_INFO);
	CU_ASSERT_EQUAL(load("[log]\nlevel = WARNING"), 0); /* no final newline */
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LVL_WARNING);
}

static void test_unknown_names(void)
{
	expect_error("[sip]\nrealm = a\nlisten_on = 1.2.3.4:5\n", 3, "unknown key 'listen_on'");
	expect_error("[sipp]\nrealm = a\n", 1, "unknown section [sipp]");
	expect_error("[sip]\nrealm = a\n[nosuch]\n", 3, "unknown section [nosuch]");
	expect_error("realm = a\n", 1, "before any [section]");
}

static void test_bad_values(void)
{
	expect_error("[store]\nflush_interval_ms = abc\n", 2, "not a whole number");
	expect_error("[store]\nflush_interval_ms = -5\n", 2, "not a whole number");
	expect_error("[store]\nflush_interval_ms = 5\n", 2, "from 10 to 10000");
	expect_error("[security]\nban_failures = 99999999999999999999\n", 2, "not a whole number");
	expect_error("[security]\nban_time = 0\n", 2, "not a whole number");
	expect_error("[log]\nlevel = loud\n", 2, "not a log level");
	expect_error("[log]\nlevel = debug # trailing\n", 2, "not a log level");
	expect_error("[log]\ntarget = file\n", 2, "not a log target");
	expect_error("[sip]\nrealm = a\"b\n", 2, "realm may hold only");
	expect_error("[sip]\nrealm = a b\n", 2, "realm may hold only");
	expect_error("[store]\npath =\n", 2, "path is required");
}

static void test_bad_listen(void)
{
	expect_error("[sip]\nlisten = 127.0.0.1\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten = 127.0.0.1:0\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten = 127.0.0.1:65536\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten = localhost:5060\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten = ::1:5060\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten = [::1:5060\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten = 127.0.0.1:5060x\n", 2, "is not an address:port");
	expect_error("[sip]\nlisten =\n", 2, "at least one");
	expect_error("[sip]\nlisten = 127.0.0.1:5060 127.0.0.1:5060\n", 2, "given twice");
}

static void test_syntax(void)
{
	expect_error("[sip]\nrealm = a\njust words\n", 3, "expected '[section]'");
	expect_error("[sip\nrealm = a\n", 1, "expected '[section]'");
	expect_error("[sip]\nrealm = a\nrealm = b\n", 3, "already set on line 2");
	/* The first error is the one reported. */
	expect_error("[sip]\nnope = 1\n[log]\nlevel = x\n", 2, "unknown key 'nope'");
	expect_error("[sip]\nwhat\nnope = 1\n", 2, "expected '[section]'");
}

/* Lines longer than inih's buffer, up to 4,096 bytes, are read like the others. */
static void test_long_line(void)
{
	char text[6000], list[300] = "";
	for (int i = 0; strlen(list) < 230; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.%d.0.0/16",
			 i ? " " : "", i);
	snprintf(text, sizeof(text),
		 "[registrar]\nidentify_from =   %s   ; ranges\n[log]\nlevel = info\n", list);
	CU_ASSERT_EQUAL(load(text), 0);
	CU_ASSERT_STRING_EQUAL(cfg.identify_from, list);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LVL_INFO);
	/* Its value is checked as any other. */
	int n = snprintf(text, sizeof(text), "[sip]\nrealm = ");
	memset(text + n, 'a', 300);
	snprintf(text + n + 300, sizeof(text) - (size_t)n - 300, "\n[log]\nlevel = info\n");
	expect_error(text, 2, "a realm of 1 to 127 characters");
	/* A long comment is a comment; a long line that is no key = value is an error. */
	n = snprintf(text, sizeof(text), "[sip]\n; ");
	memset(text + n, 'c', 400);
	snprintf(text + n + 400, sizeof(text) - (size_t)n - 400, "\nrealm = x\n");
	CU_ASSERT_EQUAL(load(text), 0);
	n = snprintf(text, sizeof(text), "[sip]\n");
	memset(text + n, 'k', 400);
	snprintf(text + n + 400, sizeof(text) - (size_t)n - 400, "\n");
	expect_error(text, 2, "expected 'key = value'");
	/* Beyond 4,096 bytes: an error. */
	n = snprintf(text, sizeof(text), "[sip]\nrealm = ");
	memset(text + n, 'a', 5000);
	text[n + 5000] = '\0';
	expect_error(text, 2, "the line is longer than 4096 characters");
}

static void test_file(void)
{
	char path[] = "/tmp/sipreg-test-config-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("[sip]\nrealm = ok\n\n[log]\nlevel = verbose\n", f);
	fclose(f);
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, path, err, sizeof(err)), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s:5: ", path);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	unlink(path);
	CU_ASSERT_EQUAL(config_load(&cfg, path, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
}

/* Values by their meaning: hosts and ports, a value that is a comment, escaped errors. */
static void test_typed_values(void)
{
	static char const *const good[] = { "pbx.example.com",
					    "pbx.example.com.",
					    "fritz.box:5060",
					    "192.0.2.1:5062",
					    "[2001:db8::1]:5060",
					    "[::1]",
					    "a-b.c" };
	static char const *const bad[] = { "a..b",	 "-host", "host-",  "999.1.1.1",  "1.2.3",
					   "[zz]:1",	 "[::1",  "host:0", "host:65536", "host:",
					   "host:5060x", "ho st", "h_st",   ":5060" };
	char text[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "[sip]\nadvertise = %s\n", good[i]);
		CU_ASSERT_EQUAL(load(text), 0);
		CU_ASSERT_STRING_EQUAL(cfg.advertise, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[sip]\nadvertise = %s\n", bad[i]);
		expect_error(text, 2, "is not HOST or HOST:PORT");
	}
	/* inih would read these values as empty: refused instead. */
	expect_error("[sip]\nadvertise = ;;;@@@:99999\n", 2, "begins with ';'");
	expect_error("[sip]\nrealm = #x\n", 2, "begins with '#'");
	/* Comments and empty values are still fine. */
	CU_ASSERT_EQUAL(load("; a comment\n[sip]\n# another\nadvertise =\n"), 0);
	/* The bytes an error quotes are escaped. */
	expect_error("[sip]\nrea\033[31mlm\001 = x\n", 2, "'rea\\x1b[31mlm\\x01'");
	expect_error("[sip]\nrealm = caf\xc3\xa9\n", 2, "printable");
	expect_error("[log]\nlevel = \xff\xfe\n", 2, "'\\xff\\xfe' is not a log level");
	/* The TCP limits. */
	CU_ASSERT_EQUAL(load("[sip]\ntcp_message_timeout = 5\ntcp_idle_timeout = 30\n"
			     "tcp_max_per_source = 8\ntcp_backlog = 128\n"
			     "[registrar]\ndevice_contacts = 3\n"),
			0);
	CU_ASSERT_EQUAL(cfg.tcp_message_timeout, 5);
	CU_ASSERT_EQUAL(cfg.tcp_idle_timeout, 30);
	CU_ASSERT_EQUAL(cfg.tcp_max_per_source, 8);
	CU_ASSERT_EQUAL(cfg.tcp_backlog, 128);
	CU_ASSERT_EQUAL(cfg.device_contacts, 3);
	expect_error("[sip]\ntcp_message_timeout = 0\n", 2, "not a whole number from 1");
	expect_error("[registrar]\ndevice_contacts = 0\n", 2, "not a whole number from 1");
}

/* Reading is bounded: an endless line, a NUL byte, a file that is not regular. */
static void test_bounded_reading(void)
{
	size_t big = 3u * 1024 * 1024;
	char *text = malloc(big + 1);
	CU_ASSERT_FATAL(text != NULL);
	memset(text, 'a', big);
	text[big] = '\0';
	expect_error(text, 1, "the line is longer than 4096 characters");
	/* Short lines, but more than the file may hold. */
	for (size_t i = 0; i + 1 < big; i += 2)
		memcpy(text + i, ";\n", 2);
	expect_error(text, 524289, "larger than");
	free(text);
	char with_nul[] = "[sip]\nrealm = a\0b\n";
	CU_ASSERT_EQUAL(load(with_nul), 0); /* a string ends at its NUL */
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, "/dev/zero", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/dev/zero: not a regular file"));
	CU_ASSERT_EQUAL(config_load(&cfg, "/tmp", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
	char path[] = "/tmp/sipreg-test-config-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "[sip]\nrealm = x\0y\n", 18), 18);
	close(fd);
	CU_ASSERT_EQUAL(config_load(&cfg, path, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: the line holds a NUL byte"));
	unlink(path);
}

/* The security keys: address ranges, the fork cap, the Server text. */
static void test_security_keys(void)
{
	CU_ASSERT_EQUAL(load("[registrar]\nidentify_from = 10.1.0.0/16, 2001:db8::/32 192.0.2.7\n"
			     "[security]\nban_exempt = 198.51.100.0/24\n[calls]\nmax_forks = 4\n"
			     "[sip]\nserver_header = pbx/{version} lab\n"),
			0);
	CU_ASSERT_STRING_EQUAL(cfg.identify_from, "10.1.0.0/16, 2001:db8::/32 192.0.2.7");
	CU_ASSERT_STRING_EQUAL(cfg.ban_exempt, "198.51.100.0/24");
	CU_ASSERT_EQUAL(cfg.max_forks, 4);
	char text[80];
	config_server_header(&cfg, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "pbx/" PACKAGE_VERSION " lab");
	/* Defaults: private ranges for identify, no exemption, 16 forks, no version. */
	config_defaults(&cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg.identify_from, "192.168.0.0/16"));
	CU_ASSERT_STRING_EQUAL(cfg.ban_exempt, "");
	CU_ASSERT_EQUAL(cfg.max_forks, 16);
	config_server_header(&cfg, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "sipreg");
	expect_error("[registrar]\nidentify_from = 10.0.0.0/33\n", 2, "not an address");
	expect_error("[security]\nban_exempt = example.com\n", 2, "not an address");
	expect_error("[calls]\nmax_forks = 0\n", 2, "from 1 to 1000");
	expect_error("[sip]\nserver_header = a\tb\n", 2, "printable");
}

static void test_cidr(void)
{
	char const *list = "10.0.0.0/8 192.168.1.0/24, 172.16.0.0/12 fc00::/7 ::1 198.51.100.7";
	CU_ASSERT_TRUE(cidr_list_match(list, "10.200.3.4"));
	CU_ASSERT_TRUE(cidr_list_match(list, "192.168.1.255"));
	CU_ASSERT_FALSE(cidr_list_match(list, "192.168.2.1"));
	CU_ASSERT_TRUE(cidr_list_match(list, "172.31.255.1"));
	CU_ASSERT_FALSE(cidr_list_match(list, "172.32.0.1"));
	CU_ASSERT_TRUE(cidr_list_match(list, "fd12:3456::1"));
	CU_ASSERT_FALSE(cidr_list_match(list, "2001:db8::1"));
	CU_ASSERT_TRUE(cidr_list_match(list, "::1"));
	CU_ASSERT_TRUE(cidr_list_match(list, "198.51.100.7"));
	CU_ASSERT_FALSE(cidr_list_match(list, "198.51.100.8"));
	CU_ASSERT_FALSE(cidr_list_match("", "10.0.0.1"));
	CU_ASSERT_FALSE(cidr_list_match(list, "not-an-address"));
	CU_ASSERT_FALSE(cidr_list_match(list, NULL));
	CU_ASSERT_TRUE(cidr_list_match("0.0.0.0/0", "203.0.113.9"));
	char why[128];
	CU_ASSERT_EQUAL(cidr_list_check(list, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cidr_list_check("10.0.0.0/", why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(cidr_list_check("::/129", why, sizeof(why)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "::/129"));
}

static CU_TestInfo const tests[] = {
	{ "security keys", test_security_keys },
	{ "address ranges", test_cidr },
	{ "defaults", test_defaults },
	{ "every key", test_full_file },
	{ "spacing and line ends", test_spacing },
	{ "unknown keys and sections", test_unknown_names },
	{ "bad values", test_bad_values },
	{ "bad listeners", test_bad_listen },
	{ "syntax errors and duplicates", test_syntax },
	{ "overlong line", test_long_line },
	{ "errors name the file and line", test_file },
	{ "values by their meaning", test_typed_values },
	{ "bounded reading", test_bounded_reading },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("config", NULL, NULL, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
