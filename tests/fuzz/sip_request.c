/*
 * Fuzz harness: a whole SIP request (or anything else) arriving by UDP at
 * sipregd, through sofia's parser, nta, the method router and on into the
 * registrar, the calls, the trunks and the Cisco handlers (tests/fuzz/
 * stack.h has the fixture). A request sipregd challenges is sent again
 * with valid credentials, so the fuzzer reaches what comes after digest.
 * Inputs of odd length come from the trunk's address; the others from the
 * phone of the From line (200: bob's phone, 300: the identify-mode 7960,
 * else alice's 7965).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/stack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	stack_open();
	return 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	static unsigned long n;
	if (size > 65000)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char from[256] = "";
	if (!stack_header(text, "From", from, sizeof(from)))
		stack_header(text, "f", from, sizeof(from));
	char const *user = strstr(from, "sip:");
	user = user ? user + 4 : "";
	if (size & 1)
		stack_send(STACK_TRUNK, data, size);
	else if (user[0] == '2')
		stack_send_auth(STACK_CALLEE, "bob", data, size);
	else if (!strncmp(user, "300", 3))
		stack_send_auth(STACK_PHONE, "carol", data, size);
	else
		stack_send_auth(STACK_PHONE, "alice", data, size);
	free(text);
	stack_drain();
	stack_tick();
	if (++n % 128 == 0)
		stack_hangup_all();
	return 0;
}
