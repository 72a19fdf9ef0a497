#!/bin/bash
# A real SIP client: baresip registers through digest, is listed, and
# unregisters when it stops.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

if ! command -v baresip >/dev/null 2>&1; then
	not_ok "baresip is not installed (scripts/install-deps.sh installs baresip-core)"
	exit 1
fi
start_sipregd || exit 1
printf 'pw-alice\n' | ctl user add alice --password-stdin >/dev/null
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
check "sipregd stops cleanly" stop_sipregd
