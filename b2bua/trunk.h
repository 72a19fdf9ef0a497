/*
 * The client side of trunks: registration upstream (digest answered with
 * the trunk's credentials, refresh before expiry, capped exponential
 * back-off after a failure, none after 403), OPTIONS keep-alives while
 * registered, and what sipregctl shows of each trunk.
 *
 * Thread: SIP.
 * Ownership: trunks_create()/trunks_destroy() (NULL-safe). The trunk
 * configuration is read from the directory given to trunks_sync(), which
 * must outlive the next call to trunks_sync() or trunks_destroy().
 */
#ifndef SIPREG_TRUNK_H
#define SIPREG_TRUNK_H

#include <jansson.h>
#include <stdbool.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_wait.h>

#include "b2bua/uac_auth.h"
#include "sip/hosts.h"
#include "store/directory.h"

typedef struct trunks trunks_t;

struct trunks_config {
	unsigned retry_min, retry_max; /* seconds: the first retry, the cap of the doubling */
	unsigned keepalive;	       /* seconds between OPTIONS, 0 none */
	char advertise[72];	       /* HOST[:PORT] for Contact on trunk traffic, "" none */
	char user_agent[80];	       /* User-Agent of the trunk's requests, "" none */
	bool standby;		       /* at trunks_create() only: start on standby */
};

int trunks_create(trunks_t **out, su_root_t *root, nta_agent_t *agent,
		  struct trunks_config const *cfg);
/** Sends an unregistration (best effort) for each registered trunk and frees all. */
void trunks_destroy(trunks_t *ts);
void trunks_set_config(trunks_t *ts, struct trunks_config const *cfg);

/*
 * On standby (the backup node while the primary holds the trunks): no
 * trunk registers, those registered unregister their own Contact. Off:
 * they register again.
 */
void trunks_standby(trunks_t *ts, bool on);

/** A new directory: new trunks start, changed ones start again, removed ones unregister. */
void trunks_sync(trunks_t *ts, directory_t const *dir);

/** Whether the trunk's registration is up (always true for one that does not register). */
bool trunks_usable(trunks_t const *ts, struct dir_trunk const *t);
/** The trunk's registration is up (a trunk that does not register: false). */
bool trunks_registered(trunks_t const *ts, struct dir_trunk const *t);

/** Our Contact toward the trunk for user: the advertised address or our listener. */
sip_contact_t *trunks_contact(trunks_t const *ts, su_home_t *home, struct dir_trunk const *t,
			      char const *user);
/* The result of the last `trunk test` of name, kept for trunk list and show. */
void trunks_checked(trunks_t *ts, char const *name, char const *result);
/* Whether the trunk is reached over TLS. */
bool trunks_is_tls(struct dir_trunk const *t);
/** sip:USER@REGISTRAR (with ;transport=tcp or tls for TCP and TLS trunks). */
char *trunks_uri(su_home_t *home, struct dir_trunk const *t, char const *user);
/** The registrar's host, without its port (brackets kept around IPv6). */
char *trunks_host(su_home_t *home, struct dir_trunk const *t);
/**
 * The answer to a challenge with the trunk's credentials (its auth user,
 * else its user, and its password); NULL when it has none or out of memory.
 */
char *trunks_authorization(su_home_t *home, struct dir_trunk const *t,
			   struct uac_challenge const *ch, char const *method, char const *uri,
			   unsigned nc);
/** The outbound proxy as a route URL, or NULL. */
char *trunks_proxy_uri(su_home_t *home, struct dir_trunk const *t);

/**
 * Each trunk of dir with its state as JSON objects (an array), or the one
 * named (an object; NULL when there is no such trunk).
 */
json_t *trunks_json(trunks_t const *ts, directory_t const *dir, hosts_t const *hosts,
		    char const *name);

#endif
