/*
 * sipregctl: the administrator's command line for sipregd. It sends one
 * request over the control socket and prints the answer.
 *
 * Exit status: 0 done, 1 refused by sipregd, 2 usage error, 3 sipregd not
 * reachable.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_REFUSED	 1
#define EXIT_USAGE	 2
#define EXIT_UNREACHABLE 3
#define DEFAULT_SOCKET	 "sipregd.sock"
#define MAX_REPLY	 (16 * 1024 * 1024)

static char const usage_text[] =
	"usage: sipregctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	"\n"
	"  status                              version, uptime, listeners, counts\n"
	"  config                              the configuration sipregd runs with\n"
	"  log level error|warning|notice|info|debug\n"
	"  trace on|off                        log every SIP message\n"
	"  user add NAME [--password-stdin] [--weak]   (prompts for the password otherwise)\n"
	"  user passwd NAME [--password-stdin] [--weak]\n"
	"  user del NAME\n"
	"  user list\n"
	"  device add NAME --model MODEL --digest-user USER [--auth verify|identify]\n"
	"             [--digest-algs md5|sha256|both|default] [--qop auth|optional]\n"
	"  device set NAME [--auth verify|identify] [--digest-user USER] [--model MODEL]\n"
	"             [--digest-algs md5|sha256|both|default] [--qop auth|optional]\n"
	"  device del NAME\n"
	"  device list\n"
	"  device show NAME\n"
	"  device models\n"
	"  line add DEVICE DN [--index N] [--display TEXT] [--label TEXT]\n"
	"  line del DN\n"
	"  line list\n"
	"  line show DN\n"
	"  line set DN [--dnd on|off] [--cfwd-all DN|off] [--cfwd-busy DN|off]\n"
	"               [--cfwd-noanswer DN|off] [--noanswer-timeout S]\n"
	"  reg list\n"
	"  reg show DEVICE\n"
	"  reg flush DEVICE|DN\n"
	"  ban list\n"
	"  ban del ADDRESS|user:NAME\n"
	"  call list\n"
	"  call hangup ID\n"
	"  cdr list [--since TIME] [--limit N]\n"
	"  trunk add NAME --registrar HOST[:PORT] [--proxy HOST[:PORT]] [--user USER]\n"
	"             [--auth-user USER] [--password-stdin] [--realm REALM]\n"
	"             [--transport udp|tcp] [--expires S] [--did NUMBER[=DN] ...]\n"
	"             [--register yes|no] [--caller-id NUMBER] [--default-dn DN]\n"
	"             [--emergency yes|no]\n"
	"  trunk set NAME [the options of trunk add; OPTION off clears --proxy, --auth-user,\n"
	"             --realm, --caller-id, --default-dn; --did replaces the DIDs]\n"
	"  trunk del NAME\n"
	"  trunk list\n"
	"  trunk show NAME\n"
	"  route add PATTERN --trunk NAME|--block [--strip N] [--prepend DIGITS]\n"
	"             [--priority N] [--allow-restricted]\n"
	"  route del ID\n"
	"  route list\n"
	"\n"
	"  -s, --socket PATH   control socket (default $SIPREG_SOCKET or ./" DEFAULT_SOCKET ")\n"
	"  --json              print the answer as JSON\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: 0 done, 1 refused, 2 usage error, 3 sipregd not reachable.\n";

static bool opt_json;
static char const *opt_socket;

static void usage_error(char const *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(char const *fmt, ...)
{
	va_list ap;
	fputs("sipregctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

/* ---- argument parsing ---- */

struct opt {
	char const *name; /* "--model" */
	bool has_value;
	char const *value;
	bool set;
};

/* Splits args into exactly npos positionals and the given options. */
static void parse_args(int argc, char **argv, char const *cmd, char const **pos, int npos,
		       struct opt *opts, int nopts)
{
	int got = 0;
	for (int i = 0; i < argc; i++) {
		char const *a = argv[i];
		if (a[0] == '-' && a[1] == '-' && a[2]) {
			char const *eq = strchr(a, '=');
			size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
			struct opt *o = NULL;
			for (int k = 0; k < nopts; k++) {
				if (strlen(opts[k].name) == nlen && !strncmp(opts[k].name, a, nlen))
					o = &opts[k];
			}
			if (!o)
				usage_error("%s: unknown option %.*s", cmd, (int)nlen, a);
			if (o->set)
				usage_error("%s: option %s given twice", cmd, o->name);
			o->set = true;
			if (o->has_value) {
				if (eq)
					o->value = eq + 1;
				else if (i + 1 < argc)
					o->value = argv[++i];
				else
					usage_error("%s: option %s needs a value", cmd, o->name);
			} else if (eq) {
				usage_error("%s: option %s takes no value", cmd, o->name);
			}
			continue;
		}
		if (got >= npos)
			usage_error("%s: unexpected argument '%s'", cmd, a);
		pos[got++] = a;
	}
	if (got < npos)
		usage_error("%s: missing argument", cmd);
}

/* v as a whole number from lo to hi; false when it is not one. */
static bool whole_number(char const *v, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!v[0] || *end || errno || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

/* ---- passwords ---- */

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int read_password_stdin(char *buf, size_t len)
{
	size_t n = 0;
	int ch;
	bool read_any = false;
	while ((ch = getc(stdin)) != EOF && ch != '\n') {
		read_any = true;
		if (ch == '\0') {
			fprintf(stderr,
				"sipregctl: the password on standard input holds a NUL byte, "
				"which no password may contain\n");
			return -1;
		}
		if (n + 1 >= len) {
			fprintf(stderr, "sipregctl: the password is too long (at most %zu bytes)\n",
				len - 1);
			return -1;
		}
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	if (!read_any && ch == EOF) {
		fprintf(stderr, "sipregctl: no password on standard input\n");
		return -1;
	}
	chomp(buf);
	return 0;
}

static int prompt_tty(FILE *tty, char const *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int fd = fileno(tty);
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	fputs(prompt, tty);
	fflush(tty);
	char *ok = fgets(buf, (int)len, tty);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", tty);
	if (!ok)
		return -1;
	chomp(buf);
	return 0;
}

static int read_password(bool from_stdin, char const *what, char const *user, char *buf, size_t len)
{
	if (from_stdin)
		return read_password_stdin(buf, len);
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty) {
		fprintf(stderr,
			"sipregctl: a password is needed and there is no terminal to ask for it "
			"on: "
			"give it on standard input with --password-stdin (printf '%%s\\n' PASSWORD "
			"| sipregctl %s %s --password-stdin)\n",
			what, user);
		exit(EXIT_USAGE);
	}
	char prompt[128], again[256];
	snprintf(prompt, sizeof(prompt), "Password for %s: ", user);
	int rc = prompt_tty(tty, prompt, buf, len);
	if (rc == 0)
		rc = prompt_tty(tty, "Retype the password: ", again, sizeof(again));
	fclose(tty);
	if (rc == 0 && strcmp(buf, again) != 0) {
		fprintf(stderr, "sipregctl: the passwords differ\n");
		rc = -1;
	}
	memset(again, 0, sizeof(again));
	return rc;
}

/* ---- talking to sipregd ---- */

static char const *socket_path(void)
{
	if (opt_socket)
		return opt_socket;
	char const *env = getenv("SIPREG_SOCKET");
	return env && *env ? env : DEFAULT_SOCKET;
}

/* Sends the request and returns the parsed reply, or exits. */
static json_t *call(char const *cmd, json_t *args)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char const *path = socket_path();
	json_t *req = json_pack("{s:s, s:o}", "cmd", cmd, "args", args ? args : json_object());
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sipregctl: socket path %s is too long\n", path);
		exit(EXIT_USAGE);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr,
				"sipregctl: sipregd is not running (nothing answers on %s)\n",
				path);
		else
			fprintf(stderr, "sipregctl: cannot reach sipregd at %s: %s\n", path,
				strerror(e));
		exit(EXIT_UNREACHABLE);
	}
	struct timeval tv = { .tv_sec = 60 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	size_t len = strlen(text);
	text[len++] = '\n'; /* json_dumps left room: the NUL becomes the line end */
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (w <= 0) {
			fprintf(stderr, "sipregctl: sending to sipregd failed: %s\n",
				strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		off += (size_t)w;
	}
	memset(text, 0, len); /* it may hold a password */
	free(text);

	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (used + 1 >= cap) {
			if (cap >= MAX_REPLY) {
				fprintf(stderr, "sipregctl: the answer is too long\n");
				exit(EXIT_UNREACHABLE);
			}
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t r = recv(fd, buf + used, cap - used - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr,
				"sipregctl: sipregd closed the connection without answering%s\n",
				r < 0 ? " in time" : "");
			exit(EXIT_UNREACHABLE);
		}
		used += (size_t)r;
		if (memchr(buf + used - (size_t)r, '\n', (size_t)r))
			break;
	}
	close(fd);
	json_error_t jerr;
	json_t *reply = json_loadb(buf, used, JSON_DISABLE_EOF_CHECK, &jerr);
	free(buf);
	if (!reply || !json_is_object(reply)) {
		fprintf(stderr, "sipregctl: sipregd's answer is not valid JSON\n");
		exit(EXIT_UNREACHABLE);
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char const *msg = json_string_value(json_object_get(reply, "error"));
		if (opt_json) {
			json_dumpf(reply, stdout, JSON_INDENT(2));
			fputs("\n", stdout);
		}
		fprintf(stderr, "sipregctl: %s\n", msg ? msg : "refused");
		exit(EXIT_REFUSED);
	}
	json_t *data = json_incref(json_object_get(reply, "data"));
	json_decref(reply);
	return data;
}

/* ---- printing ---- */

static void print_json(json_t *data)
{
	json_dumpf(data, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputs("\n", stdout);
}

static void cell(char *buf, size_t len, json_t *v)
{
	if (!v || json_is_null(v))
		snprintf(buf, len, "-");
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "?");
}

static void print_cell(char const *text, int width, bool last)
{
	if (last)
		printf("%s\n", text);
	else
		printf("%-*s  ", width, text);
}

struct column {
	char const *header;
	char const *key;
};

static void print_table(json_t *rows, struct column const *cols, int ncols)
{
	size_t width[16] = { 0 };
	char buf[512];
	size_t i;
	json_t *row;

	for (int c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].header);
	json_array_foreach (rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			cell(buf, sizeof(buf), json_object_get(row, cols[c].key));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	}
	for (int c = 0; c < ncols; c++)
		print_cell(cols[c].header, (int)width[c], c + 1 == ncols);
	json_array_foreach (rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			cell(buf, sizeof(buf), json_object_get(row, cols[c].key));
			print_cell(buf, (int)width[c], c + 1 == ncols);
		}
	}
}

static void print_fields(json_t *obj, struct column const *cols, int ncols)
{
	char buf[512];
	for (int c = 0; c < ncols; c++) {
		cell(buf, sizeof(buf), json_object_get(obj, cols[c].key));
		printf("%-14s %s\n", cols[c].header, buf);
	}
}

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Prints a listing or, with --json, the data as is. */
static int show(json_t *data, struct column const *cols, int ncols)
{
	if (opt_json)
		print_json(data);
	else if (json_is_array(data))
		print_table(data, cols, ncols);
	else
		print_fields(data, cols, ncols);
	json_decref(data);
	return 0;
}

/* Prints the outcome of a change. */
static int done(json_t *data, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

static int done(json_t *data, char const *fmt, ...)
{
	if (opt_json) {
		print_json(data && !json_is_null(data) ? data : json_pack("{s:b}", "ok", 1));
	} else {
		va_list ap;
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		fputs("\n", stdout);
	}
	json_decref(data);
	return 0;
}

/* ---- commands ---- */

static int cmd_status(int argc, char **argv)
{
	parse_args(argc, argv, "status", NULL, 0, NULL, 0);
	json_t *d = call("status", NULL);
	if (opt_json) {
		print_json(d);
		json_decref(d);
		return 0;
	}
	json_t *counts = json_object_get(d, "counts");
	json_t *sip = json_object_get(d, "sip");
	printf("sipregd %s, pid %lld, up %llds\n", json_string_value(json_object_get(d, "version")),
	       (long long)json_integer_value(json_object_get(d, "pid")),
	       (long long)json_integer_value(json_object_get(d, "uptime")));
	printf("realm         %s\n", json_string_value(json_object_get(d, "realm")));
	printf("database      %s (schema %lld)\n", json_string_value(json_object_get(d, "store")),
	       (long long)json_integer_value(json_object_get(d, "schema")));
	printf("log level     %s%s\n", json_string_value(json_object_get(d, "log_level")),
	       json_is_true(json_object_get(sip, "trace")) ? ", SIP trace on" : "");
	size_t i;
	json_t *l;
	json_array_foreach (json_object_get(sip, "listeners"), i, l)
		printf("%-13s %s\n", i ? "" : "listening", json_string_value(l));
	printf("users         %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "users")));
	printf("devices       %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "devices")));
	printf("lines         %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "lines")));
	printf("bindings      %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "bindings")));
	printf("SIP requests  %lld\n",
	       (long long)json_integer_value(json_object_get(sip, "requests")));
	json_decref(d);
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	parse_args(argc, argv, "config", NULL, 0, NULL, 0);
	json_t *d = call("config", NULL);
	if (opt_json) {
		print_json(d);
	} else {
		char const *section, *key;
		json_t *keys, *v;
		json_object_foreach (d, section, keys) {
			if (!json_is_object(keys)) {
				char buf[512];
				cell(buf, sizeof(buf), keys);
				printf("%-26s %s\n", section, buf);
				continue;
			}
			json_object_foreach (keys, key, v) {
				char buf[512] = "", name[128];
				if (json_is_array(v)) {
					size_t i, n = 0;
					json_t *x;
					json_array_foreach (v, i, x) {
						if (n < sizeof(buf))
							n += (size_t)snprintf(
								buf + n, sizeof(buf) - n, "%s%s",
								i ? " " : "", json_string_value(x));
					}
				} else {
					cell(buf, sizeof(buf), v);
				}
				snprintf(name, sizeof(name), "[%s] %s", section, key);
				printf("%-26s %s\n", name, buf);
			}
		}
	}
	json_decref(d);
	return 0;
}

static int cmd_log(int argc, char **argv)
{
	char const *pos[2];
	parse_args(argc, argv, "log", pos, 2, NULL, 0);
	if (strcmp(pos[0], "level") != 0)
		usage_error("log: unknown subcommand '%s'", pos[0]);
	json_t *d = call("log.level", json_pack("{s:s}", "level", pos[1]));
	return done(d, "log level set to %s", pos[1]);
}

static int cmd_trace(int argc, char **argv)
{
	char const *pos[1];
	parse_args(argc, argv, "trace", pos, 1, NULL, 0);
	bool on = strcmp(pos[0], "on") == 0;
	if (!on && strcmp(pos[0], "off") != 0)
		usage_error("trace: say on or off, not '%s'", pos[0]);
	json_t *d = call("trace", json_pack("{s:b}", "on", on));
	return done(d, "SIP message trace %s", on ? "on" : "off");
}

static int user_password_cmd(int argc, char **argv, char const *what, char const *cmd)
{
	char const *pos[1];
	struct opt opts[] = { { "--password-stdin", false, NULL, false },
			      { "--weak", false, NULL, false } };
	char pw[256];
	parse_args(argc, argv, what, pos, 1, opts, NCOLS(opts));
	if (read_password(opts[0].set, what, pos[0], pw, sizeof(pw)) < 0)
		return EXIT_REFUSED;
	json_t *d = call(cmd, json_pack("{s:s, s:s, s:b}", "name", pos[0], "password", pw, "weak",
					opts[1].set));
	memset(pw, 0, sizeof(pw));
	if (strcmp(cmd, "user.add") == 0)
		return done(d, "user %s added", pos[0]);
	return done(d, "password of user %s changed", pos[0]);
}

static int cmd_user(int argc, char **argv)
{
	if (argc < 1)
		usage_error("user: add, passwd, del or list?");
	char const *sub = argv[0];
	argc--, argv++;
	if (strcmp(sub, "add") == 0)
		return user_password_cmd(argc, argv, "user add", "user.add");
	if (strcmp(sub, "passwd") == 0)
		return user_password_cmd(argc, argv, "user passwd", "user.passwd");
	if (strcmp(sub, "del") == 0) {
		char const *pos[1];
		parse_args(argc, argv, "user del", pos, 1, NULL, 0);
		return done(call("user.del", json_pack("{s:s}", "name", pos[0])), "user %s deleted",
			    pos[0]);
	}
	if (strcmp(sub, "list") == 0) {
		static struct column const cols[] = { { "NAME", "name" }, { "DEVICE", "device" } };
		parse_args(argc, argv, "user list", NULL, 0, NULL, 0);
		return show(call("user.list", NULL), cols, NCOLS(cols));
	}
	usage_error("user: unknown subcommand '%s'", sub);
}

static void set_opt(json_t *args, char const *key, struct opt const *o)
{
	if (o->set)
		json_object_set_new(args, key, json_string(o->value));
}

static int cmd_device(int argc, char **argv)
{
	if (argc < 1)
		usage_error("device: add, set, del, list, show or models?");
	char const *sub = argv[0];
	char const *pos[1];
	argc--, argv++;
	if (strcmp(sub, "add") == 0 || strcmp(sub, "set") == 0) {
		bool add = strcmp(sub, "add") == 0;
		struct opt opts[] = { { "--model", true, NULL, false },
				      { "--digest-user", true, NULL, false },
				      { "--auth", true, NULL, false },
				      { "--digest-algs", true, NULL, false },
				      { "--qop", true, NULL, false } };
		parse_args(argc, argv, add ? "device add" : "device set", pos, 1, opts,
			   NCOLS(opts));
		if (add && (!opts[0].set || !opts[1].set))
			usage_error("device add: --model and --digest-user are required");
		if (!add && !opts[0].set && !opts[1].set && !opts[2].set && !opts[3].set &&
		    !opts[4].set)
			usage_error("device set: nothing to change");
		for (int i = 0; i < 5; i++) {
			if (opts[i].set && !opts[i].value[0])
				usage_error("%s: %s needs a value", sub, opts[i].name);
		}
		if (opts[2].set && strcmp(opts[2].value, "verify") &&
		    strcmp(opts[2].value, "identify"))
			usage_error("device %s: --auth is verify or identify", sub);
		if (opts[3].set && strcmp(opts[3].value, "md5") &&
		    strcmp(opts[3].value, "sha256") && strcmp(opts[3].value, "both") &&
		    strcmp(opts[3].value, "default"))
			usage_error("device %s: --digest-algs is md5, sha256, both or default",
				    sub);
		if (opts[4].set && strcmp(opts[4].value, "auth") &&
		    strcmp(opts[4].value, "optional"))
			usage_error("device %s: --qop is auth or optional", sub);
		json_t *args = json_pack("{s:s}", "name", pos[0]);
		set_opt(args, "model", &opts[0]);
		set_opt(args, "digest_user", &opts[1]);
		set_opt(args, "auth", &opts[2]);
		set_opt(args, "digest_algs", &opts[3]);
		set_opt(args, "qop", &opts[4]);
		json_t *d = call(add ? "device.add" : "device.set", args);
		char const *canon = json_string_value(json_object_get(d, "name"));
		return done(d, "device %s %s", canon ? canon : pos[0], add ? "added" : "changed");
	}
	if (strcmp(sub, "del") == 0) {
		parse_args(argc, argv, "device del", pos, 1, NULL, 0);
		return done(call("device.del", json_pack("{s:s}", "name", pos[0])),
			    "device %s deleted with its lines", pos[0]);
	}
	if (strcmp(sub, "list") == 0) {
		static struct column const cols[] = {
			{ "NAME", "name" }, { "MODEL", "model" }, { "DIGEST USER", "digest_user" },
			{ "AUTH", "auth" }, { "LINES", "lines" }, { "BINDINGS", "bindings" },
		};
		parse_args(argc, argv, "device list", NULL, 0, NULL, 0);
		return show(call("device.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(sub, "show") == 0) {
		parse_args(argc, argv, "device show", pos, 1, NULL, 0);
		json_t *d = call("device.show", json_pack("{s:s}", "name", pos[0]));
		if (opt_json)
			return show(d, NULL, 0);
		static struct column const fields[] = {
			{ "name", "name" },
			{ "model", "model" },
			{ "model lines", "model_lines" },
			{ "digest user", "digest_user" },
			{ "auth", "auth" },
			{ "digest algs", "digest_algs" },
			{ "qop", "qop" },
			{ "dnd", "dnd" },
		};
		static struct column const cols[] = { { "INDEX", "index" },
						      { "DN", "dn" },
						      { "DISPLAY", "display" },
						      { "LABEL", "label" } };
		print_fields(d, fields, NCOLS(fields));
		json_t *lines = json_object_get(d, "lines");
		if (json_array_size(lines)) {
			printf("\n");
			print_table(lines, cols, NCOLS(cols));
		} else {
			printf("lines          none\n");
		}
		json_decref(d);
		return 0;
	}
	if (strcmp(sub, "models") == 0) {
		static struct column const cols[] = { { "MODEL", "name" },
						      { "LINES", "lines" },
						      { "VENDOR", "vendor" },
						      { "LINE 1 ONLY", "cucm_mode" } };
		parse_args(argc, argv, "device models", NULL, 0, NULL, 0);
		return show(call("device.models", NULL), cols, NCOLS(cols));
	}
	usage_error("device: unknown subcommand '%s'", sub);
}

static int cmd_line(int argc, char **argv)
{
	if (argc < 1)
		usage_error("line: add, del, list, show or set?");
	char const *sub = argv[0];
	argc--, argv++;
	static struct column const cols[] = {
		{ "DN", "dn" },		  { "DEVICE", "device" }, { "INDEX", "index" },
		{ "DISPLAY", "display" }, { "LABEL", "label" },	  { "BINDINGS", "bindings" },
	};
	if (strcmp(sub, "add") == 0) {
		char const *pos[2];
		struct opt opts[] = { { "--index", true, NULL, false },
				      { "--display", true, NULL, false },
				      { "--label", true, NULL, false } };
		parse_args(argc, argv, "line add", pos, 2, opts, NCOLS(opts));
		json_t *args = json_pack("{s:s, s:s}", "device", pos[0], "dn", pos[1]);
		long long want;
		if (opts[0].set) {
			if (!whole_number(opts[0].value, 1, 64, &want))
				usage_error("line add: --index is a whole number from 1 to 64");
			json_object_set_new(args, "index", json_integer(want));
		}
		set_opt(args, "display", &opts[1]);
		set_opt(args, "label", &opts[2]);
		json_t *d = call("line.add", args);
		int idx = (int)json_integer_value(json_object_get(d, "index"));
		return done(d, "line %d of device %s is DN %s", idx, pos[0], pos[1]);
	}
	if (strcmp(sub, "del") == 0) {
		char const *pos[1];
		parse_args(argc, argv, "line del", pos, 1, NULL, 0);
		return done(call("line.del", json_pack("{s:s}", "dn", pos[0])), "line %s deleted",
			    pos[0]);
	}
	if (strcmp(sub, "list") == 0) {
		parse_args(argc, argv, "line list", NULL, 0, NULL, 0);
		return show(call("line.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(sub, "show") == 0) {
		char const *pos[1];
		static struct column const fields[] = {
			{ "dn", "dn" },
			{ "device", "device" },
			{ "model", "model" },
			{ "index", "index" },
			{ "display", "display" },
			{ "label", "label" },
			{ "bindings", "bindings" },
			{ "dnd", "dnd" },
			{ "cfwd all", "cfwd_all" },
			{ "cfwd busy", "cfwd_busy" },
			{ "cfwd noanswer", "cfwd_noanswer" },
			{ "noanswer time", "noanswer_timeout" },
		};
		parse_args(argc, argv, "line show", pos, 1, NULL, 0);
		return show(call("line.show", json_pack("{s:s}", "dn", pos[0])), fields,
			    NCOLS(fields));
	}
	if (strcmp(sub, "set") == 0) {
		char const *pos[1];
		struct opt opts[] = { { "--dnd", true, NULL, false },
				      { "--cfwd-all", true, NULL, false },
				      { "--cfwd-busy", true, NULL, false },
				      { "--cfwd-noanswer", true, NULL, false },
				      { "--noanswer-timeout", true, NULL, false } };
		parse_args(argc, argv, "line set", pos, 1, opts, NCOLS(opts));
		bool any = false;
		for (int i = 0; i < NCOLS(opts); i++) {
			any |= opts[i].set;
			if (opts[i].set && !opts[i].value[0])
				usage_error("line set: %s needs a value", opts[i].name);
		}
		if (!any)
			usage_error("line set: nothing to change");
		if (opts[0].set && strcmp(opts[0].value, "on") && strcmp(opts[0].value, "off"))
			usage_error("line set: --dnd is on or off");
		json_t *args = json_pack("{s:s}", "dn", pos[0]);
		set_opt(args, "dnd", &opts[0]);
		set_opt(args, "cfwd_all", &opts[1]);
		set_opt(args, "cfwd_busy", &opts[2]);
		set_opt(args, "cfwd_noanswer", &opts[3]);
		long long t;
		if (opts[4].set) {
			if (!whole_number(opts[4].value, 0, 600, &t))
				usage_error("line set: --noanswer-timeout is 0 to 600 seconds");
			json_object_set_new(args, "noanswer_timeout", json_integer(t));
		}
		return done(call("line.set", args), "line %s changed", pos[0]);
	}
	usage_error("line: unknown subcommand '%s'", sub);
}

static int cmd_reg(int argc, char **argv)
{
	static struct column const cols[] = {
		{ "DEVICE", "device" },
		{ "LINE", "index" },
		{ "DN", "dn" },
		{ "CONTACT", "contact" },
		{ "TRANSPORT", "transport" },
		{ "SOURCE", "source" },
		{ "USER AGENT", "user_agent" },
		{ "EXPIRES", "expires_in" },
	};
	char const *pos[1];
	if (argc < 1)
		usage_error("reg: list, show or flush?");
	if (strcmp(argv[0], "list") == 0) {
		parse_args(argc - 1, argv + 1, "reg list", NULL, 0, NULL, 0);
		return show(call("reg.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(argv[0], "show") == 0) {
		parse_args(argc - 1, argv + 1, "reg show", pos, 1, NULL, 0);
		return show(call("reg.show", json_pack("{s:s}", "device", pos[0])), cols,
			    NCOLS(cols));
	}
	if (strcmp(argv[0], "flush") == 0) {
		parse_args(argc - 1, argv + 1, "reg flush", pos, 1, NULL, 0);
		json_t *d = call("reg.flush", json_pack("{s:s}", "what", pos[0]));
		long long n = (long long)json_integer_value(json_object_get(d, "removed"));
		return done(d, "%lld registration%s of %s removed", n, n == 1 ? "" : "s", pos[0]);
	}
	usage_error("reg: unknown subcommand '%s'", argv[0]);
}

static int cmd_ban(int argc, char **argv)
{
	static struct column const cols[] = { { "KIND", "kind" },
					      { "WHAT", "what" },
					      { "FAILURES", "failures" },
					      { "SECONDS LEFT", "seconds_left" },
					      { "WHY", "reason" } };
	char const *pos[1];
	if (argc < 1)
		usage_error("ban: list or del?");
	if (strcmp(argv[0], "list") == 0) {
		parse_args(argc - 1, argv + 1, "ban list", NULL, 0, NULL, 0);
		return show(call("ban.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(argv[0], "del") == 0) {
		parse_args(argc - 1, argv + 1, "ban del", pos, 1, NULL, 0);
		return done(call("ban.del", json_pack("{s:s}", "address", pos[0])),
			    "ban on %s lifted", pos[0]);
	}
	usage_error("ban: unknown subcommand '%s'", argv[0]);
}

/* NODE-RUN-N (NODE: letters, digits, '-', '.'), or N alone. */
static bool is_call_id(char const *s)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789");
	if (n == 0 || n > 63 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-.") != n)
		return false;
	if (digits == n)
		return true;
	/* ...-RUN-N: two dash-separated numbers at the end, after a node name. */
	char const *last = strrchr(s, '-');
	if (!last || last == s || !last[1] || strspn(last + 1, "0123456789") != strlen(last + 1))
		return false;
	char const *run = last - 1;
	while (run > s && *run != '-')
		run--;
	return run > s && *run == '-' && run + 1 < last &&
	       strspn(run + 1, "0123456789") == (size_t)(last - run - 1);
}

static int cmd_call(int argc, char **argv)
{
	static struct column const cols[] = {
		{ "ID", "id" },		  { "STATE", "state" },	  { "CALLER", "caller" },
		{ "DEVICE", "device" },	  { "CALLEE", "callee" }, { "ANSWERED BY", "answered_by" },
		{ "SECONDS", "seconds" },
	};
	char const *pos[1];
	if (argc < 1)
		usage_error("call: list or hangup?");
	if (strcmp(argv[0], "list") == 0) {
		parse_args(argc - 1, argv + 1, "call list", NULL, 0, NULL, 0);
		return show(call("call.list", NULL), cols, NCOLS(cols));
	}
	if (strcmp(argv[0], "hangup") == 0) {
		parse_args(argc - 1, argv + 1, "call hangup", pos, 1, NULL, 0);
		if (!is_call_id(pos[0]))
			usage_error(
				"call hangup: '%s' is not a call id (NODE-RUN-N as call list shows "
				"it, or N for a call of this run)",
				pos[0]);
		return done(call("call.hangup", json_pack("{s:s}", "id", pos[0])),
			    "call %s hung up", pos[0]);
	}
	usage_error("call: unknown subcommand '%s'", argv[0]);
}

/*
 * A point in time for --since: seconds since the epoch, a local date
 * (YYYY-MM-DD) or date and time (YYYY-MM-DD HH:MM[:SS], or with a T), or
 * an age such as 90s, 30m, 12h or 7d. -1 when it is none of these.
 */
static long long parse_since(char const *v)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (end != v && !errno && n >= 0) {
		if (!*end)
			return n;
		if (!end[1]) {
			long long unit = end[0] == 's'	 ? 1
					 : end[0] == 'm' ? 60
					 : end[0] == 'h' ? 3600
					 : end[0] == 'd' ? 86400
							 : 0;
			if (unit && n < (1LL << 32))
				return (long long)time(NULL) - n * unit;
		}
	}
	struct tm tm = { 0 };
	char const *p = strptime(v, "%Y-%m-%d", &tm);
	if (p && *p && (*p == ' ' || *p == 'T')) {
		char const *q = strptime(p + 1, "%H:%M:%S", &tm);
		if (!q)
			q = strptime(p + 1, "%H:%M", &tm);
		p = q;
	}
	if (!p || *p)
		return -1;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	return t < 0 ? -1 : (long long)t;
}

/* Replaces the epoch seconds under key with local time text, for the table. */
static void local_time(json_t *row, char const *key)
{
	json_t *v = json_object_get(row, key);
	if (!json_is_integer(v))
		return;
	time_t t = (time_t)json_integer_value(v);
	struct tm tm;
	char buf[32];
	if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		json_object_set_new(row, key, json_string(buf));
}

/* local_time() in each row of a listing. */
static void local_times(json_t *rows, char const *key)
{
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row)
		local_time(row, key);
}

static int cmd_cdr(int argc, char **argv)
{
	static struct column const cols[] = {
		{ "CALL ID", "call_id" }, { "STARTED", "started_at" }, { "CALLER", "caller" },
		{ "CALLEE", "callee" },	  { "TAKEN BY", "target" },    { "FORWARD", "forwarded" },
		{ "RESULT", "result" },	  { "SECONDS", "duration" },
	};
	if (argc < 1 || strcmp(argv[0], "list") != 0)
		usage_error(argc < 1 ? "cdr: list?" : "cdr: unknown subcommand '%s'", argv[0]);
	struct opt opts[] = { { "--since", true, NULL, false }, { "--limit", true, NULL, false } };
	parse_args(argc - 1, argv + 1, "cdr list", NULL, 0, opts, NCOLS(opts));
	json_t *args = json_object();
	if (opts[0].set) {
		long long since = parse_since(opts[0].value);
		if (since < 0)
			usage_error("cdr list: --since takes seconds since 1970, YYYY-MM-DD[ "
				    "HH:MM[:SS]] "
				    "or an age such as 30m, 12h, 7d");
		json_object_set_new(args, "since", json_integer(since));
	}
	long long n;
	if (opts[1].set) {
		if (!whole_number(opts[1].value, 1, 1000000, &n))
			usage_error("cdr list: --limit is a whole number from 1 to 1000000");
		json_object_set_new(args, "limit", json_integer(n));
	}
	json_t *d = call("cdr.list", args);
	if (!opt_json)
		local_times(d, "started_at");
	return show(d, cols, NCOLS(cols));
}

/* Takes every --did VALUE (or --did=VALUE) out of argv into dids (comma lists split). */
static int take_dids(int argc, char **argv, json_t *dids)
{
	int out = 0;
	for (int i = 0; i < argc; i++) {
		char const *v = NULL;
		if (!strcmp(argv[i], "--did")) {
			if (i + 1 >= argc)
				usage_error("trunk add: option --did needs a value");
			v = argv[++i];
		} else if (!strncmp(argv[i], "--did=", 6)) {
			v = argv[i] + 6;
		} else {
			argv[out++] = argv[i];
			continue;
		}
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			json_array_append_new(dids, json_string(t));
		if (!v[0])
			usage_error("trunk add: --did needs a number");
	}
	return out;
}

static bool yes_no(char const *v)
{
	return !strcmp(v, "yes") || !strcmp(v, "no");
}

static int trunk_add(int argc, char **argv, bool add)
{
	char const *what = add ? "trunk add" : "trunk set";
	char const *pos[1];
	struct opt opts[] = {
		{ "--registrar", true, NULL, false },
		{ "--proxy", true, NULL, false },
		{ "--user", true, NULL, false },
		{ "--auth-user", true, NULL, false },
		{ "--password-stdin", false, NULL, false },
		{ "--realm", true, NULL, false },
		{ "--transport", true, NULL, false },
		{ "--expires", true, NULL, false },
		{ "--register", true, NULL, false },
		{ "--caller-id", true, NULL, false },
		{ "--default-dn", true, NULL, false },
		{ "--emergency", true, NULL, false },
	};
	static char const *const keys[] = { "registrar", "proxy",     "user",	    "auth_user",
					    NULL,	 "realm",     "transport",  NULL,
					    "register",	 "caller_id", "default_dn", "emergency" };
	json_t *dids = json_array();
	argc = take_dids(argc, argv, dids);
	parse_args(argc, argv, what, pos, 1, opts, NCOLS(opts));
	bool any = json_array_size(dids) > 0;
	for (int i = 0; i < NCOLS(opts); i++) {
		any |= opts[i].set;
		if (opts[i].has_value && opts[i].set && !opts[i].value[0])
			usage_error("%s: %s needs a value", what, opts[i].name);
	}
	if (add && !opts[0].set)
		usage_error("trunk add: --registrar is required");
	if (!add && !any)
		usage_error("trunk set: nothing to change");
	if (opts[6].set && strcmp(opts[6].value, "udp") && strcmp(opts[6].value, "tcp"))
		usage_error("%s: --transport is udp or tcp", what);
	if ((opts[8].set && !yes_no(opts[8].value)) || (opts[11].set && !yes_no(opts[11].value)))
		usage_error("%s: --register and --emergency are yes or no", what);
	if (add && opts[4].set && !opts[2].set && !opts[3].set)
		usage_error("trunk add: a password needs --user or --auth-user");
	json_t *args = json_pack("{s:s}", "name", pos[0]);
	if (add || json_array_size(dids))
		json_object_set(args, "dids", dids);
	json_decref(dids);
	for (int i = 0; i < NCOLS(opts); i++) {
		if (!keys[i] || !opts[i].set)
			continue;
		/* trunk set: "off" clears an optional setting. */
		bool clear = !add && !strcmp(opts[i].value, "off") && i != 0 && i != 6 && i != 8 &&
			     i != 11;
		json_object_set_new(args, keys[i], json_string(clear ? "" : opts[i].value));
	}
	long long n;
	if (opts[7].set) {
		if (!whole_number(opts[7].value, 60, 86400, &n))
			usage_error("%s: --expires is 60 to 86400 seconds", what);
		json_object_set_new(args, "expires", json_integer(n));
	}
	char pw[256];
	if (opts[4].set) {
		if (read_password_stdin(pw, sizeof(pw)) < 0) {
			json_decref(args);
			return EXIT_REFUSED;
		}
		json_object_set_new(args, "password", json_string(pw));
		memset(pw, 0, sizeof(pw));
	}
	return done(call(add ? "trunk.add" : "trunk.set", args), "trunk %s %s", pos[0],
		    add ? "added" : "changed");
}

static int cmd_trunk(int argc, char **argv)
{
	if (argc < 1)
		usage_error("trunk: add, set, del, list or show?");
	char const *sub = argv[0], *pos[1];
	argc--, argv++;
	if (!strcmp(sub, "add") || !strcmp(sub, "set"))
		return trunk_add(argc, argv, !strcmp(sub, "add"));
	if (!strcmp(sub, "del")) {
		parse_args(argc, argv, "trunk del", pos, 1, NULL, 0);
		return done(call("trunk.del", json_pack("{s:s}", "name", pos[0])),
			    "trunk %s deleted with its DIDs and routes", pos[0]);
	}
	if (!strcmp(sub, "list")) {
		static struct column const cols[] = {
			{ "NAME", "name" },	 { "REGISTRAR", "registrar" },
			{ "USER", "user" },	 { "STATE", "state" },
			{ "REASON", "reason" },	 { "NEXT", "next_attempt" },
			{ "DIDS", "did_count" },
		};
		parse_args(argc, argv, "trunk list", NULL, 0, NULL, 0);
		json_t *d = call("trunk.list", NULL);
		if (!opt_json)
			local_times(d, "next_attempt");
		return show(d, cols, NCOLS(cols));
	}
	if (!strcmp(sub, "show")) {
		static struct column const fields[] = {
			{ "name", "name" },
			{ "registrar", "registrar" },
			{ "proxy", "proxy" },
			{ "transport", "transport" },
			{ "user", "user" },
			{ "auth user", "auth_user" },
			{ "password", "password" },
			{ "realm", "realm" },
			{ "register", "register" },
			{ "expires", "expires" },
			{ "caller id", "caller_id" },
			{ "default dn", "default_dn" },
			{ "emergency", "emergency" },
			{ "addresses", "addresses_text" },
			{ "dids", "dids_text" },
			{ "state", "state" },
			{ "reason", "reason" },
			{ "algorithm", "algorithm" },
			{ "granted", "granted" },
			{ "failures", "failures" },
			{ "stale answers", "stale_challenges" },
			{ "next attempt", "next_attempt" },
			{ "retry in", "retry_interval" },
			{ "seen as", "seen_as" },
			{ "keep-alive", "keepalive" },
		};
		parse_args(argc, argv, "trunk show", pos, 1, NULL, 0);
		json_t *d = call("trunk.show", json_pack("{s:s}", "name", pos[0]));
		if (!opt_json) {
			char buf[1024] = "";
			size_t i, len = 0;
			json_t *v;
			json_array_foreach (json_object_get(d, "addresses"), i, v)
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
							i ? ", " : "", json_string_value(v));
			json_object_set_new(d, "addresses_text", json_string(len ? buf : "-"));
			len = 0;
			buf[0] = '\0';
			json_array_foreach (json_object_get(d, "dids"), i, v) {
				char const *dn = json_string_value(json_object_get(v, "dn"));
				if (len < sizeof(buf))
					len += (size_t)snprintf(
						buf + len, sizeof(buf) - len, "%s%s -> %s",
						i ? ", " : "",
						json_string_value(json_object_get(v, "number")),
						dn ? dn : "(default line)");
			}
			json_object_set_new(d, "dids_text", json_string(len ? buf : "-"));
			local_time(d, "next_attempt");
		}
		return show(d, fields, NCOLS(fields));
	}
	usage_error("trunk: unknown subcommand '%s'", sub);
}

static int cmd_route(int argc, char **argv)
{
	if (argc < 1)
		usage_error("route: add, del or list?");
	char const *sub = argv[0], *pos[1];
	argc--, argv++;
	if (!strcmp(sub, "add")) {
		struct opt opts[] = {
			{ "--trunk", true, NULL, false },
			{ "--block", false, NULL, false },
			{ "--strip", true, NULL, false },
			{ "--prepend", true, NULL, false },
			{ "--priority", true, NULL, false },
			{ "--allow-restricted", false, NULL, false },
		};
		parse_args(argc, argv, "route add", pos, 1, opts, NCOLS(opts));
		if (opts[0].set == opts[1].set)
			usage_error("route add: give --trunk NAME or --block");
		json_t *args = json_pack("{s:s}", "pattern", pos[0]);
		set_opt(args, "trunk", &opts[0]);
		set_opt(args, "prepend", &opts[3]);
		if (opts[1].set)
			json_object_set_new(args, "block", json_string("yes"));
		if (opts[5].set)
			json_object_set_new(args, "allow_restricted", json_string("yes"));
		long long n;
		if (opts[2].set) {
			if (!whole_number(opts[2].value, 0, 32, &n))
				usage_error("route add: --strip is 0 to 32 digits");
			json_object_set_new(args, "strip", json_integer(n));
		}
		if (opts[4].set) {
			if (!whole_number(opts[4].value, 0, 1000000, &n))
				usage_error("route add: --priority is 0 to 1000000");
			json_object_set_new(args, "priority", json_integer(n));
		}
		json_t *d = call("route.add", args);
		long long id = (long long)json_integer_value(json_object_get(d, "id"));
		return done(d, "route %lld: %s %s%s", id, pos[0], opts[1].set ? "blocked" : "to ",
			    opts[1].set ? "" : opts[0].value);
	}
	if (!strcmp(sub, "del")) {
		parse_args(argc, argv, "route del", pos, 1, NULL, 0);
		long long id;
		if (!whole_number(pos[0], 1, 1LL << 62, &id))
			usage_error("route del: '%s' is not a route id", pos[0]);
		return done(call("route.del", json_pack("{s:I}", "id", (json_int_t)id)),
			    "route %lld deleted", id);
	}
	if (!strcmp(sub, "list")) {
		static struct column const cols[] = {
			{ "ID", "id" },
			{ "PATTERN", "pattern" },
			{ "TRUNK", "trunk" },
			{ "STRIP", "strip" },
			{ "PREPEND", "prepend" },
			{ "PRIORITY", "priority" },
			{ "RESTRICTED", "allow_restricted" },
		};
		parse_args(argc, argv, "route list", NULL, 0, NULL, 0);
		return show(call("route.list", NULL), cols, NCOLS(cols));
	}
	usage_error("route: unknown subcommand '%s'", sub);
}

static struct {
	char const *name;
	int (*fn)(int argc, char **argv);
} const commands[] = {
	{ "status", cmd_status }, { "config", cmd_config }, { "log", cmd_log },
	{ "trace", cmd_trace },	  { "user", cmd_user },	    { "device", cmd_device },
	{ "line", cmd_line },	  { "reg", cmd_reg },	    { "ban", cmd_ban },
	{ "call", cmd_call },	  { "cdr", cmd_cdr },	    { "trunk", cmd_trunk },
	{ "route", cmd_route },
};

int main(int argc, char **argv)
{
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	bool dashdash = false;

	/* Global options may stand anywhere; the rest is the command. */
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (dashdash) {
			rest[nrest++] = a;
		} else if (strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (strcmp(a, "--json") == 0) {
			opt_json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			free(rest);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("sipregctl %s\n", PACKAGE_VERSION);
			free(rest);
			return 0;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc)
				usage_error("%s needs a path", a);
			opt_socket = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			opt_socket = a + 9;
		} else {
			rest[nrest++] = a;
		}
	}
	if (nrest == 0)
		usage_error("no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(rest[0], commands[i].name) == 0) {
			int rc = commands[i].fn(nrest - 1, rest + 1);
			free(rest);
			return rc;
		}
	}
	usage_error("unknown command '%s'", rest[0]);
}
