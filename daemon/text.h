/*
 * Small string helpers shared by the modules: a truncating copy into a
 * fixed buffer and lower-case hex encoding.
 *
 * Thread: any.
 */
#ifndef SIPREG_TEXT_H
#define SIPREG_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Copies src into dst (size bytes), truncated to fit and terminated; NULL copies as "". */
static inline void text_copy(char *dst, size_t size, char const *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/** Writes the n bytes of in as 2n lower-case hex digits and a NUL. */
static inline void text_hex(char *out, uint8_t const *in, size_t n)
{
	static char const digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif
