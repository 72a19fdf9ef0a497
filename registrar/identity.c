#include "autoconfig.h"

#include "registrar/identity.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copies value into out without surrounding quotes or angle brackets. */
static bool copy_unquoted(char const *value, size_t len, char *out, size_t outsize)
{
	while (len && (*value == '"' || *value == '<' || *value == ' ')) {
		value++;
		len--;
	}
	while (len && (value[len - 1] == '"' || value[len - 1] == '>' || value[len - 1] == ' '))
		len--;
	if (len == 0 || len >= outsize)
		return false;
	memcpy(out, value, len);
	out[len] = '\0';
	return true;
}

bool identity_from_contact_param(char const *param, char *out, size_t outsize)
{
	static char const *const names[] = {
		"+u.sip!devicename.ccm.cisco.com=",
		"+u.sip!devicename.ccm.features.cisco.com=",
	};
	if (!param)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (strncasecmp(param, names[i], n) == 0)
			return copy_unquoted(param + n, strlen(param + n), out, outsize);
	}
	return false;
}

bool identity_from_reason_text(char const *text, char *out, size_t outsize)
{
	if (!text)
		return false;
	for (char const *p = text; (p = strstr(p, "Name=")); p++) {
		/* A whole word: "Name=" at the start or after a blank or quote. */
		if (p != text && p[-1] != ' ' && p[-1] != '"')
			continue;
		p += 5;
		size_t n = strcspn(p, " \"");
		return copy_unquoted(p, n, out, outsize);
	}
	return false;
}

bool identity_from_instance(char const *instance, char *out, size_t outsize)
{
	static char const prefix[] = "urn:uuid:00000000-0000-0000-0000-";
	char const *p;
	if (!instance)
		return false;
	while (*instance == '"' || *instance == '<')
		instance++;
	if (strncasecmp(instance, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p = instance + sizeof(prefix) - 1;
	for (int i = 0; i < 12; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return false;
	}
	if (isxdigit((unsigned char)p[12]))
		return false;
	if (outsize < 16)
		return false;
	memcpy(out, "SEP", 3);
	for (int i = 0; i < 12; i++)
		out[3 + i] = (char)toupper((unsigned char)p[i]);
	out[15] = '\0';
	return true;
}

bool identity_is_keepalive_param(char const *param)
{
	return param && strcasecmp(param, "cisco-keep-alive") == 0;
}
