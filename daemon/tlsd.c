/*
 * What the daemon does around TLS that is neither SIP nor certificate
 * making: refuse to start on a certificate directory sofia would take
 * without a word, warn before certificates run out, and show their state.
 */
#include "autoconfig.h"

#include "daemon/tlsd.h"

#include "daemon/log.h"
#include "tls/tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_TAG "tls"

int tlsd_prepare(struct config *cfg, char *err, size_t errlen, char *warn, size_t warnlen)
{
	warn[0] = '\0';
	if (cfg->tls_dir[0] != '/') {
		char cwd[PATH_MAX], abs[CONFIG_PATH_MAX + PATH_MAX + 2];
		if (!getcwd(cwd, sizeof(cwd))) {
			snprintf(err, errlen, "cannot resolve [tls] dir: %s", strerror(errno));
			return -1;
		}
		snprintf(abs, sizeof(abs), "%s/%s", cwd, cfg->tls_dir);
		size_t n = strlen(abs);
		if (n >= sizeof(cfg->tls_dir)) {
			snprintf(err, errlen, "[tls] dir: the path is too long");
			return -1;
		}
		memcpy(cfg->tls_dir, abs, n + 1);
	}
	if (!cfg->n_listen_tls)
		return 0;
	return tls_check_dir(cfg->tls_dir, err, errlen, warn, warnlen);
}

void tlsd_expiry_check(char const *dir)
{
	long days = 0;
	char which[32];
	if (tls_expiry(dir, time(NULL), &days, which, sizeof(which)) < 0)
		return;
	if (days < 0)
		log_warning("%s/%s: the certificate has expired; `sipregctl tls renew` issues new "
			    "server certificates",
			    dir, which);
	else if (days < TLS_WARN_DAYS)
		log_warning("%s/%s: the certificate expires in %ld day%s; `sipregctl tls renew` "
			    "issues new server certificates",
			    dir, which, days, days == 1 ? "" : "s");
}

json_t *tlsd_status(struct config const *cfg)
{
	json_t *l = json_array();
	for (unsigned i = 0; i < cfg->n_listen_tls; i++) {
		char buf[96];
		config_listen_format(&cfg->listen_tls[i], buf, sizeof(buf));
		json_array_append_new(l, json_string(buf));
	}
	json_t *o = json_pack("{s:s, s:o, s:b}", "dir", cfg->tls_dir, "listeners", l, "legacy",
			      cfg->tls_legacy);
	long days = 0;
	char which[32];
	if (o && tls_expiry(cfg->tls_dir, time(NULL), &days, which, sizeof(which)) == 0) {
		json_object_set_new(o, "expires_in_days", json_integer(days));
		json_object_set_new(o, "expires_first", json_string(which));
		json_object_set_new(o, "expiry_warning", json_boolean(days < TLS_WARN_DAYS));
	}
	return o;
}

void tlsd_default_san(struct config const *cfg, char const *cn, char *out, size_t len)
{
	size_t o = (size_t)snprintf(out, len, "DNS:%s", cn);
	for (unsigned i = 0; i < cfg->n_listen_tls && o < len; i++) {
		char const *h = cfg->listen_tls[i].host;
		if (!strcmp(h, "0.0.0.0") || !strcmp(h, "::"))
			continue;
		o += (size_t)snprintf(out + o, len - o, ",IP:%s", h);
	}
}
