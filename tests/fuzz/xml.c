/*
 * Fuzz harness: the XML sipregd reads and writes. The input is a PIDF
 * document as a phone PUBLISHes it (its do-not-disturb state is read), and
 * also a call-forward target a phone sent, put into the x-cisco-remotecc
 * bodies sipregd builds (which must stay well-formed XML whatever the
 * target: checked by parsing them back).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <sofia-sip/su_alloc.h>

#include "b2bua/features.h"
#include "cisco/remotecc.h"
#include "store/validate.h"
#include "tests/fuzz/fuzz.h"

static void silent(void *ctx, char const *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, silent);
	return 0;
}

static void well_formed(char const *body)
{
	if (!body)
		return;
	xmlDoc *doc = xmlReadMemory(body, (int)strlen(body), "remotecc.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		abort(); /* sipregd built XML a phone cannot read */
	xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	if (size > 70000)
		return 0;
	features_presence_dnd((char const *)data, size);

	su_home_t home[1] = { SU_HOME_INIT(home) };
	char *target = su_strndup(home, (char const *)data, (isize_t)(size < 64 ? size : 64));
	struct store_err e;
	/* The store holds only valid DNs as forward targets; those must make valid XML. */
	if (target && store_check_dn(target, &e) == 0) {
		char *parts[2] = { cisco_remotecc_cfwdall(home, 1, target),
				   cisco_remotecc_dnd(home, size & 1) };
		well_formed(parts[0]);
		char const *type = NULL;
		cisco_remotecc_body(home, parts, 2, &type);
	}
	su_home_deinit(home);
	return 0;
}
