/*
 * FNV-1a, the one string hash of the hash tables (bindings, bans, nonce
 * counts). Not for anything an attacker must not predict.
 *
 * Thread: any.
 */
#ifndef SIPREG_HASH_H
#define SIPREG_HASH_H

#include <stdint.h>

#define HASH_FNV1A_INIT 1469598103934665603ull

/** Folds the string s into h (start with HASH_FNV1A_INIT). */
static inline uint64_t hash_fnv1a_add(uint64_t h, char const *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static inline uint64_t hash_fnv1a(char const *s)
{
	return hash_fnv1a_add(HASH_FNV1A_INIT, s);
}

#endif
