/*
 * Secrets at rest: a 256-bit key kept in a file of its own (mode 0600) and
 * AES-256-GCM sealing of passwords with that key.
 *
 * Thread: any (no shared state).
 * Ownership: the caller owns every buffer; sealed blobs are malloc()ed.
 */
#ifndef SIPREG_SECRET_H
#define SIPREG_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_KEY_LEN 32

/**
 * Reads the key from path, or creates it with fresh random bytes when the
 * file does not exist and create is non-zero. -ENOENT when it is missing and
 * create is 0; -EINVAL when the file is not a key; -errno otherwise.
 */
int secret_key_load(uint8_t key[SECRET_KEY_LEN], char const *path, int create, char *err,
		    size_t errlen);

/**
 * Seals plain text with key, binding it to aad (for example the user name).
 * *out is malloc()ed; *outlen its size. 0 or a negative errno.
 */
int secret_seal(uint8_t **out, size_t *outlen, uint8_t const key[SECRET_KEY_LEN], char const *aad,
		void const *plain, size_t plainlen);

/**
 * Opens a sealed blob into out (NUL-terminated, at most outsize - 1 bytes).
 * -EBADMSG when the key, aad or blob do not match.
 */
int secret_open(char *out, size_t outsize, uint8_t const key[SECRET_KEY_LEN], char const *aad,
		void const *blob, size_t bloblen);

/** Fills buf with len random bytes from OpenSSL's generator; 0 or -EIO. */
int secret_random(void *buf, size_t len);

#endif
