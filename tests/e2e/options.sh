#!/bin/bash
# The SIP thread: OPTIONS, 501 for what is not handled, malformed input,
# message trace and log level at run time.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

start_sipregd || exit 1
SIPP_DIR="$E2E_DIR/sipp"

check "sipregd runs three threads (main, SIP, store)" test "$(ls /proc/"$PID"/task | wc -l)" -eq 3

check "sipsak OPTIONS over UDP gets 200" sh -c \
	"sipsak -s sip:probe@$SIP_ADDR -r $SIP_PORT -vv 2>&1 | grep -q 'SIP/2.0 200 OK'"
check "SIPp OPTIONS over UDP: 200 with Allow, Accept, Supported (50 calls)" \
	sipp $(sipp_opts) -sf "$SIPP_DIR/options.xml" -m 50 -r 50
check "SIPp OPTIONS over TCP: 200 with Allow, Accept, Supported (50 calls)" \
	sipp $(sipp_opts) -t t1 -sf "$SIPP_DIR/options.xml" -m 50 -r 50
check "MESSAGE over UDP gets 501" sipp $(sipp_opts) -sf "$SIPP_DIR/not-implemented.xml" -m 1
check "MESSAGE over TCP gets 501" sipp $(sipp_opts) -t t1 -sf "$SIPP_DIR/not-implemented.xml" -m 1

raw() {
	python3 "$E2E_DIR/sipraw.py" "$1" "$SIP_ADDR" "$SIP_PORT" "$WORK/msg" 2
}

# A request with a broken CSeq and To.
cat >"$WORK/msg" <<'MSG'
OPTIONS sip:probe@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bK-bad-1;rport
From: <sip:a@127.0.0.1>;tag=1
To: <<<garbage
Call-ID: bad-1@test
CSeq: x OPTIONS
Max-Forwards: 70
Content-Length: 0

MSG
raw_answers() {
	raw "$1" | grep -q "^SIP/2.0 $2"
}
check "malformed request over UDP gets 400" raw_answers udp 400
check "malformed request over TCP gets 400" raw_answers tcp 400

printf '\001\002\003 not sip at all \377\n\n' >"$WORK/msg"
raw udp >/dev/null
raw tcp >/dev/null
check "garbage leaves sipregd answering" \
	sipp $(sipp_opts) -sf "$SIPP_DIR/options.xml" -m 1

# Message trace on and off at run time.
check "trace on" ctl trace on
status_has() {
	ctl status "$@" | grep -qF -- "$STATUS_WANT"
}
STATUS_WANT="SIP trace on" check "status shows the trace" status_has
sipp $(sipp_opts) -sf "$SIPP_DIR/options.xml" -m 1 >/dev/null 2>&1
check "the traced OPTIONS is in the log" log_has "OPTIONS sip:$SIP_ADDR:$SIP_PORT SIP/2.0"
check "the traced answer is in the log" log_has "SIP/2.0 200 OK"
check "trace off" ctl trace off
before=$(grep -c "SIP/2.0 200 OK" "$WORK/sipregd.log")
sipp $(sipp_opts) -sf "$SIPP_DIR/options.xml" -m 1 >/dev/null 2>&1
after=$(grep -c "SIP/2.0 200 OK" "$WORK/sipregd.log")
check "no trace once off" test "$before" -eq "$after"

# Log level at run time.
check "log level debug" ctl log level debug
STATUS_WANT='"log_level": "debug"' check "status shows debug" status_has --json
expect_exit 1 "a bad log level is refused" ctl log level chatty
check "log level back to info" ctl log level info
requests_counted() {
	test "$(ctl status --json | json_get sip.requests)" -ge 100
}
check "requests are counted" requests_counted

check "sipregd stops cleanly" stop_sipregd
