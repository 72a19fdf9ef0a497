/*
 * The configuration file: INI read through inih with a bounded line
 * reader, each key parsed into its type at load, and errors that name
 * file:line and echo what they quote escaped.
 */
#include "autoconfig.h"

#include "daemon/config.h"

#include "daemon/config_values.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_listen = 1;
	snprintf(cfg->listen[0].host, sizeof(cfg->listen[0].host), "127.0.0.1");
	cfg->listen[0].port = 5060;
	snprintf(cfg->realm, sizeof(cfg->realm), "sipreg");
	snprintf(cfg->server_header, sizeof(cfg->server_header), "sipreg");
	snprintf(cfg->store_path, sizeof(cfg->store_path), "sipreg.db");
	snprintf(cfg->tls_dir, sizeof(cfg->tls_dir), "tls");
	cfg->store_flush_ms = 100;
	snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "sipregd.sock");
	cfg->log_level = LOG_LVL_INFO;
	cfg->log_target = LOG_TARGET_STDERR;
	cfg->min_expires = 60;
	cfg->max_expires = 3600;
	cfg->default_expires = 3600;
	cfg->cucm_max_expires = 120;
	cfg->nonce_lifetime = 300;
	cfg->digest_algs = 1;
	cfg->max_contacts = 16;
	cfg->device_contacts = 1;
	cfg->tcp_message_timeout = 10;
	cfg->tcp_idle_timeout = 60;
	cfg->tcp_max_per_source = 64;
	cfg->tcp_backlog = 1024;
	cfg->ban_failures = 10;
	cfg->ban_window = 60;
	cfg->ban_time = 600;
	cfg->ring_timeout = 60;
	cfg->line_calls = 2;
	cfg->max_forks = 16;
	snprintf(cfg->identify_from, sizeof(cfg->identify_from),
		 "127.0.0.0/8 ::1 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7");
	cfg->dnd_response = 486;
	cfg->trunk_retry_min = 30;
	cfg->trunk_retry_max = 1800;
	cfg->trunk_keepalive = 30;
	cfg->ha_journal_keep = 10000;
	cfg->ha_journal_age = 86400;
	cfg->ha_token_rate = 10;
	cfg->ha_trunk_takeover = 30;
	snprintf(cfg->emergency, sizeof(cfg->emergency), "112 911");
	snprintf(cfg->restricted, sizeof(cfg->restricted), "00 + 011 0900 0137 0180 0190 1900");
}

void config_server_header(struct config const *cfg, char *out, size_t len)
{
	char const *v = strstr(cfg->server_header, "{version}");
	if (!v) {
		snprintf(out, len, "%s", cfg->server_header);
		return;
	}
	snprintf(out, len, "%.*s%s%s", (int)(v - cfg->server_header), cfg->server_header,
		 PACKAGE_VERSION, v + strlen("{version}"));
}

int config_list_has(char const *list, char const *number, int prefix)
{
	size_t n = strlen(number);
	while (*list) {
		size_t len = strcspn(list, " ");
		if (len && (prefix ? len <= n && !strncmp(list, number, len)
				   : len == n && !strncmp(list, number, n)))
			return 1;
		list += len;
		list += strspn(list, " ");
	}
	return 0;
}

void config_listen_format(struct config_listen const *l, char *buf, size_t len)
{
	if (strchr(l->host, ':'))
		snprintf(buf, len, "[%s]:%u", l->host, l->port);
	else
		snprintf(buf, len, "%s:%u", l->host, l->port);
}

struct key_def {
	char const *section;
	char const *name;
	value_parse_f parse;
	size_t offset;
	unsigned min, max;
	bool repeatable;
};

#define FIELD(f) offsetof(struct config, f)

static struct key_def const keys[] = {
	{ "sip", "listen", config_parse_listen, 0, 0, 0, true },
	{ "sip", "realm", config_parse_realm, FIELD(realm), 0, 0, false },
	{ "sip", "advertise", config_parse_advertise, FIELD(advertise), 0, 0, false },
	{ "sip", "server_header", config_parse_server_header, FIELD(server_header), 0, 0, false },
	{ "sip", "tcp_message_timeout", config_parse_uint, FIELD(tcp_message_timeout), 1, 3600,
	  false },
	{ "sip", "tcp_idle_timeout", config_parse_uint, FIELD(tcp_idle_timeout), 1, 86400, false },
	{ "sip", "tcp_max_per_source", config_parse_uint, FIELD(tcp_max_per_source), 1, 1000000,
	  false },
	{ "sip", "tcp_backlog", config_parse_uint, FIELD(tcp_backlog), 1, 65535, false },
	{ "sip", "resolv_conf", config_parse_path, FIELD(resolv_conf), 0, 0, false },
	{ "sip", "listen_tls", config_parse_listen_tls, 0, 0, 0, false },
	{ "sip", "allow", config_parse_cidrs, FIELD(allow), 0, 0, false },
	{ "tls", "dir", config_parse_path, FIELD(tls_dir), 0, 0, false },
	{ "tls", "legacy", config_parse_bool, FIELD(tls_legacy), 0, 0, false },
	{ "tls", "trunk_ca", config_parse_opt_path, FIELD(tls_trunk_ca), 0, 0, false },
	{ "trunks", "retry_min", config_parse_uint, FIELD(trunk_retry_min), 1, 3600, false },
	{ "trunks", "retry_max", config_parse_uint, FIELD(trunk_retry_max), 1, 86400, false },
	{ "trunks", "keepalive", config_parse_uint, FIELD(trunk_keepalive), 0, 3600, false },
	{ "dialplan", "emergency", config_parse_numbers, FIELD(emergency), 0, 0, false },
	{ "dialplan", "restricted", config_parse_numbers, FIELD(restricted), 0, 0, false },
	{ "store", "path", config_parse_path, FIELD(store_path), 0, 0, false },
	{ "store", "flush_interval_ms", config_parse_uint, FIELD(store_flush_ms), 10, 10000,
	  false },
	{ "ctl", "socket", config_parse_path, FIELD(ctl_socket), 0, 0, false },
	{ "log", "level", config_parse_level, FIELD(log_level), 0, 0, false },
	{ "log", "target", config_parse_target, FIELD(log_target), 0, 0, false },
	{ "registrar", "min_expires", config_parse_uint, FIELD(min_expires), 1, 86400, false },
	{ "registrar", "max_expires", config_parse_uint, FIELD(max_expires), 1, 86400, false },
	{ "registrar", "default_expires", config_parse_uint, FIELD(default_expires), 1, 86400,
	  false },
	{ "registrar", "cucm_max_expires", config_parse_uint, FIELD(cucm_max_expires), 1, 86400,
	  false },
	{ "registrar", "nonce_lifetime", config_parse_uint, FIELD(nonce_lifetime), 10, 86400,
	  false },
	{ "registrar", "digest_algs", config_parse_algs, FIELD(digest_algs), 0, 0, false },
	{ "registrar", "max_contacts", config_parse_uint, FIELD(max_contacts), 1, 1000, false },
	{ "registrar", "device_contacts", config_parse_uint, FIELD(device_contacts), 1, 1000,
	  false },
	{ "registrar", "identify_from", config_parse_cidrs, FIELD(identify_from), 0, 0, false },
	{ "calls", "ring_timeout", config_parse_uint, FIELD(ring_timeout), 1, 3600, false },
	{ "calls", "line_calls", config_parse_uint, FIELD(line_calls), 1, 1000, false },
	{ "calls", "max_forks", config_parse_uint, FIELD(max_forks), 1, 1000, false },
	{ "calls", "dnd_response", config_parse_uint, FIELD(dnd_response), 400, 699, false },
	{ "security", "ban_failures", config_parse_uint, FIELD(ban_failures), 1, 1000000, false },
	{ "security", "ban_window", config_parse_uint, FIELD(ban_window), 1, 86400, false },
	{ "security", "ban_time", config_parse_uint, FIELD(ban_time), 1, 31536000, false },
	{ "security", "ban_exempt", config_parse_cidrs, FIELD(ban_exempt), 0, 0, false },
	{ "ha", "role", config_parse_ha_role, FIELD(ha_role), 0, 0, false },
	{ "ha", "listen", config_parse_hostport, FIELD(ha_listen), 0, 0, false },
	{ "ha", "peer", config_parse_hostport, FIELD(ha_peer), 0, 0, false },
	{ "ha", "node_id", config_parse_node_id, FIELD(ha_node_id), 0, 0, false },
	{ "ha", "journal_keep", config_parse_uint, FIELD(ha_journal_keep), 100, 10000000, false },
	{ "ha", "journal_age", config_parse_uint, FIELD(ha_journal_age), 60, 31536000, false },
	{ "ha", "token_rate", config_parse_uint, FIELD(ha_token_rate), 1, 10000, false },
	{ "ha", "trunk_takeover", config_parse_uint, FIELD(ha_trunk_takeover), 0, 86400, false },
	{ "ha", "sip_listen", config_parse_hostport, FIELD(ha_sip), 0, 0, false },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

struct parse_ctx {
	struct config *cfg;
	char const *name;
	/* the text source: a FILE or a string */
	FILE *fp;
	char const *text;
	size_t read;	  /* bytes so far */
	char section[32]; /* the current one, for the lines read here */
	unsigned lineno;
	unsigned set_line[N_KEYS];
	bool listen_replaced;
	/* first error */
	unsigned err_line;
	char err[4 * 512]; /* room for every byte escaped */
};

static void ctx_error(struct parse_ctx *ctx, char const *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctx_error(struct parse_ctx *ctx, char const *fmt, ...)
{
	va_list ap;
	if (ctx->err_line)
		return;
	ctx->err_line = ctx->lineno;
	char raw[512];
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* The bytes of the file it echoes go to a terminal and the log: escaped. */
	char *o = ctx->err;
	for (unsigned char const *p = (unsigned char const *)raw; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			*o++ = (char)*p;
		else
			o += sprintf(o, "\\x%02x", *p);
	}
	*o = '\0';
}

/*
 * inih takes a ';' after a space for the start of a comment, so in
 * "key = ;x" the value would silently be empty: refused, naming the key.
 */
static void check_comment_value(struct parse_ctx *ctx, char const *line)
{
	char const *eq = strchr(line, '=');
	if (!eq || line[strspn(line, " \t")] == '[' || line[strspn(line, " \t")] == ';' ||
	    line[strspn(line, " \t")] == '#')
		return;
	char const *v = eq + 1 + strspn(eq + 1, " \t");
	if (*v == ';' || *v == '#')
		ctx_error(ctx, "the value of '%.*s' begins with '%c', which starts a comment",
			  (int)strcspn(line, " \t="), line, *v);
}

/*
 * inih calls the handler only for keys, so a [section] line is checked here,
 * where an unknown section would otherwise pass unnoticed when it holds no keys.
 */
static void check_section(struct parse_ctx *ctx, char const *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '[')
		return;
	char const *end = strchr(line, ']');
	if (!end)
		return; /* inih reports the syntax error */
	size_t n = (size_t)(end - line - 1);
	for (unsigned i = 0; i < N_KEYS; i++) {
		if (strlen(keys[i].section) == n && !strncmp(keys[i].section, line + 1, n)) {
			snprintf(ctx->section, sizeof(ctx->section), "%s", keys[i].section);
			return;
		}
	}
	ctx_error(ctx, "unknown section [%.*s]", (int)(n > 64 ? 64 : n), line + 1);
}

static int ctx_handler(void *user, char const *section, char const *name, char const *value);

/*
 * A key = value line longer than inih's buffer (198 characters), read here
 * as inih reads the others: name and value trimmed, '=' or ':' between
 * them, a ';' after a space starting a comment. false: not such a line.
 */
static bool long_key_value(struct parse_ctx *ctx, char *line)
{
	line += strspn(line, " \t");
	line[strcspn(line, "\r\n")] = '\0';
	if (*line == ';' || *line == '#')
		return true; /* a comment */
	size_t name_len = strcspn(line, "=:");
	if (*line == '[' || !line[name_len] || name_len == 0)
		return false;
	char *value = line + name_len + 1;
	line[name_len] = '\0';
	while (name_len && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
		line[--name_len] = '\0';
	value += strspn(value, " \t");
	for (char *p = value; *p; p++) {
		if (*p == ';' && p > value && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	size_t vlen = strlen(value);
	while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		value[--vlen] = '\0';
	ctx_handler(ctx, ctx->section, line, value);
	return true;
}

/* The most a file may hold, and of a line: reading stops there, with an error. */
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 4096

/* The next line of the source into buf (at most cap - 1 bytes); its length, -1 at the end. */
static ssize_t next_line(struct parse_ctx *ctx, char *buf, size_t cap, bool *cut)
{
	size_t n = 0;
	*cut = false;
	if (ctx->fp) {
		int ch = EOF;
		while (n + 1 < cap && (ch = getc(ctx->fp)) != EOF) {
			buf[n++] = (char)ch;
			if (ch == '\n')
				break;
		}
		if (n == 0 && ch == EOF)
			return -1;
		*cut = n + 1 == cap && buf[n - 1] != '\n';
	} else {
		if (!ctx->text || !*ctx->text)
			return -1;
		while (n + 1 < cap && ctx->text[n] && ctx->text[n] != '\n')
			n++;
		if (ctx->text[n] == '\n' && n + 1 < cap)
			n++;
		memcpy(buf, ctx->text, n);
		*cut = n + 1 == cap && buf[n - 1] != '\n' && ctx->text[n];
		ctx->text += n;
	}
	buf[n] = '\0';
	ctx->read += n;
	return (ssize_t)n;
}

/*
 * Line reader for inih that counts lines, so the handler knows the line it
 * is called for. It never holds more than CONFIG_LINE_MAX bytes of a line
 * nor reads more than CONFIG_FILE_MAX of a file: a longer line and a NUL
 * byte are errors that end the reading, so an endless line cannot grow
 * memory or hang the check. A key = value line too long for inih's buffer
 * (num) is read here.
 */
static char *ctx_reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	char buf[CONFIG_LINE_MAX + 2];
	bool cut;
	if (ctx->err_line)
		return NULL;
	ssize_t n = next_line(ctx, buf, sizeof(buf), &cut);
	if (n < 0)
		return NULL;
	ctx->lineno++;
	size_t limit = (size_t)num - 2; /* what inih's own buffer holds */
	if (memchr(buf, '\0', (size_t)n)) {
		ctx_error(ctx, "the line holds a NUL byte (not a text file?)");
		return NULL;
	}
	if (cut) {
		ctx_error(ctx, "the line is longer than %d characters", CONFIG_LINE_MAX);
		return NULL;
	}
	if (ctx->read > CONFIG_FILE_MAX) {
		ctx_error(ctx, "the file is larger than %d bytes", CONFIG_FILE_MAX);
		return NULL;
	}
	check_comment_value(ctx, buf);
	/* The line without its end; a CR inside it counts (inih's buffer holds limit). */
	size_t len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len > limit) {
		/* Too long for inih: read here, inih gets an empty line. */
		if (!long_key_value(ctx, buf)) {
			ctx_error(ctx,
				  "expected 'key = value' (a [section] line is at most %zu "
				  "characters)",
				  limit);
			return NULL;
		}
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	memcpy(str, buf, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	check_section(ctx, str);
	return str;
}

static int ctx_handler(void *user, char const *section, char const *name, char const *value)
{
	struct parse_ctx *ctx = user;
	char why[384];

	if (!section[0]) {
		ctx_error(ctx, "key '%s' stands before any [section]", name);
		return 0;
	}
	for (unsigned i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) || strcmp(keys[i].name, name))
			continue;
		if (ctx->set_line[i] && !keys[i].repeatable) {
			ctx_error(ctx, "[%s] %s is already set on line %u", section, name,
				  ctx->set_line[i]);
			return 0;
		}
		if (keys[i].parse == config_parse_listen && !ctx->listen_replaced) {
			/* The first listen line replaces the default listener. */
			ctx->cfg->n_listen = 0;
			ctx->listen_replaced = true;
		}
		if (keys[i].parse(ctx->cfg, (char *)ctx->cfg + keys[i].offset, value, why,
				  sizeof(why), keys[i].min, keys[i].max) < 0) {
			ctx_error(ctx, "[%s] %s: %s", section, name, why);
			return 0;
		}
		ctx->set_line[i] = ctx->lineno;
		return 1;
	}
	bool known_section = false;
	for (unsigned i = 0; i < N_KEYS; i++)
		known_section |= strcmp(keys[i].section, section) == 0;
	if (known_section)
		ctx_error(ctx, "unknown key '%s' in section [%s]", name, section);
	else
		ctx_error(ctx, "unknown section [%s]", section);
	return 0;
}

static int ctx_run(struct parse_ctx *ctx, char *err, size_t errlen)
{
	int rc = ini_parse_stream(ctx_reader, ctx, ctx_handler, ctx);
	int ret = 0;
	struct config *c = ctx->cfg;

	/* Relations between keys, checked once the whole file is read. */
	if (!ctx->err_line && rc == 0 && c->min_expires > c->max_expires) {
		unsigned line = 0;
		for (unsigned i = 0; i < N_KEYS; i++) {
			if (!strcmp(keys[i].section, "registrar") &&
			    (!strcmp(keys[i].name, "min_expires") ||
			     !strcmp(keys[i].name, "max_expires")) &&
			    ctx->set_line[i] > line)
				line = ctx->set_line[i];
		}
		snprintf(err, errlen,
			 "%s:%u: [registrar] min_expires (%u) is above max_expires (%u)", ctx->name,
			 line, c->min_expires, c->max_expires);
		return -EINVAL;
	}

	for (unsigned i = 0; !ctx->err_line && rc == 0 && i < c->n_listen_tls; i++) {
		for (unsigned k = 0; k < c->n_listen; k++) {
			if (strcmp(c->listen[k].host, c->listen_tls[i].host) ||
			    c->listen[k].port != c->listen_tls[i].port)
				continue;
			unsigned line = 0;
			for (unsigned n = 0; n < N_KEYS; n++)
				if (keys[n].parse == config_parse_listen_tls)
					line = ctx->set_line[n];
			char name[96];
			config_listen_format(&c->listen_tls[i], name, sizeof(name));
			snprintf(err, errlen,
				 "%s:%u: [sip] listen_tls %s is also a listen address (TCP and TLS "
				 "cannot share a port)",
				 ctx->name, line, name);
			return -EINVAL;
		}
	}

	if (rc > 0 && (!ctx->err_line || (unsigned)rc < ctx->err_line)) {
		/* inih found a line that is neither a section nor key = value. */
		snprintf(err, errlen, "%s:%d: expected '[section]' or 'key = value'", ctx->name,
			 rc);
		ret = -EINVAL;
	} else if (ctx->err_line) {
		snprintf(err, errlen, "%s:%u: %s", ctx->name, ctx->err_line, ctx->err);
		ret = -EINVAL;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read the file", ctx->name);
		ret = -EIO;
	}
	return ret;
}

int config_load(struct config *cfg, char const *path, char *err, size_t errlen)
{
	struct parse_ctx ctx = { .cfg = cfg, .name = path };
	int ret;

	/* Not blocking on a FIFO; anything but a regular file is refused. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, 0) < 0 || !(ctx.fp = fdopen(fd, "r"))) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	ret = ctx_run(&ctx, err, errlen);
	if (ret == 0 && ferror(ctx.fp)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -EIO;
	}
	fclose(ctx.fp);
	return ret;
}

int config_load_string(struct config *cfg, char const *name, char const *text, char *err,
		       size_t errlen)
{
	struct parse_ctx ctx = { .cfg = cfg, .name = name, .text = text };
	return ctx_run(&ctx, err, errlen);
}
