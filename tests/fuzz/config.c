/*
 * Fuzz harness: the configuration file parser (a file an administrator
 * wrote, so untrusted like any input): whatever it holds, sipregd either
 * loads it or names file:line, and never reads or writes out of bounds.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct config cfg;
	char err[512];
	config_defaults(&cfg);
	if (config_load_string(&cfg, "fuzz.conf", text, err, sizeof(err)) < 0 &&
	    strncmp(err, "fuzz.conf", 9) != 0)
		abort(); /* a refusal that does not name the file */
	char buf[256];
	config_server_header(&cfg, buf, sizeof(buf));
	for (unsigned i = 0; i < cfg.n_listen; i++)
		config_listen_format(&cfg.listen[i], buf, sizeof(buf));
	free(text);
	return 0;
}
