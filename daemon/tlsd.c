/*
 * What the daemon does around TLS that is neither SIP nor certificate
 * making: refuse to start on a certificate directory sofia would take
 * without a word, warn before certificates run out, and show their state.
 */
#include "autoconfig.h"

#include "daemon/tlsd.h"

#include "daemon/log.h"
#include "tls/internal.h"
#include "tls/tls.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/stat.h>

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

int tlsd_prepare_trunks(struct config *cfg)
{
	char const *ca = cfg->tls_trunk_ca[0] ? cfg->tls_trunk_ca : TLSD_SYSTEM_CA;
	char const *tmp = getenv("TMPDIR");
	char dir[CONFIG_PATH_MAX];
	cfg->tls_trunk_dir[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/sipregd-trunk-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		log_warning("cannot create %s: %s; TLS trunks cannot be reached", dir, strerror(errno));
		return -1;
	}
	char *pem = NULL;
	size_t len = 0;
	int e = tls_file_read(ca[0] == '/' ? "/" : ".", ca, &pem, &len);
	if (e < 0) {
		log_warning("[tls] trunk_ca %s cannot be read (%s); TLS trunks cannot be reached", ca,
			    strerror(-e));
		rmdir(dir);
		return -1;
	}
	e = tls_file_write(dir, TLS_CAFILE, pem, len, 0644);
	free(pem);
	/* sofia presents agent.pem as the client certificate, when there is one. */
	if (e == 0 && tls_file_read(cfg->tls_dir, TLS_AGENT, &pem, &len) == 0) {
		e = tls_file_write(dir, TLS_AGENT, pem, len, 0600);
		OPENSSL_cleanse(pem, len);
		free(pem);
	}
	snprintf(cfg->tls_trunk_dir, sizeof(cfg->tls_trunk_dir), "%s", dir);
	if (e < 0) {
		log_warning("cannot write into %s: %s; TLS trunks cannot be reached", dir,
			    strerror(-e));
		tlsd_forget_trunks(cfg);
		return -1;
	}
	return 0;
}

void tlsd_forget_trunks(struct config *cfg)
{
	if (!cfg->tls_trunk_dir[0])
		return;
	char path[CONFIG_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/" TLS_AGENT, cfg->tls_trunk_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" TLS_CAFILE, cfg->tls_trunk_dir);
	unlink(path);
	rmdir(cfg->tls_trunk_dir);
	cfg->tls_trunk_dir[0] = '\0';
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
