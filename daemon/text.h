/*
 * Small string helpers shared by the modules: a truncating copy into a
 * fixed buffer, bounded numbers of seconds, and lower-case hex encoding.
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

/**
 * A number of seconds from the network (a string of digits, or NULL),
 * bounded: anything above max, however long, is max; no digits is 0.
 */
static inline unsigned text_seconds(char const *s, unsigned max)
{
	unsigned long long v = 0;
	for (; s && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return max;
	}
	return (unsigned)v;
}

/** A delta already parsed (Expires and its kin), bounded to max. */
static inline unsigned seconds_at_most(unsigned long v, unsigned max)
{
	return v > max ? max : (unsigned)v;
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

/** Hex digits back into bytes: how many, or -1 when in is not whole bytes of hex that fit. */
static inline int text_unhex(uint8_t *out, size_t outsize, char const *in)
{
	size_t n = strlen(in);
	if (n % 2 || n / 2 > outsize)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		int v = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (v < 0)
			return -1;
		if (i % 2)
			out[i / 2] = (uint8_t)(out[i / 2] << 4 | v);
		else
			out[i / 2] = (uint8_t)v;
	}
	return (int)(n / 2);
}

#endif
