#!/bin/bash
# SIGHUP reloads what may change at run time and refuses the realm;
# SIGTERM under load leaves a consistent database with every
# acknowledged change in it; SIGINT stops as well.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

LOG_LEVEL=info BAN_FAILURES=10
start_sipregd || exit 1

config_is() {
	test "$(ctl config --json | json_get "$1")" = "$2"
}
hup() {
	kill -HUP "$PID"
}

# Reload: log level and ban limits.
LOG_LEVEL=debug BAN_FAILURES=3
write_conf
sed -i 's/^ban_time = .*/ban_time = 1200/' "$CONF"
hup
check "SIGHUP applies the log level" wait_for 50 config_is log.level debug
check "SIGHUP applies ban_failures" wait_for 50 config_is security.ban_failures 3
check "SIGHUP applies ban_time" config_is security.ban_time 1200
check "the reload is logged" log_has "configuration reloaded from $CONF"

# Reload: the realm is refused, the rest still applies.
REALM=other.realm LOG_LEVEL=notice
write_conf
hup
check "a realm change is refused in the log" wait_for 50 log_has "[sip] realm cannot change at run time"
check "the realm stays" config_is sip.realm sipreg
check "the other keys of that file apply" wait_for 50 config_is log.level notice
REALM=sipreg

# Reload: a broken file changes nothing.
printf '[log]\nlevel = shouting\n' >>"$CONF"
hup
check "a bad file on reload is logged with file:line" wait_for 50 log_has "reload refused, configuration unchanged: $CONF:"
check "and changes nothing" config_is log.level notice
check "sipregd still serves" ctl status

# SIGTERM under load: control writes and SIP traffic at once.
write_conf
check "clean reload before the load" sh -c "kill -HUP $PID"
: >"$WORK/acked"
(
	i=0
	while [ "$i" -lt 2000 ]; do
		if printf 'pw\n' | "$SIPREGCTL" -s "$SOCK" user add "load$i" --password-stdin --weak >/dev/null 2>&1; then
			echo "load$i" >>"$WORK/acked"
		else
			break
		fi
		i=$((i + 1))
	done
) &
WRITER=$!
OTHER_PIDS="$OTHER_PIDS $WRITER"
sipp $(sipp_opts) -sf "$E2E_DIR/sipp/options.xml" -m 100000 -r 2000 -timeout 60s >/dev/null 2>&1 &
SIPP=$!
OTHER_PIDS="$OTHER_PIDS $SIPP"
acked_some() {
	test "$(wc -l <"$WORK/acked")" -ge 50
}
check "changes are being acknowledged under load" wait_for 300 acked_some
check "SIGTERM under load stops sipregd within 10 s, exit 0" stop_sipregd
wait_gone "$WRITER" 100 || kill "$WRITER" 2>/dev/null
wait "$WRITER" 2>/dev/null
kill "$SIPP" 2>/dev/null
wait "$SIPP" 2>/dev/null
check "the database passes an integrity check" sh -c "test \"\$(sqlite3 '$DB' 'PRAGMA integrity_check')\" = ok"
missing() {
	sqlite3 "file:$DB?mode=ro" "SELECT name FROM user WHERE name LIKE 'load%'" | sort >"$WORK/stored"
	sort "$WORK/acked" >"$WORK/acked.sorted"
	comm -23 "$WORK/acked.sorted" "$WORK/stored" >"$WORK/missing"
	test ! -s "$WORK/missing"
}
check "every acknowledged user is in the database ($(wc -l <"$WORK/acked") acked)" missing
check "no WAL left behind after a clean stop" sh -c "test ! -s '$DB-wal'"

check "sipregd starts again after the stop under load" start_sipregd
check "SIGINT stops it too" stop_sipregd INT
