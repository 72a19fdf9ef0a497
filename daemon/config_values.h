/*
 * The parsers of the configuration's values, one per kind (numbers, paths,
 * hosts, lists, levels, listeners): each parses the text of a value into
 * its field, or says why not. Private to daemon/config.c.
 *
 * Thread: main (at load and reload).
 */
#ifndef SIPREG_CONFIG_VALUES_H
#define SIPREG_CONFIG_VALUES_H

#include <stddef.h>

#include "daemon/config.h"

/* 0, or -EINVAL with a reason in why; min and max bound the numbers. */
typedef int (*value_parse_f)(struct config *cfg, void *field, char const *value, char *why,
			     size_t whylen, unsigned min, unsigned max);

int config_parse_uint(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		      unsigned min, unsigned max);
int config_parse_path(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		      unsigned min, unsigned max);
int config_parse_realm(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		       unsigned min, unsigned max);
int config_parse_server_header(struct config *cfg, void *field, char const *value, char *why,
			       size_t whylen, unsigned min, unsigned max);
int config_parse_advertise(struct config *cfg, void *field, char const *value, char *why,
			   size_t whylen, unsigned min, unsigned max);
int config_parse_numbers(struct config *cfg, void *field, char const *value, char *why,
			 size_t whylen, unsigned min, unsigned max);
int config_parse_cidrs(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		       unsigned min, unsigned max);
int config_parse_level(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		       unsigned min, unsigned max);
int config_parse_target(struct config *cfg, void *field, char const *value, char *why,
			size_t whylen, unsigned min, unsigned max);
int config_parse_algs(struct config *cfg, void *field, char const *value, char *why, size_t whylen,
		      unsigned min, unsigned max);
int config_parse_listen(struct config *cfg, void *field, char const *value, char *why,
			size_t whylen, unsigned min, unsigned max);

int config_parse_listen_tls(struct config *cfg, void *field, char const *value, char *why,
			    size_t whylen, unsigned min, unsigned max);
int config_parse_bool(struct config *cfg, void *field, char const *value, char *why,
		      size_t whylen, unsigned min, unsigned max);
int config_parse_opt_path(struct config *cfg, void *field, char const *value, char *why,
			  size_t whylen, unsigned min, unsigned max);
int config_parse_ha_role(struct config *cfg, void *field, char const *value, char *why,
			 size_t whylen, unsigned min, unsigned max);
int config_parse_hostport(struct config *cfg, void *field, char const *value, char *why,
			  size_t whylen, unsigned min, unsigned max);
int config_parse_node_id(struct config *cfg, void *field, char const *value, char *why,
			 size_t whylen, unsigned min, unsigned max);

#endif
