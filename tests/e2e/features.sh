#!/bin/bash
# Call features through sipregd: call forward all, busy and no answer (with
# Diversion), do not disturb, a record per call, a call to line 2 of a Cisco
# phone bulk-registered over TCP, a callee that challenges the INVITE, and
# the Cisco feature requests (cfwdall INVITE, DND PUBLISH, alarm REFER,
# hook-status NOTIFY, other feature URIs) with the state pushed back by REFER.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

RING_TIMEOUT=20
start_sipregd || exit 1
SIPP_DIR="$E2E_DIR/sipp"

add_phone alice pw-alice alice-desk third-party-basic 1001 &&
	add_phone bob pw-bob bob-desk third-party-basic 2001 &&
	add_phone carol pw-carol carol-desk third-party-basic 3001 &&
	add_phone erin pw-erin SEP00112233AABB cisco-7941 5001 &&
	ctl line add SEP00112233AABB 5002 >/dev/null
ok "users, devices and lines set up (erin: a Cisco 7941 with lines 5001 and 5002)"

printf 'SEQUENTIAL\n1001;[authentication username=alice password=pw-alice]\n' >"$WORK/caller.csv"
# caller SCENARIO DN [sipp options]: a SIPp call from alice (1001) to DN.
caller() {
	local sf=$1
	[ "${sf#/}" != "$sf" ] || sf="$SIPP_DIR/$sf"
	sipp $(sipp_opts) -sf "$sf" -s "$2" -inf "$WORK/caller.csv" \
		-m 1 -trace_err -error_file "$WORK/sipp.err" "${@:3}"
}

line_json() {
	ctl line show "$1" --json | json_get "$2"
}
line_is() { # DN KEY VALUE
	[ "$(line_json "$1" "$2")" = "$3" ]
}

# ---- call forward all ----
dev carol --dn 3001 --user carol --password pw-carol
check "line set: call forward all of 2001 to 3001" ctl line set 2001 --cfwd-all 3001
check "line show reads it back" line_is 2001 cfwd_all 3001
check "a call to 2001 is answered by 3001" caller call-uac.xml 2001
check "3001's INVITE carries Diversion from 2001 with reason unconditional" \
	dev_line carol '^RECV INVITE' 'Diversion: "bob" <sip:2001@'
check "the Diversion reason is unconditional" dev_line carol '^RECV INVITE' 'reason=unconditional'
check "and the caller's Remote-Party-ID" dev_line carol '^RECV INVITE' 'Remote-Party-ID: "alice" <sip:1001@'
check "call forward all off" ctl line set 2001 --cfwd-all off
check "line show: off" line_is 2001 cfwd_all None

# ---- call forward busy ----
dev bob --dn 2001 --user bob --password pw-bob --on-invite busy
check "line set: call forward busy of 2001 to 3001" ctl line set 2001 --cfwd-busy 3001
check "2001 answers busy: the call is answered by 3001" caller call-uac.xml 2001
check "2001 was tried first" dev_has bob "RECV INVITE"
check "3001's INVITE carries reason=user-busy" dev_line carol '^RECV INVITE' 'reason=user-busy'
dev_stop bob

# ---- call forward no answer ----
uas_port=$(random_port)
sipp -sf "$SIPP_DIR/call-uas-ring.xml" -i 127.0.0.1 -p "$uas_port" -m 1 -timeout 30s \
	-timeout_error -nostdin -nd >/dev/null 2>&1 &
UAS_PID=$!
ctl reg flush 2001 >/dev/null
phone --dn 2001 --user bob --password pw-bob --contact-hostport "127.0.0.1:$uas_port" >/dev/null
check "line set: call forward no answer to 3001 after 1 s" \
	ctl line set 2001 --cfwd-busy off --cfwd-noanswer 3001 --noanswer-timeout 1
check "line show: no answer target and time" sh -c \
	"[ \"\$('$SIPREGCTL' -s '$SOCK' line show 2001 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[\"cfwd_noanswer\"], d[\"noanswer_timeout\"])')\" = '3001 1' ]"
check "2001 rings unanswered: after 1 s the call is answered by 3001" caller call-uac.xml 2001
check "the ringing phone on 2001 got a CANCEL" wait "$UAS_PID"
check "3001's INVITE carries reason=no-answer" dev_line carol '^RECV INVITE' 'reason=no-answer'
ctl line set 2001 --cfwd-noanswer off >/dev/null

# ---- do not disturb ----
check "line set: do not disturb on 2001 (its device)" ctl line set 2001 --dnd on
check "device show: dnd on" sh -c "'$SIPREGCTL' -s '$SOCK' device show bob-desk | grep -q '^dnd *on'"
check "a call to 2001 gets 486" caller "$(refused 486)" 2001
check "do not disturb off" ctl line set 2001 --dnd off
expect_exit 2 "line set without a change is a usage error (exit 2)" ctl line set 2001
expect_exit 2 "line set --dnd maybe is a usage error (exit 2)" ctl line set 2001 --dnd maybe
expect_exit 1 "line set forwarding a line to itself is refused (exit 1)" ctl line set 2001 --cfwd-all 2001
expect_exit 1 "line set of an unknown DN is refused (exit 1)" ctl line set 9999 --dnd on

# ---- a call forward loop ----
ctl line set 2001 --cfwd-all 3001 >/dev/null && ctl line set 3001 --cfwd-all 2001 >/dev/null
check "forwards that loop end with 482" caller "$(refused 482)" 2001
ctl line set 2001 --cfwd-all off >/dev/null && ctl line set 3001 --cfwd-all off >/dev/null

# ---- a callee that challenges the INVITE ----
dev_stop carol
dev carol --dn 3001 --user carol --password pw-carol --on-invite challenge
check "a callee challenging the INVITE (MD5): the call completes" caller call-uac.xml 3001
check "the callee checked sipregd's answer: carol's MD5 digest" dev_has carol "AUTH OK MD5 user=carol"
dev_stop carol
dev carol --dn 3001 --user carol --password pw-carol --on-invite challenge --challenge-alg SHA-256
check "a callee challenging with SHA-256: the call completes" caller call-uac.xml 3001
check "the callee checked sipregd's SHA-256 digest" dev_has carol "AUTH OK SHA-256 user=carol"
dev_stop carol

# ---- call records ----
check "cdr list: answered calls with their duration" sh -c \
	"'$SIPREGCTL' -s '$SOCK' cdr list | grep -q ' answered '"
check "cdr list --json: the forwarded call names 3001 and the reason" sh -c \
	"'$SIPREGCTL' -s '$SOCK' cdr list --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
sys.exit(0 if any(r[\"callee\"] == \"2001\" and r[\"target\"] == \"3001\" and r[\"forwarded\"] == \"unconditional\" and r[\"result\"] == \"answered\" and r[\"answered_at\"] for r in rows) else 1)'"
check "cdr list: the DND call is recorded" sh -c \
	"'$SIPREGCTL' -s '$SOCK' cdr list --json | grep -q '\"result\": \"dnd\"'"
check "cdr list --since 1h --limit 2: two rows" sh -c \
	"[ \$('$SIPREGCTL' -s '$SOCK' cdr list --json --since 1h --limit 2 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 2 ]"
expect_exit 2 "cdr list --since yesterday-ish is a usage error (exit 2)" ctl cdr list --since soon

# ---- a Cisco phone on TCP: line 2, registration push, feature requests ----
dev erin --dn 5001 --user erin --password pw-erin --cisco SEP00112233AABB --transport tcp \
	--do invite:x-cisco-serviceuri-cfwdall-2001
check "the Cisco phone registered line 1 over TCP; line 2 is bound by the server" \
	wait_for 50 bound 5002
check "at registration its state is pushed: REFER with dndupdate" \
	dev_line erin '^RECV REFER' '<dndupdate><state>disable</state>'
check "and cfwdallupdate for both lines" dev_line erin '^RECV REFER' '<linenumber>2</linenumber>'
check "cfwdall feature INVITE: answered 200" dev_has erin "RESULT invite:x-cisco-serviceuri-cfwdall-2001 200"
check "and hung up by sipregd (BYE)" dev_has erin "RECV BYE"
check "the feature request ends as one, at the phone's ACK" \
	log_has "SEP00112233AABB (line 5001): call forward all done: answered and hung up"
check "it is no call: no call record names it" sh -c "! '$SIPREGCTL' -s '$SOCK' cdr list --json | grep -q cfwdall"
check "call forward all of 5001 is stored" wait_for 50 line_is 5001 cfwd_all 2001
check "the change is pushed back: cfwdallupdate to 2001" \
	dev_line erin '^RECV REFER' '<fwdaddress>2001</fwdaddress>'
dev_stop erin
ctl line set 5001 --cfwd-all off >/dev/null

dev erin --dn 5001 --user erin --password pw-erin --cisco SEP00112233AABB --transport tcp
check "a call to line 2 (5002) reaches the phone over its line-1 connection" \
	caller call-uac.xml 5002
check "the phone got the INVITE for 5002 on its TCP connection" dev_line erin '^RECV INVITE' 'sip:5002@'
dev_stop erin

dev erin --dn 5001 --user erin --password pw-erin --cisco SEP00112233AABB --transport tcp \
	--do publish:dnd --do refer:alarm --do refer:token --do refer:remotecc --do notify:dialog \
	--do invite:x-cisco-serviceuri-pickup --do publish:available
check "DND PUBLISH (no challenge over the registration connection): 200" dev_has erin "RESULT publish:dnd 200"
check "alarm REFER (Require: norefersub): 202" dev_has erin "RESULT refer:alarm 202"
check "token registration REFER (Require: norefersub): 202" dev_has erin "RESULT refer:token 202"
check "remotecc soft key REFER (Require: norefersub): 202" dev_has erin "RESULT refer:remotecc 202"
check "hook status NOTIFY Event: dialog: 200" dev_has erin "RESULT notify:dialog 200"
check "a feature not available (pickup): 503" dev_has erin "RESULT invite:x-cisco-serviceuri-pickup 503"
check "DND pushed back: dndupdate enable" dev_line erin '^RECV REFER' '<state>enable</state>'
check "DND off by PUBLISH available: 200" dev_has erin "RESULT publish:available 200"
check "and stored off again" wait_for 50 sh -c "'$SIPREGCTL' -s '$SOCK' device show SEP00112233AABB | grep -q '^dnd *off'"
dev_stop erin

# From anywhere else, the same requests are challenged.
python3 "$E2E_DIR/phone.py" --server "$SIP_ADDR:$SIP_PORT" --log "$WORK/stranger.log" \
	--dn 5001 --user nobody --password x --skip-register --do publish:dnd --do refer:alarm \
	>/dev/null 2>&1
check "a PUBLISH from where no phone registered is challenged (407)" \
	grep -q "RESULT publish:dnd 407" "$WORK/stranger.log"
check "so is a REFER" grep -q "RESULT refer:alarm 407" "$WORK/stranger.log"
check "and DND stayed off" sh -c "'$SIPREGCTL' -s '$SOCK' device show SEP00112233AABB | grep -q '^dnd *off'"

check "no call is left" wait_for 50 sh -c \
	"[ \"\$('$SIPREGCTL' -s '$SOCK' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sip\"][\"calls\"])')\" = 0 ]"
check "sipregd stops cleanly" stop_sipregd
