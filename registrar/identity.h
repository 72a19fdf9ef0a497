/*
 * How a Cisco phone names itself in a REGISTER: the device name in a
 * Contact parameter, "Name=" in the Reason header of its first REGISTER,
 * or its MAC in +sip.instance. Pure string functions.
 *
 * Thread: any. Ownership: callers own every buffer.
 */
#ifndef SIPREG_IDENTITY_H
#define SIPREG_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

/**
 * From one Contact parameter ("name=value" as sofia keeps it): the value of
 * +u.sip!devicename.ccm.cisco.com (or the .features. variant), unquoted.
 * Returns true and fills out when the parameter is one of those.
 */
bool identity_from_contact_param(char const *param, char *out, size_t outsize);

/** From the text of a Reason header (quoted or not): the value after "Name=". */
bool identity_from_reason_text(char const *text, char *out, size_t outsize);

/**
 * From a +sip.instance value such as "<urn:uuid:00000000-0000-0000-0000-0024142ddf24>":
 * "SEP0024142DDF24".
 */
bool identity_from_instance(char const *instance, char *out, size_t outsize);

/** True for a Contact parameter that marks a keep-alive REGISTER to a standby server. */
bool identity_is_keepalive_param(char const *param);

#endif
