/*
 * The settings each module of the SIP thread takes from the configuration,
 * made at start and at every reload: the registrar's (with this server's
 * own names, for digest uris and refused contacts) and the calls'.
 *
 * Thread: SIP.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/settings.h"

/* Appends "HOST:PORT" to the space-separated list (size len); IPv6 hosts in brackets. */
static void self_add(char *list, size_t len, char const *host, unsigned port)
{
	size_t n = strlen(list);
	bool v6 = strchr(host, ':') && host[0] != '[';
	snprintf(list + n, len - n, "%s%s%s%s:%u", n ? " " : "", v6 ? "[" : "", host, v6 ? "]" : "",
		 port);
}

/* A listener on every address (0.0.0.0, ::) stands for each address of this host. */
static void self_add_listener(char *list, size_t len, char const *host, unsigned port)
{
	bool any4 = !strcmp(host, "0.0.0.0"), any6 = !strcmp(host, "::");
	struct ifaddrs *ifs = NULL;
	if (!any4 && !any6) {
		self_add(list, len, host, port);
		return;
	}
	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		char ip[INET6_ADDRSTRLEN];
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
		void const *a =
			fam == AF_INET
				? (void const *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
			: fam == AF_INET6
				? (void const *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr
				: NULL;
		if (a && (fam == AF_INET || any6) && inet_ntop(fam, a, ip, sizeof(ip)))
			self_add(list, len, ip, port);
	}
	freeifaddrs(ifs);
}

/*
 * This server's names, for a digest uri that names it and for contacts
 * that must not: the listeners' addresses (each address of the host for a
 * listener on every address) and the advertised address.
 */
static void self_names(char *list, size_t len, struct config const *cfg)
{
	list[0] = '\0';
	for (unsigned i = 0; i < cfg->n_listen; i++)
		self_add_listener(list, len, cfg->listen[i].host, cfg->listen[i].port);
	if (!cfg->advertise[0])
		return;
	char host[CONFIG_HOST_MAX + 8];
	snprintf(host, sizeof(host), "%s", cfg->advertise);
	char *colon = host[0] == '[' ? strstr(host, "]:") : strchr(host, ':');
	if (colon && host[0] == '[')
		colon++;
	if (colon) {
		*colon = '\0';
		self_add(list, len, host, (unsigned)strtoul(colon + 1, NULL, 10));
	} else {
		for (unsigned i = 0; i < cfg->n_listen; i++)
			self_add(list, len, host, cfg->listen[i].port);
	}
}

void app_registrar_settings(struct registrar_config *rc, struct config const *cfg)
{
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->realm, sizeof(rc->realm), "%s", cfg->realm);
	rc->min_expires = cfg->min_expires;
	rc->max_expires = cfg->max_expires;
	rc->default_expires = cfg->default_expires;
	rc->cucm_max_expires = cfg->cucm_max_expires;
	rc->nonce_lifetime = cfg->nonce_lifetime;
	rc->default_algs = (enum dir_algs)cfg->digest_algs;
	rc->max_contacts = cfg->max_contacts;
	rc->device_contacts = cfg->device_contacts;
	rc->ban_failures = cfg->ban_failures;
	rc->ban_window = cfg->ban_window;
	rc->ban_time = cfg->ban_time;
	snprintf(rc->ban_exempt, sizeof(rc->ban_exempt), "%s", cfg->ban_exempt);
	snprintf(rc->identify_from, sizeof(rc->identify_from), "%s", cfg->identify_from);
	config_server_header(cfg, rc->server, sizeof(rc->server));
	rc->token_rate = cfg->ha_token_rate;
	self_names(rc->self, sizeof(rc->self), cfg);
}

void app_b2bua_settings(struct b2bua_config *bc, struct config const *cfg)
{
	memset(bc, 0, sizeof(*bc));
	bc->ring_timeout = cfg->ring_timeout;
	bc->line_calls = cfg->line_calls;
	bc->max_forks = cfg->max_forks;
	bc->dnd_response = cfg->dnd_response;
	snprintf(bc->emergency, sizeof(bc->emergency), "%s", cfg->emergency);
	snprintf(bc->restricted, sizeof(bc->restricted), "%s", cfg->restricted);
	bc->trunks.retry_min = cfg->trunk_retry_min;
	bc->trunks.retry_max = cfg->trunk_retry_max;
	bc->trunks.keepalive = cfg->trunk_keepalive;
	snprintf(bc->trunks.advertise, sizeof(bc->trunks.advertise), "%s", cfg->advertise);
	config_server_header(cfg, bc->trunks.user_agent, sizeof(bc->trunks.user_agent));
}
