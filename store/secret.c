#include "autoconfig.h"

#include "store/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEAL_VERSION 1
#define IV_LEN	     12
#define TAG_LEN	     16

int secret_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

int secret_key_load(uint8_t key[SECRET_KEY_LEN], char const *path, int create, char *err,
		    size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create) {
		uint8_t fresh[SECRET_KEY_LEN];
		if (secret_random(fresh, sizeof(fresh)) < 0) {
			snprintf(err, errlen, "cannot get random bytes for the key");
			return -EIO;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(e));
			return -e;
		}
		ssize_t w = write(fd, fresh, sizeof(fresh));
		int e = errno;
		if (w != (ssize_t)sizeof(fresh) || fsync(fd) < 0) {
			close(fd);
			unlink(path);
			snprintf(err, errlen, "cannot write key file %s: %s", path,
				 strerror(w < 0 ? e : EIO));
			OPENSSL_cleanse(fresh, sizeof(fresh));
			return -EIO;
		}
		close(fd);
		memcpy(key, fresh, SECRET_KEY_LEN);
		OPENSSL_cleanse(fresh, sizeof(fresh));
		return 0;
	}
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	uint8_t buf[SECRET_KEY_LEN + 1];
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != SECRET_KEY_LEN) {
		snprintf(err, errlen, "key file %s is not a %d-byte key", path, SECRET_KEY_LEN);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "key file %s is open to the group or others (mode %04o). Fix it with: "
			 "chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EPERM;
	}
	memcpy(key, buf, SECRET_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int secret_seal(uint8_t **out, size_t *outlen, uint8_t const key[SECRET_KEY_LEN], char const *aad,
		void const *plain, size_t plainlen)
{
	int err = -EIO, len = 0;
	size_t total = 1 + IV_LEN + plainlen + TAG_LEN;
	uint8_t *blob = malloc(total);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!blob || !ctx) {
		err = -ENOMEM;
		goto out;
	}
	blob[0] = SEAL_VERSION;
	if (secret_random(blob + 1, IV_LEN) < 0)
		goto out;
	uint8_t *ct = blob + 1 + IV_LEN;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, blob + 1) != 1)
		goto out;
	if (aad && EVP_EncryptUpdate(ctx, NULL, &len, (uint8_t const *)aad, (int)strlen(aad)) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, ct, &len, plain, (int)plainlen) != 1)
		goto out;
	int fin = 0;
	if (EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + plainlen) != 1)
		goto out;
	*out = blob;
	*outlen = total;
	blob = NULL;
	err = 0;
out:
	free(blob);
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int secret_open(char *out, size_t outsize, uint8_t const key[SECRET_KEY_LEN], char const *aad,
		void const *blob_, size_t bloblen)
{
	uint8_t const *blob = blob_;
	int err = -EBADMSG, len = 0, fin = 0;
	EVP_CIPHER_CTX *ctx;

	if (bloblen < 1 + IV_LEN + TAG_LEN || blob[0] != SEAL_VERSION)
		return -EBADMSG;
	size_t ctlen = bloblen - 1 - IV_LEN - TAG_LEN;
	if (ctlen + 1 > outsize)
		return -ENOSPC;
	if (!(ctx = EVP_CIPHER_CTX_new()))
		return -ENOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, blob + 1) != 1)
		goto out;
	if (aad && EVP_DecryptUpdate(ctx, NULL, &len, (uint8_t const *)aad, (int)strlen(aad)) != 1)
		goto out;
	if (EVP_DecryptUpdate(ctx, (uint8_t *)out, &len, blob + 1 + IV_LEN, (int)ctlen) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				(void *)(blob + bloblen - TAG_LEN)) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, (uint8_t *)out + len, &fin) != 1)
		goto out;
	out[ctlen] = '\0';
	err = 0;
out:
	if (err)
		OPENSSL_cleanse(out, outsize);
	EVP_CIPHER_CTX_free(ctx);
	return err;
}
