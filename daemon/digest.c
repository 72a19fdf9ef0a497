#include "autoconfig.h"

#include "daemon/digest.h"
#include "daemon/text.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

int digest_alg_parse(enum digest_alg *out, char const *name)
{
	if (!name)
		return -EINVAL;
	if (strcasecmp(name, "MD5") == 0)
		*out = DIGEST_MD5;
	else if (strcasecmp(name, "SHA-256") == 0)
		*out = DIGEST_SHA256;
	else
		return -EINVAL;
	return 0;
}

char const *digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? "SHA-256" : "MD5";
}

/*
 * The digests are fetched once: EVP_md5()/EVP_sha256() would make OpenSSL 3
 * look the implementation up again at every EVP_DigestInit. The method
 * objects are immutable and shared by every thread.
 */
static EVP_MD *fetched[2];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
	fetched[DIGEST_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	fetched[DIGEST_SHA256] = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

EVP_MD const *digest_md(enum digest_alg alg)
{
	pthread_once(&fetch_once, fetch_digests);
	return fetched[alg == DIGEST_SHA256 ? DIGEST_SHA256 : DIGEST_MD5];
}

/* Hashes the parts joined by ':' and writes the hex digest. */
static int hash_joined(EVP_MD_CTX *ctx, char out[DIGEST_HEX_SIZE], enum digest_alg alg,
		       char const *const *parts, unsigned n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int err = -EIO;
	EVP_MD const *type = digest_md(alg);

	if (!type || !EVP_DigestInit_ex2(ctx, type, NULL))
		goto out;
	for (unsigned i = 0; i < n; i++) {
		if (i && !EVP_DigestUpdate(ctx, ":", 1))
			goto out;
		if (!EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])))
			goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen))
		goto out;
	text_hex(out, md, mdlen);
	err = 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}

int digest_ha1(char out[DIGEST_HEX_SIZE], enum digest_alg alg, char const *user, char const *realm,
	       char const *password)
{
	char const *parts[] = { user, realm, password };
	if (!user || !realm || !password)
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int err = hash_joined(ctx, out, alg, parts, 3);
	EVP_MD_CTX_free(ctx);
	return err;
}

int digest_response(char out[DIGEST_HEX_SIZE], enum digest_alg alg, char const *ha1,
		    char const *nonce, char const *nc, char const *cnonce, char const *qop,
		    char const *method, char const *uri)
{
	char ha2[DIGEST_HEX_SIZE];
	int err;

	if (!ha1 || !nonce || !method || !uri)
		return -EINVAL;
	if (qop && qop[0] && (strcasecmp(qop, "auth") != 0 || !nc || !cnonce))
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	char const *a2[] = { method, uri };
	if ((err = hash_joined(ctx, ha2, alg, a2, 2)) == 0) {
		if (qop && qop[0]) {
			char const *parts[] = { ha1, nonce, nc, cnonce, qop, ha2 };
			err = hash_joined(ctx, out, alg, parts, 6);
		} else {
			char const *parts[] = { ha1, nonce, ha2 };
			err = hash_joined(ctx, out, alg, parts, 3);
		}
	}
	EVP_MD_CTX_free(ctx);
	return err;
}

bool digest_equal(char const *a, char const *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}
