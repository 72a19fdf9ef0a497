/*
 * Cisco feature requests a phone places as an INVITE to
 * x-cisco-serviceuri-FEATURE (call forward all now; pickup, park and the
 * others when they come). They are not calls: sipregd answers 200 with a
 * description that declines every stream, waits for the ACK and hangs up.
 * No call record, no entry in the list of calls.
 *
 * Thread: SIP. Ownership: cisco_services_create()/cisco_services_destroy()
 * (NULL-safe); requests in progress are freed with it.
 */
#ifndef SIPREG_CISCO_SERVICE_H
#define SIPREG_CISCO_SERVICE_H

#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/su_wait.h>

#include "store/directory.h"
#include "store/store.h"

typedef struct cisco_services cisco_services_t;

/* A line's features changed by the phone: stored, then pushed to the phone. */
typedef void (*cisco_change_f)(struct store_line_features const *f, void *arg);

int cisco_services_create(cisco_services_t **out, su_root_t *root, nta_agent_t *agent,
			  cisco_change_f change, void *arg);
void cisco_services_destroy(cisco_services_t *s);

/*
 * An INVITE to x-cisco-serviceuri-SERVICE from line of device who
 * (authenticated); consumes msg. 503 for a service not available here.
 */
void cisco_service_invite(cisco_services_t *s, msg_t *msg, sip_t *sip, struct dir_device const *who,
			  struct dir_line const *line, char const *service);

#endif
