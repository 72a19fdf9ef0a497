#!/bin/bash
# Robustness: a phone that changes port keeps one binding, a REGISTER is
# applied whole or not at all, expiry values are bounded, misbehaving TCP
# connections are closed (silent, unfinished body, trickling, idle, too
# many from one address) while registration connections stay, a provider
# that answers every REGISTER with stale=true gets back-off, and the
# configuration reader is bounded.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

CONF_EXTRA="[sip]
tcp_message_timeout = 3
tcp_idle_timeout = 6
tcp_max_per_source = 5
[trunks]
retry_min = 2
retry_max = 60"
# A soft limit on open files below the hard one, as systemd and many shells set it.
ulimit -Sn 1024 2>/dev/null || true
start_sipregd || exit 1

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
check "sipregd raised its open files limit to the hard limit ($hard): one descriptor per TCP phone" \
	sh -c "[ \"\$(awk '/^Max open files/ { print \$4 }' /proc/$PID/limits)\" = '$hard' ]"
add_phone alice alice-secret-1 desk third-party-basic 1001 &&
	add_phone bob bob-secret-22 SEP001122334455 cisco-7941 2001 ||
	not_ok "set-up"
ok "users, devices and lines set up"

count_of() { # DN: how many bindings it has
	reg_json | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["dn"] == sys.argv[1]))' "$1"
}
has_count() { [ "$(count_of "$1")" = "$2" ]; }
client() { python3 "$E2E_DIR/sipclient.py" --server "$SIP_ADDR:$SIP_PORT" "$@"; }

# ---- a phone that changes port ----
ports_ok=0
for i in $(seq 1 40); do
	client --dn 1001 --user alice --password alice-secret-1 >/dev/null 2>&1 &&
		ports_ok=$((ports_ok + 1))
done
check "a phone registers from 40 ports in turn: every REGISTER gets 200" [ "$ports_ok" = 40 ]
check "exactly one binding remains ([registrar] device_contacts = 1)" has_count 1001 1
cisco_ok=0
for i in $(seq 1 20); do
	client --dn 2001 --user bob --password bob-secret-22 --cisco SEP001122334455 \
		>/dev/null 2>&1 && cisco_ok=$((cisco_ok + 1))
done
check "a Cisco phone does the same 20 times: every REGISTER gets 200, never 503" \
	[ "$cisco_ok" = 20 ]
check "and holds one binding" has_count 2001 1
ctl reg flush 1001 >/dev/null
ctl reg flush 2001 >/dev/null

# ---- a REGISTER is applied whole or not at all ----
many=""
for i in $(seq 1 17); do many="$many${many:+, }<sip:1001@127.0.0.$((i + 1)):5060>"; done
check "2 contacts in one REGISTER (more than device_contacts = 1): 403" \
	client --dn 1001 --user alice --password alice-secret-1 --expect 403 \
	--contact "<sip:1001@127.0.0.2:5060>, <sip:1001@127.0.0.3:5060>"
check "and neither is stored" has_count 1001 0
check "sipregd says why" log_has "2 contacts would exceed [registrar] max_contacts (16) or device_contacts (1)"
# With device_contacts above max_contacts, the line's limit is the one that refuses.
config_has() { ctl config --json | python3 -c 'import json,sys; c=json.load(sys.stdin); sys.exit(0 if c[sys.argv[1]][sys.argv[2]] == int(sys.argv[3]) else 1)' "$@"; }
DEVICE_CONTACTS=32 write_conf
kill -HUP "$PID"
check "SIGHUP: device_contacts = 32 applies at once" wait_for 50 config_has registrar device_contacts 32
check "17 contacts (more than max_contacts): 403" \
	client --dn 1001 --user alice --password alice-secret-1 --contact "$many" --expect 403
check "and none of the 17 is stored (not the first 16)" has_count 1001 0
check "sipregd says why" log_has "17 contacts, more than [registrar] max_contacts (16); refused"
sixteen=${many%, <sip:1001@127.0.0.18:5060>}
check "16 contacts: 200" client --dn 1001 --user alice --password alice-secret-1 --contact "$sixteen"
check "all 16 stored" has_count 1001 16
ctl reg flush 1001 >/dev/null
first14=${sixteen%, <sip:1001@127.0.0.16:5060>, <sip:1001@127.0.0.17:5060>}
check "14 contacts: 200" client --dn 1001 --user alice --password alice-secret-1 --contact "$first14"
check "then 3 more in one request (17 in all): 403" \
	client --dn 1001 --user alice --password alice-secret-1 --expect 403 \
	--contact "<sip:1001@127.0.1.1:5060>, <sip:1001@127.0.1.2:5060>, <sip:1001@127.0.1.3:5060>"
check "the 14 kept and none of the 3 added (not 2 of them)" has_count 1001 14
check "sipregd says why" log_has "3 contacts would exceed [registrar] max_contacts (16)"
ctl reg flush 1001 >/dev/null
write_conf
kill -HUP "$PID"
check "SIGHUP: back to device_contacts = 1" wait_for 50 config_has registrar device_contacts 1

# ---- expiry values ----
check "Expires: 4294967296 (2^32) registers for max_expires, not 0" \
	client --dn 1001 --user alice --password alice-secret-1 --expires 4294967296
check "the binding is there" has_count 1001 1
check "and its expiry is bounded" sh -c "'$SIPREGCTL' -s '$SOCK' reg list --json | python3 -c '
import json, sys, time
b = [r for r in json.load(sys.stdin) if r[\"dn\"] == \"1001\"][0]
sys.exit(0 if b[\"expires_in\"] <= 3600 else 1)'"
ctl reg flush 1001 >/dev/null

# ---- TCP connections ----
probe() { python3 "$E2E_DIR/tcpprobe.py" --server "$SIP_ADDR:$SIP_PORT" "$@"; }
check "half a request, then silence: closed" probe silent
check "a body that never completes: closed" probe body
check "one byte every 2 s (sofia's own timeout never fires): closed" probe trickle
check "the reason: the message was not complete in time" \
	log_has "closed: a message was not complete within [sip] tcp_message_timeout"
unfinished() { grep -c "closed: a message was not complete" "$WORK/sipregd.log"; }
before=$(unfinished)
check "a whole request at once, then nothing: closed" probe once
check "as idle, not as an unfinished message" [ "$(unfinished)" = "$before" ]
check "a connection that sends nothing: closed" probe idle
check "the reason: idle without a registration" \
	log_has "closed: no message and no registration within [sip] tcp_idle_timeout"
check "12 connections from one address: the 7 beyond tcp_max_per_source are closed" \
	sh -c "python3 '$E2E_DIR/tcpprobe.py' --server '$SIP_ADDR:$SIP_PORT' --local 127.0.0.60 many 12 | grep -qx 'closed 7 of 12'"
# [sip] tcp_backlog (1024 by default) reaches the listen() call, as much of it as sofia takes.
backlog() { ss -ltnH "sport = :$SIP_PORT" | awk -v a="$SIP_ADDR:$SIP_PORT" '$4 == a { print $3 }'; }
check "the TCP listener's backlog is tcp_backlog, capped at 1000 by sofia ($(backlog))" \
	[ "$(backlog)" = 1000 -o "$(backlog)" = "$(cat /proc/sys/net/core/somaxconn)" ]
# A registration's connection outlives the idle limit (6 s) without a message.
client --transport tcp --dn 1001 --user alice --password alice-secret-1 --expires 120 \
	--hold-until "$WORK/tcp.stop" >"$WORK/tcp-reg.out" 2>&1 &
TCP_PID=$!
OTHER_PIDS="$OTHER_PIDS $TCP_PID"
check "a phone registers over TCP and keeps its connection" wait_for 50 bound 1001 transport=tcp
# Half as long again as the idle limit: the closing rule has looked at it several times.
check "9 s without a message (tcp_idle_timeout 6 s): its connection and binding are still there" \
	sh -c "sleep 9; '$SIPREGCTL' -s '$SOCK' reg list --json | grep -q '\"dn\": \"1001\"' && kill -0 $TCP_PID"
touch "$WORK/tcp.stop"
wait "$TCP_PID"
check "when the phone closes it, the binding goes" wait_for 50 has_count 1001 0
steps() { # DN USER PASSWORD STEP...: over one TCP connection
	local dn=$1 user=$2 pw=$3
	shift 3
	python3 "$E2E_DIR/regsteps.py" --server "$SIP_ADDR:$SIP_PORT" --dn "$dn" --user "$user" \
		--password "$pw" -- "$@"
}
check "registered over TCP, then unregistered on the same connection: the connection, now idle, is closed" \
	steps 1001 alice alice-secret-1 +a -a dropped=20
python3 "$E2E_DIR/regsteps.py" --server "$SIP_ADDR:$SIP_PORT" --dn 1001 --user alice \
	--password alice-secret-1 -- +a dropped=30 >"$WORK/first.out" 2>&1 &
FIRST_PID=$!
OTHER_PIDS="$OTHER_PIDS $FIRST_PID"
check "a phone registers over one TCP connection" wait_for 50 bound 1001 "sip:a@"
check "then from a second one (its binding replaces the first's)" \
	steps 1001 alice alice-secret-1 +b
check "the first connection, left without a registration, is closed as idle" wait "$FIRST_PID"
ctl reg flush 1001 >/dev/null
check "a registration over TCP keeps its connection open past the idle limit" \
	steps 1001 alice alice-secret-1 +a stay=9
check "sipregd status counts the connections it closed" sh -c \
	"'$SIPREGCTL' -s '$SOCK' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"sip\"][\"tcp_closed\"] >= 10 else 1)'"

# ---- trunks: a provider that takes no answer ----
PROV_PORT=$(random_port)
python3 "$E2E_DIR/badprovider.py" --listen "127.0.0.1:$PROV_PORT" --mode stale \
	--count "$WORK/stale.count" --until "$WORK/prov.stop" &
PROV_PID=$!
OTHER_PIDS="$OTHER_PIDS $PROV_PID"
printf 'secret\n' | ctl trunk add stale --registrar "127.0.0.1:$PROV_PORT" --user 700 \
	--password-stdin >/dev/null
trunk_field() { ctl trunk show "$1" --json | json_get "$2"; }
check "a provider answering every REGISTER with 401 stale=true: the trunk fails" \
	wait_for 100 sh -c "[ \"\$('$SIPREGCTL' -s '$SOCK' trunk show stale --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = failed ]"
check "trunk list says why" wait_for 100 sh -c "'$SIPREGCTL' -s '$SOCK' trunk list | grep -E '^stale +' | grep -q 'stale=true [0-9]* times in a row without a 2xx'"
check "trunk show counts the stale answers" wait_for 100 sh -c "'$SIPREGCTL' -s '$SOCK' trunk show stale | grep -Eq '^stale answers +[2-9]'"
sleep 5 # the storm this replaces sent 13,000 REGISTERs in 5 s; this counts them
n=$(cat "$WORK/stale.count" 2>/dev/null || echo 0)
check "over those 5 s it sent few REGISTERs ($n), backing off between attempts" [ "$n" -le 12 ]
check "the back-off grows: 2 attempts or more have failed" \
	sh -c "[ \"\$('$SIPREGCTL' -s '$SOCK' trunk show stale --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"failures\"])')\" -ge 2 ]"
touch "$WORK/prov.stop"
wait "$PROV_PID"
ctl trunk del stale >/dev/null

PROV_PORT=$(random_port)
rm -f "$WORK/prov.stop"
python3 "$E2E_DIR/badprovider.py" --listen "127.0.0.1:$PROV_PORT" --mode huge \
	--count "$WORK/huge.count" --until "$WORK/prov.stop" &
PROV_PID=$!
OTHER_PIDS="$OTHER_PIDS $PROV_PID"
printf 'secret\n' | ctl trunk add huge --registrar "127.0.0.1:$PROV_PORT" --user 701 \
	--password-stdin --expires 300 >/dev/null
granted() { ctl trunk show huge --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["granted"])'; }
check "a provider granting 10^20 s: the trunk registers" wait_for 100 sh -c "[ \"\$('$SIPREGCTL' -s '$SOCK' trunk show huge --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = registered ]"
check "and takes no more than the 300 s it asked for" [ "$(granted)" = 300 ]
check "its next refresh is within those 300 s" sh -c "'$SIPREGCTL' -s '$SOCK' trunk show huge --json | python3 -c '
import json, sys, time
t = json.load(sys.stdin)
sys.exit(0 if t[\"next_attempt\"] and t[\"next_attempt\"] <= time.time() + 300 else 1)'"
touch "$WORK/prov.stop"
wait "$PROV_PID"
ctl trunk del huge >/dev/null

check "sipregd stops cleanly" stop_sipregd

# ---- the configuration reader ----
expect_exit 1 "-c /dev/zero: refused at once, not read forever" \
	timeout 20 "$SIPREGD" --check-config -c /dev/zero
check "as not a regular file" last_has "/dev/zero: not a regular file"
mkfifo "$WORK/fifo"
expect_exit 1 "a FIFO: refused without waiting for a writer" timeout 20 "$SIPREGD" --check-config -c "$WORK/fifo"
head -c 100000 /dev/zero | tr '\0' 'a' >"$WORK/long.conf"
expect_exit 1 "one endless line in a regular file: an error" \
	timeout 20 "$SIPREGD" --check-config -c "$WORK/long.conf"
check "naming file:line" last_has "long.conf:1: the line is longer than"
python3 -c "print('[registrar]\nidentify_from = ' + ' '.join('10.%d.0.0/16' % i for i in range(20)))" >"$WORK/wide.conf"
expect_exit 0 "a 250-character line (wider than the INI reader's buffer) is read" \
	"$SIPREGD" --check-config -c "$WORK/wide.conf"
printf '[sip]\nadvertise = ;;;@@@:99999\n' >"$WORK/adv.conf"
expect_exit 1 "advertise = ;;;@@@:99999 is refused (not read as empty)" \
	"$SIPREGD" --check-config -c "$WORK/adv.conf"
check "naming file:line and the key" last_has "adv.conf:2: the value of 'advertise' begins with ';'"
for bad in 'a..b' '-host' '999.1.1.1' '[zz]:5060' 'host:0' 'host:99999'; do
	printf '[sip]\nadvertise = %s\n' "$bad" >"$WORK/adv.conf"
	expect_exit 1 "advertise = $bad is refused" "$SIPREGD" --check-config -c "$WORK/adv.conf"
done
printf '[sip]\nadvertise = pbx.example.com:5062\n' >"$WORK/adv.conf"
expect_exit 0 "advertise = pbx.example.com:5062 is taken" "$SIPREGD" --check-config -c "$WORK/adv.conf"
printf '[sip]\nrea\033[31mlm\001 = x\n' >"$WORK/bin.conf"
expect_exit 1 "a key with control bytes is refused" "$SIPREGD" --check-config -c "$WORK/bin.conf"
check "and the error shows them escaped" last_has 'rea\x1b[31mlm\x01'
check "no raw escape byte reaches the terminal" sh -c "! grep -q \$'\\033' '$WORK/last.out'"

