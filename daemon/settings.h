/*
 * The settings of the SIP thread's modules, from the configuration.
 *
 * Thread: any (pure functions of the configuration). Private to daemon/ (the wiring in
 * daemon/app.c).
 */
#ifndef SIPREG_DAEMON_SETTINGS_H
#define SIPREG_DAEMON_SETTINGS_H

#include "b2bua/b2bua.h"
#include "daemon/config.h"
#include "registrar/registrar.h"

/** The registrar's settings, with this server's names (listeners, advertised address). */
void app_registrar_settings(struct registrar_config *rc, struct config const *cfg);
/** The calls' and the trunks' settings. */
void app_b2bua_settings(struct b2bua_config *bc, struct config const *cfg);

#endif
