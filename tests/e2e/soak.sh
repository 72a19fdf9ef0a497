#!/bin/bash
# 10,000 calls through one running sipregd (SIPp caller and callee, each call
# INVITE with digest, 180, 200, ACK, a short hold, BYE): every call completes,
# none is left behind, each is recorded, and the daemon stops without a
# sanitizer report (with --enable-sanitizers: no leak). Its resident memory
# over such runs is measured by bench/calls.sh on a build without sanitizers.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

CALLS=${SOAK_CALLS:-10000}
RATE=${SOAK_RATE:-200}
LINE_CALLS=500
start_sipregd || exit 1
SIPP_DIR="$E2E_DIR/sipp"
printf 'pw-alice\n' | ctl user add alice --password-stdin --weak >/dev/null &&
	ctl device add alice-desk --model third-party-basic --digest-user alice >/dev/null &&
	ctl line add alice-desk 1001 --display alice >/dev/null &&
	printf 'pw-bob\n' | ctl user add bob --password-stdin --weak >/dev/null &&
	ctl device add bob-desk --model third-party-basic --digest-user bob >/dev/null &&
	ctl line add bob-desk 2001 >/dev/null
ok "a caller (1001) and a callee (2001) set up"

UAS_PORT=$(random_port)
sipp -sf "$SIPP_DIR/call-uas.xml" -i 127.0.0.1 -p "$UAS_PORT" -m "$CALLS" -timeout 600s -timeout_error \
	-buff_size 4194304 -nostdin -nd -trace_err -error_file "$WORK/uas.err" >/dev/null 2>&1 &
UAS_PID=$!
OTHER_PIDS="$OTHER_PIDS $UAS_PID"
check "the SIPp callee registers as 2001" \
	phone --dn 2001 --user bob --password pw-bob --contact-hostport "127.0.0.1:$UAS_PORT"
printf 'SEQUENTIAL\n1001;[authentication username=alice password=pw-alice]\n' >"$WORK/caller.csv"
started=$(date +%s)
check "$CALLS calls at $RATE/s all complete" \
	sipp "$SIP_ADDR:$SIP_PORT" -i 127.0.0.1 -p "$(random_port)" -sf "$SIPP_DIR/call-uac.xml" \
	-s 2001 -inf "$WORK/caller.csv" -m "$CALLS" \
	-r "$RATE" -l $((RATE * 2)) -buff_size 4194304 -timeout 600s -timeout_error -nostdin -nd \
	-trace_err -error_file "$WORK/uac.err"
check "the callee saw every call end" wait_gone "$UAS_PID" 300
check "and its SIPp reported no failure" wait "$UAS_PID"
live_calls() {
	ctl status --json | json_get sip.calls
}
none_left() { [ "$(live_calls)" = 0 ]; }
check "no call is left in sipregd" wait_for 100 none_left
recorded() {
	[ "$(ctl cdr list --json --since "$started" --limit $((CALLS * 2)) | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["result"] == "answered"))')" = "$CALLS" ]
}
check "$CALLS call records, all answered" wait_for 100 recorded
check "sipregd stops cleanly (no sanitizer report, no leak)" stop_sipregd
