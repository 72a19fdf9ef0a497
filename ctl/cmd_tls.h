/*
 * The control commands about TLS (tls.init, tls.renew, tls.show, tls.itl),
 * run on the main thread. No private key ever leaves the daemon through
 * them: answers carry certificates' public facts and the trust list.
 *
 * Thread: main.
 */
#ifndef SIPREG_CTL_CMD_TLS_H
#define SIPREG_CTL_CMD_TLS_H

#include "ctl/commands.h"

int ctl_tls_init(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_tls_renew(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_tls_show(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_tls_itl(struct ctl_job *j, struct ctl_handlers const *h);
int ctl_trunk_test(struct ctl_job *j, struct ctl_handlers const *h);

#endif
