#include "autoconfig.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/su_log.h>

#include "daemon/log.h"
#include "sip/srtp.h"
#include "sip/thread.h"

/* Exported by the library but declared in no installed header. */
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t iptsec_log[];
extern su_log_t sresolv_log[];

/*
 * Sofia writes a line in several calls (a message trace writes one call per
 * header and another for the line break), so text is gathered per thread
 * until a line is complete.
 */
static __thread char pending[2048];
static __thread size_t pending_len;

/* Digest responses stay out of the log even in a message trace. */
static void mask_credentials(char *line)
{
	if (!strstr(line, "uthorization:"))
		return;
	char *p = strstr(line, "response=");
	if (!p)
		return;
	p += strlen("response=");
	char *q = p;
	if (*q == '"')
		q++;
	while (*q && *q != '"' && *q != ',')
		*q++ = '*';
}

static _Atomic unsigned long dropped_at_exit;

static void flush_line(char const *tag)
{
	pending[pending_len] = '\0';
	/* Trace lines start with three blanks; keep them, trim only the end. */
	while (pending_len && (pending[pending_len - 1] == '\r' || pending[pending_len - 1] == ' '))
		pending[--pending_len] = '\0';
	/* One line per transaction still open at shutdown: counted, not written. */
	if (strncmp(pending, "nta_agent_destroy: destroying", 29) == 0) {
		atomic_fetch_add(&dropped_at_exit, 1);
		pending_len = 0;
		return;
	}
	/*
	 * A keep-alive (CRLF) datagram is "garbage" to sofia, which names our
	 * own port as its source: keep-alives are normal, so the line goes to
	 * debug, saying what it is.
	 */
	if (strstr(pending, "received garbage from")) {
		log_msg(LOG_LVL_DEBUG, tag,
			"dropped a datagram that is not SIP (such as a keep-alive)");
		pending_len = 0;
		return;
	}
	/*
	 * A TLS peer that closes without close_notify (most phones) makes sofia
	 * write three lines of OpenSSL's error queue; the connection's end is
	 * logged by whoever held it. Those go to debug.
	 */
	/*
	 * The TLS transport toward trunks has no client certificate unless
	 * agent.pem exists; the listeners' files were checked at start.
	 */
	if (!strncmp(pending, "tls_init_context", 16)) {
		log_msg(LOG_LVL_DEBUG, tag, "%s", pending);
		pending_len = 0;
		return;
	}
	if (!strncmp(pending, "tls_read: SSL_read:", 19) ||
	    !strcmp(pending, "nta_agent: tport: Input/output error")) {
		log_msg(LOG_LVL_DEBUG, tag, "TLS connection ended without close_notify");
		pending_len = 0;
		return;
	}
	if (pending_len) {
		mask_credentials(pending);
		srtp_mask(pending); /* SRTP keys of a traced description */
		/*
		 * A traced message is text from the network: control characters
		 * and bytes beyond ASCII are written as \xNN, so a line holds
		 * nothing a terminal or a log reader would take for more.
		 */
		static __thread char clean[sizeof(pending) * 4];
		size_t o = 0;
		for (size_t i = 0; i < pending_len && o + 5 < sizeof(clean); i++) {
			unsigned char ch = (unsigned char)pending[i];
			if ((ch < 0x20 && ch != '\t') || ch >= 0x7f)
				o += (size_t)snprintf(clean + o, sizeof(clean) - o, "\\x%02x", ch);
			else
				clean[o++] = (char)ch;
		}
		clean[o] = '\0';
		log_raw(LOG_LVL_NOTICE, tag, "%s", clean);
	}
	pending_len = 0;
}

__attribute__((format(printf, 2, 0))) static void sofia_logger(void *stream, char const *fmt,
							       va_list ap)
{
	char const *tag = stream;
	char text[2048];
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	for (int i = 0; i < n; i++) {
		if (text[i] == '\n') {
			flush_line(tag);
			continue;
		}
		if (pending_len < sizeof(pending) - 1)
			pending[pending_len++] = text[i];
	}
}

void sofia_log_redirect(void)
{
	su_log_redirect(su_log_default, sofia_logger, (void *)"sofia");
	su_log_redirect(nta_log, sofia_logger, (void *)"nta");
	su_log_redirect(tport_log, sofia_logger, (void *)"tport");
	su_log_redirect(iptsec_log, sofia_logger, (void *)"iptsec");
	su_log_redirect(sresolv_log, sofia_logger, (void *)"sresolv");
}

void sofia_log_set_level(enum log_level level)
{
	/*
	 * Sofia's levels: 0 fatal, 1 error, 3 notable events, 5 and up debug
	 * detail. Its lines are written whatever our own level, since sofia has
	 * already filtered them.
	 */
	static unsigned const map[] = {
		[LOG_LVL_ERROR] = 0, [LOG_LVL_WARNING] = 1, [LOG_LVL_NOTICE] = 1,
		[LOG_LVL_INFO] = 3,  [LOG_LVL_DEBUG] = 5,
	};
	unsigned l = map[level];
	su_log_set_level(su_log_default, l);
	su_log_set_level(nta_log, l);
	su_log_set_level(tport_log, l);
	su_log_set_level(iptsec_log, l);
	su_log_set_level(sresolv_log, l);
}

unsigned long sofia_log_dropped_transactions(void)
{
	return atomic_exchange(&dropped_at_exit, 0);
}
