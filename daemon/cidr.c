/*
 * CIDR ranges for the configuration's address lists: parsed from text at
 * every use (the lists are short and read only on rare paths: an identify
 * device authenticating, a failure about to be counted).
 */
#include "autoconfig.h"

#include "daemon/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct range {
	int family;
	uint8_t addr[16];
	unsigned bits;
};

/* One item, "ADDR" or "ADDR/N"; 0 or -EINVAL. */
static int parse_one(char const *item, size_t len, struct range *r)
{
	char text[64];
	if (len == 0 || len >= sizeof(text))
		return -EINVAL;
	memcpy(text, item, len);
	text[len] = '\0';
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, text, r->addr) == 1)
		r->family = AF_INET, r->bits = 32;
	else if (inet_pton(AF_INET6, text, r->addr) == 1)
		r->family = AF_INET6, r->bits = 128;
	else
		return -EINVAL;
	if (slash) {
		char *end;
		unsigned long n = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || n > r->bits)
			return -EINVAL;
		r->bits = (unsigned)n;
	}
	return 0;
}

static bool in_range(struct range const *r, int family, uint8_t const *a)
{
	if (family != r->family)
		return false;
	unsigned full = r->bits / 8, rest = r->bits % 8;
	if (memcmp(a, r->addr, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (r->addr[full] & mask);
}

/* Calls fn for each item; stops at the first that fn returns non-zero for. */
static int each(char const *list, int (*fn)(char const *item, size_t len, void *arg), void *arg)
{
	while (list && *list) {
		list += strspn(list, " \t,");
		size_t len = strcspn(list, " \t,");
		if (len) {
			int rc = fn(list, len, arg);
			if (rc)
				return rc;
		}
		list += len;
	}
	return 0;
}

struct check_ctx {
	char *why;
	size_t whylen;
};

static int check_one(char const *item, size_t len, void *arg)
{
	struct check_ctx *x = arg;
	struct range r;
	if (parse_one(item, len, &r) == 0)
		return 0;
	snprintf(x->why, x->whylen, "'%.*s' is not an address or ADDRESS/BITS range",
		 (int)(len > 64 ? 64 : len), item);
	return -EINVAL;
}

int cidr_list_check(char const *list, char *why, size_t whylen)
{
	struct check_ctx x = { why, whylen };
	return each(list, check_one, &x);
}

struct match_ctx {
	int family;
	uint8_t addr[16];
};

static int match_one(char const *item, size_t len, void *arg)
{
	struct match_ctx *m = arg;
	struct range r;
	return parse_one(item, len, &r) == 0 && in_range(&r, m->family, m->addr);
}

bool cidr_list_match(char const *list, char const *addr)
{
	struct match_ctx m = { 0 };
	if (!addr)
		return false;
	if (inet_pton(AF_INET, addr, m.addr) == 1)
		m.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, m.addr) == 1)
		m.family = AF_INET6;
	else
		return false;
	return each(list, match_one, &m) > 0;
}
