/*
 * The control commands of two nodes (ha.status, ha.invite, ha.join,
 * ha.promote), run on the main thread, where the node link lives. ha.join
 * answers once the primary has answered (CTL_PENDING). The token travels
 * back to the administrator only; it is never logged.
 *
 * Thread: main.
 */
#ifndef SIPREG_CTL_CMD_HA_H
#define SIPREG_CTL_CMD_HA_H

#include "ctl/commands.h"

int ctl_ha_status(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_ha_invite(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_ha_join(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_ha_promote(struct ctl_job *j, struct ctl_handlers const *h);

#endif
