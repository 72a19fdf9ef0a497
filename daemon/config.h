/*
 * sipregd configuration: "key = value" lines in [sections], '#' or ';'
 * comment lines. Every key and its default are listed in etc/sipregd.conf;
 * the defaults live in config_defaults() and nowhere else.
 *
 * Thread: main (loaded at start and on SIGHUP); other threads get copies.
 * Ownership: struct config is a plain value with no pointers; copy freely.
 */
#ifndef SIPREG_CONFIG_H
#define SIPREG_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/log.h"

#define CONFIG_MAX_LISTEN 8
#define CONFIG_HOST_MAX	  64
#define CONFIG_REALM_MAX  128
#define CONFIG_PATH_MAX	  1024
#define CONFIG_LIST_MAX	  256

struct config_listen {
	char host[CONFIG_HOST_MAX]; /* numeric IPv4 or IPv6 address, without brackets */
	unsigned port;
};

struct config {
	/* [sip] */
	struct config_listen listen[CONFIG_MAX_LISTEN];
	unsigned n_listen;
	char realm[CONFIG_REALM_MAX];
	char advertise[CONFIG_HOST_MAX + 8]; /* HOST[:PORT] for trunk traffic, "" none */
	char server_header[64]; /* Server and User-Agent text ("{version}" expanded), "" none */
	char resolv_conf[CONFIG_PATH_MAX]; /* the DNS resolver's configuration, "" the system's */
	struct config_listen listen_tls[CONFIG_MAX_LISTEN]; /* TLS listeners, none by default */
	unsigned n_listen_tls;
	char allow[CONFIG_LIST_MAX]; /* CIDR ranges requests may come from, "" any */
	/* [tls] */
	char tls_dir[CONFIG_PATH_MAX];	    /* agent.pem, cafile.pem, the lab CA, the trust list */
	bool tls_legacy;		    /* TLS 1.0 and security level 0, process-wide */
	char tls_trunk_ca[CONFIG_PATH_MAX]; /* CAs for TLS trunks, "" the system's */
	char tls_trunk_dir[CONFIG_PATH_MAX]; /* (not a key) the trunks' TLS files, "" none */
	/* [store] */
	char store_path[CONFIG_PATH_MAX];
	unsigned store_flush_ms;
	/* [ctl] */
	char ctl_socket[CONFIG_PATH_MAX];
	/* [log] */
	enum log_level log_level;
	enum log_target log_target;
	/* [registrar] */
	unsigned min_expires;
	unsigned max_expires;
	unsigned default_expires;
	unsigned cucm_max_expires;
	unsigned nonce_lifetime;
	unsigned digest_algs; /* 1 md5, 2 sha256, 3 both (as enum dir_algs) */
	unsigned max_contacts;
	unsigned tcp_message_timeout, tcp_idle_timeout, tcp_max_per_source, tcp_backlog;
	unsigned device_contacts;
	char identify_from[CONFIG_LIST_MAX]; /* CIDR ranges identify-only devices may use */
	/* [calls] */
	unsigned ring_timeout;
	unsigned line_calls;
	unsigned max_forks;    /* B legs one call may open */
	unsigned dnd_response; /* status for calls to a device in do not disturb */
	/* [trunks] */
	unsigned trunk_retry_min; /* seconds before the first retry of a failed registration */
	unsigned trunk_retry_max; /* the cap of the doubling */
	unsigned trunk_keepalive; /* seconds between OPTIONS to a registered trunk, 0 none */
	/* [dialplan] */
	char emergency[CONFIG_LIST_MAX];  /* numbers, space separated */
	char restricted[CONFIG_LIST_MAX]; /* prefixes, space separated */
	/* [security] */
	unsigned ban_failures;
	unsigned ban_window;
	unsigned ban_time;
	char ban_exempt[CONFIG_LIST_MAX]; /* CIDR ranges never banned */
	/* [ha] */
	enum config_ha_role { HA_ROLE_STANDALONE = 0, HA_ROLE_PRIMARY, HA_ROLE_BACKUP } ha_role;
	struct config_listen ha_listen; /* the node link's address; port 0: none */
	struct config_listen ha_peer;	/* the other node's; port 0: none */
	char ha_node_id[33];		/* this node's name ("" the host name's first label) */
	unsigned ha_journal_keep;	/* changes kept for a backup that was away */
	unsigned ha_journal_age;	/* seconds they are kept at most */
	unsigned ha_token_rate;		/* fallback tokens granted a second */
	unsigned ha_trunk_takeover;	/* seconds without the primary before the backup registers trunks */
	struct config_listen ha_sip;	/* SIP between the nodes (TLS); port 0: any free port */
};

/** Fills in the embedded defaults. */
void config_defaults(struct config *cfg);

/**
 * Reads FILE over the defaults. On error returns -EINVAL (or -errno when the
 * file cannot be opened) and writes "FILE:LINE: what is wrong" into err.
 */
int config_load(struct config *cfg, char const *path, char *err, size_t errlen);

/** As config_load() on text in memory; name stands for the file in errors. */
int config_load_string(struct config *cfg, char const *name, char const *text, char *err,
		       size_t errlen);

/** The Server and User-Agent text: [sip] server_header with {version} expanded ("" none). */
void config_server_header(struct config const *cfg, char *out, size_t len);

/** Whether number is in the space-separated list (exact), or starts with one (prefix). */
int config_list_has(char const *list, char const *number, int prefix);

/** Formats a listener as host:port, with brackets around IPv6 hosts. */
void config_listen_format(struct config_listen const *l, char *buf, size_t len);

#endif
