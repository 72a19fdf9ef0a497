/*
 * The remotecc bodies (see cisco/remotecc.h), apart from the REFERs that
 * carry them (b2bua/features.c), so they are tested as documents. Values
 * are DNs and fixed words: the store allows no character in a DN that XML
 * would need escaped.
 */
#include "autoconfig.h"

#include <stdio.h>

#include <sofia-sip/su_string.h>

#include "cisco/remotecc.h"

#define BOUNDARY "uniqueBoundary"
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"

char *cisco_remotecc_dnd(su_home_t *home, bool on)
{
	return su_sprintf(home,
			  XML_DECL
			  "<x-cisco-remotecc-request><dndupdate><state>%s</state>"
			  "<option>callreject</option></dndupdate></x-cisco-remotecc-request>\r\n",
			  on ? "enable" : "disable");
}

char *cisco_remotecc_cfwdall(su_home_t *home, unsigned index, char const *target)
{
	return su_sprintf(home,
			  XML_DECL
			  "<x-cisco-remotecc-request><cfwdallupdate><linenumber>%u</linenumber>"
			  "<fwdaddress>%s</fwdaddress><tovoicemail>off</tovoicemail>"
			  "</cfwdallupdate></x-cisco-remotecc-request>\r\n",
			  index, target ? target : "");
}

char *cisco_remotecc_body(su_home_t *home, char *const *parts, size_t n, char const **type)
{
	*type = CISCO_REMOTECC_TYPE;
	if (n == 0)
		return NULL;
	if (n == 1)
		return parts[0];
	char *body = su_strdup(home, "");
	for (size_t i = 0; i < n && body && parts[i]; i++)
		body = su_sprintf(
			home, "%s--" BOUNDARY "\r\nContent-Type: " CISCO_REMOTECC_TYPE "\r\n\r\n%s",
			body, parts[i]);
	*type = "multipart/mixed; boundary=" BOUNDARY;
	return body ? su_sprintf(home, "%s--" BOUNDARY "--\r\n", body) : NULL;
}
