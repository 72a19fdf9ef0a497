#!/bin/bash
# Failover benchmark: a primary and a backup (127.0.0.1 and 127.0.0.2,
# optimised build) joined over the node link, PHONES phones (default 1,000;
# SIPp, digest) registered on the primary. The primary is killed (SIGKILL)
# and the phones register to the backup at once, as they do when their
# connection to the primary drops: the time until 99% of them are registered
# on the backup, and the backup's CPU. Then the primary comes back and the
# phones fall back as Cisco phones do: a token REFER each (granted at
# [ha] token_rate, default 10/s; 503 with Retry-After beyond, asked again a
# second later), then a REGISTER with digest: the time until 99% are back,
# and the primary's CPU. Beside it, the same burst of registrations taken by
# Kamailio (auth_db on SQLite, usrloc in memory) standing in for the backup.
#
# usage: bench/failover.sh [PHONES]   (BURST=2000 TOKEN_RATE=10 by default)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PHONES=${1:-1000}
BURST=${BURST:-2000} # the phones' registrations offered per second at failover
TOKEN_RATE=${TOKEN_RATE:-10}
SERVER_CPU=100
. "$top/bench/lib.sh"

PORT=$((RANDOM % 10000 + 30000))
CTL="$BUILD/sipregctl"
printf 'SEQUENTIAL\n' >"$WORK/users.csv"
for i in $(seq 0 $((PHONES - 1))); do
	dn=$((100000 + i))
	printf '%s;[authentication username=u%s password=p%s]\n' "$dn" "$dn" "$dn" >>"$WORK/users.csv"
done
start_node() { # A|B
	local n=$1
	pair_conf "$n" "$PORT" info "token_rate = $TOKEN_RATE"
	"$BUILD/sipregd" -f -c "$WORK/$n/sipregd.conf" >>"$WORK/$n/log" 2>&1 &
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
	for _ in $(seq 100); do "$CTL" -s "$WORK/$n/ctl.sock" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "node $n did not start: $(tail -n 5 "$WORK/$n/log")"
	exit 1
}
bindings() { # NODE: registrations held there
	"$CTL" -s "$WORK/$1/ctl.sock" --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["bindings"])' 2>/dev/null || echo 0
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sipp_to() { # ADDR SCENARIO RATE: every phone once, in the background; its counts in $WORK/stat.csv
	rm -f "$WORK/stat.csv"
	sipp "$1:$PORT" -i 127.0.0.5 -p $((PORT + 10)) -sf "$2" -inf "$WORK/users.csv" -r "$3" -rp 1000 \
		-m "$PHONES" -l "$PHONES" -buff_size 4194304 -timeout 600s -nostdin -nd \
		-trace_stat -stf "$WORK/stat.csv" -fd 100ms -trace_err -error_file "$WORK/sipp-errors.log" \
		>/dev/null 2>&1 &
	SIPP_PID=$!
}
done_by_sipp() { # phones whose scenario ended well so far
	local n
	n=$(tail -n 1 "$WORK/stat.csv" 2>/dev/null | awk -F';' '{ print $16 + 0 }')
	echo "${n:-0}"
}
# sipp99 T0: waits (5 minutes at most) until 99% of the phones' scenarios ended well; prints ms since T0
sipp99() {
	local want=$((PHONES * 99 / 100)) i=0
	while [ "$(done_by_sipp)" -lt "$want" ] && kill -0 "$SIPP_PID" 2>/dev/null && [ "$i" -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo $(($(now_ms) - $1))
}

start_node A
start_node B
"$CTL" -s "$WORK/A/ctl.sock" tls init --cn bench-a >/dev/null || exit 1
"$CTL" -s "$WORK/B/ctl.sock" ha join "$("$CTL" -s "$WORK/A/ctl.sock" ha invite 2>/dev/null)" >/dev/null || exit 1
python3 "$top/bench/provision.py" "$WORK/A/ctl.sock" "$PHONES" 100000 || exit 1
last=$((100000 + PHONES - 1))
for _ in $(seq 600); do "$CTL" -s "$WORK/B/ctl.sock" line show "$last" >/dev/null 2>&1 && break; sleep 0.1; done

echo "failover and fallback, $PHONES phones (SIPp, UDP, digest), loopback"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
sipp_to 127.0.0.1 "$top/bench/register.xml" 1000
wait "$SIPP_PID"
for _ in $(seq 50); do [ "$(bindings A)" -ge "$PHONES" ] && break; sleep 0.1; done
echo "  registered on the primary: $(bindings A)"

# burst ADDR PID [SCENARIO]: every phone runs SCENARIO (default: it registers)
# against ADDR at once (BURST a second), as after a failover; prints the ms until
# 99% had done so, and the server's CPU in ticks.
burst() {
	local c0 t0 ms
	c0=$(cpu_ticks "$2")
	t0=$(now_ms)
	sipp_to "$1" "$top/bench/${3:-register.xml}" "$BURST"
	ms=$(sipp99 "$t0")
	wait "$SIPP_PID"
	echo "$ms $(($(cpu_ticks "$2") - c0))"
}

# ---- failover ----
{
	kill -KILL "$PID_A"
	wait "$PID_A"
} 2>/dev/null
read -r fo_ms fo_ticks < <(burst 127.0.0.2 "$PID_B")
echo "  failover: 99% of the phones registered on the backup after $fo_ms ms (offered at $BURST/s)," \
	"backup CPU $((fo_ticks * 1000 / HZ)) ms ($((fo_ticks * 1000000 / HZ / PHONES)) us a phone); it holds $(bindings B)"

# ---- fallback ----
start_node A
for _ in $(seq 300); do
	"$CTL" -s "$WORK/B/ctl.sock" --json ha status 2>/dev/null | grep -q '"peer_state": "connected"' && break
	sleep 0.1
done
read -r fb_ms fb_ticks < <(burst 127.0.0.1 "$PID_A" token.xml)
granted=$(grep -c "fallback token granted" "$WORK/A/log")
all=$(done_by_sipp)
echo "  fallback: 99% of the phones had a token and registered back on the primary after $fb_ms ms" \
	"at token_rate $TOKEN_RATE/s ($granted tokens granted, $all phones done), primary CPU" \
	"$((fb_ticks * 1000 / HZ)) ms (the primary restored its own registrations at restart:" \
	"it held $(bindings A))"

# ---- the same burst on Kamailio ----
KAM_DB="$WORK/kam.db"
kam_subscribers "$KAM_DB" 100000 "$PHONES" >/dev/null || exit 1
kam_register_cfg "$WORK/kam.cfg" "$KAM_DB" "listen=udp:127.0.0.3:$PORT" ""
kamailio -f "$WORK/kam.cfg" -DD -E -n 1 -Y "$WORK" -w "$WORK" >"$WORK/kam.log" 2>&1 &
KPID=$!
sleep 1
PIDS="$PIDS $KPID $(pgrep -P "$KPID" | tr '\n' ' ')"
read -r k_ms k_ticks < <(burst 127.0.0.3 "$KPID")
k_ok=$(done_by_sipp)
echo "  kamailio: 99% of the same $PHONES registrations at $BURST/s done after $k_ms ms ($k_ok ok in all)," \
	"CPU $((k_ticks * 1000 / HZ)) ms ($((k_ticks * 1000000 / HZ / PHONES)) us a phone)"
echo "  ratios sipregd backup / kamailio: time $(awk -v a="$fo_ms" -v b="$k_ms" 'BEGIN { printf "%.2f", a / b }')," \
	"CPU $(awk -v a="$fo_ticks" -v b="$k_ticks" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
