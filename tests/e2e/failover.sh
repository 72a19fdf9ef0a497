#!/bin/bash
# Failover and fallback between two joined nodes, A (primary, 127.0.0.1)
# and B (backup, 127.0.0.2). A scripted Cisco phone registered to A sends
# keep-alives to B (answered 200 with Date, nothing bound; also without the
# marker, as older firmware). Each node knows what is registered on the
# other (reg list), and a phone on each calls one on the other over the
# SIP transport between the nodes. A is killed (SIGKILL): the phone
# registers to B and a phone already on B calls it. A restarts, catches up
# and drops its restored registration of the phone that moved, and
# the phone's token REFER gets 202, twenty phones asking at once get
# 202 up to [ha] token_rate and 503 with Retry-After beyond; the phone moves
# back. A trunk (Kamailio as the provider) is registered by A only, taken
# over by B [ha] trunk_takeover seconds after A went away and handed back
# when A returns, with Kamailio's location table read at each step; in a
# split brain (both up, no link) both register and an inbound call, forked
# by Kamailio to both, is answered where the line is registered.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99
. "$E2E_DIR/pairlib.sh" || exit 99

PAIR_HA_EXTRA="trunk_takeover = 3"
CONF_TRUNKS="[trunks]
retry_min = 1
retry_max = 2
keepalive = 0"
PAIR_EXTRA_A="$CONF_TRUNKS"
PAIR_EXTRA_B="$CONF_TRUNKS"

start A || exit 1
start B || exit 1
check "B joins A" pair_join

use A
check "phones set up on the primary" add_phone alice pw-alice SEP001122334455 cisco-7961 1000
check "a second" add_phone bob pw-bob bob-desk third-party-basic 2000
check "a third" add_phone carol pw-carol carol-desk third-party-basic 3000
check "a fourth, for TCP" add_phone dave pw-dave dave-desk third-party-basic 4000
check "the lines reach the backup" wait_for 100 line_on B 3000

# ---- keep-alives to the standby ----
reg_on() { # NODE DN NODE_NAME: reg list on NODE shows DN registered on NODE_NAME
	on "$1" --json reg list | python3 -c '
import json, sys
sys.exit(0 if any(r["dn"] == sys.argv[1] and r.get("node") == sys.argv[2]
                  for r in json.load(sys.stdin)) else 1)' "$2" "$3"
}
bye_count() { # PHONE N: the phone hung up N calls, each answered 200
	[ "$(grep -c 'RESULT bye 200' "$WORK/$1.log")" -ge "$2" ]
}
use A
check "the Cisco phone registers to the primary" \
	dev alice --dn 1000 --user alice --password pw-alice --cisco SEP001122334455
dev_do alice "keepalive:$B_ADDR:$B_SIP"
check "its keep-alive to the backup is answered 200 with a Date" dev_has alice \
	"RESULT keepalive:$B_ADDR:$B_SIP 200 dated"
check "and binds nothing there" eval "! reg_on B 1000 node-B"
dev_do alice "keepalive-plain:$B_ADDR:$B_SIP"
check "without the marker (older firmware): 200 after its digest" dev_has alice \
	"RESULT keepalive-plain:$B_ADDR:$B_SIP 200"
check "nothing bound on the backup either" eval "! reg_on B 1000 node-B"
check "and the phone is still registered on the primary" sh -c \
	"'$SIPREGCTL' -s '$WORK/A/ctl.sock' --json reg list | grep -q '\"contact\": \"sip:1000@'"

# ---- each node knows the other's registrations ----
use B
check "a phone registers to the backup" dev bob --dn 2000 --user bob --password pw-bob
check "reg list on the primary shows it, on node-B" wait_for 100 reg_on A 2000 node-B
check "reg list on the backup shows the Cisco phone, on node-A" wait_for 100 reg_on B 1000 node-A
check "and its own phone on node-B" reg_on B 2000 node-B
check "reg list prints the node column" sh -c "'$SIPREGCTL' -s '$WORK/A/ctl.sock' reg list | head -1 | grep -q '^NODE'"

# ---- a phone on each node calls the other ----
use A
check "a third phone registers to the primary" dev carol --dn 3000 --user carol --password pw-carol
dev_do bob "invite:1000"
check "the phone on the backup calls the one on the primary: answered" dev_has bob \
	"RESULT invite:1000 200"
check "the callee saw it" dev_has alice "RECV INVITE"
check "it went over the transport between the nodes (B's log)" \
	grep -q "call .* -> 1000: .*\|SIP between the nodes" "$WORK/B/sipregd.log"
check "A took it as the node's call" wait_for 50 grep -q "from node node-B: \"2000\" -> \"1000\"" \
	"$WORK/A/sipregd.log"
dev_do bob bye
check "hung up" wait_for 50 bye_count bob 1
dev_do carol "invite:2000"
check "the phone on the primary calls the one on the backup: answered" dev_has carol \
	"RESULT invite:2000 200"
check "B took it as the node's call" wait_for 50 grep -q "from node node-A: \"3000\" -> \"2000\"" \
	"$WORK/B/sipregd.log"
dev_do carol bye
check "hung up too" wait_for 50 bye_count carol 1
# ---- a registration's whole life seen from the other node, over TCP ----
use B
check "a TCP phone registers to the backup" dev dave --transport tcp --dn 4000 --user dave --password pw-dave
check "the primary sees it on node-B" wait_for 100 reg_on A 4000 node-B
dev_stop dave
check "its connection closed: the primary no longer lists it" wait_for 100 eval "! reg_on A 4000 node-B"
check "a TCP phone registers again" dev dave --transport tcp --dn 4000 --user dave --password pw-dave --unregister
check "seen on the primary" wait_for 100 reg_on A 4000 node-B
dev_stop dave
check "it unregistered: gone on the primary too" wait_for 100 eval "! reg_on A 4000 node-B"
check "and on the backup" eval "! reg_on B 4000 node-B"
# over TLS: the backup restarted with a TLS listener (its certificate came with the join)
stop B
B_TLS=$((A_SIP + 4))
SIP_EXTRA="listen_tls = $B_ADDR:$B_TLS"
start B || exit 1
SIP_EXTRA=
check "the backup is back, with TLS" wait_for 150 status_is B peer_state connected
check "its UDP phone was restored and the primary knows it again" wait_for 100 reg_on A 2000 node-B
check "a TLS phone registers to the backup" \
	dev dave --server "$B_ADDR:$B_TLS" --transport tls --dn 4000 --user dave --password pw-dave
check "the primary sees it on node-B" wait_for 100 reg_on A 4000 node-B
dev_stop dave
check "its TLS connection closed: the primary no longer lists it" wait_for 100 eval "! reg_on A 4000 node-B"
check "ha status: the backup's trunks on standby" sh -c \
	"'$SIPREGCTL' -s '$WORK/B/ctl.sock' ha status | grep -q '^trunks  *standby'"
check "the primary's registered by itself" sh -c \
	"'$SIPREGCTL' -s '$WORK/A/ctl.sock' ha status | grep -q '^trunks  *registered by this node'"

NODE_SIP=$(grep -o 'SIP between the nodes: TLS on [0-9.]* port [0-9]*' "$WORK/A/sipregd.log" | tail -1 | awk '{print $NF}')
check "the primary's node transport listens" test -n "$NODE_SIP"
check "without a certificate of the pair's CA nothing is answered there" sh -c \
	"python3 '$E2E_DIR/tlsprobe.py' --connect $A_ADDR:$NODE_SIP | grep -qv ANSWERED"
check "a certificate of the pair's CA not naming the other node: challenged like anyone (407)" \
	sh -c "python3 '$E2E_DIR/tlsprobe.py' --connect $A_ADDR:$NODE_SIP --cert '$WORK/A/tls/agent.pem' | grep -qx 'ANSWERED 407'"

# ---- failover: the primary is killed ----
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
check "the backup sees the link down" wait_for 150 status_is B peer_state disconnected
check "and forgets the primary's registrations" wait_for 50 sh -c \
	"! '$SIPREGCTL' -s '$WORK/B/ctl.sock' --json reg list | grep -q 'node-A'"
dev_do alice "failover:$B_ADDR:$B_SIP"
check "the Cisco phone registers to the backup" wait_for 50 reg_on B 1000 node-B
dev_do bob "invite:1000"
check "a call to it from the phone already on the backup succeeds" dev_has bob \
	"RESULT invite:1000 200"
dev_do bob bye
check "hung up on the backup" wait_for 50 bye_count bob 2

# ---- the primary returns ----
start A || exit 1
check "the primary is back and the link up" wait_for 150 status_is B peer_state connected
check "the backup's call record reaches the primary" wait_for 100 sh -c \
	"'$SIPREGCTL' -s '$WORK/A/ctl.sock' --json cdr list | grep -q '\"id\": -'"
check "the backup caught up" wait_for 100 status_is B lag_changes 0
# The primary restored the Cisco phone's registration from its database, but
# the phone is on the backup now: the backup's list makes the primary drop it.
check "the primary drops its restored binding of the phone now on the backup" \
	wait_for 100 eval "! reg_on A 1000 node-A"
check "and shows the phone on node-B" reg_on A 1000 node-B
check "the drop is logged" grep -q "restored from its database (the phones moved" "$WORK/A/sipregd.log"
check "the backup no longer shows the phone on node-A" wait_for 100 eval "! reg_on B 1000 node-A"
check "a restored phone that did not move stays registered on the primary" reg_on A 3000 node-A
check "and the backup knows it there" wait_for 100 reg_on B 3000 node-A
dev_do alice "token:$A_ADDR:$A_SIP"
check "the phone's token REFER to the primary: 202" dev_has alice \
	"RESULT refer:token 202"
check "the grant is logged" wait_for 50 grep -q 'fallback token granted to "1000"' "$WORK/A/sipregd.log"
python3 "$E2E_DIR/tokenburst.py" --server "$A_ADDR:$A_SIP" --count 20 >"$WORK/burst.out" 2>&1
check "twenty phones at once: all answered" grep -q "NONE 0" "$WORK/burst.out"
check "at most the rate's worth granted (10 a second)" sh -c \
	"n=\$(sed -n 's/.*GRANTED \([0-9]*\).*/\1/p' '$WORK/burst.out'); [ \"\$n\" -ge 1 ] && [ \"\$n\" -le 11 ]"
check "the rest told to wait: 503 with Retry-After" sh -c \
	"n=\$(sed -n 's/.*WAIT \([0-9]*\).*/\1/p' '$WORK/burst.out'); [ \"\$n\" -ge 9 ] && grep -q 'OTHER 0' '$WORK/burst.out'"
check "Retry-After is a number of seconds" grep -qE "ANSWER 503 retry-after=[0-9]+$" "$WORK/burst.out"
dev_do alice "fallback:$A_ADDR:$A_SIP"
check "the phone moves back: registered on the primary" wait_for 50 reg_on A 1000 node-A
check "the backup sees it on the primary now" wait_for 50 reg_on B 1000 node-A

# ---- trunks ----
if ! command -v kamailio >/dev/null; then
	ok "# SKIP the trunk part: kamailio is not installed"
else
	KAM_ADDR=127.0.0.3
	KAM_PORT=$(random_port)
	KAM_CTL="$WORK/kam.ctl"
	sed -e "s/@ADDR@/$KAM_ADDR/g" -e "s/@PORT@/$KAM_PORT/g" -e "s/@REALM@/fritz.box/g" \
		-e "s/@ALG@/MD5/g" -e "s/@QOP@/0/g" -e "s/@USER@/620/g" \
		-e "s/@PASSWORD@/secret620/g" -e "s/@SIPREG@/$A_ADDR/g" -e "s/@MAXEXP@/3600/g" \
		-e "s|@CTL@|$KAM_CTL|g" "$E2E_DIR/kamailio/provider.cfg" >"$WORK/provider.cfg"
	check "Kamailio runs as the provider" kam_restart "$WORK/provider.cfg" -A WITH_CTL
	location() { kamcmd -s "unix:$KAM_CTL" ul.dump 2>/dev/null; }
	has_contact() { location | grep -q "@$1:$2"; }
	printf 'secret620\n' | on A trunk add prov --registrar "$KAM_ADDR:$KAM_PORT" --user 620 \
		--password-stdin --realm fritz.box --default-dn 3000 >/dev/null
	trunk_state() { # NODE STATE
		[ "$(on "$1" trunk show prov --json | json_get state)" = "$2" ]
	}
	check "the primary registers the trunk" wait_for 100 trunk_state A registered
	check "the backup holds it on standby" wait_for 100 trunk_state B standby
	check "Kamailio's location: the primary's contact" wait_for 50 has_contact "$A_ADDR" "$A_SIP"
	check "and not the backup's" sh -c "! kamcmd -s 'unix:$KAM_CTL' ul.dump | grep -q '@$B_ADDR:$B_SIP'"
	location >"$WORK/location-1.txt"
	stop A
	check "the primary unregistered its contact as it stopped" wait_for 50 sh -c \
		"! kamcmd -s 'unix:$KAM_CTL' ul.dump | grep -q '@$A_ADDR:$A_SIP'"
	check "after trunk_takeover (3 s) the backup registers the trunk" wait_for 150 trunk_state B registered
	check "the takeover is logged" grep -q "trunk_takeover" "$WORK/B/sipregd.log"
	check "Kamailio's location: the backup's contact" wait_for 50 has_contact "$B_ADDR" "$B_SIP"
	location >"$WORK/location-2.txt"
	start A || exit 1
	check "the primary is back" wait_for 150 status_is B peer_state connected
	check "it registers the trunk again" wait_for 100 trunk_state A registered
	check "the backup hands it back: standby" wait_for 100 trunk_state B standby
	check "Kamailio's location: the backup's contact is gone" wait_for 50 sh -c \
		"! kamcmd -s 'unix:$KAM_CTL' ul.dump | grep -q '@$B_ADDR:$B_SIP'"
	check "and the primary's is there" has_contact "$A_ADDR" "$A_SIP"
	check "the backup unregistered its own contact, not all (no *)" sh -c \
		"! grep -q 'contact=\*' '$KAM_LOG'"
	location >"$WORK/location-3.txt"

	# ---- split brain: both up, the link down ----
	stop B
	SAVED_HA=$A_HA
	A_HA=$(random_port) # B looks for the primary where nothing listens
	start B || exit 1
	A_HA=$SAVED_HA
	check "split brain: the backup cannot reach the primary" status_is B peer_state disconnected
	check "after trunk_takeover the backup registers the trunk too" wait_for 150 trunk_state B registered
	check "the primary keeps its registration" trunk_state A registered
	check "Kamailio's location holds both nodes' contacts" sh -c \
		"kamcmd -s 'unix:$KAM_CTL' ul.dump | grep -q '@$A_ADDR:$A_SIP' && kamcmd -s 'unix:$KAM_CTL' ul.dump | grep -q '@$B_ADDR:$B_SIP'"
	location >"$WORK/location-4.txt"
	check "an inbound call (Kamailio forks to both) is answered by the line's phone on the primary" \
		sipp "$KAM_ADDR:$KAM_PORT" -i 127.0.0.4 -p "$(random_port)" -sf "$SIPP_DIR/trunk-in.xml" \
		-s 620 -key did 3000 -m 1 -timeout 20s -timeout_error -nostdin -nd # not from A (@SIPREG@)
	check "the backup answered its branch 480 (the line is not registered there)" \
		wait_for 50 grep -q "3000: nothing registered (480)" "$WORK/B/sipregd.log"
	expect_exit 1 "administrative changes stay refused on the backup" on B line add carol-desk 3001
	stop B
	start B || exit 1
	check "the link is back" wait_for 150 status_is B peer_state connected
	check "the backup hands the trunk back" wait_for 100 trunk_state B standby
	check "Kamailio's location: the primary's contact alone again" wait_for 50 sh -c \
		"! kamcmd -s 'unix:$KAM_CTL' ul.dump | grep -q '@$B_ADDR:$B_SIP'"
	location >"$WORK/location-5.txt"

	# ---- the primary's host gone: frozen (SIGSTOP), no connection reset ----
	kill -STOP "$PID_A"
	check "a silent primary: the link goes down on the heartbeat timeout" \
		wait_for 300 status_is B peer_state disconnected
	check "then the backup takes the trunk over" wait_for 150 trunk_state B registered
	kill -CONT "$PID_A"
	check "the primary thaws: the link is back" wait_for 300 status_is B peer_state connected
	check "and the trunk handed back" wait_for 100 trunk_state B standby
	check "the primary's registration of it still stands" trunk_state A registered
	for i in 1 2 3 4 5; do diag "location table, step $i" "$(grep -E 'AoR:|Address:' "$WORK/location-$i.txt" | tr -d '\t')"; done
fi

dev_stop alice
dev_stop bob
dev_stop carol
check "the backup stops cleanly" stop B
check "the primary too" stop A
