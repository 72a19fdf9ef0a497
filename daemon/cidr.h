/*
 * Address ranges in CIDR notation ("10.0.0.0/8 fc00::/7 192.0.2.7"), as
 * the configuration names them: where identify-only devices may register
 * from, which sources are never banned.
 *
 * Thread: any (no state).
 */
#ifndef SIPREG_CIDR_H
#define SIPREG_CIDR_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Checks a list of ranges separated by spaces or commas; 0, or -EINVAL
 * with the reason in why. An address without /N is the address alone.
 */
int cidr_list_check(char const *list, char *why, size_t whylen);

/** True when addr (an IPv4 or IPv6 address as text) is in one of the ranges of list. */
bool cidr_list_match(char const *list, char const *addr);

#endif
