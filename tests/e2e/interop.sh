#!/bin/bash
# What the administrator sees (log lines at the default level, counts right
# after a flush, sipregctl's messages) and what real clients need from
# sipregd: keep-alives, PUBLISH, call ids, transfers with twinkle.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

LOG_LEVEL=default DEVICE_CONTACTS=4
start_sipregd || exit 1
SIPP_DIR="$E2E_DIR/sipp"

add_phone alice pw-alice desk third-party-basic 1001
add_phone bob pw-bob SEP001122334455 cisco-7941 2001
printf 'pw-sha\n' | ctl user add shauser --password-stdin --weak >/dev/null
ctl device add shadesk --model third-party-basic --digest-user shauser --digest-algs sha256 >/dev/null
ctl line add shadesk 5001 >/dev/null

# ---- keep-alives ----
keepalives() {
	python3 - "$SIP_ADDR" "$SIP_PORT" <<'PY'
import socket, sys
addr = (sys.argv[1], int(sys.argv[2]))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
for ping in (b"\r\n\r\n", b"\r\n", b"\r\n\r\n"):
    u.sendto(ping, addr)
t = socket.create_connection(addr, timeout=5)
t.sendall(b"\r\n\r\n")          # RFC 5626 ping over TCP
pong = t.recv(16)
print("pong", pong)
sys.exit(0 if pong == b"\r\n" else 1)
PY
}
check "a CRLF ping over TCP gets a CRLF pong (RFC 5626)" keepalives
check "OPTIONS after the keep-alives is answered (they were read)" \
	sipp $(sipp_opts) -sf "$SIPP_DIR/options.xml" -m 1
check "keep-alive datagrams log nothing at the default level" sh -c "! grep -q garbage '$WORK/sipregd.log'"

# ---- registration changes at the default level ----
check "the default level is info" sh -c "'$SIPREGCTL' -s '$SOCK' status --json | grep -q '\"log_level\": \"info\"'"
reg() {
	python3 "$E2E_DIR/regsteps.py" --server "$SIP_ADDR:$SIP_PORT" --transport udp --dn 1001 \
		--user alice --password pw-alice "$@"
}
check "register two contacts, refresh one, remove one, then all" reg -- +a +b +a -b '*'
check "the registration is logged" log_has 'desk registered DN "1001" from'
check "the removal of one contact is logged" log_has 'desk removed 1 contact of DN "1001" (1 left)'
check "unregistering all is logged" log_has 'desk unregistered DN "1001" (1 binding)'
check "one line per new contact (a and b), none for the refresh" \
	test "$(grep -c 'desk registered DN' "$WORK/sipregd.log")" -eq 2
check "an MD5-only client on a SHA-256-only device is challenged again" \
	phone --dn 5001 --user shauser --password pw-sha --alg MD5 --force-alg --expect 401
check "an MD5-only client on a SHA-256-only device: the log says so" \
	log_has "but device shadesk is challenged with SHA-256 only: the client lacks the device's algorithm"

# ---- counts right after a flush ----
check "a phone registers" reg -- +c
bindings_are() { # N: line show 1001 counts N bindings
	test "$(ctl line show 1001 --json | json_get bindings)" = "$1"
}
check "line show counts its binding" wait_for 50 bindings_are 1
check "reg flush" ctl reg flush 1001
check "line show right after the flush: 0 bindings" bindings_are 0
check "line list right after the flush: 0 bindings" sh -c \
	"'$SIPREGCTL' -s '$SOCK' line list --json | python3 -c 'import json,sys; sys.exit(0 if [l[\"bindings\"] for l in json.load(sys.stdin) if l[\"dn\"] == \"1001\"] == [0] else 1)'"

# ---- sipregctl ----
printf 'ab\0cd\n' >"$WORK/nulpw"
expect_exit 1 "a password with a NUL byte is refused" sh -c "'$SIPREGCTL' -s '$SOCK' user add nul --password-stdin < '$WORK/nulpw'"
check "and the message says what is wrong" last_has "holds a NUL byte"
expect_exit 2 "user add without a terminal or --password-stdin" \
	setsid "$SIPREGCTL" -s "$SOCK" user add nobody </dev/null
check "one sentence saying how to give the password" sh -c \
	"test \$(wc -l < '$WORK/last.out') -eq 1 && grep -q -- '--password-stdin' '$WORK/last.out'"

# ---- plurals ----
ctl reg flush desk >/dev/null
check "one phone registers before the restart" reg -- +d
check "sipregd stops" stop_sipregd
start_sipregd || exit 1
check "one registration restored, in the singular" log_has "1 registration restored from the database"

# ---- presence PUBLISH (RFC 3903) ----
dev carl --dn 1001 --user alice --password pw-alice \
	--do publish:open --do publish:refresh --do publish:stale --do publish:text \
	--do publish:remove --do publish:refresh
check "a plain PIDF <basic>open</basic> (as twinkle sends): 200" dev_has carl "RESULT publish:open 200"
check "with SIP-ETag and Expires" dev_line carl '^PUBLISHED publish:open etag=[0-9a-f]+ ' 'expires=3600'
check "a refresh with its SIP-If-Match: 200" dev_has carl "RESULT publish:refresh 200"
check "the refresh gets a new SIP-ETag and its Expires" dev_line carl '^PUBLISHED publish:refresh' 'expires=600'
check "a refresh naming an unknown entity tag: 412" dev_has carl "RESULT publish:stale 412"
check "a body that is not PIDF: 400" dev_has carl "RESULT publish:text 400"
check "removal (Expires 0): 200" dev_has carl "RESULT publish:remove 200"
check "a refresh of the removed publication: 412" dev_line carl 'RESULT publish:refresh' '412'
dev_stop carl
python3 "$E2E_DIR/phone.py" --server "$SIP_ADDR:$SIP_PORT" --log "$WORK/stranger.log" \
	--dn 1001 --user nobody --password x --skip-register --do publish:open >/dev/null 2>&1
check "a PUBLISH from where no phone registered is challenged (407)" \
	grep -q "RESULT publish:open 407" "$WORK/stranger.log"

# ---- twinkle as the transferor of a blind transfer ----
# twinkle-console runs headless: a home of its own, the ALSA null device, its
# SIP port from the system settings, commands on standard input.
twinkle_start() { # NAME USER PASSWORD DN
	local home="$WORK/tw-$1" port
	port=$(random_port)
	mkdir -p "$home/.twinkle"
	cat >"$home/.twinkle/twinkle.sys" <<SYS
dev_ringtone=alsa:null
dev_speaker=alsa:null
dev_mic=alsa:null
validate_audio_dev=no
play_ringtone=no
play_ringback=no
log_show_sip=yes
sip_udp_port=$port
rtp_port=$((port + 2))
SYS
	cat >"$home/.twinkle/$1.cfg" <<CFG
user_name=$4
user_domain=$SIP_ADDR:$SIP_PORT
user_display=$1
auth_name=$2
auth_pass=$3
outbound_proxy=$SIP_ADDR:$SIP_PORT
all_requests_to_proxy=yes
registrar=$SIP_ADDR:$SIP_PORT
register_at_startup=yes
registration_time=300
sip_transport=udp
CFG
	mkfifo "$WORK/$1.in"
	(cd "$home" && HOME="$home" exec twinkle-console "$1.cfg" <"$WORK/$1.in" >"$WORK/$1.out" 2>&1) &
	OTHER_PIDS="$OTHER_PIDS $!"
	exec 3>"$WORK/$1.in"
	wait_for 100 grep -q 'registration succeeded' "$WORK/$1.out"
}
twinkle_says() { # NAME TEXT
	wait_for 100 grep -qF -- "$2" "$WORK/$1.out"
}
# Every NOTIFY twinkle answered, with the status it gave, from its own log.
twinkle_notify_answers() {
	python3 - "$WORK/tw-$1/.twinkle/twinkle.log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
for block in text.split("+++ ")[1:]:
    m = re.search(r"^SIP/2\.0 (\d{3})", block, re.M)
    if m and re.search(r"^CSeq: \d+ NOTIFY", block, re.M) and "send_sip" in block:
        print(m.group(1))
PY
}
# twinkle published its presence at start (a plain PIDF) and was answered 200.
twinkle_published() {
	python3 - "$WORK/tw-$1/.twinkle/twinkle.log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
ok = any(re.search(r"^SIP/2\.0 200", b, re.M) and re.search(r"^CSeq: \d+ PUBLISH", b, re.M)
         and "process_sip_msg" in b for b in text.split("+++ ")[1:])
sys.exit(0 if ok and "PUBLISH failure" not in text else 1)
PY
}
all_notifies_200() {
	local answers
	answers=$(twinkle_notify_answers "$1")
	echo "$answers"
	[ -n "$answers" ] && ! echo "$answers" | grep -qv '^200$'
}
add_phone tom pw-tom tomdesk third-party-basic 6001
add_phone bea pw-bea beadesk third-party-basic 6002
add_phone cat pw-cat catdesk third-party-basic 6003
dev bea --dn 6002 --user bea --password pw-bea
dev cat --dn 6003 --user cat --password pw-cat

# ---- Require in a dialog ----
add_phone dee pw-dee deedesk third-party-basic 6004
add_phone eve pw-eve evedesk third-party-basic 6005
dev dee --dn 6004 --user dee --password pw-dee
dev eve --dn 6005 --user eve --password pw-eve
dev_do dee invite:6005
check "6004 calls 6005" dev_has dee "RESULT invite:6005 200"
dev_do dee require:foo
check "an INFO in the call with Require: foo gets 420" dev_has dee "RESULT require:foo 420"
dev_do dee require:timer
check "one with Require: timer crosses to 6005" dev_line eve '^RECV INFO' 'Require: timer'
dev_do dee bye
check "the call ends" dev_has dee "RESULT bye 200"
dev_stop dee
dev_stop eve

if command -v twinkle-console >/dev/null; then
	check "twinkle registers" twinkle_start tom tom pw-tom 6001
	check "twinkle's presence PUBLISH at start (<basic>open</basic>) is answered 200" \
		wait_for 50 twinkle_published tom
	echo "call sip:6002@$SIP_ADDR:$SIP_PORT" >&3
	check "twinkle calls 6002 and is answered" twinkle_says tom "far end answered call"
	echo "transfer sip:6003@$SIP_ADDR:$SIP_PORT" >&3
	check "the transferee (6002) calls the target (6003)" dev_has cat DIALOG
	check "twinkle hears the transfer succeed" twinkle_says tom "call successfully referred"
	check "twinkle answers every relayed NOTIFY 200 (they carry a Contact)" all_notifies_200 tom
	check "and leaves the call: 6002 gets its BYE" dev_has bea "HANGUP 0"
	check "one call is left, 6002 with 6003" wait_for 50 sh -c \
		"'$SIPREGCTL' -s '$SOCK' call list --json | python3 -c 'import json,sys; c=json.load(sys.stdin); sys.exit(0 if len(c)==1 and c[0][\"caller\"]==\"6002\" and c[0][\"callee\"]==\"6003\" else 1)'"
	echo quit >&3
	exec 3>&-
	dev_stop bea
	dev_stop cat
else
	not_ok "twinkle-console is not installed (scripts/install-deps.sh installs it)"
fi

check "sipregd stops cleanly" stop_sipregd
