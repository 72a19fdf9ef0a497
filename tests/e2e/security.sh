#!/bin/bash
# Attacks and lifecycles that once went wrong: bindings over TCP removed in
# every way (the connection's references), forged log fields, replayed and
# foreign digests, a signing oracle, secrets at rest, call loops, identify
# devices from afar, bans that must not happen, and smaller refusals.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

BAN_FAILURES=5 RING_TIMEOUT=5 LINE_CALLS=100 DEVICE_CONTACTS=8
CONF_EXTRA="[calls]
max_forks = 3
[registrar]
identify_from = 127.0.0.30 fc00::/7
[security]
ban_exempt = 127.0.0.40/31"
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

# ---- 3. digest ----
attack() { # MODE [options]: digest_attack.py as alice on 1001
	python3 "$E2E_DIR/digest_attack.py" --server "$SIP_ADDR:$SIP_PORT" --dn 1001 --user alice \
		--password alice-secret-1 "$@"
}
banned() { ctl ban list --json | grep -qF "\"$1\""; }
answers() { # WANT MODE [options]: the answers printed, one per line, joined by spaces
	local want=$1 got
	shift
	got=$(attack "$@" | sed -n 's/^STATUS //p' | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "answers: $got (wanted $want)"; return 1; }
}
check "RFC 2069 credentials register once, and the same again from another address are challenged" \
	answers "200 401 " replay --local 127.0.0.21 --from 127.0.0.22
check "RFC 2069 credentials used again from the same address are challenged (stale)" \
	answers "200 401 " replay --local 127.0.0.21
check "no failure was counted for either" sh -c "! '$SIPREGCTL' -s '$SOCK' ban list --json | grep -q '127.0.0.2[12]'"
check "a nonce fetched at one address, wrong responses from another: challenged each time" \
	answers "401 401 401 401 401 401 401 " foreign --local 127.0.0.23 --from 127.0.0.24 --count 7 --wrong
check "and the address they came from is not banned" sh -c "! '$SIPREGCTL' -s '$SOCK' ban list --json | grep -q 127.0.0.23"
check "right credentials on a nonce issued to another address are challenged, not accepted" \
	answers "401 401 " foreign --local 127.0.0.23 --from 127.0.0.24 --count 2
check "one wrong REGISTER retransmitted 8 times is answered every time" \
	answers "401 401 401 401 401 401 401 401 " resend --local 127.0.0.25 --count 8 --wrong
check "it counted once: the source is not banned (ban after 5)" \
	phone --local 127.0.0.25 --dn 1001 --user alice --password alice-secret-1
check "the log says it counted once" test "$(grep -c 'auth failure: source=127.0.0.25:' "$WORK/sipregd.log")" -eq 1

# SIPp as users run it: the digest uri of its INVITE is sipregd's sip:HOST:PORT.
add_phone mallory mallory-secret-4 mdev third-party-basic 4001 || not_ok "mallory set up"
uas call-uas.xml 1
check "the callee (SIPp) registers" phone --dn 3001 --user carol --password carol-secret-3 \
	--contact-hostport "127.0.0.1:$UAS_PORT"
as_caller 1001 alice alice-secret-1
check "SIPp's default digest uri (sip:HOST:PORT of sipregd) places a call" \
	caller call-uac.xml 3001 -m 1
check "the callee took the call" uas_done
check "a digest uri naming another host is refused (407 again)" \
	caller "$(refused 407)" 3001 -m 1 -auth_uri "3001@198.51.100.7:5060"

# The signing oracle: a callee that challenges with a nonce of sipregd's own.
dev mallory --local 127.0.0.66 --dn 4001 --user mallory --password mallory-secret-4 \
	--contact-user 0301234567 --on-invite challenge --challenge-nonce server
check "a call to a callee relaying sipregd's own nonce fails (480)" caller "$(refused 480)" 4001 -m 1
check "the callee fetched sipregd's nonce" dev_has mallory "SERVER NONCE"
check "and got no credentials back" sh -c "! grep -q '^AUTH ' '$WORK/mallory.log'"
check "sipregd says why" log_has "with a nonce of sipregd's own"
dev_stop mallory
# A challenge from an address other than the binding's.
dev mallory --local 127.0.0.66 --dn 4001 --user mallory --password mallory-secret-4 \
	--on-invite challenge
ctl reg flush 4001 >/dev/null
PEER_PORT=$(random_port)
python3 "$E2E_DIR/phone.py" --server "$SIP_ADDR:$SIP_PORT" --local 127.0.0.67 --dn 4001 \
	--user mallory --password mallory-secret-4 --skip-register --on-invite challenge \
	--log "$WORK/peer.log" --until "$WORK/peer.stop" --bind-port "$PEER_PORT" >/dev/null 2>&1 &
OTHER_PIDS="$OTHER_PIDS $!"
check "a binding registered from 127.0.0.66 with its contact at 127.0.0.67" \
	phone --local 127.0.0.66 --dn 4001 --user mallory --password mallory-secret-4 \
	--contact-hostport "127.0.0.67:$PEER_PORT"
check "a challenge from 127.0.0.67 is not answered: the call fails (480)" \
	caller "$(refused 480)" 4001 -m 1
check "the challenger got no credentials" sh -c "grep -q 'RECV INVITE' '$WORK/peer.log' && ! grep -q '^AUTH ' '$WORK/peer.log'"
check "sipregd says why" log_has "did not come from where the binding was made"
touch "$WORK/peer.stop"
dev_stop mallory

# ---- identify-only devices, bans that must not happen, and why a ban exists ----
add_phone frank frank-secret-7 idev third-party-basic 7001 &&
	ctl device set idev --auth identify >/dev/null || not_ok "identify device set up"
check "an identify device registers from inside [registrar] identify_from" \
	phone --local 127.0.0.30 --dn 7001 --user frank --password anything
check "and is refused from outside it (403)" \
	phone --local 127.0.0.31 --dn 7001 --user frank --password anything --expect 403
check "the refusal is logged" log_has "(auth identify) refused: outside [registrar] identify_from"
add_phone gina gina-secret-8 SEP00000000A001 cisco-7941 7101 &&
	ctl device set SEP00000000A001 --auth identify >/dev/null || not_ok "Cisco identify set up"
check "a Cisco identify device outside it gets 503 (a 403 would reboot it)" \
	phone --local 127.0.0.31 --dn 7101 --user gina --password anything \
	--cisco SEP00000000A001 --expect 503
for i in 1 2 3 4 5 6; do
	phone --local 127.0.0.40 --dn 1001 --user alice --password "wrong-$i" --expect 401 >/dev/null
done
check "[security] ban_exempt: six failures, still answered" \
	phone --local 127.0.0.40 --dn 1001 --user alice --password alice-secret-1
for i in 1 2 3 4 5; do
	phone --local 127.0.0.42 --dn 1001 --user alice --password "wrong-$i" --expect 401 >/dev/null
done
check "five failures elsewhere: banned" phone --local 127.0.0.42 --dn 1001 --user alice \
	--password alice-secret-1 --expect 0 --timeout 1
ban_reason() {
	ctl ban list --json | python3 -c '
import json, sys
b = [x for x in json.load(sys.stdin) if x["what"] == "127.0.0.42"]
sys.exit(0 if b and "wrong credentials" in b[0]["reason"] and "alice" in b[0]["reason"] else 1)'
}
check "ban list says why (the last failure: method, reason, user)" ban_reason
check "the table shows it too" sh -c "'$SIPREGCTL' -s '$SOCK' ban list | grep -q 'REGISTER wrong credentials'"
raw() { # PROTO FILE [LOCAL]: the status line of the answer to a raw request
	SIPRAW_LOCAL=${3:-127.0.0.1} python3 "$E2E_DIR/sipraw.py" "$1" "$SIP_ADDR" "$SIP_PORT" "$2" 1
}
check "a banned source gets no answer to OPTIONS" \
	test "$(raw udp "$E2E_DIR/raw/options-maddr.txt" 127.0.0.42)" = "NO ANSWER"
check "nor to MESSAGE" test "$(raw udp "$E2E_DIR/raw/message.txt" 127.0.0.42)" = "NO ANSWER"
check "another source gets 501 to MESSAGE" sh -c "python3 '$E2E_DIR/sipraw.py' udp $SIP_ADDR $SIP_PORT '$E2E_DIR/raw/message.txt' | grep -q '^SIP/2.0 501'"
ctl ban del 127.0.0.42 >/dev/null

# ---- smaller things ----
check "a Via maddr is ignored: the answer comes back to the sender" sh -c \
	"python3 '$E2E_DIR/sipraw.py' udp $SIP_ADDR $SIP_PORT '$E2E_DIR/raw/options-maddr.txt' | grep -q '^SIP/2.0 200'"
server_of() { phone --dn 1001 --expect 401 --show | sed -n 's/^Server: //p'; }
check "the Server header carries no version by default" test "$(server_of)" = "sipreg"

# ---- 5. call loops ----
reg_contact() { # CONTACT WANT: alice registers 1001 with this Contact, answered WANT
	phone --dn 1001 --user alice --password alice-secret-1 --contact "$1" --expect "$2"
}
check "a contact naming sipregd's own listener is refused (400)" \
	reg_contact "<sip:1001@$SIP_ADDR:$SIP_PORT>" 400
check "the same address on another port is accepted" reg_contact "<sip:1001@$SIP_ADDR:5999>" 200
ctl reg flush 1001 >/dev/null
for c in "<tel:+4930123456>" "<mailto:alice@example.com>" "<sip:1001@0.0.0.0:5060>" \
	"<sip:1001@255.255.255.255:5060>" "<sip:1001@224.0.0.1:5060>" "<sip:1001@[ff02::1]:5060>" \
	"<sip:1001@127.0.0.1:5060>;expires=-1" "<sip:1001@127.0.0.1:5060>;expires=abc"; do
	check "contact $c is refused (400)" reg_contact "$c" 400
done
check "the refusal is logged with the reason" log_has "is an unspecified, broadcast or multicast address; refused (400)"
check "nothing was bound" gone 1001

# An INVITE already at Max-Forwards 0 goes nowhere.
check "an INVITE with Max-Forwards 0 gets 483" sh -c \
	"python3 '$E2E_DIR/sipraw.py' udp $SIP_ADDR $SIP_PORT '$E2E_DIR/raw/invite-max-forwards-0.txt' 2 | grep -q '^SIP/2.0 483'"

# A contact that leads back to sipregd (a reflector): the INVITE comes back with our mark.
add_phone dave dave-secret-55 ddev third-party-basic 6001 || not_ok "dave set up"
REFL_PORT=$(random_port)
python3 "$E2E_DIR/reflect.py" 127.0.0.70 "$REFL_PORT" "$SIP_ADDR" "$SIP_PORT" "$WORK/refl.stop" \
	>"$WORK/refl.out" 2>&1 &
REFL_PID=$!
OTHER_PIDS="$OTHER_PIDS $REFL_PID"
check "a binding whose contact reflects back to sipregd" \
	phone --dn 6001 --user dave --password dave-secret-55 --contact "<sip:6001@127.0.0.70:$REFL_PORT>"
check "a call to it ends with 482 (the INVITE came back)" caller "$(refused 482)" 6001 -m 1
check "sipregd recognised its own INVITE" log_has "came back to this node (its branch): loop (482)"
touch "$WORK/refl.stop"
wait "$REFL_PID"
ctl reg flush 6001 >/dev/null

# [calls] max_forks = 3: five bindings, three B legs.
check "five bindings for one line" python3 "$E2E_DIR/regsteps.py" --transport udp \
	--server "$SIP_ADDR:$SIP_PORT" --dn 6001 --user dave --password dave-secret-55 -- +c1 +c2 +c3 +c4 +c5
check "a call to it fails (480: nobody there)" caller "$(refused 480)" 6001 -m 1
check "after three B legs, [calls] max_forks" log_has "3 B legs opened, [calls] max_forks"
ctl reg flush 6001 >/dev/null

# A loop through a second sipregd: each takes the other for a trunk and binds
# line 5001 to the other; Max-Forwards ends it.
B="$WORK/node-b"
mkdir -p "$B"
B_ADDR=$(random_addr)
B_PORT=$(random_port)
printf '[sip]\nlisten = %s:%s\n[store]\npath = %s\n[ctl]\nsocket = %s\n[log]\nlevel = info\n[calls]\nline_calls = 100\n' \
	"$B_ADDR" "$B_PORT" "$B/sipreg.db" "$B/ctl.sock" >"$B/sipregd.conf"
"$SIPREGD" -f -c "$B/sipregd.conf" >>"$B/sipregd.log" 2>&1 &
B_PID=$!
DAEMON_PIDS="$DAEMON_PIDS $B_PID"
bctl() { "$SIPREGCTL" -s "$B/ctl.sock" "$@"; }
check "a second sipregd starts" wait_for 100 bctl status
add_phone erin erin-secret-66 edev third-party-basic 5001 &&
	ctl trunk add nodeb --registrar "$B_ADDR:$B_PORT" --default-dn 5001 >/dev/null &&
	printf 'erin-secret-66\n' | bctl user add erin --password-stdin >/dev/null &&
	bctl device add edev --model third-party-basic --digest-user erin >/dev/null &&
	bctl line add edev 5001 >/dev/null &&
	bctl trunk add nodea --registrar "$SIP_ADDR:$SIP_PORT" --default-dn 5001 >/dev/null ||
	not_ok "the two nodes set up"
check "5001 on the first node is bound to the second" \
	phone --dn 5001 --user erin --password erin-secret-66 --contact "<sip:5001@$B_ADDR:$B_PORT>"
check "5001 on the second node is bound to the first" \
	python3 "$E2E_DIR/sipclient.py" --server "$B_ADDR:$B_PORT" --dn 5001 --user erin \
	--password erin-secret-66 --contact "<sip:5001@$SIP_ADDR:$SIP_PORT>"
check "a call to 5001 loops between the nodes and ends with 483" caller "$(refused 483)" 5001 -m 1
calls_done() { test "$(ctl call list --json)" = "[]" && test "$(bctl call list --json)" = "[]"; }
check "no call is left on either node" wait_for 100 calls_done
hops() { ctl cdr list --json | grep -o '"callee": "5001"' | wc -l; }
check "the loop took at most 36 calls on this node" test "$(hops)" -le 36
check "one node saw Max-Forwards reach 0" grep -q "with Max-Forwards 0 (483)" "$B/sipregd.log" "$WORK/sipregd.log"
stop_b() {
	kill -TERM "$B_PID" && wait_gone "$B_PID" 100 && wait "$B_PID" &&
		! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$B/sipregd.log"
}
for i in 1 2 3 4 5 6; do
	phone --local "$B_ADDR" --dn 1001 --user alice --password "wrong-$i" --expect 401 >/dev/null
done
check "a trunk's provider address is never banned (six failures, still answered)" \
	phone --local "$B_ADDR" --dn 1001 --user alice --password alice-secret-1
check "the second sipregd stops cleanly" stop_b

# ---- 4. secrets at rest ----
mode_of() { stat -c %a "$1"; }
umask 022
check "the database is 0600" test "$(mode_of "$DB")" = 600
check "its -wal journal is 0600" test "$(mode_of "$DB-wal")" = 600
check "its -shm journal is 0600" test "$(mode_of "$DB-shm")" = 600
check "the key file is 0600" test "$(mode_of "$DB.key")" = 600
check "the control socket is 0660" test "$(mode_of "$SOCK")" = 660
check "sipregd stops" stop_sipregd
chmod 644 "$DB"
expect_exit 1 "a database readable by others: sipregd refuses to start" \
	timeout 20 "$SIPREGD" -f -c "$CONF"
check "and says how to fix it" last_has "Fix it with: chmod 600 $DB"
chmod 600 "$DB"
chmod 640 "$DB.key"
expect_exit 1 "a key file readable by the group: sipregd refuses to start" \
	timeout 20 "$SIPREGD" -f -c "$CONF"
check "and says how to fix it" last_has "chmod 600 $DB.key"
chmod 600 "$DB.key"
check "fixed, sipregd starts again" start_sipregd

check "sipregd stops cleanly (no sanitizer report)" stop_sipregd
