/*
 * The settings of the SIP thread's modules, from the configuration.
 *
 * Thread: SIP. Private to sip/.
 */
#ifndef SIPREG_SIP_SETTINGS_H
#define SIPREG_SIP_SETTINGS_H

#include "b2bua/b2bua.h"
#include "daemon/config.h"
#include "registrar/registrar.h"
#include "sip/tcpguard.h"

/** The registrar's settings, with this server's names (listeners, advertised address). */
void sip_registrar_settings(struct registrar_config *rc, struct config const *cfg);
/** The limits on accepted TCP connections. */
void sip_tcp_guard_settings(struct tcp_guard_config *tc, struct config const *cfg);
/** The calls' and the trunks' settings. */
void sip_b2bua_settings(struct b2bua_config *bc, struct config const *cfg);

#endif
