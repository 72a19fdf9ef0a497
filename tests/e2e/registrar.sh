#!/bin/bash
# The registrar end to end: SIPp and a scripted phone (digest by hashlib)
# against sipregd: third-party and Cisco phones, UDP and TCP, identity,
# bulk lines, keep-alives, expiry, restart, bans.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

MIN_EXPIRES=2 CUCM_MAX_EXPIRES=120 BAN_FAILURES=3
start_sipregd || exit 1
SIPP_DIR="$E2E_DIR/sipp"

add() { # user password device model [extra device options]
	printf '%s\n' "$2" | ctl user add "$1" --password-stdin --weak >/dev/null &&
		ctl device add "$3" --model "$4" --digest-user "$1" "${@:5}" >/dev/null
}
add alice pw-alice desk third-party-basic
add frank pw-frank desk2 third-party-basic
add bob pw-bob SEP001122334455 cisco-7941
add dave pw-dave SEP00AABBCCDDEE cisco-7941
add carol pw-carol ident third-party-basic --auth identify
add erin pw-erin shaphone third-party-advanced --digest-algs both --qop auth
for l in "desk 1001" "desk2 6001" "SEP001122334455 2001" "SEP001122334455 2002" \
	"SEP00AABBCCDDEE 4001" "SEP00AABBCCDDEE 4002" "ident 3001" "shaphone 5001"; do
	# shellcheck disable=SC2086
	ctl line add $l >/dev/null || not_ok "line add $l"
done
ok "users, devices and lines set up"

# ---- third-party phones ----
printf 'SEQUENTIAL\n1001;x;[authentication username=alice password=pw-alice]\n' >"$WORK/alice.csv"
printf 'SEQUENTIAL\n1001;x;[authentication username=alice password=wrong]\n' >"$WORK/wrong.csv"
check "SIPp: a third-party phone registers with MD5 (401, then 200 with Date)" \
	sipp $(sipp_opts) -sf "$SIPP_DIR/register.xml" -inf "$WORK/alice.csv" -m 1
check "the binding is listed" bound 1001 "sip:1001@127.0.0.1"
check "SIPp: a wrong password gets 401 again" \
	sipp $(sipp_opts) -sf "$SIPP_DIR/register-wrong.xml" -inf "$WORK/wrong.csv" -m 1
check "SIPp over TCP: registers" \
	sipp $(sipp_opts) -t t1 -sf "$SIPP_DIR/register.xml" -inf "$WORK/alice.csv" -m 1
check "identify profile: a wrong password still registers" \
	phone --dn 3001 --user carol --password not-her-password
check "SHA-256 (hashlib) on a device offered both" \
	phone --dn 5001 --user erin --password pw-erin --alg SHA-256
check "MD5 on the same device" phone --dn 5001 --user erin --password pw-erin --alg MD5
sha_first() {
	phone --dn 5001 --expect 401 --show | grep 'WWW-Authenticate' | head -n 1 | grep -q 'algorithm=SHA-256'
}
check "SHA-256 is offered first" sha_first
check "qop required: a response without qop is challenged again" \
	phone --dn 5001 --user erin --password pw-erin --no-qop --expect 401
check "qop optional: a response without qop (RFC 2069) registers" \
	phone --dn 1001 --user alice --password pw-alice --no-qop
check "a replayed nonce count is challenged again" \
	phone --dn 1001 --user alice --password pw-alice --replay --expect 401

# The same challenge for a user that does not exist as for one that does.
challenge_of() {
	phone --dn "$1" --expect 401 --show | grep '^WWW-Authenticate' | sed 's/nonce="[0-9a-f]*"/nonce=N/'
}
same_challenge() {
	test "$(challenge_of 1001)" = "$(challenge_of 9999)" && test -n "$(challenge_of 9999)"
}
check "an unknown DN gets exactly the challenge a known one gets" same_challenge
check "an unknown digest user gets 401 again, like a wrong password" \
	phone --dn 1001 --user nobody --password x --expect 401

# ---- one digest user per phone ----
count_dn() {
	reg_json | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["dn"] == sys.argv[1]))' "$1"
}
before=$(count_dn 1001)
check "another device's digest user on alice's line gets 403" \
	phone --dn 1001 --user frank --password pw-frank --expect 403
check "and is logged as a hijack attempt" log_has "hijack attempt: user frank (device desk2) tried to register DN \"1001\" of device desk"
check "alice's bindings stay" test "$(count_dn 1001)" = "$before"
check "a Cisco phone refused the same way gets 503 (a 403 would reboot it)" \
	phone --dn 1001 --user bob --password pw-bob --cisco SEP001122334455 --expect 503
check "a Cisco phone naming another device gets 503" \
	phone --dn 2001 --user bob --password pw-bob --cisco SEPFFFFFFFFFFFF --expect 503
check "a Cisco phone with a too brief interval gets 423" \
	phone --dn 2001 --user bob --password pw-bob --cisco SEP001122334455 --expires 1 --expect 423

# ---- Cisco phones: bulk registration ----
SENT="$WORK/sipp-bulk"
sipp $(sipp_opts) -t t1 -sf "$SIPP_DIR/cisco-bulk-tcp.xml" -m 1 -key dn 2001 \
	-key device SEP001122334455 -key mac 001122334455 -au bob -ap pw-bob \
	-trace_logs -log_file "$SENT.log" -trace_err -error_file "$SENT.err" >"$SENT.out" 2>&1 &
SIPP_PID=$!
OTHER_PIDS="$OTHER_PIDS $SIPP_PID"
check "SIPp 7941 over TCP with the bulk body: line 1 bound" wait_for 50 bound 2001 9e9e1ffb
check "line 2 bound by the server to line 1's contact" bound 2002 "sip:2002@127.0.0.1:"
line2_tcp() {
	reg_json | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["dn"] == "2002"]
sys.exit(0 if r and r[0]["transport"] == "tcp" and r[0]["derived"] and r[0]["index"] == 2
         and "transport=tcp" in r[0]["contact"] and r[0]["expires_in"] <= 120 else 1)'
}
check "line 2 is on the same TCP connection, index 2, expiry 120 (CUCM's)" line2_tcp
# SIPp goes on after a failed check (it only counts the call as failed at its
# end), so the test reads both: its log line after the checks, and no failed one.
check "SIPp's checks of the answer (Date, X-cisco-sis, Expires 120, remotecc body) held" \
	sh -c "$(declare -f wait_for); wait_for 50 grep -q 'answer checked' '$SENT.log' &&
		! grep -q 'Failed regexp match' '$SENT.err'"
check "reg show lists the device's two lines" sh -c \
	"test \$('$SIPREGCTL' -s '$SOCK' reg show sep001122334455 --json | grep -c '\"dn\"') -eq 2"
check "keep-alive REGISTER to a standby: 200 with Date, no challenge" \
	sipp $(sipp_opts) -sf "$SIPP_DIR/cisco-keepalive.xml" -m 1 -key dn 2001 \
	-key device SEP001122334455 -key mac 001122334455
check "the keep-alive left the bindings alone" bound 2002
kill "$SIPP_PID"
wait "$SIPP_PID" 2>/dev/null
gone() { ! bound "$@"; }
check "the phone's TCP connection closing removes line 1" wait_for 50 gone 2001
check "and line 2" gone 2002

# Cisco phone over UDP, bulk, and a bare refresh past the first expiry.
check "a 7941 over UDP with the bulk body registers" \
	phone --dn 4001 --user dave --password pw-dave --cisco SEP00AABBCCDDEE --bulk \
	--contact-user 11111111-2222-3333-4444-555555555555
check "line 2 of the UDP phone is bound" bound 4002 "sip:4002@127.0.0.1:"
check "sipregd stops" stop_sipregd
CUCM_MAX_EXPIRES=3
check "sipregd starts with CUCM expiry 3 s" start_sipregd
check "UDP bindings survived the restart (line 1)" bound 4001
check "UDP bindings survived the restart (line 2)" bound 4002
check "third-party bindings survived the restart" bound 1001
check "TCP bindings were not restored" gone 2001
check "reg flush of the UDP phone" ctl reg flush SEP00AABBCCDDEE
check "its lines are gone" gone 4002
check "a bare refresh keeps line 2 bound past the first expiry" \
	phone --dn 4001 --user dave --password pw-dave --cisco SEP00AABBCCDDEE --bulk \
	--contact-user 11111111-2222-3333-4444-555555555555 --refresh 2 --refresh 2
check "line 2 still bound after the refreshes" bound 4002
check "and it expires with line 1 when the refreshes stop" wait_for 60 gone 4002

# ---- expiry, unregistration, flush ----
check "a short registration" phone --dn 6001 --user frank --password pw-frank --expires 2
check "expiry removes the binding" wait_for 60 gone 6001
check "register again" phone --dn 6001 --user frank --password pw-frank
check "Contact: * with Expires: 0 unregisters" \
	phone --dn 6001 --user frank --password pw-frank --star --expires 0
check "the binding is gone" gone 6001
check "register again" phone --dn 6001 --user frank --password pw-frank
check "reg flush of a device" ctl reg flush desk2
check "its binding is gone" gone 6001
expect_exit 1 "reg flush of an unknown name is refused" ctl reg flush nothing
check "deleting a line drops its bindings" sh -c "'$SIPREGCTL' -s '$SOCK' line del 3001 >/dev/null"
check "3001 is no longer bound" gone 3001

# ---- bans ----
for i in 1 2 3; do
	phone --local 127.0.0.3 --dn 1001 --user alice --password wrong-$i --expect 401 >/dev/null
done
check "after 3 failures the source gets no answer at all" \
	phone --local 127.0.0.3 --dn 1001 --user alice --password pw-alice --expect 0 --timeout 1
check "another source still registers, as the same user" phone --local 127.0.0.4 --dn 1001 --user alice --password pw-alice
check "the ban is logged" log_has "ban: source 127.0.0.3 banned for 600 s after 3 failures"
check "ban list shows it" sh -c "'$SIPREGCTL' -s '$SOCK' ban list | grep -q 127.0.0.3"
check "ban del lifts it" ctl ban del 127.0.0.3
check "the source is answered again" phone --local 127.0.0.3 --dn 1001 --user alice --password pw-alice
if command -v fail2ban-regex >/dev/null 2>&1; then
	f2b() {
		local want
		want=$(grep -c 'auth failure: ' "$WORK/sipregd.log")
		fail2ban-regex --print-all-matched "$WORK/sipregd.log" \
			"$SRCDIR/etc/fail2ban/filter.d/sipreg.conf" >"$WORK/f2b.out" 2>&1 &&
			grep -q "Failregex: $want total" "$WORK/f2b.out" &&
			grep -q 'source=127.0.0.3:' "$WORK/f2b.out"
	}
	check "fail2ban-regex matches every failure line, with its source" f2b
else
	not_ok "fail2ban-regex is not installed"
fi

# SIGHUP hands new ban limits to the SIP thread.
BAN_FAILURES=1
write_conf
kill -HUP "$PID"
config_is_1() { test "$(ctl config --json | json_get security.ban_failures)" = 1; }
check "SIGHUP: ban after 1 failure" wait_for 50 config_is_1
phone --local 127.0.0.5 --dn 1001 --user alice --password wrong --expect 401 >/dev/null
check "the new limit is enforced: one failure bans" \
	phone --local 127.0.0.5 --dn 1001 --user alice --password pw-alice --expect 0 --timeout 1

check "malformed credentials get 400" sh -c "python3 '$E2E_DIR/sipraw.py' udp $SIP_ADDR $SIP_PORT '$E2E_DIR/raw/bad-authorization.txt' 2 | grep -q '^SIP/2.0 400'"
check "sipregd stops cleanly" stop_sipregd
