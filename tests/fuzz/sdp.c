/*
 * Fuzz harness: session descriptions as sipregd relays them between the
 * two sides of a call. The input is split at its first NUL byte into two
 * descriptions; both go through one side's origin (the first sets it, the
 * second is rewritten with the same o= line and a raised version).
 */
#include "autoconfig.h"

#include <string.h>

#include <sofia-sip/su_alloc.h>

#include "b2bua/sdp_origin.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	if (size > 65536)
		return 0;
	char const *a = (char const *)data;
	char const *nul = memchr(data, '\0', size);
	size_t al = nul ? (size_t)(nul - a) : size;
	char const *b = nul ? nul + 1 : a;
	size_t bl = nul ? size - al - 1 : size;

	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct sdp_origin o = { 0 };
	size_t out;
	sdp_origin_apply(&o, home, a, al, &out);
	sdp_origin_apply(&o, home, b, bl, &out);
	sdp_origin_apply(&o, home, a, al, &out);
	su_home_deinit(home);
	return 0;
}
