/*
 * The daemon's TLS duties: the certificate directory checked before the
 * SIP thread starts, the daily look at expiry dates, what `status` shows
 * about certificates.
 *
 * Thread: main.
 */
#ifndef SIPREG_TLSD_H
#define SIPREG_TLSD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/config.h"

/*
 * Makes [tls] dir absolute and, when TLS listeners are configured, checks
 * the directory (tls_check_dir()). 0, or -1 with one sentence in err.
 * Warnings are logged (or printed by --check-config, quiet false).
 */
int tlsd_prepare(struct config *cfg, char *err, size_t errlen, char *warn, size_t warnlen);

#define TLSD_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/*
 * The certificate directory of the TLS transport toward trunks, made in a
 * private temporary directory (cfg->tls_trunk_dir): cafile.pem is [tls]
 * trunk_ca (the system's CAs by default), agent.pem this server's, when
 * there is one. sofia reads them when the SIP thread starts;
 * tlsd_forget_trunks() removes them then. 0, or -1 (logged): no TLS toward
 * trunks.
 */
int tlsd_prepare_trunks(struct config *cfg);
void tlsd_forget_trunks(struct config *cfg);

/* Logs a warning when a certificate of the directory ends within 30 days. */
void tlsd_expiry_check(char const *dir);

/* {"dir", "listeners", "legacy", "expires_in_days", "expiring": file} for status. */
json_t *tlsd_status(struct config const *cfg);

/* "DNS:name,IP:a,..." for a new server certificate: the name and each TLS listener's address. */
void tlsd_default_san(struct config const *cfg, char const *cn, char *out, size_t len);

#endif
