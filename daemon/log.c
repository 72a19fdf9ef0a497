#include "autoconfig.h"

#include "daemon/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static _Atomic int cur_level = LOG_LVL_NOTICE;
static _Atomic int cur_target = LOG_TARGET_STDERR;
static char log_ident[32] = "sipreg";
static bool syslog_open;

static char const *const level_names[] = {
	[LOG_LVL_ERROR] = "error", [LOG_LVL_WARNING] = "warning", [LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",   [LOG_LVL_DEBUG] = "debug",
};

static int const syslog_prio[] = {
	[LOG_LVL_ERROR] = LOG_ERR, [LOG_LVL_WARNING] = LOG_WARNING, [LOG_LVL_NOTICE] = LOG_NOTICE,
	[LOG_LVL_INFO] = LOG_INFO, [LOG_LVL_DEBUG] = LOG_DEBUG,
};

void log_open(char const *ident, enum log_target target, enum log_level level)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "sipreg");
	atomic_store(&cur_level, level);
	log_set_target(target);
}

void log_close(void)
{
	if (syslog_open)
		closelog();
	syslog_open = false;
	atomic_store(&cur_target, LOG_TARGET_STDERR);
}

void log_set_target(enum log_target target)
{
	if (target == LOG_TARGET_SYSLOG && !syslog_open) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_open = true;
	}
	atomic_store(&cur_target, target);
}

void log_set_level(enum log_level level)
{
	atomic_store(&cur_level, level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&cur_level);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&cur_level);
}

int log_level_parse(enum log_level *out, char const *text)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (text && strcasecmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

char const *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

/* The length of s escaped as log_quote() does, without the quotes. */
static size_t quoted_len(char const *s)
{
	size_t n = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		n += c == '"' || c == '\\' ? 2 : c < 0x20 || c >= 0x7f ? 4 : 1;
	}
	return n;
}

char *log_quote(char *buf, size_t size, char const *s)
{
	static char const hex[] = "0123456789abcdef";
	size_t n = 0;
	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	if (!s) {
		memcpy(buf, "-", 2);
		return buf;
	}
	buf[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[4];
		size_t len = 0;
		if (c == '"' || c == '\\') {
			esc[len++] = '\\';
			esc[len++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			esc[len++] = '\\';
			esc[len++] = 'x';
			esc[len++] = hex[c >> 4];
			esc[len++] = hex[c & 15];
		} else {
			esc[len++] = (char)c;
		}
		/* Room for this, and for "..." and the quote and NUL should more follow. */
		if (n + len + (s[1] ? 5 : 2) > size && n + quoted_len(s) + 2 > size) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, len);
		n += len;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

static void log_write(enum log_level level, char const *tag, char const *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_write(enum log_level level, char const *tag, char const *fmt, va_list ap)
{
	char text[2048];
	int n;

	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return;
	/* One message is one line: fold embedded line breaks. */
	for (char *p = text; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}

	if (atomic_load(&cur_target) == LOG_TARGET_SYSLOG) {
		syslog(syslog_prio[level], "%s: %s", tag, text);
		return;
	}

	char line[2300];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	int len = snprintf(
		line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%d] %s %s: %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, log_ident, (int)getpid(), level_names[level], tag, text);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	/* A single write keeps lines of different threads apart. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)len);
	(void)w;
}

void log_vmsg(enum log_level level, char const *tag, char const *fmt, va_list ap)
{
	if (log_enabled(level))
		log_write(level, tag, fmt, ap);
}

void log_raw(enum log_level level, char const *tag, char const *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(level, tag, fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level level, char const *tag, char const *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, tag, fmt, ap);
	va_end(ap);
}
