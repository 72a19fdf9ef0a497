/*
 * sipregctl's plumbing: options and positionals, passwords from a terminal
 * or standard input, one request over the control socket, and the answer
 * printed as a table, as fields or as JSON. The commands are in
 * ctl/sipregctl.c and ctl/cli_trunk.c.
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

#include "ctl/cli.h"
char const cli_usage_text[] =
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
	"             [--transport udp|tcp|tls|any]\n"
	"  device set NAME [--auth verify|identify] [--digest-user USER] [--model MODEL]\n"
	"             [--digest-algs md5|sha256|both|default] [--qop auth|optional]\n"
	"             [--transport udp|tcp|tls|any]\n"
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
	"             [--transport udp|tcp|tls] [--expires S] [--did NUMBER[=DN] ...]\n"
	"             [--register yes|no] [--caller-id NUMBER] [--default-dn DN]\n"
	"             [--emergency yes|no]\n"
	"  trunk set NAME [the options of trunk add; OPTION off clears --proxy, --auth-user,\n"
	"             --realm, --caller-id, --default-dn; --did replaces the DIDs]\n"
	"  trunk del NAME\n"
	"  trunk list\n"
	"  trunk show NAME\n"
	"  trunk test NAME                     check a TLS trunk's certificate, in words\n"
	"  route add PATTERN --trunk NAME|--block [--strip N] [--prepend DIGITS]\n"
	"             [--priority N] [--allow-restricted]\n"
	"  route del ID\n"
	"  route list\n"
	"  tls init [--cn NAME] [--san DNS:NAME,IP:ADDRESS,...] [--days N] [--force]\n"
	"                                      a lab CA, server certificates, trust list\n"
	"  tls renew [--cn NAME] [--san ...] [--days N]   new server certificates, same CA\n"
	"  tls show                            certificates: names, fingerprints, expiry\n"
	"  tls itl [--out FILE] [--hash sha1|sha512] [--device SEPMAC]\n"
	"                                      the Cisco trust list (ITLFile.tlv)\n"
	"  ha status                           role, peer, position and lag of a pair\n"
	"  ha invite [--valid SECONDS]         primary: a one-time token for a backup (600 s)\n"
	"  ha join TOKEN                       backup: join the primary ([ha] peer)\n"
	"  ha promote                          backup: become the primary\n"
	"\n"
	"  -s, --socket PATH   control socket (default $SIPREG_SOCKET or ./" DEFAULT_SOCKET ")\n"
	"  --json              print the answer as JSON\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: 0 done, 1 refused, 2 usage error, 3 sipregd not reachable.\n";

bool cli_opt_json;
char const *cli_opt_socket;

void cli_usage_error(char const *fmt, ...)
{
	va_list ap;
	fputs("sipregctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(cli_usage_text, stderr);
	exit(EXIT_USAGE);
}

/* ---- argument parsing ---- */

/* Splits args into exactly npos positionals and the given options. */
void cli_parse_args(int argc, char **argv, char const *cmd, char const **pos, int npos,
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
				cli_usage_error("%s: unknown option %.*s", cmd, (int)nlen, a);
			if (o->set)
				cli_usage_error("%s: option %s given twice", cmd, o->name);
			o->set = true;
			if (o->has_value) {
				if (eq)
					o->value = eq + 1;
				else if (i + 1 < argc)
					o->value = argv[++i];
				else
					cli_usage_error("%s: option %s needs a value", cmd,
							o->name);
			} else if (eq) {
				cli_usage_error("%s: option %s takes no value", cmd, o->name);
			}
			continue;
		}
		if (got >= npos)
			cli_usage_error("%s: unexpected argument '%s'", cmd, a);
		pos[got++] = a;
	}
	if (got < npos)
		cli_usage_error("%s: missing argument", cmd);
}

/* v as a whole number from lo to hi; false when it is not one. */
bool cli_whole_number(char const *v, long long lo, long long hi, long long *out)
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

int cli_read_password_stdin(char *buf, size_t len)
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

int cli_read_password(bool from_stdin, char const *what, char const *user, char *buf, size_t len)
{
	if (from_stdin)
		return cli_read_password_stdin(buf, len);
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
	if (cli_opt_socket)
		return cli_opt_socket;
	char const *env = getenv("SIPREG_SOCKET");
	return env && *env ? env : DEFAULT_SOCKET;
}

/* Sends the request and returns the parsed reply, or exits. */
json_t *cli_call(char const *cmd, json_t *args)
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
		if (cli_opt_json) {
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

void cli_print_json(json_t *data)
{
	json_dumpf(data, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputs("\n", stdout);
}

void cli_cell(char *buf, size_t len, json_t *v)
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

void cli_print_table(json_t *rows, struct column const *cols, int ncols)
{
	size_t width[16] = { 0 };
	char buf[512];
	size_t i;
	json_t *row;

	for (int c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].header);
	json_array_foreach (rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			cli_cell(buf, sizeof(buf), json_object_get(row, cols[c].key));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	}
	for (int c = 0; c < ncols; c++)
		print_cell(cols[c].header, (int)width[c], c + 1 == ncols);
	json_array_foreach (rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			cli_cell(buf, sizeof(buf), json_object_get(row, cols[c].key));
			print_cell(buf, (int)width[c], c + 1 == ncols);
		}
	}
}

void cli_print_fields(json_t *obj, struct column const *cols, int ncols)
{
	char buf[512];
	for (int c = 0; c < ncols; c++) {
		cli_cell(buf, sizeof(buf), json_object_get(obj, cols[c].key));
		printf("%-14s %s\n", cols[c].header, buf);
	}
}

/* Prints a listing or, with --json, the data as is. */
int cli_show(json_t *data, struct column const *cols, int ncols)
{
	if (cli_opt_json)
		cli_print_json(data);
	else if (json_is_array(data))
		cli_print_table(data, cols, ncols);
	else
		cli_print_fields(data, cols, ncols);
	json_decref(data);
	return 0;
}

/* Prints the outcome of a change. */

int cli_done(json_t *data, char const *fmt, ...)
{
	if (cli_opt_json) {
		cli_print_json(data && !json_is_null(data) ? data : json_pack("{s:b}", "ok", 1));
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
