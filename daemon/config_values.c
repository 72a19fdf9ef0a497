/*
 * The configuration's values parsed into their types when the file is
 * read: whole numbers in their range, paths, the realm, the Server text,
 * hosts and ports, number lists, address ranges, log settings, listeners.
 * An error says what was wrong with the value, quoting it.
 */
#include "autoconfig.h"

#include "daemon/config_values.h"

#include "daemon/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int config_parse_uint(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		      unsigned min, unsigned max)
{
	char *end;
	(void)cfg;
	errno = 0;
	if (value[0] < '0' || value[0] > '9')
		goto bad;
	unsigned long v = strtoul(value, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*(unsigned *)field = (unsigned)v;
	return 0;
bad:
	snprintf(why, whylen, "'%s' is not a whole number from %u to %u", value, min, max);
	return -EINVAL;
}

int config_parse_path(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		      unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (!value[0]) {
		snprintf(why, whylen, "a path is required");
		return -EINVAL;
	}
	if (strlen(value) >= CONFIG_PATH_MAX) {
		snprintf(why, whylen, "the path is longer than %d characters", CONFIG_PATH_MAX - 1);
		return -EINVAL;
	}
	snprintf((char *)field, CONFIG_PATH_MAX, "%s", value);
	return 0;
}

int config_parse_realm(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		       unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	size_t n = strlen(value);
	if (n == 0 || n >= CONFIG_REALM_MAX) {
		snprintf(why, whylen, "a realm of 1 to %d characters is required",
			 CONFIG_REALM_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		/* The realm is sent inside a quoted string and hashed into HA1. */
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
			snprintf(why, whylen,
				 "the realm may hold only printable characters without spaces, "
				 "quotes or backslashes");
			return -EINVAL;
		}
	}
	snprintf((char *)field, CONFIG_REALM_MAX, "%s", value);
	return 0;
}

/* The Server/User-Agent text: printable, no control characters; "" for none. */
int config_parse_server_header(struct config *cfg, void *field, char const *value, char *why,
			       size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	size_t n = strlen(value);
	if (n >= 64) {
		snprintf(why, whylen, "at most 63 characters");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c > 0x7e) {
			snprintf(why, whylen, "only printable ASCII characters");
			return -EINVAL;
		}
	}
	snprintf((char *)field, 64, "%s", value);
	return 0;
}

/*
 * A host: an IPv4 address, an IPv6 address (given without brackets here),
 * or a DNS name of labels of letters, digits and '-', none starting or
 * ending with '-'. A name of digits and dots only must be an IPv4 address.
 */
static bool host_valid(char const *host, bool v6)
{
	unsigned char addr[16];
	size_t n = strlen(host);
	if (v6)
		return inet_pton(AF_INET6, host, addr) == 1;
	if (n == 0 || n > 253)
		return false;
	if (strspn(host, "0123456789.") == n)
		return inet_pton(AF_INET, host, addr) == 1;
	for (char const *label = host; *label;) {
		size_t len = strcspn(label, ".");
		if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
			return false;
		for (size_t i = 0; i < len; i++) {
			char c = label[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				return false;
		}
		label += len;
		if (*label == '.' && !*++label)
			break; /* a trailing dot: fully qualified */
	}
	return true;
}

/* HOST[:PORT]: a host name or address (IPv6 in brackets) and an optional port. */
int config_parse_advertise(struct config *cfg, void *field, char const *value, char *why,
			   size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (!value[0]) { /* none: the listener's address */
		((char *)field)[0] = '\0';
		return 0;
	}
	char host[CONFIG_HOST_MAX];
	char const *rest;
	bool v6 = value[0] == '[', ok = strlen(value) < CONFIG_HOST_MAX + 8;
	if (v6) {
		char const *close = strchr(value, ']');
		ok = ok && close && (size_t)(close - value - 1) < sizeof(host);
		if (ok) {
			memcpy(host, value + 1, (size_t)(close - value - 1));
			host[close - value - 1] = '\0';
			rest = close + 1;
		}
	} else {
		size_t h = strcspn(value, ":");
		ok = ok && h < sizeof(host);
		if (ok) {
			memcpy(host, value, h);
			host[h] = '\0';
			rest = value + h;
		}
	}
	ok = ok && host_valid(host, v6);
	if (ok && *rest) {
		char *end;
		errno = 0;
		long port = rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9'
				    ? strtol(rest + 1, &end, 10)
				    : -1;
		ok = port >= 1 && port <= 65535 && !errno && !*end;
	}
	if (!ok) {
		snprintf(why, whylen,
			 "'%s' is not HOST or HOST:PORT (a DNS name, an IPv4 address, or an "
			 "IPv6 address in brackets; a port from 1 to 65535)",
			 value);
		return -EINVAL;
	}
	snprintf((char *)field, CONFIG_HOST_MAX + 8, "%s", value);
	return 0;
}

/* Numbers or prefixes (digits, *, #, +) separated by spaces or commas; "" for none. */
int config_parse_numbers(struct config *cfg, void *field, char const *value, char *why,
			 size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	char out[CONFIG_LIST_MAX] = "", buf[1024];
	size_t len = 0;
	if (strlen(value) >= sizeof(buf)) {
		snprintf(why, whylen, "the list is too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *save = NULL, *t = strtok_r(buf, " \t,", &save); t;
	     t = strtok_r(NULL, " \t,", &save)) {
		if (strspn(t, "0123456789*#+") != strlen(t) || strlen(t) > 32) {
			snprintf(why, whylen, "'%s' is not a number (digits, *, # or +)", t);
			return -EINVAL;
		}
		if (len + strlen(t) + 2 > sizeof(out)) {
			snprintf(why, whylen, "the list is longer than %d characters",
				 CONFIG_LIST_MAX - 1);
			return -EINVAL;
		}
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", len ? " " : "", t);
	}
	snprintf((char *)field, CONFIG_LIST_MAX, "%s", out);
	return 0;
}

/* Address ranges (CIDR) separated by spaces or commas; "" for none. */
int config_parse_cidrs(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		       unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (strlen(value) >= CONFIG_LIST_MAX) {
		snprintf(why, whylen, "the list is longer than %d characters", CONFIG_LIST_MAX - 1);
		return -EINVAL;
	}
	if (cidr_list_check(value, why, whylen) < 0)
		return -EINVAL;
	snprintf((char *)field, CONFIG_LIST_MAX, "%s", value);
	return 0;
}

int config_parse_level(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		       unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (log_level_parse((enum log_level *)field, value) < 0) {
		snprintf(why, whylen,
			 "'%s' is not a log level (error, warning, notice, info, debug)", value);
		return -EINVAL;
	}
	return 0;
}

int config_parse_target(struct config *cfg, void *field, char const *value, char *why,
			size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (strcmp(value, "stderr") == 0)
		*(enum log_target *)field = LOG_TARGET_STDERR;
	else if (strcmp(value, "syslog") == 0)
		*(enum log_target *)field = LOG_TARGET_SYSLOG;
	else {
		snprintf(why, whylen, "'%s' is not a log target (stderr, syslog)", value);
		return -EINVAL;
	}
	return 0;
}

int config_parse_algs(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		      unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (strcmp(value, "md5") == 0)
		*(unsigned *)field = 1;
	else if (strcmp(value, "sha256") == 0)
		*(unsigned *)field = 2;
	else if (strcmp(value, "both") == 0)
		*(unsigned *)field = 3;
	else {
		snprintf(why, whylen, "'%s' is not md5, sha256 or both", value);
		return -EINVAL;
	}
	return 0;
}

/* One listener, "a.b.c.d:port" or "[v6]:port". */
static int parse_one_listen(struct config_listen *l, char const *item, char *why, size_t whylen)
{
	char host[CONFIG_HOST_MAX];
	char const *colon;
	unsigned char addr[16];

	if (item[0] == '[') {
		char const *close = strchr(item, ']');
		if (!close || close[1] != ':' || (size_t)(close - item - 1) >= sizeof(host))
			goto bad;
		memcpy(host, item + 1, (size_t)(close - item - 1));
		host[close - item - 1] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			goto bad;
		colon = close + 1;
	} else {
		colon = strrchr(item, ':');
		if (!colon || (size_t)(colon - item) >= sizeof(host))
			goto bad;
		memcpy(host, item, (size_t)(colon - item));
		host[colon - item] = '\0';
		if (inet_pton(AF_INET, host, addr) != 1)
			goto bad;
	}
	char *end;
	errno = 0;
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		goto bad;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->port = (unsigned)port;
	return 0;
bad:
	snprintf(why, whylen,
		 "'%s' is not an address:port (an IPv4 address, or an IPv6 address in "
		 "brackets, and a port from 1 to 65535)",
		 item);
	return -EINVAL;
}

/* A list of listeners separated by spaces or commas, appended to arr (*n of them). */
static int parse_listeners(struct config_listen *arr, unsigned *n, char const *value, char *why,
			   size_t whylen)
{
	char buf[512];
	char *save = NULL;
	int err = 0;
	bool any = false;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(why, whylen, "the value is too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (*n >= CONFIG_MAX_LISTEN) {
			snprintf(why, whylen, "at most %d listeners are allowed",
				 CONFIG_MAX_LISTEN);
			return -EINVAL;
		}
		struct config_listen l;
		if ((err = parse_one_listen(&l, tok, why, whylen)) < 0)
			return err;
		for (unsigned i = 0; i < *n; i++) {
			if (strcmp(arr[i].host, l.host) == 0 && arr[i].port == l.port) {
				snprintf(why, whylen, "listener '%s' is given twice", tok);
				return -EINVAL;
			}
		}
		arr[(*n)++] = l;
		any = true;
	}
	if (!any) {
		snprintf(why, whylen, "at least one address:port is required");
		return -EINVAL;
	}
	return 0;
}

/* [sip] listen: UDP and TCP listeners, appended to cfg->listen. */
int config_parse_listen(struct config *cfg, void *field, char const *value, char *why,
			size_t whylen, unsigned min, unsigned max)
{
	(void)field, (void)min, (void)max;
	return parse_listeners(cfg->listen, &cfg->n_listen, value, why, whylen);
}

/* [sip] listen_tls: TLS listeners; "" for none. */
int config_parse_listen_tls(struct config *cfg, void *field, char const *value, char *why,
			    size_t whylen, unsigned min, unsigned max)
{
	(void)field, (void)min, (void)max;
	cfg->n_listen_tls = 0;
	if (!value[0])
		return 0;
	return parse_listeners(cfg->listen_tls, &cfg->n_listen_tls, value, why, whylen);
}

int config_parse_bool(struct config *cfg, void *field, char const *value, char *why,
		      size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "on"))
		*(bool *)field = true;
	else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "off"))
		*(bool *)field = false;
	else {
		snprintf(why, whylen, "'%s' is not yes or no", value);
		return -EINVAL;
	}
	return 0;
}

/* A path, or "" for the default. */
int config_parse_opt_path(struct config *cfg, void *field, char const *value, char *why,
			  size_t whylen, unsigned min, unsigned max)
{
	if (!value[0]) {
		((char *)field)[0] = '\0';
		return 0;
	}
	return config_parse_path(cfg, field, value, why, whylen, min, max);
}

int config_parse_ha_role(struct config *cfg, void *field, char const *value, char *why,
			 size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	static char const *const names[] = { "standalone", "primary", "backup" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(value, names[i])) {
			*(enum config_ha_role *)field = (enum config_ha_role)i;
			return 0;
		}
	snprintf(why, whylen, "'%s' is not standalone, primary or backup", value);
	return -EINVAL;
}

/* One HOST:PORT (numeric address), or "" for none. */
int config_parse_hostport(struct config *cfg, void *field, char const *value, char *why,
			  size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	struct config_listen one[CONFIG_MAX_LISTEN];
	unsigned n = 0;
	memset(field, 0, sizeof(struct config_listen));
	if (!value[0])
		return 0;
	int err = parse_listeners(one, &n, value, why, whylen);
	if (err < 0)
		return err;
	if (n != 1) {
		snprintf(why, whylen, "one address:port is expected, not %u", n);
		return -EINVAL;
	}
	memcpy(field, &one[0], sizeof(one[0]));
	return 0;
}

/* A node's name: 1 to 32 letters, digits and '-' (it goes into call ids); "": the host's. */
int config_parse_node_id(struct config *cfg, void *field, char const *value, char *why,
			 size_t whylen, unsigned min, unsigned max)
{
	(void)cfg, (void)min, (void)max;
	size_t n = strlen(value);
	if (n == 0) {
		((char *)field)[0] = '\0'; /* the host name's */
		return 0;
	}
	if (n > 32 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789-") != n) {
		snprintf(why, whylen,
			 "a node id is 1 to 32 letters, digits and '-', not '%s'", value);
		return -EINVAL;
	}
	snprintf(field, 33, "%s", value);
	return 0;
}
