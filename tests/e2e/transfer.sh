#!/bin/bash
# Transfers among three phones through sipregd. Blind: the transferor's
# REFER crosses to the transferee, whose new call to the target sipregd
# places like any other. Attended: the REFER names the consultation call
# with Replaces; the transferee's INVITE with Replaces takes the
# transferor's place in that call (the target gets a re-INVITE with the
# transferee's SDP, the transferor a BYE). Each ends with the right pair in
# a call: checked with call list and by a BYE crossing between them.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

start_sipregd || exit 1
add_phone alice pw-alice alice-desk third-party-basic 1001 &&
	add_phone bob pw-bob bob-desk third-party-basic 2001 &&
	add_phone carol pw-carol carol-desk third-party-basic 3001
ok "users, devices and lines set up"

# pair CALLER TARGET: the only live call is CALLER -> TARGET, answered.
pair() {
	ctl call list --json | python3 -c '
import json, sys
calls = json.load(sys.stdin)
sys.exit(0 if len(calls) == 1 and calls[0]["caller"] == sys.argv[1] and
         calls[0]["target"] == sys.argv[2] and calls[0]["state"] == "answered" else 1)
' "$1" "$2"
}
no_calls() {
	ctl call list --json | python3 -c 'import json, sys; sys.exit(1 if json.load(sys.stdin) else 0)'
}
# records RESULT...: the newest call records' results, newest first.
records() {
	[ "$(ctl cdr list --json --limit $# | python3 -c '
import json, sys
print(" ".join(r["caller"] + ">" + (r.get("target") or r["callee"]) + ":" + r["result"]
               for r in json.load(sys.stdin)))')" = "$*" ]
}
phones() {
	dev alice --dn 1001 --user alice --password pw-alice --unregister &&
		dev bob --dn 2001 --user bob --password pw-bob --unregister &&
		dev carol --dn 3001 --user carol --password pw-carol --unregister
}
phones_stop() {
	dev_stop alice
	dev_stop bob
	dev_stop carol
}

# ---- blind transfer: alice calls bob, then transfers bob to carol ----
check "three phones registered" phones
dev_do alice invite:2001
check "alice's call to bob is answered" dev_has alice "RESULT invite:2001 200"
check "call list: 1001 -> 2001" wait_for 100 pair 1001 2001
dev_do alice transfer:3001
check "alice's REFER is accepted (202)" dev_has alice "RESULT transfer:3001 202"
check "bob gets the REFER, its Refer-To pointing at sipregd" \
	dev_line bob '^RECV REFER' "Refer-To: <sip:3001@$SIP_ADDR:$SIP_PORT>"
check "and Referred-By naming alice's line" dev_line bob '^RECV REFER' "1001@"
check "bob's call to carol (as the transferee) is answered" dev_has bob "TRANSFEREE 200"
check "carol sees bob calling (Remote-Party-ID)" dev_line carol '^RECV INVITE' 'Remote-Party-ID: "bob" <sip:2001@'
check "alice hears the transfer succeeded (NOTIFY 200)" dev_has alice "TRANSFER DONE"
check "alice hangs up her call" dev_has alice "BYE 0 200"
check "bob's call with alice ends" dev_has bob "HANGUP 0"
check "call list: bob and carol are connected" wait_for 100 pair 2001 3001
dev_do carol bye
check "carol hangs up and bob gets the BYE of the new call" dev_has bob "HANGUP 1"
check "no call left" wait_for 100 no_calls
check "cdr: bob -> carol answered, alice -> bob transferred" \
	wait_for 100 records 2001\>3001:answered 1001\>2001:transferred
phones_stop

# ---- attended transfer, the transferor calling both ----
# alice calls bob, then carol (the consultation), then joins them.
check "three phones registered again" phones
dev_do alice invite:2001
check "alice -> bob answered" dev_has alice "RESULT invite:2001 200"
dev_do alice invite:3001
check "alice -> carol (consultation) answered" dev_has alice "RESULT invite:3001 200"
dev_do alice attended
check "alice's REFER with Replaces is accepted (202)" dev_has alice "RESULT attended 202"
check "bob's Refer-To carries the Replaces of alice's call with carol" \
	dev_line bob '^RECV REFER' "Replaces="
check "bob's INVITE with Replaces is answered" dev_has bob "TRANSFEREE 200"
check "carol gets a re-INVITE in her call" dev_has carol "REINVITE 0"
check "with bob's media (m=audio 44002)" dev_line carol '^RECV INVITE' "m=audio 44002 "
check "under the origin carol had, its version raised (RFC 3264: o=callee-1001 1 2)" \
	dev_line carol '^RECV INVITE' "o=callee-1001 1 2 "
check "bob's own origin never reaches carol" sh -c "! grep '^RECV INVITE' '$WORK/carol.log' | grep -q 'o=callee-2001'"
check "and bob as the party now (Remote-Party-ID)" dev_line carol '^RECV INVITE' \
	'Remote-Party-ID: "bob" <sip:2001@'
check "and P-Asserted-Identity" dev_line carol '^RECV INVITE' 'P-Asserted-Identity: "bob" <sip:2001@'
check "alice's consultation call is hung up by sipregd" dev_has alice "HANGUP 1"
check "alice hangs up her call with bob after the NOTIFY 200" dev_has alice "BYE 0 200"
check "bob's first call ends" dev_has bob "HANGUP 0"
check "call list: bob and carol are connected" wait_for 100 pair 2001 3001
dev_do bob bye
check "bob hangs up and carol gets the BYE in her first call" dev_has carol "HANGUP 0"
check "no call left" wait_for 100 no_calls
check "cdr: bob -> carol answered, alice -> carol transferred, alice -> bob transferred" \
	wait_for 100 records 2001\>3001:answered 1001\>2001:transferred 1001\>3001:transferred
phones_stop

# ---- attended transfer, the transferor called by the target ----
# alice calls bob; carol calls alice; alice transfers carol to bob.
check "three phones registered once more" phones
dev_do alice invite:2001
check "alice -> bob answered" dev_has alice "RESULT invite:2001 200"
dev_do carol invite:1001
check "carol -> alice answered" dev_has carol "RESULT invite:1001 200"
check "alice has both calls" dev_has alice "DIALOG 1"
dev_do alice attended
check "alice's REFER with Replaces is accepted (202)" dev_has alice "RESULT attended 202"
check "bob's INVITE with Replaces is answered" dev_has bob "TRANSFEREE 200"
check "carol gets a re-INVITE with bob's media" dev_line carol '^RECV INVITE' "m=audio 44002 "
check "under the origin she had from alice, version raised" \
	dev_line carol '^RECV INVITE' "o=callee-1001 1 2 "
check "naming bob (P-Asserted-Identity)" dev_line carol '^RECV INVITE' 'P-Asserted-Identity: "bob" <sip:2001@'
check "alice's call from carol is hung up by sipregd" dev_has alice "HANGUP 1"
check "alice hangs up her call with bob" dev_has alice "BYE 0 200"
check "call list: carol and bob are connected" wait_for 100 pair 3001 2001
dev_do carol bye
check "carol hangs up and bob gets the BYE of his new call" dev_has bob "HANGUP 1"
check "no call left" wait_for 100 no_calls

# ---- refusals ----
dev_do bob replaces:3001
check "an INVITE with Replaces naming no call gets 481" dev_has bob "RESULT invite:3001 481"
phones_stop
check "sipregd logged the transfers" log_has "takes the place of"
check "sipregd stops cleanly" stop_sipregd
