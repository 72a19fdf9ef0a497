#!/bin/bash
# Replication benchmark: a primary and a backup (127.0.0.1 and 127.0.0.2,
# optimised build) joined over the node link; changes driven into the
# primary over its control socket at 100 and 1,000 changes a second
# (RATES), SECONDS each; prints, for each rate, the changes applied per
# second on the backup and the lag percentiles (the primary's commit to
# the backup's, in milliseconds). Target: lag under 1 s at 100 changes/s.
#
# usage: bench/replication.sh [SECONDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RATE=${1:-10}
RATES=${RATES:-"100 1000"}
SERVER_CPU=100
. "$top/bench/lib.sh"

PORT=$((RANDOM % 10000 + 30000))
CTL="$BUILD/sipregctl"
for n in A B; do
	pair_conf "$n" "$PORT" notice
	"$BUILD/sipregd" -f -c "$WORK/$n/sipregd.conf" >"$WORK/$n/log" 2>&1 &
	PIDS="$PIDS $!"
done
for n in A B; do
	for _ in $(seq 100); do "$CTL" -s "$WORK/$n/ctl.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
done
"$CTL" -s "$WORK/A/ctl.sock" tls init --cn bench-a >/dev/null || exit 1
TOKEN=$("$CTL" -s "$WORK/A/ctl.sock" ha invite 2>/dev/null)
"$CTL" -s "$WORK/B/ctl.sock" ha join "$TOKEN" >/dev/null || exit 1
# 50 lines to change, on 50 devices
DNS=""
for i in $(seq 1000 1049); do
	printf 'bench-pw-%s\n' "$i" | "$CTL" -s "$WORK/A/ctl.sock" user add "u$i" --password-stdin >/dev/null
	"$CTL" -s "$WORK/A/ctl.sock" device add "dev$i" --model third-party-basic --digest-user "u$i" >/dev/null
	"$CTL" -s "$WORK/A/ctl.sock" line add "dev$i" "$i" >/dev/null
	DNS="$DNS${DNS:+,}$i"
done
for _ in $(seq 300); do
	"$CTL" -s "$WORK/B/ctl.sock" line show 1049 >/dev/null 2>&1 && break
	sleep 0.1
done

echo "replication, primary -> backup over the node link (TLS), loopback, $SECONDS_PER_RATE s a rate"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for rate in $RATES; do
	python3 "$top/bench/replication.py" --primary "$WORK/A/ctl.sock" --backup "$WORK/B/ctl.sock" \
		--rate "$rate" --seconds "$SECONDS_PER_RATE" --dns "$DNS" | sed "s/^/  /"
done
echo "(lag: the last 4,096 changes the backup applied; applied_per_s: until it caught up)"
