#!/bin/bash
# Two nodes: a primary (A, 127.0.0.1) and a backup (B, 127.0.0.2) joined
# over the node link. Invite and join (wrong, foreign, expired and reused
# tokens refused), replication of admin changes, the backup's refusal of
# them, a certificate of the same CA that is not the pinned one, a peer of
# another schema, the backup restarted resuming from the journal, a phone's
# DND and a call record made on the backup reaching the primary, a conflict
# resolved by time, promotion, and the old primary standing down. The
# primary runs with [tls] legacy = yes: the node link keeps TLS 1.2.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

. "$E2E_DIR/pairlib.sh" || exit 99
PAIR_EXTRA_A="legacy = yes"

dnd_is() { # NODE on|off
	on "$1" device show SEP001122334455 | grep -q "^dnd *$2"
}

start A || exit 1
start B || exit 1
check "the primary makes its lab CA" on A tls init --cn node-a
check "the backup says it is not joined" status_is B peer_state "not joined"
check "the primary has no invitation open" status_is A invite_open False

# ---- joining, and tokens refused ----
expect_exit 1 "an invitation on the backup is refused" on B ha invite
TOKEN=$(on A ha invite 2>/dev/null)
check "ha invite prints a token: 128 bits and the CA fingerprint" \
	sh -c "echo '$TOKEN' | grep -qE '^[0-9a-f]{32}\.[0-9a-f]{64}$'"
check "the token is not in the primary's log" sh -c "! grep -qF '${TOKEN%%.*}' '$WORK/A/sipregd.log'"
WRONG="$(printf '%032d' 7).${TOKEN#*.}"
expect_exit 1 "a wrong token is refused" on B ha join "$WRONG"
check "with the primary's reason" last_has "the token is not the invitation's"
check "the attempt is logged on the primary" \
	wait_for 50 grep -q "join attempt from 127.0.0.2 as node node-B refused" "$WORK/A/sipregd.log"
FOREIGN="${TOKEN%%.*}.$(printf '%064d' 0)"
expect_exit 1 "a token naming another CA: the backup sends nothing" on B ha join "$FOREIGN"
check "it says the primary is not the one the token names" last_has "is not the one the token names"
expect_exit 2 "a malformed token is a usage error" on B ha join
expect_exit 1 "a token of the wrong shape is refused" on B ha join not-a-token
SHORT=$(on A ha invite --valid 1 2>/dev/null)
check "the short invitation expires" wait_for 50 status_is A invite_open False
expect_exit 1 "an expired token is refused" on B ha join "$SHORT"
check "as expired" last_has "the invitation has expired"
TOKEN=$(on A ha invite 2>/dev/null)
expect_exit 0 "the backup joins with the token" on B ha join "$TOKEN"
check "it names the primary and its certificate" last_has "joined primary node-A"
check "the backup is connected" wait_for 100 status_is B peer_state connected
check "so is the primary" wait_for 100 status_is A peer_state connected
check "the primary sent a snapshot" grep -q "sent backup node-B a snapshot" "$WORK/A/sipregd.log"
check "each pinned the other's certificate" sh -c \
	"[ \"\$('$SIPREGCTL' -s '$WORK/A/ctl.sock' --json ha status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peer_fingerprint\"])')\" = \
	   \"\$('$SIPREGCTL' -s '$WORK/B/ctl.sock' --json ha status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"fingerprint\"])')\" ]"
check "node keys and the data key are private (0600)" sh -c \
	"[ \$(stat -c %a '$WORK/B/tls/node.pem') = 600 ] && [ \$(stat -c %a '$WORK/B/sipreg.db.key') = 600 ]"
check "the backup holds the primary's data key" cmp "$WORK/A/sipreg.db.key" "$WORK/B/sipreg.db.key"
check "the trust list lists both nodes' certificates, signed" sh -c \
	"python3 '$E2E_DIR/itl.py' '$WORK/A/tls/ITLFile.tlv' --verify | grep -c 'record role CCM' | grep -qx 2"
check "the backup's own trust list too, with the same SAST signer" sh -c \
	"python3 '$E2E_DIR/itl.py' '$WORK/B/tls/ITLFile.tlv' --verify | grep -c 'record role CCM' | grep -qx 2"
check "the configurations match" status_is B config_match True
check "sipregctl status names the node and its peer" sh -c \
	"'$SIPREGCTL' -s '$WORK/B/ctl.sock' status | grep -q '^node  *node-B, backup; peer node-A connected'"
check "nor in the backup's" sh -c "! grep -qF '${TOKEN%%.*}' '$WORK/B/sipregd.log'"
expect_exit 1 "the token serves once" on B ha join "$TOKEN"
check "reused: refused as such" last_has "used already"
check "and the link stays up" status_is B peer_state connected

# ---- replication ----
use A
check "a phone set up on the primary" add_phone alice pw-alice SEP001122334455 cisco-7961 1000
check "and a second device" add_phone bob pw-bob bob-desk third-party-basic 2000
check "the line appears on the backup" wait_for 100 line_on B 1000
check "and the second" wait_for 100 line_on B 2000
check "the password sealed on the primary opens on the backup (same data key)" \
	sh -c "'$SIPREGCTL' -s '$WORK/B/ctl.sock' user list | grep -q alice"
expect_exit 1 "the backup refuses an admin write" on B line add SEP001122334455 1001
check "with one sentence naming the primary" \
	last_has "this node is the backup: make changes on the primary node-A (127.0.0.1:$A_HA)"
check "ha status on the backup: lag in changes and milliseconds" sh -c \
	"'$SIPREGCTL' -s '$WORK/B/ctl.sock' ha status | grep -q '^lag .*median'"
check "nothing behind" wait_for 100 status_is B lag_changes 0

# ---- certificates and schemas the primary refuses ----
check "a certificate of the same CA (the SIP one) is refused on the link" sh -c \
	"python3 '$E2E_DIR/hapeer.py' --connect $A_ADDR:$A_HA --bind 127.0.0.9 --cert '$WORK/A/tls/agent.pem' --send H '{}' | grep -qx CLOSED"
check "and logged with its fingerprint" wait_for 50 grep -q \
	"node link from 127.0.0.9 refused: its certificate SHA256:.* is not the joined peer's" "$WORK/A/sipregd.log"
check "[tls] legacy on the primary does not weaken the link: TLS 1.0 refused" sh -c \
	"python3 '$E2E_DIR/hapeer.py' --connect $A_ADDR:$A_HA --bind 127.0.0.9 --tls10 | grep -q 'HANDSHAKE FAILED'"
check "no certificate and no join request: closed" sh -c \
	"python3 '$E2E_DIR/hapeer.py' --connect $A_ADDR:$A_HA --bind 127.0.0.9 --send H '{}' | grep -qx CLOSED"
check "a frame of an unknown type: closed" sh -c \
	"python3 '$E2E_DIR/hapeer.py' --connect $A_ADDR:$A_HA --bind 127.0.0.9 --raw 0000000158 | grep -qx CLOSED"

check "the backup stops cleanly" stop B
cp "$WORK/B/tls/node.pem" "$WORK/fake-node.pem"
HELLO='{"node":"node-B","role":"backup","epoch":1,"schema":7,"seq":0,"config":"x"}'
check "a peer with schema 7 is told nothing and closed" sh -c \
	"python3 '$E2E_DIR/hapeer.py' --connect $A_ADDR:$A_HA --bind $B_ADDR --cert '$WORK/fake-node.pem' --send H '$HELLO' | grep -q CLOSED"
check "the mismatch is one sentence in the log" \
	wait_for 50 grep -q "replication stopped: this node runs database schema 8 and node node-B schema 7; upgrade the backup first" "$WORK/A/sipregd.log"
check "and in ha status" sh -c "'$SIPREGCTL' -s '$WORK/A/ctl.sock' ha status | grep -q 'note .*schema 7'"

# ---- the backup away, then back: resumes from the journal ----
SNAPS=$(count "$WORK/A/sipregd.log" "a snapshot")
check "a line added while the backup is away" on A line add SEP001122334455 1001
start B || exit 1
check "the backup catches up" wait_for 100 line_on B 1001
check "without a snapshot (the journal reaches)" \
	sh -c "[ $(count "$WORK/A/sipregd.log" "a snapshot") -eq $SNAPS ] && [ \$(grep -cF 'a snapshot' '$WORK/A/sipregd.log') -eq $SNAPS ]"

# ---- a phone on the backup: its DND and its call record reach the primary ----
use B
dev erin --dn 1000 --user alice --password pw-alice --cisco SEP001122334455 --transport tcp \
	--do publish:dnd --do invite:2000
check "the phone registers with the backup and sets DND there: 200" dev_has erin "RESULT publish:dnd 200"
check "DND set on the backup reaches the primary" wait_for 100 dnd_is A on
check "a call from it (to a line not registered) ends" dev_has erin "RESULT invite:2000"
dev_stop erin
check "its call record reaches the primary" wait_for 100 sh -c \
	"'$SIPREGCTL' -s '$WORK/A/ctl.sock' cdr list --json | grep -q '\"callee\": \"2000\"'"
check "and is still on the backup" sh -c \
	"'$SIPREGCTL' -s '$WORK/B/ctl.sock' cdr list --json | grep -q '\"callee\": \"2000\"'"

# ---- a conflict: both change DND while apart; the later write wins ----
check "the backup stops" stop B
check "DND off on the primary, first" on A line set 1000 --dnd off
check "the primary stops" stop A
start B || exit 1
use B
dev erin --dn 1000 --user alice --password pw-alice --cisco SEP001122334455 --transport tcp \
	--do publish:available
check "then on the backup, alone, the phone sets DND off" wait_for 100 dnd_is B off
dev_do erin publish:dnd
check "and on again" wait_for 100 dnd_is B on
dev_stop erin
start A || exit 1
check "they meet: the conflict is logged on the primary" wait_for 100 grep -q \
	"conflict on device \"SEP001122334455\": kept the change of .* on node node-B over the one of .* on node node-A (the later write wins)" \
	"$WORK/A/sipregd.log"
check "the later write (DND on) holds on the primary" wait_for 100 dnd_is A on
check "and on the backup" wait_for 100 dnd_is B on
check "ha status counts the conflict" sh -c \
	"[ \$('$SIPREGCTL' -s '$WORK/A/ctl.sock' --json ha status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"conflicts\"])') -ge 1 ]"

# ---- the primary gone for good: promote ----
check "the primary stops" stop A
expect_exit 0 "ha promote on the backup" on B ha promote
check "it is the primary now, epoch 2" status_is B epoch 2
check "it takes admin writes" on B line add SEP001122334455 1002
start A || exit 1
check "the old primary finds the promoted one and stands down" wait_for 100 status_is A role demoted
check "it says why in the log" log_has "node node-B was promoted (epoch 2) while this node was away"
expect_exit 1 "the old primary refuses an admin write" on A line add SEP001122334455 1003
check "with the sentence" last_has "this node stood down as primary"
expect_exit 1 "it cannot be promoted back by itself" on A ha promote
check "after a restart it still stands down" stop A
start A || exit 1
check "role demoted, kept in its store" status_is A role demoted
TOKEN=$(on B ha invite 2>/dev/null)
expect_exit 0 "the old primary joins the new one" on A ha join "$TOKEN"
check "and becomes its backup" wait_for 100 status_is A role backup
check "with what the new primary made meanwhile" wait_for 100 line_on A 1002
# ---- configurations that differ ----
check "A stops" stop A
RING_TIMEOUT=30 start A || exit 1
check "a node whose [calls] differ: warned in ha status" wait_for 100 sh -c \
	"'$SIPREGCTL' -s '$WORK/B/ctl.sock' ha status | grep -q '^configuration DIFFERS'"
check "with the reason" sh -c "'$SIPREGCTL' -s '$WORK/B/ctl.sock' ha status | grep -q 'warning .*differ from node node-A'"
check "and in the log" grep -q "differ from node node-A" "$WORK/B/sipregd.log"
check "A stops cleanly" stop A
check "B stops cleanly" stop B
