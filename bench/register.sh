#!/bin/bash
# Registration benchmark: sipregd and Kamailio (auth_db on SQLite, usrloc in
# memory, one worker) driven by the same SIPp scenario (REGISTER, 401,
# REGISTER with digest, 200) at rising rates, each server on core 0 and SIPp
# on core 1. Prints, for each, the highest rate held with under 0.1%
# failures, CPU per 1,000 registrations at that rate, peak memory, and the
# ratios; then the memory per binding with 100,000 bindings.
#
# One SIPp process on one core cannot outrun a server on a whole core, so
# each server gets the same share of core 0 (SERVER_CPU percent, default 40,
# through a CPU cgroup quota): the rate a server holds within that share is
# then its own limit, not SIPp's. SERVER_CPU=100 (or no writable CPU
# cgroup) leaves the servers the whole core.
#
# usage: bench/register.sh [--tls] [USERS] [SECONDS_PER_STEP]
# --tls: the same over TLS through stunnel, with new TLS connections per
# second too (bench/register-tls.sh).
# Needs what scripts/install-deps.sh installs, plus kamailio and
# kamailio-sqlite-modules (installed here when missing). Loopback only.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--tls" ]; then
	shift
	exec bash "$top/bench/register-tls.sh" "$@"
fi
USERS=${1:-2000}
STEP=${2:-8}
RATES=${RATES:-"2000 2400 2800 3200 3600 4000 5000 6000 7000 7500 8000 8500 9000 9500 10000 10500 11000 11500 12000 12500 13000 13500 14000 14500 15000 16000 17000 18000 20000 25000"}
SERVER_CPU=${SERVER_CPU:-40}
UNIT=registration

. "$top/bench/lib.sh"

ADDR=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
SIPREG_PORT=$((RANDOM % 10000 + 30000))
KAM_PORT=$((SIPREG_PORT + 1))

# ---- users: the same for both servers ----
printf 'SEQUENTIAL\n' >"$WORK/users.csv"
i=0
while [ "$i" -lt "$USERS" ]; do
	dn=$((100000 + i))
	printf '%s;[authentication username=u%s password=p%s]\n' "$dn" "$dn" "$dn" >>"$WORK/users.csv"
	i=$((i + 1))
done

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
[registrar]
# The memory step binds 100 contacts of one device to each line.
max_contacts = 1000
device_contacts = 1000
[security]
ban_failures = 1000000
EOF2
taskset -c 0 "$BUILD/sipregd" -f -c "$WORK/sipregd.conf" >"$WORK/sipregd.log" 2>&1 &
SIPREG_PID=$!
PIDS="$PIDS $SIPREG_PID"
for _ in $(seq 100); do "$BUILD/sipregctl" -s "$WORK/ctl.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
python3 "$top/bench/provision.py" "$WORK/ctl.sock" "$USERS" 100000 || exit 1
limit_cpu sipregd "$SIPREG_PID" || exit 1

# ---- Kamailio ----
kam_subscribers "$WORK/kam.db" 100000 "$USERS" || exit 1
mkdir -p "$WORK/kamrun"
kam_register_cfg "$WORK/kamailio.cfg" "$WORK/kam.db" "disable_tcp=yes
listen=udp:$ADDR:$KAM_PORT" ""
# KAM_MEM: Kamailio's shared and private memory options (its own defaults
# when set empty: KAM_MEM= bench/register.sh).
# shellcheck disable=SC2086
taskset -c 0 kamailio -f "$WORK/kamailio.cfg" -DD -E -n 1 ${KAM_MEM--m 1024 -M 32} -Y "$WORK/kamrun" -w "$WORK/kamrun" \
	>"$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
PIDS="$PIDS $KAM_PID"
sleep 1
kill -0 "$KAM_PID" 2>/dev/null || { echo "kamailio did not start:"; tail "$WORK/kamailio.log"; exit 1; }
# shellcheck disable=SC2046
limit_cpu kamailio "$KAM_PID" $(pgrep -P "$KAM_PID") || exit 1

# run_step PORT RATE: SIPp offers RATE registrations/s for STEP seconds and
# stops; prints "ok fail milliseconds" (calls still under way at the end count
# as neither).
run_step() {
	local port=$1 rate=$2 t0 t1
	rm -f "$WORK"/*.csv_stat "$WORK/stat.csv"
	t0=$(date +%s%N)
	taskset -c 1 sipp "$ADDR:$port" -i 127.0.0.1 -p $((port + 2000)) -sf "$top/bench/register.xml" \
		-inf "$WORK/users.csv" -r "$rate" -rp 1000 -l $((rate * 2)) \
		-buff_size 4194304 -timeout "${STEP}s" -nostdin -nd \
		-trace_stat -stf "$WORK/stat.csv" -fd 1 >/dev/null 2>&1
	t1=$(date +%s%N)
	tail -n 1 "$WORK/stat.csv" | awk -F';' -v ms=$(((t1 - t0) / 1000000)) '{ print $16, $18, ms }'
}

echo "== $USERS users, ${STEP} s per step, server on core 0 limited to ${SERVER_CPU}% of it, SIPp on core 1"
read -r s_rate s_cpu s_peak s_load < <(bench sipregd "$SIPREG_PID" "$SIPREG_PORT")
read -r k_rate k_cpu k_peak k_load < <(bench kamailio "$KAM_PID" "$KAM_PORT")
echo
printf '%-10s %12s %22s %16s %14s\n' server "best rate/s" "CPU us/registration" "peak memory kB" "server load"
printf '%-10s %12s %22s %16s %13s%%\n' sipregd "$s_rate" "$s_cpu" "$s_peak" "$s_load"
printf '%-10s %12s %22s %16s %13s%%\n' kamailio "$k_rate" "$k_cpu" "$k_peak" "$k_load"
echo "(server load is in % of a whole core; a server well under its ${SERVER_CPU}% share at its best rate was limited by SIPp, not by itself)"
if [ "$k_rate" -gt 0 ] && [ "$s_cpu" -gt 0 ]; then
	echo "rate ratio sipregd/kamailio: $(awk -v a="$s_rate" -v b="$k_rate" 'BEGIN { printf "%.2f", a / b }')"
	echo "CPU ratio sipregd/kamailio:  $(awk -v a="$s_cpu" -v b="$k_cpu" 'BEGIN { printf "%.2f", a / b }')"
fi

# ---- memory per binding: 100,000 distinct contacts on 1,000 lines ----
sed '/Contact:/s/<sip:\[field0\]@/<sip:[field0]-[call_number]@/' "$top/bench/register.xml" >"$WORK/unique.xml"
head -n 1001 "$WORK/users.csv" >"$WORK/users1000.csv"
mem_per_binding() {
	local name=$1 pid=$2 port=$3 before after
	before=$(rss_kb "$pid")
	taskset -c 1 sipp "$ADDR:$port" -i 127.0.0.1 -p $((port + 3000)) -sf "$WORK/unique.xml" \
		-inf "$WORK/users1000.csv" -r 3000 -rp 1000 -m 100000 -l 6000 -buff_size 4194304 \
		-timeout 120s -nostdin -nd >/dev/null 2>&1
	sleep 1
	after=$(rss_kb "$pid")
	echo "$name: memory $before kB -> $after kB with 100,000 more bindings:" \
		"$(( (after - before) * 1024 / 100000 )) bytes per binding"
}
mem_per_binding sipregd "$SIPREG_PID" "$SIPREG_PORT"
echo "sipregd bindings: $("$BUILD/sipregctl" -s "$WORK/ctl.sock" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["bindings"])')"
mem_per_binding kamailio "$KAM_PID" "$KAM_PORT"
