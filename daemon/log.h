/*
 * Logging: one API for every thread, with a level, a module tag and
 * printf checking. Writes one line per call to stderr or syslog.
 *
 * Thread: any. The level is read and written atomically; each line is
 * written with one write(2) (stderr) or one syslog(3) call.
 * Ownership: static state, set up by log_open() and torn down by log_close().
 */
#ifndef SIPREG_LOG_H
#define SIPREG_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARNING,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG,
};

/** Opens the log; ident names the program in syslog and on stderr. */
void log_open(char const *ident, enum log_target target, enum log_level level);
void log_close(void);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/** Switches between stderr and syslog (a reload may change it). */
void log_set_target(enum log_target target);

/** Parses "error", "warning", "notice", "info" or "debug"; 0 or -EINVAL. */
int log_level_parse(enum log_level *out, char const *text);
char const *log_level_name(enum log_level level);

/** True when a message at this level would be written. */
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, char const *tag, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Writes a line labelled with level whatever the current level (for pre-filtered logs). */
void log_raw(enum log_level level, char const *tag, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, char const *tag, char const *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/**
 * Writes s for a log line: in double quotes, with quotes, backslashes,
 * control characters and bytes outside printable ASCII escaped (\" \\
 * \xNN), cut to fit size with "..." before the closing quote; NULL is -.
 * Every field taken from the network is logged through it, so no field can
 * end a line or pose as another field. Returns buf.
 */
char *log_quote(char *buf, size_t size, char const *s);

/* log_quote() into a buffer of the enclosing block: log_info("user=%s", LOGQ(name)). */
#define LOGQ_MAX 120
#define LOGQ(s)	 log_quote((char[LOGQ_MAX]){ 0 }, LOGQ_MAX, (s))

/*
 * Each source file defines LOG_TAG before using these.
 */
/* The arguments (LOGQ() among them) are evaluated only when the line is written. */
#define log_at(level, ...)                                                                         \
	do {                                                                                       \
		if (log_enabled(level))                                                            \
			log_msg(level, LOG_TAG, __VA_ARGS__);                                      \
	} while (0)
#define log_error(...)	 log_at(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_at(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...)	 log_at(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	 log_at(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	 log_at(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
