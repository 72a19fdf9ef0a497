/*
 * Names and values an administrator gives, checked before they reach the
 * database: one sentence for each refusal. Needs no database, so sipregctl
 * can link it too.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/validate.h"

/* ---- validation ---- */

int store_seterr(struct store_err *e, int code, char const *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

bool store_valid_chars(char const *v, size_t max, char const *extra)
{
	size_t n = v ? strlen(v) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!isalnum(c) && !strchr(extra, c))
			return false;
	}
	return true;
}

int store_check_user_name(char const *name, struct store_err *e)
{
	/* The SIP user characters that survive in a quoted digest username. */
	if (!store_valid_chars(name, STORE_NAME_MAX, "-_.!~*'()+&=$,;?/"))
		return store_seterr(
			e, -EINVAL,
			"user name must be 1 to %d letters, digits or -_.!~*'()+&=$,;?/",
			STORE_NAME_MAX);
	return 0;
}

int store_check_device_name(char const *name, struct store_err *e)
{
	if (!store_valid_chars(name, STORE_NAME_MAX, "-_."))
		return store_seterr(e, -EINVAL,
				    "device name must be 1 to %d letters, digits or -_.",
				    STORE_NAME_MAX);
	return 0;
}

int store_check_dn(char const *dn, struct store_err *e)
{
	if (!store_valid_chars(dn, 32, "+*._-"))
		return store_seterr(e, -EINVAL, "DN must be 1 to 32 digits, letters or +*._-");
	return 0;
}

int store_check_text(char const *what, char const *v, struct store_err *e)
{
	if (!v)
		return 0;
	size_t n = strlen(v);
	if (n > STORE_TEXT_MAX)
		return store_seterr(e, -EINVAL, "%s must be at most %d bytes", what,
				    STORE_TEXT_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return store_seterr(
				e, -EINVAL,
				"%s may not hold control characters, quotes or backslashes", what);
	}
	return 0;
}

int store_check_password(char const *pw, struct store_err *e)
{
	size_t n = pw ? strlen(pw) : 0;
	if (n == 0 || n > STORE_PASSWORD_MAX)
		return store_seterr(e, -EINVAL, "password must be 1 to %d characters",
				    STORE_PASSWORD_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pw[i];
		if (c < 0x20 || c == 0x7f)
			return store_seterr(e, -EINVAL, "password may not hold control characters");
	}
	return 0;
}

int store_check_auth(char const *auth, struct store_err *e)
{
	if (auth && strcmp(auth, "verify") && strcmp(auth, "identify"))
		return store_seterr(e, -EINVAL, "auth must be verify or identify, not '%s'", auth);
	return 0;
}

int store_check_policy(struct store_device_spec const *spec, struct store_err *e)
{
	char const *a = spec->digest_algs, *q = spec->qop;
	if (a && strcmp(a, "md5") && strcmp(a, "sha256") && strcmp(a, "both") &&
	    strcmp(a, "default"))
		return store_seterr(e, -EINVAL,
				    "digest algorithms must be md5, sha256, both or default, "
				    "not '%s'",
				    a);
	if (q && strcmp(q, "auth") && strcmp(q, "optional"))
		return store_seterr(e, -EINVAL, "qop must be auth or optional, not '%s'", q);
	char const *t = spec->transport;
	if (t && strcmp(t, "udp") && strcmp(t, "tcp") && strcmp(t, "tls") && strcmp(t, "any"))
		return store_seterr(e, -EINVAL, "transport must be udp, tcp, tls or any, not '%s'",
				    t);
	return 0;
}

void store_device_name_canon(char *out, size_t outsize, char const *name)
{
	snprintf(out, outsize, "%s", name ? name : "");
	size_t n = strlen(out);
	if (n != 15 || strncasecmp(out, "SEP", 3) != 0)
		return;
	for (size_t i = 3; i < n; i++) {
		if (!isxdigit((unsigned char)out[i]))
			return;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}
