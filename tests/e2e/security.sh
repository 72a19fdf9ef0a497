#!/bin/bash
# Attacks and lifecycles that once went wrong: bindings over TCP removed in
# every way (the connection's references), forged log fields, replayed and
# foreign digests, a signing oracle, secrets at rest, call loops, identify
# devices from afar, bans that must not happen, and smaller refusals.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

BAN_FAILURES=5
start_sipregd || exit 1

add_phone alice alice-secret-1 desk third-party-basic 1001 &&
	add_phone bob bob-secret-22 SEP001122334455 cisco-7941 2001 &&
	ctl line add SEP001122334455 2002 >/dev/null &&
	add_phone carol carol-secret-3 desk3 third-party-basic 3001 ||
	not_ok "set-up"
ok "users, devices and lines set up"

alive() { ctl status >/dev/null; }
gone() { ! bound "$@"; }
steps() { # DN USER PASSWORD [--cisco DEV] STEP...
	local dn=$1 user=$2 pw=$3
	shift 3
	python3 "$E2E_DIR/regsteps.py" --server "$SIP_ADDR:$SIP_PORT" --dn "$dn" --user "$user" \
		--password "$pw" "$@"
}

# ---- 1. bindings over TCP: every way to remove one ----
check "TCP: register, then Expires 0 on the same connection" \
	steps 1001 alice alice-secret-1 -- +a -a
check "sipregd is still running" alive
check "the binding is gone" gone 1001
check "TCP: register, then ;expires=0 on the contact" \
	steps 1001 alice alice-secret-1 -- +a '-a;param'
check "TCP: register, then Contact: *" steps 1001 alice alice-secret-1 -- +a '*'
check "sipregd is still running" alive
check "TCP: two bindings, one removed, the connection kept" \
	steps 1001 alice alice-secret-1 -- +a +b -b
check "sipregd is still running, the other binding ends with its connection" \
	wait_for 50 gone 1001
check "TCP: two bindings, one removed, then the connection closes at once" \
	steps 1001 alice alice-secret-1 -- +a +b -a close
check "both gone, sipregd running" wait_for 50 gone 1001
check "TCP: unregister and close at once" steps 1001 alice alice-secret-1 -- +a -a close
check "TCP: a binding moved to UDP and back" \
	sh -c "python3 '$E2E_DIR/regsteps.py' --server $SIP_ADDR:$SIP_PORT --dn 1001 --user alice --password alice-secret-1 -- +u >/dev/null && python3 '$E2E_DIR/regsteps.py' --transport udp --server $SIP_ADDR:$SIP_PORT --dn 1001 --user alice --password alice-secret-1 -- +u -u"
check "sipregd is still running" alive
# A CUCM-mode phone: line 2 hangs on line 1's connection.
check "CUCM over TCP: line 1 registered, then Expires 0" \
	steps 2001 bob bob-secret-22 --cisco SEP001122334455 -- +2001 -2001
check "lines 1 and 2 are gone" sh -c "! '$SIPREGCTL' -s '$SOCK' reg list --json | grep -q '\"dn\": \"200'"
check "CUCM over TCP: registered, then Contact: *" \
	steps 2001 bob bob-secret-22 --cisco SEP001122334455 -- +2001 '*'
check "CUCM over TCP: registered, unregistered, closed at once" \
	steps 2001 bob bob-secret-22 --cisco SEP001122334455 -- +2001 -2001 close
check "CUCM over TCP: registered, then the connection closes" \
	steps 2001 bob bob-secret-22 --cisco SEP001122334455 -- +2001 close
check "line 2 goes with line 1's connection" wait_for 50 gone 2002
check "sipregd is still running" alive

# ---- 2. fields from the network in the log ----
forge() { # LOCAL USER: a REGISTER from LOCAL with a forged digest user and a wrong password
	phone --local "$1" --dn 1001 --user "$2" --password wrong-password --expect 401 >/dev/null
}
forge 127.0.0.9 'x dn=1 source=198.51.100.77:5060 reason=x'
forge 127.0.0.9 'y\" source=198.51.100.78:5060 user=\"'
forge 127.0.0.9 'z\\ source=198.51.100.79:5060'
forge 127.0.0.9 'w sipregd[1] warning registrar: auth failure: source=198.51.100.80:5060 user='
check "a forged user name is logged quoted, after the true source" \
	log_has 'auth failure: source=127.0.0.9:'
check "its quotes and backslashes are escaped" log_has 'user="y\" source=198.51.100.78:5060 user=\""'
f2b_ips() {
	fail2ban-regex -o ip "$WORK/sipregd.log" "$SRCDIR/etc/fail2ban/filter.d/sipreg.conf" |
		grep -E '^[0-9.]+$' | sort -u | tr '\n' ' '
}
check "fail2ban-regex -o ip finds only the true source" test "$(f2b_ips)" = "127.0.0.9 "
# The same lines as syslog and the journal write them.
sed -n 's/^[0-9-]* [0-9:.]* sipregd\[\([0-9]*\)\] warning \(registrar: auth failure: .*\)$/Dec  3 07:00:00 host sipregd[\1]: \2/p' \
	"$WORK/sipregd.log" >"$WORK/syslog"
syslog_ips() {
	fail2ban-regex -o ip "$WORK/syslog" "$SRCDIR/etc/fail2ban/filter.d/sipreg.conf" |
		grep -E '^[0-9.]+$' | sort -u | tr '\n' ' '
}
check "the four failures in syslog form" test "$(wc -l <"$WORK/syslog")" -eq 4
check "syslog form: only the true source" test "$(syslog_ips)" = "127.0.0.9 "

check "sipregd stops cleanly (no sanitizer report)" stop_sipregd
