/*
 * Fuzz harness: the digest headers. An even first byte: the rest is an
 * Authorization value, parsed as sipregd parses a phone's, then verified
 * (a nonce of ours, the uri checks) by the registrar's digest code. An odd
 * one: a WWW-Authenticate value from a provider, from which sipregd picks
 * a challenge and computes its answer.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip_header.h>

#include "b2bua/uac_auth.h"
#include "daemon/digest.h"
#include "registrar/auth.h"
#include "tests/fuzz/fuzz.h"

static auth_server_t *server;
static char ha1_md5[DIGEST_HEX_SIZE], ha1_sha256[DIGEST_HEX_SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static char const secret[] = "fuzz-secret-fuzz-secret-fuzz-sec";
	if (auth_server_create(&server, secret, sizeof(secret) - 1, 300, 1024) < 0 ||
	    digest_ha1(ha1_md5, DIGEST_MD5, "alice", "sipreg", "secret") < 0 ||
	    digest_ha1(ha1_sha256, DIGEST_SHA256, "alice", "sipreg", "secret") < 0)
		abort();
	return 0;
}

static void authorization(su_home_t *home, char const *text)
{
	sip_authorization_t *au = sip_authorization_make(home, text);
	/* As the registrar picks its credentials: Digest, with a realm. */
	if (!au || !au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0 ||
	    !msg_params_find(au->au_params, "realm="))
		return;
	struct auth_creds cr;
	if (auth_creds_parse(home, au->au_params, &cr) < 0)
		return;
	bool known = !strcmp(cr.username, "alice");
	struct auth_check chk = {
		.method = "REGISTER",
		.ha1_md5 = known ? ha1_md5 : NULL,
		.ha1_sha256 = known ? ha1_sha256 : NULL,
		.verify_password = true,
		.qop_required = false,
		.algs_offered = AUTH_ALG_MD5 | AUTH_ALG_SHA256,
		.request_key = 42,
		.source = "127.0.0.2",
	};
	enum digest_alg alg;
	auth_verify(server, &cr, &chk, time(NULL), &alg);
	if (cr.uri) {
		auth_uri_matches(cr.uri, "sip:100@127.0.0.1:5060");
		auth_uri_names(cr.uri, "127.0.0.1:5060 [::1]:5060 *:5062 pbx.example.com:5060");
	}
	if (cr.nonce)
		auth_nonce_ours(server, cr.nonce);
}

static void challenge(su_home_t *home, char const *text)
{
	sip_www_authenticate_t *wa = sip_www_authenticate_make(home, text);
	if (!wa)
		return;
	struct uac_challenge ch;
	if (uac_challenge_pick(home, (msg_auth_t const *)wa, &ch) < 0)
		return;
	uac_authorization(home, &ch, "5550100", ch.alg == DIGEST_SHA256 ? ha1_sha256 : ha1_md5,
			  "INVITE", "sip:0123456@provider.example", 1);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char *text = su_strndup(home, (char const *)data + 1, (isize_t)(size - 1));
	if (text) {
		if (data[0] % 2 == 0)
			authorization(home, text);
		else
			challenge(home, text);
	}
	su_home_deinit(home);
	return 0;
}
