/*
 * tls.init, tls.renew, tls.show and tls.itl: the lab CA and the trust list
 * made and shown through the control socket. The files stay in [tls] dir
 * on the daemon's host; the trust list is public and travels back
 * (base64) so `sipregctl tls itl --out FILE` can write it where the
 * administrator wants, with the administrator's rights, not the daemon's.
 */
#include "autoconfig.h"

#include "ctl/cmd_tls.h"

#include "b2bua/b2bua.h"
#include "daemon/app.h"
#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/tlsd.h"
#include "tls/tls.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_TAG "ctl"

static char const *str_arg(json_t *args, char const *key)
{
	json_t *v = json_object_get(args, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* --cn, --san, --days (and --force for init) from the request, with defaults. */
static int opts_from(struct ctl_job *j, struct config const *cfg, struct tls_init_opts *o,
		     char *cn, size_t cnlen, char *san, size_t sanlen, bool renew)
{
	char const *c = str_arg(j->args, "cn"), *s = str_arg(j->args, "san");
	json_t *days = json_object_get(j->args, "days");
	memset(o, 0, sizeof(*o));
	if (c) {
		snprintf(cn, cnlen, "%s", c);
	} else if (!renew) {
		if (gethostname(cn, cnlen - 1) < 0 || !cn[0])
			snprintf(cn, cnlen, "sipreg");
		cn[cnlen - 1] = '\0';
	}
	if (s)
		snprintf(san, sanlen, "%s", s);
	else if (cn[0] && (!renew || c))
		tlsd_default_san(cfg, cn, san, sanlen);
	o->cn = cn[0] ? cn : NULL;
	o->san = san[0] ? san : NULL;
	o->days = 1825;
	if (days) {
		if (!json_is_integer(days) || json_integer_value(days) < 1 ||
		    json_integer_value(days) > 36500)
			return ctl_job_fail(j, -EINVAL, "days must be a whole number from 1 to 36500");
		o->days = (unsigned)json_integer_value(days);
	}
	o->force = json_is_true(json_object_get(j->args, "force"));
	return 0;
}

static int after_change(struct ctl_job *j, struct config const *cfg, char const *what)
{
	char err[400];
	json_t *certs = tls_show(cfg->tls_dir, time(NULL), err, sizeof(err));
	log_notice("tls %s: new certificates in %s; the TLS listener uses them from the next "
		   "restart",
		   what, cfg->tls_dir);
	j->data = json_pack("{s:s, s:o, s:b}", "dir", cfg->tls_dir, "certificates",
			    certs ? certs : json_array(), "restart_needed", cfg->n_listen_tls > 0);
	return 0;
}

int ctl_tls_init(struct ctl_job *j, struct ctl_handlers const *h)
{
	struct config const *cfg = h->settings(h->arg);
	struct tls_init_opts o;
	char cn[128] = "", san[600] = "", err[400];
	if (opts_from(j, cfg, &o, cn, sizeof(cn), san, sizeof(san), false) < 0)
		return j->err.code;
	if (tls_init(cfg->tls_dir, &o, err, sizeof(err)) < 0)
		return ctl_job_fail(j, -EINVAL, err);
	return after_change(j, cfg, "init");
}

int ctl_tls_renew(struct ctl_job *j, struct ctl_handlers const *h)
{
	struct config const *cfg = h->settings(h->arg);
	struct tls_init_opts o;
	char cn[128] = "", san[600] = "", err[400];
	if (opts_from(j, cfg, &o, cn, sizeof(cn), san, sizeof(san), true) < 0)
		return j->err.code;
	if (tls_renew(cfg->tls_dir, &o, err, sizeof(err)) < 0)
		return ctl_job_fail(j, -EINVAL, err);
	return after_change(j, cfg, "renew");
}

int ctl_tls_show(struct ctl_job *j, struct ctl_handlers const *h)
{
	struct config const *cfg = h->settings(h->arg);
	char err[400];
	json_t *certs = tls_show(cfg->tls_dir, time(NULL), err, sizeof(err));
	if (!certs)
		return ctl_job_fail(j, -ENOENT, err);
	j->data = json_pack("{s:o, s:o}", "tls", tlsd_status(cfg), "certificates", certs);
	return 0;
}

int ctl_tls_itl(struct ctl_job *j, struct ctl_handlers const *h)
{
	struct config const *cfg = h->settings(h->arg);
	char const *hash = str_arg(j->args, "hash"), *device = str_arg(j->args, "device");
	char name[64], err[400];
	if (hash && strcmp(hash, "sha1") && strcmp(hash, "sha512"))
		return ctl_job_fail(j, -EINVAL, "hash must be sha1 or sha512");
	if (device) {
		snprintf(name, sizeof(name), "ITL%.40s.tlv", device);
		if (strncmp(device, "SEP", 3) || !tls_itl_name_ok(name))
			return ctl_job_fail(j, -EINVAL, "device must be SEP and 12 hex digits");
	} else {
		snprintf(name, sizeof(name), TLS_ITL);
	}
	uint8_t *itl = NULL;
	size_t len = 0;
	if (tls_itl_for_dir(cfg->tls_dir, hash && !strcmp(hash, "sha512"), name, &itl, &len, err,
			    sizeof(err)) < 0)
		return ctl_job_fail(j, -ENOENT, err);
	char path[CONFIG_PATH_MAX + 80];
	snprintf(path, sizeof(path), "%s/%s", cfg->tls_dir, name);
	FILE *f = fopen(path, "wbe");
	bool written = f && fwrite(itl, 1, len, f) == len;
	if (f && fclose(f) != 0)
		written = false;
	if (written)
		chmod(path, 0644);
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (!b64) {
		free(itl);
		return ctl_job_fail(j, -ENOMEM, "out of memory");
	}
	EVP_EncodeBlock((unsigned char *)b64, itl, (int)len);
	free(itl);
	log_notice("tls itl: %s (%zu bytes, %s header hash)%s", path, len,
		   hash ? hash : "sha1", written ? "" : " could not be written");
	j->data = json_pack("{s:s, s:s, s:I, s:s, s:s}", "file", name, "path", written ? path : "",
			    "size", (json_int_t)len, "hash", hash ? hash : "sha1", "data", b64);
	free(b64);
	return 0;
}

/* ---- trunk.test ---- */

struct trunk_checked {
	char name[65];
	char result[240];
};

static void record_check(sip_thread_t *t, void *arg)
{
	struct trunk_checked *c = arg;
	b2bua_trunk_checked(app_b2bua(t), c->name, c->result);
}

/*
 * trunk.test: the trunk's TLS as sofia would meet it, checked with
 * sipregd's own code, since sofia's verification errors reach no API. The
 * client names the host and the addresses sipregd resolved it to (trunk
 * show); the result is kept for trunk list.
 */
int ctl_trunk_test(struct ctl_job *j, struct ctl_handlers const *h)
{
	struct config const *cfg = h->settings(h->arg);
	char const *name = str_arg(j->args, "name"), *host = str_arg(j->args, "host");
	json_t *port = json_object_get(j->args, "port"), *addrs = json_object_get(j->args, "addresses");
	if (!name || !host || !json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535 || !json_is_array(addrs))
		return ctl_job_fail(j, -EINVAL, "name, host, port and addresses are required");
	char const *ca = cfg->tls_trunk_ca[0] ? cfg->tls_trunk_ca : TLSD_SYSTEM_CA;
	char why[240] = "no address: sipregd has not resolved the trunk's host";
	char const *used = NULL;
	int rc = -1;
	size_t i;
	json_t *a;
	json_array_foreach (addrs, i, a) {
		if (!json_is_string(a) || i >= 8)
			continue;
		used = json_string_value(a);
		rc = tls_probe(host, used, (unsigned)json_integer_value(port), ca, 3000, why,
			       sizeof(why));
		if (rc == 0)
			break;
	}
	struct trunk_checked *c = calloc(1, sizeof(*c));
	if (c) {
		text_copy(c->name, sizeof(c->name), name);
		text_copy(c->result, sizeof(c->result), why);
		if (!h->sip(h->arg) || sip_thread_call(h->sip(h->arg), record_check, free, c) < 0)
			free(c);
	}
	log_notice("trunk test %s: %s %s", LOGQ(name), rc == 0 ? "good" : "failed", LOGQ(why));
	j->data = json_pack("{s:s, s:b, s:s, s:s?}", "name", name, "verified", rc == 0, "result",
			    why, "address", used);
	return 0;
}
