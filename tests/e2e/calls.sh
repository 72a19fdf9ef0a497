#!/bin/bash
# Calls through sipregd: a SIPp phone calls a SIPp phone registered by the
# scripted phone; digest on the INVITE, ringing, answer, ACK, BYE, and the
# failures (unknown line, nothing registered, no credentials, CANCEL).
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

RING_TIMEOUT=3
# A line with two phones' bindings (the fork) is one device with two contacts.
DEVICE_CONTACTS=2
start_sipregd || exit 1

add() { # user password device DN
	printf '%s\n' "$2" | ctl user add "$1" --password-stdin --weak >/dev/null &&
		ctl device add "$3" --model third-party-basic --digest-user "$1" >/dev/null &&
		ctl line add "$3" "$4" >/dev/null
}
add alice pw-alice alice-desk 1001 && add bob pw-bob bob-desk 2001 &&
	add carol pw-carol carol-desk 3001
ok "users, devices and lines set up"
# register_callee: line 2001 bound to the SIPp phone at UAS_PORT only.
register_callee() {
	ctl reg flush 2001 >/dev/null 2>&1
	phone --dn 2001 --user bob --password pw-bob --contact-hostport "127.0.0.1:$UAS_PORT"
}

# callee SCENARIO COUNT: a SIPp phone (uas) that line 2001 is bound to.
callee() {
	uas "$1" "$2"
	register_callee >/dev/null
}


# ---- a basic call ----
uas call-uas.xml 1
check "the callee registers with the SIPp phone's address as contact" register_callee
as_caller 1001 alice pw-alice
check "SIPp caller: 407, INVITE with digest, 180, 200 with the callee's SDP, ACK, BYE" \
	caller call-uac.xml 2001 -m 1
check "SIPp callee: the INVITE with the caller's SDP and Remote-Party-ID, ACK, BYE answered" \
	uas_done
check "the call is logged as answered and ended" log_has "ended: the caller hung up"


# ---- many calls ----
callee call-uas.xml 100
check "100 calls complete (10 calls/s, 2 at once at most)" \
	caller call-uac.xml 2001 -m 100 -r 10 -l 2
check "the callee answered all 100" uas_done
# calls_are N: sipregctl status counts N live calls.
calls_are() {
	[ "$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["calls"])')" = "$1" ]
}
check "no call is left" wait_for 50 calls_are 0

# ---- refusals ----
check "an unknown number gets 404" sipp $(sipp_opts) -sf "$(refused 404)" -s 9999 \
	-inf "$WORK/caller.csv" -auth_uri "9999@$SIP_ADDR:$SIP_PORT" -m 1
check "a line with nothing registered gets 480" sipp $(sipp_opts) -sf "$(refused 480)" -s 3001 \
	-inf "$WORK/caller.csv" -auth_uri "3001@$SIP_ADDR:$SIP_PORT" -m 1
as_caller 1001 alice wrong-password
check "a wrong password is challenged again (407), the call goes nowhere" \
	caller "$(refused 407)" 2001 -m 1
as_caller 1001 alice pw-alice

# ---- busy, cancel, no answer ----
callee call-uas-busy.xml 1
check "a busy callee: the caller gets 486" caller "$(refused 486)" 2001 -m 1
check "the busy callee got its ACK" uas_done

callee call-uas-ring.xml 1
check "CANCEL while ringing: 200, then 487 to the caller" caller call-cancel.xml 2001 -m 1
check "the ringing callee got the CANCEL" uas_done

callee call-uas-ring.xml 1
check "no answer within ring_timeout: the caller gets 480" caller "$(refused 480)" 2001 -m 1
check "the unanswered callee got a CANCEL" uas_done

# ---- in the call: hold and resume, the callee hangs up ----
callee call-uas-hold.xml 1
check "hold and resume by re-INVITE (sendonly, then sendrecv), each 200 with SDP and ACK" \
	caller call-uac-hold.xml 2001 -m 1
check "the callee saw both re-INVITEs with the caller's SDP and their ACKs" uas_done

callee call-uas-hangup.xml 1
check "BYE from the callee reaches the caller" caller call-uac-wait.xml 2001 -m 1
check "the callee's BYE is answered 200" uas_done
check "the call is logged as ended by the callee" log_has "ended: the callee hung up"

# ---- administration: call list, call hangup ----
callee call-uas.xml 1
caller call-uac-wait.xml 2001 -m 1 >"$WORK/caller.out" 2>&1 &
CALLER_PID=$!
check "call list shows the answered call" wait_for 100 sh -c \
	"'$SIPREGCTL' -s '$SOCK' call list --json | grep -q '\"state\": *\"answered\"'"
CALL_ID=$(ctl call list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "call list names both sides" sh -c "'$SIPREGCTL' -s '$SOCK' call list | grep -q '1001 .*2001'"
check "the call id is NODE-RUN-N ($CALL_ID)" sh -c "echo '$CALL_ID' | grep -Eq '^[A-Za-z0-9-]+-[0-9]+-[0-9]+\$'"
check "the log names the call by that id" log_has "call $CALL_ID "
check "call hangup ends it" ctl call hangup "$CALL_ID"
check "the caller got a BYE and answered it" wait "$CALLER_PID"
check "the callee got a BYE and answered it" uas_done
check "the call is gone" wait_for 50 calls_are 0
record_has_id() {
	ctl cdr list --json | python3 -c 'import json,sys; sys.exit(0 if sys.argv[1] in [r["call_id"] for r in json.load(sys.stdin)] else 1)' "$CALL_ID"
}
check "its call record has the same id" wait_for 50 record_has_id
check "cdr list shows it" wait_for 50 sh -c "'$SIPREGCTL' -s '$SOCK' cdr list | grep -qF -- '$CALL_ID '"
expect_exit 1 "call hangup of an unknown call is refused (exit 1)" ctl call hangup 99999
expect_exit 1 "call hangup of an unknown full id is refused (exit 1)" ctl call hangup other-node-1-1
expect_exit 2 "call hangup without an id is a usage error (exit 2)" ctl call hangup
expect_exit 2 "call hangup of what is no call id is a usage error (exit 2)" ctl call hangup x1

# ---- the per-line call limit ([calls] line_calls = 2) ----
callee call-uas.xml 2
caller call-uac-wait.xml 2001 -m 2 -l 2 -r 2 >"$WORK/caller.out" 2>&1 &
CALLER_PID=$!
check "two calls to one line are up" wait_for 100 calls_are 2
check "a third call to that line gets 486" caller "$(refused 486)" 2001 -m 1
# By N alone: a call of this run.
for id in $(ctl call list --json | python3 -c 'import json,sys; print(" ".join(str(c["id"]).rsplit("-", 1)[1] for c in json.load(sys.stdin)))'); do
	ctl call hangup "$id" >/dev/null
done
check "both calls hung up: the caller answered both BYEs" wait "$CALLER_PID"
check "and so did the callee" uas_done

# ---- fork: two bindings of one line ----
uas call-uas.xml 1
ANSWER_PID=$UAS_PID ANSWER_PORT=$UAS_PORT
uas call-uas-ring.xml 1
RING_PID=$UAS_PID RING_PORT=$UAS_PORT
phone --dn 3001 --user carol --password pw-carol --contact-hostport "127.0.0.1:$ANSWER_PORT" >/dev/null
phone --dn 3001 --user carol --password pw-carol --contact-hostport "127.0.0.1:$RING_PORT" >/dev/null
check "a line with two bindings: both ring, one answers, the call completes" \
	caller call-uac.xml 3001 -m 1
UAS_PID=$ANSWER_PID
check "the answering phone had the whole call" uas_done
UAS_PID=$RING_PID
check "the other phone got a CANCEL" uas_done

# ---- 100rel (hop by hop) and session timers (end to end) ----
callee call-uas-timer.xml 1
check "a caller requiring 100rel gets a reliable 180, its PRACK answered, then 200 with Session-Expires" \
	caller call-uac-100rel.xml 2001 -m 1
check "the callee got Session-Expires and Supported: timer, no 100rel, and answered with them" uas_done

# ---- call ids stay unique across a restart ----
check "sipregd stops" stop_sipregd
start_sipregd || exit 1
callee call-uas.xml 1
check "a call after the restart" caller call-uac.xml 2001 -m 1
check "its callee hung up" uas_done
check "its id counts the next run of the same node" wait_for 50 sh -c \
	"'$SIPREGCTL' -s '$SOCK' cdr list --limit 1 --json | python3 -c 'import json,sys; n,r,_=json.load(sys.stdin)[0][\"call_id\"].rsplit(\"-\",2); o,q,_=sys.argv[1].rsplit(\"-\",2); sys.exit(0 if n==o and int(r)==int(q)+1 else 1)' '$CALL_ID'"

check "sipregd stops cleanly" stop_sipregd
