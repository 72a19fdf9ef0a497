# Two sipregd nodes for the end-to-end tests, sourced after lib.sh: A on
# 127.0.0.1 (the primary), B on 127.0.0.2 (the backup), random ports.
# PAIR_EXTRA_A and PAIR_EXTRA_B are added to each node's configuration.

A_ADDR=127.0.0.1
B_ADDR=127.0.0.2
A_SIP=$(random_port)
B_SIP=$((A_SIP + 1))
A_HA=$((A_SIP + 2))
B_HA=$((A_SIP + 3))
A_ROLE=primary
B_ROLE=backup
mkdir -p "$WORK/A" "$WORK/B"

# use NODE: lib.sh's sipregd helpers (start_sipregd, ctl, log_has, dev) on A or B.
use() {
	local n=$1 other
	[ "$n" = A ] && other=B || other=A
	eval "SIP_ADDR=\$${n}_ADDR SIP_PORT=\$${n}_SIP PID=\${PID_$n:-}"
	eval "local role=\$${n}_ROLE ha=\$${n}_HA peer_addr=\$${other}_ADDR peer_ha=\$${other}_HA"
	eval "local extra=\${PAIR_EXTRA_$n:-}"
	SOCK="$WORK/$n/ctl.sock"
	CONF="$WORK/$n/sipregd.conf"
	DB="$WORK/$n/sipreg.db"
	LOG="$WORK/$n/sipregd.log"
	CONF_EXTRA="[tls]
dir = $WORK/$n/tls
$extra

[ha]
role = $role
listen = ${SIP_ADDR}:$ha
peer = $peer_addr:$peer_ha
node_id = node-$n
${PAIR_HA_EXTRA:-}"
}
start() {
	use "$1"
	start_sipregd || return 1
	eval "PID_$1=\$PID"
}
stop() {
	use "$1"
	stop_sipregd
}
on() {
	local n=$1
	shift
	"$SIPREGCTL" -s "$WORK/$n/ctl.sock" "$@"
}
status_is() { # NODE KEY VALUE: ha status --json KEY is VALUE
	[ "$(on "$1" --json ha status | json_get "$2")" = "$3" ]
}
line_on() { # NODE DN
	on "$1" line show "$2" >/dev/null
}
count() { # FILE TEXT: how many lines hold TEXT
	grep -cF -- "$2" "$1" || true
}
# pair_join: the lab CA on A, an invitation, B joins; both connected.
pair_join() {
	on A tls init --cn node-a >/dev/null &&
		on B ha join "$(on A ha invite 2>/dev/null)" >/dev/null &&
		wait_for 100 status_is B peer_state connected &&
		wait_for 100 status_is A peer_state connected
}
