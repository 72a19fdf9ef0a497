#!/bin/bash
# Calls benchmark: calls per second through sipregd (a B2BUA: two dialogs
# per call) and through Kamailio as a stateful proxy (tm, record-route,
# digest on SQLite, usrloc in memory, one worker), driven by the same SIPp
# caller (INVITE, 407, INVITE with digest, 180, 200, ACK, a short hold, BYE)
# toward the same SIPp callee, registered to each server. Each server runs on
# core 0 limited to SERVER_CPU percent of it (see bench/register.sh), SIPp
# on the other core. Prints, for each, the highest rate held with under 0.1%
# failed calls, CPU per call, peak memory, and the ratios; then sipregd's
# memory over 10,000 more calls (a flat footprint: the same before and after).
#
# usage: bench/calls.sh [CALLERS] [SECONDS_PER_STEP]
# HOLD (milliseconds between ACK and BYE, default 200), RATES and SERVER_CPU
# from the environment; SOAK=0 leaves out the memory run. Loopback only.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
CALLERS=${1:-1000}
STEP=${2:-8}
HOLD=${HOLD:-200}
RATES=${RATES:-"100 200 300 400 500 600 700 800 900 1000 1100 1200 1300 1400 1500 1600 1800 2000 2200 2500 3000"}
SERVER_CPU=${SERVER_CPU:-40}
UNIT=call

. "$top/bench/lib.sh"

ADDR=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
SIPREG_PORT=$((RANDOM % 10000 + 30000))
KAM_PORT=$((SIPREG_PORT + 1))
# The called phone: one line (CALLEE), registered to each server, answered by
# a SIPp of its own per server.
CALLEE=200000
SIPREG_UAS=$((SIPREG_PORT + 3000))
KAM_UAS=$((KAM_PORT + 3000))

# ---- users: callers 100000.., the callee; the same for both servers ----
printf 'SEQUENTIAL\n' >"$WORK/calls.csv"
i=0
while [ "$i" -lt "$CALLERS" ]; do
	dn=$((100000 + i))
	printf '%s;[authentication username=u%s password=p%s];%s\n' "$dn" "$dn" "$dn" "$CALLEE" >>"$WORK/calls.csv"
	i=$((i + 1))
done
printf 'SEQUENTIAL\n%s;[authentication username=u%s password=p%s]\n' "$CALLEE" "$CALLEE" "$CALLEE" >"$WORK/callee.csv"

# register PORT UAS_PORT: the callee registers a contact at its SIPp's address.
register() {
	sed "s/<sip:\[field0\]@\[local_ip\]:\[local_port\]>/<sip:[field0]@127.0.0.1:$2>/" \
		"$top/bench/register.xml" >"$WORK/register-callee.xml"
	sipp "$ADDR:$1" -i 127.0.0.1 -p $(($1 + 4000)) -sf "$WORK/register-callee.xml" \
		-inf "$WORK/callee.csv" -m 1 -timeout 10s -timeout_error -nostdin >/dev/null 2>&1
}
# callee PORT: the SIPp that answers every call, in the background.
callee() {
	taskset -c 1 sipp -i 127.0.0.1 -p "$1" -sf "$top/bench/call-uas.xml" -buff_size 4194304 \
		-nostdin -nd >/dev/null 2>&1 &
	PIDS="$PIDS $!"
}

# ---- sipregd ----
cat >"$WORK/sipregd.conf" <<EOF2
[sip]
listen = $ADDR:$SIPREG_PORT
[store]
path = $WORK/sipreg.db
[ctl]
socket = $WORK/ctl.sock
[log]
level = error
[calls]
line_calls = 1000
[security]
ban_failures = 1000000
EOF2
taskset -c 0 "$BUILD/sipregd" -f -c "$WORK/sipregd.conf" >"$WORK/sipregd.log" 2>&1 &
SIPREG_PID=$!
PIDS="$PIDS $SIPREG_PID"
for _ in $(seq 100); do "$BUILD/sipregctl" -s "$WORK/ctl.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
python3 "$top/bench/provision.py" "$WORK/ctl.sock" "$CALLERS" 100000 || exit 1
python3 "$top/bench/provision.py" "$WORK/ctl.sock" 1 "$CALLEE" || exit 1
register "$SIPREG_PORT" "$SIPREG_UAS" || { echo "the callee did not register to sipregd"; exit 1; }
callee "$SIPREG_UAS"
limit_cpu sipregd "$SIPREG_PID" || exit 1

# ---- Kamailio ----
kam_subscribers "$WORK/kam.db" 100000 "$CALLERS" "$CALLEE" 1 || exit 1
mkdir -p "$WORK/kamrun"
cat >"$WORK/kamailio.cfg" <<EOF2
#!KAMAILIO
debug=-1
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:$ADDR:$KAM_PORT
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "db_sqlite.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)
modparam("auth_db", "db_url", "sqlite:///$WORK/kam.db")
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("auth_db", "load_credentials", "")
modparam("auth", "qop", "auth")
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) { t_relay(); exit; }
		if (is_method("ACK")) { if (t_check_trans()) t_relay(); exit; }
		sl_send_reply("404", "Not here");
		exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
	t_check_trans();
	if (is_method("REGISTER")) {
		if (!auth_check("sipreg", "subscriber", "0")) { auth_challenge("sipreg", "1"); exit; }
		save("location");
		exit;
	}
	if (!is_method("INVITE")) { sl_send_reply("405", "Method Not Allowed"); exit; }
	if (!proxy_authorize("sipreg", "subscriber")) { proxy_challenge("sipreg", "1"); exit; }
	consume_credentials();
	record_route();
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
	t_relay();
}
EOF2
# -m 1024: its default 64 MB of shared memory runs out at a few hundred calls/s.
taskset -c 0 kamailio -f "$WORK/kamailio.cfg" -DD -E -n 1 -m 1024 -M 32 -Y "$WORK/kamrun" -w "$WORK/kamrun" \
	>"$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
PIDS="$PIDS $KAM_PID"
for _ in $(seq 50); do register "$KAM_PORT" "$KAM_UAS" && break; sleep 0.2; done
kill -0 "$KAM_PID" 2>/dev/null || { echo "kamailio did not start:"; tail "$WORK/kamailio.log"; exit 1; }
callee "$KAM_UAS"
# shellcheck disable=SC2046
limit_cpu kamailio "$KAM_PID" $(pgrep -P "$KAM_PID") || exit 1

# run_step PORT RATE: SIPp places RATE calls/s for STEP seconds and waits for
# them to end; prints "ok fail milliseconds" (the time until the last call
# was placed).
run_step() {
	local port=$1 rate=$2 t0 t1
	rm -f "$WORK/stat.csv"
	t0=$(date +%s%N)
	# SIPp's own -timeout does not end a run with a call stuck in it; timeout(1) does.
	timeout $((STEP * 3 + 60)) taskset -c 1 sipp "$ADDR:$port" -i 127.0.0.1 -p $((port + 2000)) -sf "$top/bench/call-uac.xml" \
		-inf "$WORK/calls.csv" -auth_uri "$CALLEE@$ADDR:$port" -r "$rate" -rp 1000 \
		-m $((rate * STEP)) -l $((rate * 4)) -d "$HOLD" -buff_size 4194304 \
		-timeout $((STEP * 3 + 40))s -nostdin -nd -trace_stat -stf "$WORK/stat.csv" -fd 1 >/dev/null 2>&1
	t1=$(date +%s%N)
	# The calls of the last second were placed STEP s after the first; the rest is their length.
	tail -n 1 "$WORK/stat.csv" | awk -F';' -v ms=$(((t1 - t0) / 1000000 - HOLD)) '{ print $16, $18, ms }'
}

echo "== $CALLERS callers, ${STEP} s per step, hold ${HOLD} ms, server on core 0 limited to ${SERVER_CPU}% of it, SIPp on core 1"
read -r s_rate s_cpu s_peak s_load < <(bench sipregd "$SIPREG_PID" "$SIPREG_PORT")
read -r k_rate k_cpu k_peak k_load < <(bench kamailio "$KAM_PID" "$KAM_PORT")
echo
printf '%-10s %12s %16s %16s %14s\n' server "best calls/s" "CPU us/call" "peak memory kB" "server load"
printf '%-10s %12s %16s %16s %13s%%\n' sipregd "$s_rate" "$s_cpu" "$s_peak" "$s_load"
printf '%-10s %12s %16s %16s %13s%%\n' kamailio "$k_rate" "$k_cpu" "$k_peak" "$k_load"
echo "(server load is in % of a whole core; a server well under its ${SERVER_CPU}% share at its best rate was limited by SIPp, not by itself)"
if [ "$k_rate" -gt 0 ] && [ "$s_cpu" -gt 0 ]; then
	echo "rate ratio sipregd/kamailio: $(awk -v a="$s_rate" -v b="$k_rate" 'BEGIN { printf "%.2f", a / b }') (target >= 0.5)"
	echo "CPU ratio sipregd/kamailio:  $(awk -v a="$s_cpu" -v b="$k_cpu" 'BEGIN { printf "%.2f", a / b }')"
fi

# ---- memory over 10,000 calls: sipregd's footprint stays flat ----
# Finished transactions linger 32 s (64*T1); sipregd hands their memory back
# once they have drained, so each figure is taken DRAIN seconds after a batch.
DRAIN=${DRAIN:-45}
[ "${SOAK:-1}" = 0 ] && exit 0
calls_now() {
	"$BUILD/sipregctl" -s "$WORK/ctl.sock" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["calls"])'
}
soak() { # N calls at 200/s
	taskset -c 1 sipp "$ADDR:$SIPREG_PORT" -i 127.0.0.1 -p $((SIPREG_PORT + 5000)) \
		-sf "$top/bench/call-uac.xml" -inf "$WORK/calls.csv" -auth_uri "$CALLEE@$ADDR:$SIPREG_PORT" \
		-r 200 -m "$1" -l 800 -d "$HOLD" -buff_size 4194304 -timeout 120s -nostdin -nd \
		-trace_stat -stf "$WORK/soak.csv" -fd 1 >/dev/null 2>&1
	tail -n 1 "$WORK/soak.csv" | awk -F';' '{ print $16 " ok, " $18 " failed" }'
}
echo
echo "== sipregd memory (RSS) over 3 x 10,000 calls at 200 calls/s, each figure ${DRAIN} s after the batch"
sleep "$DRAIN"
echo "  before:                      $(rss_kb "$SIPREG_PID") kB"
for b in 1 2 3; do
	res=$(soak 10000)
	peak=$(rss_kb "$SIPREG_PID")
	sleep "$DRAIN"
	echo "  after $((b * 10000)) calls ($res): $(rss_kb "$SIPREG_PID") kB (right after the batch: $peak kB), live calls: $(calls_now)"
done
