#!/bin/bash
# A real SIP client: baresip registers through digest, is listed, and
# unregisters when it stops; then two baresip phones call each other through
# sipregd and the call is answered; then a call to baresip is transferred
# (blind) to a third phone, and baresip, as the transferee, places the call.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

if ! command -v baresip >/dev/null 2>&1; then
	not_ok "baresip is not installed (scripts/install-deps.sh installs baresip-core)"
	exit 1
fi
start_sipregd || exit 1
printf 'pw-alice\n' | ctl user add alice --password-stdin --weak >/dev/null
ctl device add desk --model third-party-basic --digest-user alice >/dev/null
ctl line add desk 1001 >/dev/null

BS_PORT=$(random_port)
mkdir -p "$WORK/baresip"
cat >"$WORK/baresip/config" <<CONF_EOF
module_path		/usr/lib/baresip/modules
sip_listen		127.0.0.1:$BS_PORT
module			g711.so
module_app		account.so
audio_player		aufile,/dev/null
audio_source		aufile,/dev/null
CONF_EOF
printf '<sip:1001@%s:%s>;auth_user=alice;auth_pass=pw-alice;regint=300\n' \
	"$SIP_ADDR" "$SIP_PORT" >"$WORK/baresip/accounts"

# -t: baresip ends by itself at the latest after 60 s.
baresip -f "$WORK/baresip" -t 60 >"$WORK/baresip.out" 2>&1 &
BS_PID=$!
OTHER_PIDS="$OTHER_PIDS $BS_PID"
registered() {
	reg_json | grep -q '"user_agent": "baresip'
}
check "baresip registers (digest MD5)" wait_for 100 registered
check "baresip reports 200 OK" grep -q '200 OK (sipreg' "$WORK/baresip.out"
check "its contact is on line 1001" bound 1001 "@127.0.0.1:$BS_PORT"
kill -TERM "$BS_PID"
check "baresip stops" wait_gone "$BS_PID" 100
wait "$BS_PID" 2>/dev/null
unbound() { ! registered; }
check "and its binding is gone (it unregistered)" wait_for 50 unbound

# ---- two baresip phones: alice (1001) calls bob (2001), bob answers by itself ----
printf 'pw-bob\n' | ctl user add bob --password-stdin --weak >/dev/null
ctl device add bob-desk --model third-party-basic --digest-user bob >/dev/null
ctl line add bob-desk 2001 >/dev/null
# bs_config DIR PORT: a baresip configuration without sound hardware.
bs_config() {
	mkdir -p "$1"
	cat >"$1/config" <<CONF_EOF
module_path		/usr/lib/baresip/modules
sip_listen		127.0.0.1:$2
module			g711.so
module			aufile.so
module			menu.so
module_app		account.so
audio_player		aufile,/dev/null
audio_source		aufile,$WORK/tone.wav
CONF_EOF
}
# 20 s of a quiet 440 Hz tone, 8 kHz mono, for the phones to send.
python3 -c '
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(800 * math.sin(i * 2 * math.pi * 440 / 8000))) for i in range(8000 * 20)))
' "$WORK/tone.wav"
BOB_PORT=$(random_port)
bs_config "$WORK/bob" "$BOB_PORT"
printf '<sip:2001@%s:%s>;auth_user=bob;auth_pass=pw-bob;regint=300;answermode=auto\n' \
	"$SIP_ADDR" "$SIP_PORT" >"$WORK/bob/accounts"
baresip -f "$WORK/bob" -t 120 >"$WORK/bob.out" 2>&1 &
BOB_PID=$!
OTHER_PIDS="$OTHER_PIDS $BOB_PID"
check "bob's baresip registers 2001" wait_for 100 bound 2001 "@127.0.0.1:$BOB_PORT"

ALICE_PORT=$(random_port)
bs_config "$WORK/alice" "$ALICE_PORT"
printf '<sip:1001@%s:%s>;auth_user=alice;auth_pass=pw-alice;regint=300\n' \
	"$SIP_ADDR" "$SIP_PORT" >"$WORK/alice/accounts"
alice_registered() { bound 1001 "@127.0.0.1:$ALICE_PORT"; }
baresip -f "$WORK/alice" -t 60 -e "/dial sip:2001@$SIP_ADDR:$SIP_PORT" >"$WORK/alice.out" 2>&1 &
ALICE_PID=$!
OTHER_PIDS="$OTHER_PIDS $ALICE_PID"
answered() {
	ctl call list --json | grep -q '"state": *"answered"'
}
check "alice's baresip calls 2001: bob's baresip answers, the call is up in sipregd" \
	wait_for 150 answered
check "alice's baresip sees the call established" wait_for 50 grep -qi "established" "$WORK/alice.out"
check "bob's baresip sees it established too" wait_for 50 grep -qi "established" "$WORK/bob.out"
kill -TERM "$ALICE_PID"
check "alice hangs up (baresip stops)" wait_gone "$ALICE_PID" 100
no_calls() { ! ctl call list --json | grep -q '"id"'; }
check "the call is gone from sipregd" wait_for 50 no_calls
check "the call is recorded as answered" sh -c "'$SIPREGCTL' -s '$SOCK' cdr list --json | grep -q '\"result\": \"answered\"'"

# ---- bob's baresip as a transferee: alice (scripted) transfers it to carol ----
printf 'pw-carol\n' | ctl user add carol --password-stdin --weak >/dev/null
ctl device add carol-desk --model third-party-basic --digest-user carol >/dev/null
ctl line add carol-desk 3001 >/dev/null
dev alice --dn 1001 --user alice --password pw-alice --unregister
dev carol --dn 3001 --user carol --password pw-carol --unregister
dev_do alice invite:2001
check "a scripted phone on 1001 calls bob's baresip, which answers" \
	dev_has alice "RESULT invite:2001 200"
dev_do alice transfer:3001
check "bob's baresip accepts the transfer to 3001 (202)" dev_has alice "RESULT transfer:3001 202"
check "bob's baresip calls 3001 and carol answers" dev_line carol '^RECV INVITE' "2001@"
check "bob's baresip reports the transfer succeeded (NOTIFY 200)" dev_has alice "TRANSFER DONE"
check "alice hangs up" dev_has alice "BYE 0 200"
pair() {
	ctl call list --json | python3 -c '
import json, sys
c = json.load(sys.stdin)
sys.exit(0 if len(c) == 1 and c[0]["caller"] == "2001" and c[0]["target"] == "3001" and
         c[0]["state"] == "answered" else 1)'
}
check "bob's baresip and carol are connected" wait_for 100 pair
dev_do carol bye
check "carol hangs up: the call is gone" wait_for 50 no_calls
dev_stop alice
dev_stop carol
kill -TERM "$BOB_PID"
wait_gone "$BOB_PID" 100
check "sipregd stops cleanly" stop_sipregd
