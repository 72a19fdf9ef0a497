/*
 * Certificates and keys as files and as text: the small pieces every
 * part of tls/ needs (reading the directory, PEM in and out, names,
 * fingerprints, expiry), kept apart so the checks, the CA and the trust
 * list read alike.
 */
#include "autoconfig.h"

#include "tls/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tls_file_read(char const *dir, char const *name, char **buf, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX) {
		int e = S_ISREG(st.st_mode) ? EFBIG : EISDIR;
		close(fd);
		return -e;
	}
	char *b = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (b && n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!b)
		return -ENOMEM;
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int tls_file_write(char const *dir, char const *name, void const *data, size_t len, unsigned mode)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int err = 0;
	if (fchmod(fd, mode) < 0)
		err = -errno;
	for (size_t off = 0; !err && off < len;) {
		ssize_t w = write(fd, (char const *)data + off, len - off);
		if (w < 0)
			err = -errno;
		else
			off += (size_t)w;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

X509 **tls_pem_certs(char const *pem, size_t len, size_t *n)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 **v = NULL;
	size_t k = 0;
	for (X509 *x; b && k < 16 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)); k++) {
		X509 **nv = realloc(v, (k + 1) * sizeof(*v));
		if (!nv) {
			X509_free(x);
			break;
		}
		v = nv;
		v[k] = x;
	}
	ERR_clear_error();
	BIO_free(b);
	*n = k;
	return v;
}

void tls_certs_free(X509 **certs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		X509_free(certs[i]);
	free(certs);
}

/* Refuses to ask for a passphrase: an encrypted key is not read. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

EVP_PKEY *tls_pem_key(char const *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	ERR_clear_error();
	BIO_free(b);
	return k;
}

char *tls_pem_text(EVP_PKEY *key, X509 *const *certs, size_t n, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	bool ok = b && (!key || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	for (size_t i = 0; ok && i < n; i++)
		ok = PEM_write_bio_X509(b, certs[i]);
	if (ok) {
		char *p;
		long l = BIO_get_mem_data(b, &p);
		out = malloc((size_t)l + 1);
		if (out) {
			memcpy(out, p, (size_t)l);
			out[l] = '\0';
			*len = (size_t)l;
		}
	}
	BIO_free(b);
	return out;
}

/* The short names Python's cryptography writes too; others as dotted OIDs. */
static void attr_name(ASN1_OBJECT const *obj, char *out, size_t len)
{
	static struct {
		int nid;
		char const *name;
	} const names[] = {
		{ NID_commonName, "CN" },	     { NID_localityName, "L" },
		{ NID_stateOrProvinceName, "ST" }, { NID_organizationName, "O" },
		{ NID_organizationalUnitName, "OU" }, { NID_countryName, "C" },
		{ NID_streetAddress, "STREET" },     { NID_domainComponent, "DC" },
		{ NID_userId, "UID" },
	};
	int nid = OBJ_obj2nid(obj);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].nid == nid) {
			snprintf(out, len, "%s", names[i].name);
			return;
		}
	}
	OBJ_obj2txt(out, (int)len, obj, 1);
}

void tls_name_text(X509_NAME const *name, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	int n = X509_NAME_entry_count(name);
	for (int i = 0; i < n && o + 1 < len; i++) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		char key[64];
		unsigned char *val = NULL;
		attr_name(X509_NAME_ENTRY_get_object(e), key, sizeof(key));
		int vl = ASN1_STRING_to_UTF8(&val, X509_NAME_ENTRY_get_data(e));
		o += (size_t)snprintf(out + o, len - o, "%s%s=", i ? "," : "", key);
		for (int k = 0; k < vl && o + 3 < len; k++) {
			unsigned char c = val[k];
			bool esc = strchr(",+\"\\<>;=", c) != NULL || (k == 0 && (c == '#' || c == ' ')) ||
				   (k == vl - 1 && c == ' ');
			if (c == '\0')
				continue;
			if (esc)
				out[o++] = '\\';
			out[o++] = (char)c;
		}
		if (o >= len)
			o = len - 1;
		out[o] = '\0';
		OPENSSL_free(val);
	}
}

void tls_fingerprint(X509 *cert, bool sha1, char *out, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t o = (size_t)snprintf(out, len, "%s:", sha1 ? "SHA1" : "SHA256");
	if (!X509_digest(cert, sha1 ? EVP_sha1() : EVP_sha256(), md, &n))
		n = 0;
	for (unsigned i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%02X", i ? ":" : "", md[i]);
}

void tls_key_text(EVP_PKEY *key, char *out, size_t len)
{
	char group[64] = "";
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		snprintf(out, len, "RSA %d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), NULL))
			snprintf(group, sizeof(group), "?");
		snprintf(out, len, "EC %s", group);
		break;
	default:
		snprintf(out, len, "%s %d", OBJ_nid2sn(EVP_PKEY_get_base_id(key)),
			 EVP_PKEY_get_bits(key));
	}
}

long tls_days_left(X509 *cert, time_t now)
{
	int days = 0, secs = 0;
	ASN1_TIME *t = ASN1_TIME_set(NULL, now);
	if (!t || !ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(cert)))
		days = -1;
	ASN1_TIME_free(t);
	return secs < 0 ? days - 1 : days;
}

void tls_san_text(X509 *cert, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && o + 1 < len; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char const *sep = o ? ", " : "";
		if (g->type == GEN_DNS) {
			o += (size_t)snprintf(out + o, len - o, "%sDNS:%.*s", sep,
					      ASN1_STRING_length(g->d.dNSName),
					      (char const *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			char ip[64] = "?";
			unsigned char const *a = ASN1_STRING_get0_data(g->d.iPAddress);
			int l = ASN1_STRING_length(g->d.iPAddress);
			if (l == 4)
				snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			else if (l == 16) {
				size_t p = 0;
				for (int k = 0; k < 16; k += 2)
					p += (size_t)snprintf(ip + p, sizeof(ip) - p, "%s%x",
							      k ? ":" : "", a[k] << 8 | a[k + 1]);
			}
			o += (size_t)snprintf(out + o, len - o, "%sIP:%s", sep, ip);
		}
		if (o >= len)
			o = len - 1;
	}
	GENERAL_NAMES_free(gens);
	/* A name from a certificate is not trusted to be printable. */
	for (size_t i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			out[i] = '?';
}

int tls_fail(char *err, size_t errlen, char const *what)
{
	unsigned long e = ERR_get_error();
	snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", e ? ERR_reason_error_string(e) : "");
	ERR_clear_error();
	return -1;
}

bool tls_add_ext(X509 *cert, X509 *issuer, int nid, char const *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	bool ok = ext && X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}
