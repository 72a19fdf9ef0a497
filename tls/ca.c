/*
 * The lab certificate authority: `sipregctl tls init` makes a CA, the SIP
 * server certificate (RSA 2048, which 79x1/797x phones need), an EC P-256
 * certificate for HTTPS provisioning (phones with a version 1.1 trust list
 * want EC there), the SAST key that signs trust lists, and the trust list.
 * `tls renew` issues new server certificates from the same CA and signs a
 * new trust list with the same SAST key: phones trust the SAST entry of
 * the list they hold, not the CA, so the SAST key never changes.
 * Everything is made with OpenSSL's API; keys are written 0600.
 */
#include "autoconfig.h"

#include "tls/tls.h"

#include "tls/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS	  3650
#define SAST_DAYS 7300

X509 *tls_issue(EVP_PKEY *key, char const *cn, X509 *issuer, EVP_PKEY *issuer_key,
		   unsigned days, char const *kind, char const *san)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	X509_NAME *name = X509_NAME_new();
	bool ok = x && bn && name && X509_set_version(x, 2) &&
		  BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		  X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (unsigned char const *)cn,
					     -1, -1, 0) &&
		  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					     (unsigned char const *)"sipreg", -1, -1, 0) &&
		  X509_set_subject_name(x, name) &&
		  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
		  X509_set_pubkey(x, key);
	X509 *signer = issuer ? issuer : x;
	if (ok && !strcmp(kind, "ca"))
		ok = tls_add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE") &&
		     tls_add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
	else if (ok && !strcmp(kind, "sast"))
		ok = tls_add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") &&
		     tls_add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
	else if (ok)
		ok = tls_add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE") &&
		     tls_add_ext(x, signer, NID_key_usage,
			     !strcmp(kind, "ec") ? "critical,digitalSignature,keyAgreement"
						 : "critical,digitalSignature,keyEncipherment") &&
		     tls_add_ext(x, signer, NID_ext_key_usage, "serverAuth,clientAuth") &&
		     (!san || !*san || tls_add_ext(x, signer, NID_subject_alt_name, san));
	if (ok)
		ok = tls_add_ext(x, signer, NID_subject_key_identifier, "hash") &&
		     (!issuer || tls_add_ext(x, signer, NID_authority_key_identifier, "keyid"));
	ok = ok && X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	BN_free(bn);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* "DNS:a,IP:1.2.3.4": each entry checked here so OpenSSL's message is not the only one. */
static int san_check(char const *san, char *err, size_t errlen)
{
	char buf[512];
	if (strlen(san) >= sizeof(buf))
		return snprintf(err, errlen, "--san is too long"), -1;
	snprintf(buf, sizeof(buf), "%s", san);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned char a[16];
		while (*t == ' ')
			t++;
		if (!strncmp(t, "DNS:", 4) && t[4] && strspn(t + 4,
							  "abcdefghijklmnopqrstuvwxyz"
							  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*") ==
								  strlen(t + 4))
			continue;
		if (!strncmp(t, "IP:", 3) &&
		    (inet_pton(AF_INET, t + 3, a) == 1 || inet_pton(AF_INET6, t + 3, a) == 1))
			continue;
		snprintf(err, errlen, "--san entry '%.80s' is not DNS:name or IP:address", t);
		return -1;
	}
	return 0;
}

static int write_pem(char const *dir, char const *name, EVP_PKEY *key, X509 *const *certs,
		     size_t n, unsigned mode, char *err, size_t errlen)
{
	size_t len = 0;
	char *pem = tls_pem_text(key, certs, n, &len);
	if (!pem)
		return tls_fail(err, errlen, "cannot write a PEM text");
	int e = tls_file_write(dir, name, pem, len, mode);
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (e < 0) {
		snprintf(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(-e));
		return -1;
	}
	return 0;
}

int tls_itl_write(char const *dir, char *err, size_t errlen)
{
	uint8_t *itl = NULL;
	size_t len = 0;
	if (tls_itl_for_dir(dir, false, TLS_ITL, &itl, &len, err, errlen) < 0)
		return -1;
	int e = tls_file_write(dir, TLS_ITL, itl, len, 0644);
	free(itl);
	if (e < 0) {
		snprintf(err, errlen, "cannot write %s/" TLS_ITL ": %s", dir, strerror(-e));
		return -1;
	}
	return 0;
}

/* The two server certificates (SIP: RSA 2048; HTTPS: EC P-256) from the CA. */
static int issue_servers(char const *dir, X509 *ca, EVP_PKEY *ca_key,
			 struct tls_init_opts const *o, char *err, size_t errlen)
{
	char san[600];
	if (o->san && *o->san) {
		if (san_check(o->san, err, errlen) < 0)
			return -1;
		snprintf(san, sizeof(san), "%s", o->san);
	} else {
		snprintf(san, sizeof(san), "DNS:%s", o->cn);
	}
	int rc = -1;
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
	X509 *sip = rsa ? tls_issue(rsa, o->cn, ca, ca_key, o->days, "rsa", san) : NULL;
	X509 *web = ec ? tls_issue(ec, o->cn, ca, ca_key, o->days, "ec", san) : NULL;
	if (!sip || !web) {
		tls_fail(err, errlen, "cannot issue the server certificates");
		goto out;
	}
	X509 *chain[2] = { sip, ca };
	if (write_pem(dir, TLS_AGENT, rsa, chain, 2, 0600, err, errlen) < 0)
		goto out;
	chain[0] = web;
	if (write_pem(dir, TLS_HTTPS, ec, chain, 2, 0600, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	X509_free(sip);
	X509_free(web);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return rc;
}

static int check_opts(struct tls_init_opts const *o, char *err, size_t errlen)
{
	if (!o->cn || !*o->cn || strlen(o->cn) > 64 ||
	    strspn(o->cn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_ ") !=
		    strlen(o->cn)) {
		snprintf(err, errlen,
			 "--cn must be 1 to 64 letters, digits, dots, dashes, underscores or spaces");
		return -1;
	}
	if (o->days < 1 || o->days > 36500) {
		snprintf(err, errlen, "--days must be from 1 to 36500");
		return -1;
	}
	return o->san && *o->san ? san_check(o->san, err, errlen) : 0;
}

int tls_init(char const *dir, struct tls_init_opts const *o, char *err, size_t errlen)
{
	char path[4096];
	if (check_opts(o, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/" TLS_CA_KEY, dir);
	if (!o->force && access(path, F_OK) == 0) {
		snprintf(err, errlen,
			 "%s already holds a CA; `tls renew` issues new server certificates from "
			 "it (`tls init --force` replaces it, and phones then need their old trust "
			 "list erased)",
			 dir);
		return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = -1;
	char cn[128];
	snprintf(cn, sizeof(cn), "sipreg lab CA %s", o->cn);
	EVP_PKEY *ca_key = EVP_RSA_gen(2048), *sast_key = EVP_RSA_gen(2048);
	X509 *ca = ca_key ? tls_issue(ca_key, cn, NULL, NULL, CA_DAYS, "ca", NULL) : NULL;
	snprintf(cn, sizeof(cn), "sipreg SAST %s", o->cn);
	X509 *sast = sast_key ? tls_issue(sast_key, cn, NULL, NULL, SAST_DAYS, "sast", NULL) : NULL;
	if (!ca || !sast) {
		tls_fail(err, errlen, "cannot make the CA");
		goto out;
	}
	if (write_pem(dir, TLS_CA_KEY, ca_key, NULL, 0, 0600, err, errlen) < 0 ||
	    write_pem(dir, TLS_CA, NULL, &ca, 1, 0644, err, errlen) < 0 ||
	    write_pem(dir, TLS_CAFILE, NULL, &ca, 1, 0644, err, errlen) < 0 ||
	    write_pem(dir, TLS_SAST, sast_key, &sast, 1, 0600, err, errlen) < 0 ||
	    issue_servers(dir, ca, ca_key, o, err, errlen) < 0 || tls_itl_write(dir, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	X509_free(ca);
	X509_free(sast);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(sast_key);
	return rc;
}

int tls_renew(char const *dir, struct tls_init_opts const *o, char *err, size_t errlen)
{
	char *ca_pem = NULL, *key_pem = NULL, *agent = NULL;
	size_t ca_len = 0, key_len = 0, agent_len = 0, n = 0, na = 0;
	X509 **ca = NULL, **old = NULL;
	EVP_PKEY *ca_key = NULL;
	int rc = -1;
	char cn[128] = "", san[600] = "";

	if (tls_file_read(dir, TLS_CA, &ca_pem, &ca_len) < 0 ||
	    tls_file_read(dir, TLS_CA_KEY, &key_pem, &key_len) < 0 ||
	    !(ca = tls_pem_certs(ca_pem, ca_len, &n)) || !n ||
	    !(ca_key = tls_pem_key(key_pem, key_len))) {
		snprintf(err, errlen, "%s holds no lab CA (ca.pem and ca.key); `tls init` makes one",
			 dir);
		goto out;
	}
	/* The names of the current certificate unless others are given. */
	if (tls_file_read(dir, TLS_AGENT, &agent, &agent_len) == 0 &&
	    (old = tls_pem_certs(agent, agent_len, &na)) && na) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(old[0]), NID_commonName, cn,
					  sizeof(cn));
		tls_san_text(old[0], san, sizeof(san));
		for (char *p = san; (p = strstr(p, ", "));)
			memmove(p + 1, p + 2, strlen(p + 2) + 1);
	}
	struct tls_init_opts use = *o;
	if (!use.cn || !*use.cn)
		use.cn = cn[0] ? cn : "sipreg";
	if (!use.san || !*use.san)
		use.san = san[0] ? san : NULL;
	if (check_opts(&use, err, errlen) < 0 ||
	    issue_servers(dir, ca[0], ca_key, &use, err, errlen) < 0 ||
	    tls_itl_write(dir, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (key_pem)
		OPENSSL_cleanse(key_pem, key_len);
	free(ca_pem);
	free(key_pem);
	free(agent);
	tls_certs_free(ca, n);
	tls_certs_free(old, na);
	EVP_PKEY_free(ca_key);
	return rc;
}

/* ---- what the directory holds ---- */

static struct {
	char const *file;
	char const *use;
} const files[] = {
	{ TLS_AGENT, "SIP over TLS (the listener, and the client certificate toward trunks)" },
	{ TLS_HTTPS, "HTTPS provisioning" },
	{ TLS_CA, "the lab CA that issues the server certificates" },
	{ TLS_SAST, "signs the Cisco trust list (ITLFile.tlv)" },
	{ TLS_CAFILE, "CAs trusted for peers; the chain sent by the SIP listener" },
};

json_t *tls_show(char const *dir, time_t now, char *err, size_t errlen)
{
	json_t *list = json_array();
	for (size_t f = 0; list && f < sizeof(files) / sizeof(files[0]); f++) {
		char *pem = NULL;
		size_t len = 0, n = 0;
		if (tls_file_read(dir, files[f].file, &pem, &len) < 0)
			continue;
		X509 **certs = tls_pem_certs(pem, len, &n);
		EVP_PKEY *key = tls_pem_key(pem, len);
		if (pem)
			OPENSSL_cleanse(pem, len);
		free(pem);
		for (size_t i = 0; i < n; i++) {
			char subject[512], issuer[512], san[600], sha256[128], sha1[80], k[64];
			tls_name_text(X509_get_subject_name(certs[i]), subject, sizeof(subject));
			tls_name_text(X509_get_issuer_name(certs[i]), issuer, sizeof(issuer));
			tls_san_text(certs[i], san, sizeof(san));
			tls_fingerprint(certs[i], false, sha256, sizeof(sha256));
			tls_fingerprint(certs[i], true, sha1, sizeof(sha1));
			EVP_PKEY *pub = X509_get0_pubkey(certs[i]);
			if (pub)
				tls_key_text(pub, k, sizeof(k));
			else
				snprintf(k, sizeof(k), "?");
			struct tm tm;
			time_t end = 0;
			ASN1_TIME_to_tm(X509_get0_notAfter(certs[i]), &tm);
			end = timegm(&tm);
			char until[32];
			strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&end, &tm));
			json_array_append_new(
				list, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
						"s:b, s:s}",
						"file", files[f].file, "index", (int)i, "use",
						i ? "chain" : files[f].use, "subject", subject,
						"issuer", issuer, "san", san, "sha256", sha256,
						"sha1", sha1, "not_after", until, "days_left",
						(json_int_t)tls_days_left(certs[i], now), "has_key",
						key && i == 0, "key", k));
		}
		tls_certs_free(certs, n);
		EVP_PKEY_free(key);
	}
	if (list && !json_array_size(list)) {
		snprintf(err, errlen, "%s holds no certificate; `sipregctl tls init` makes them", dir);
		json_decref(list);
		return NULL;
	}
	return list;
}

int tls_expiry(char const *dir, time_t now, long *days, char *which, size_t whichlen)
{
	int found = -1;
	char const *names[] = { TLS_AGENT, TLS_HTTPS, TLS_CA, TLS_SAST };
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		char *pem = NULL;
		size_t len = 0, n = 0;
		if (tls_file_read(dir, names[f], &pem, &len) < 0)
			continue;
		X509 **certs = tls_pem_certs(pem, len, &n);
		OPENSSL_cleanse(pem, len);
		free(pem);
		if (n) {
			long d = tls_days_left(certs[0], now);
			if (found < 0 || d < *days) {
				*days = d;
				snprintf(which, whichlen, "%s", names[f]);
				found = 0;
			}
		}
		tls_certs_free(certs, n);
	}
	return found;
}
