/*
 * Cisco phones' feature traffic outside calls: PUBLISH (do not disturb),
 * out-of-dialog REFER (remotecc soft keys, alarms, token registration) and
 * NOTIFY (hook status), and the remotecc REFERs that push a phone's do not
 * disturb and call forward all state to it, after a change and at every
 * new registration.
 *
 * Cisco firmware cannot authenticate REFER and PUBLISH: these requests are
 * accepted without a challenge only from where the device registered (its
 * connection, or its source address), and challenged (407) otherwise.
 *
 * Thread: SIP.
 * Ownership: features_create()/features_destroy() (NULL-safe).
 */
#ifndef SIPREG_FEATURES_H
#define SIPREG_FEATURES_H

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

#include "b2bua/b2bua.h"
#include "registrar/registrar.h"

typedef struct features features_t;

int features_create(features_t **out, nta_agent_t *agent, registrar_t *reg, b2bua_feature_f change,
		    void *arg);
void features_destroy(features_t *f);

/*
 * A PIDF document's do-not-disturb state: 1 for do not disturb, 0 for
 * available, 2 when it says neither (a plain <basic>open</basic>), -1 when
 * the body is not a PIDF document at all (or is over 64 kB).
 */
int features_presence_dnd(char const *data, size_t len);

/* Requests outside any dialog; each takes msg. */
void features_publish(features_t *f, msg_t *msg, sip_t *sip);
void features_refer(features_t *f, msg_t *msg, sip_t *sip);
void features_notify(features_t *f, msg_t *msg, sip_t *sip);

/** A device registered anew: push its state (CUCM-mode Cisco phones, line 1). */
void features_registered(features_t *f, struct dir_device const *dev, char const *dn);

/** A new directory replaces old: push what changed to the phones concerned. */
void features_directory_changed(features_t *f, directory_t const *old, directory_t const *now);

#endif
