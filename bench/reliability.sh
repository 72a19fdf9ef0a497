#!/bin/bash
# Reliability figures, written to docs/reliability.md (REPORT= elsewhere):
#   flood    20,000 wrong-password REGISTERs/s from one source while 500 phones
#            on five other addresses refresh: time to ban, the phones'
#            failures and answer time percentiles, with and without the flood
#   timing   answer time for a known and an unknown user (no enumeration)
#   crash    tests/e2e/crash.sh (SIGKILL under load) and its figures
#   abuse    tests/e2e/abuse.sh (1 MB bodies, 2,000 idle connections, a deaf
#            phone, sipvicious) and its figures
#   fuzz     each fuzz harness FUZZ_SECONDS (30): executions/s, coverage
#   longrun  LONG_SECONDS (3600) of mixed load under ASan+UBSan (1,000 phones
#            registering, 50 calls/s, an administrator's change a second):
#            resident memory and descriptors every SAMPLE_SECONDS (60)
#   tsan     the same for TSAN_SECONDS (600) under ThreadSanitizer
# usage: bench/reliability.sh [SECTION...]   (default: all, in that order)
# Figures, not assertions; a shared machine is noisy: compare within a run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
sections=${*:-"flood timing crash abuse fuzz longrun tsan"}
REPORT=${REPORT:-$top/docs/reliability.md}
LONG_SECONDS=${LONG_SECONDS:-3600}
TSAN_SECONDS=${TSAN_SECONDS:-600}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-60}
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

sh "$top/scripts/install-deps.sh" || exit 1
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) || exit 1
# build DIR FLAGS...: a build of its own (kept between runs)
build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	[ -f "$dir/Makefile" ] || (cd "$dir" && "$top/configure" -q "$@") || exit 1
	make -C "$dir" -s -j"$(nproc)" sipregd sipregctl || exit 1
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipreg-rel.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
OUT="$WORK/report.md"
say() { echo "$*" | tee -a "$OUT"; }

# start BUILD [CONF_EXTRA]: sipregd on a free loopback address; sets SPID, ADDR, PORT.
start() {
	ADDR="127.0.$((RANDOM % 200 + 20)).1"
	PORT=$((RANDOM % 20000 + 30000))
	cat >"$WORK/sipregd.conf" <<EOC
[sip]
listen = $ADDR:$PORT
tcp_max_per_source = 1000
[store]
path = $WORK/sipreg.db
[ctl]
socket = $WORK/ctl.sock
[log]
level = notice
${2:-}
EOC
	rm -f "$WORK/sipreg.db"* "$WORK/ctl.sock"
	"$1/sipregd" -f -c "$WORK/sipregd.conf" >"$WORK/sipregd.log" 2>&1 &
	SPID=$!
	PIDS="$PIDS $SPID"
	for _ in $(seq 100); do
		"$1/sipregctl" -s "$WORK/ctl.sock" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "sipregd did not start"; tail "$WORK/sipregd.log"; exit 1
}
stop() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
users_csv() { # FIRST N
	echo SEQUENTIAL
	seq "$1" $(($1 + $2 - 1)) | awk '{ print $1 ";[authentication username=u" $1 " password=p" $1 "]" }'
}
# A registration scenario that measures its answer time (start at the first REGISTER).
sed -e '0,/<send retrans="500">/s//<send retrans="500" start_rtd="1">/' \
	-e 's|<recv response="200"|<recv response="200" rtd="1"|' "$top/bench/register.xml" >"$WORK/register-rtd.xml"
# percentiles FILE...: p50 p90 p99 max of SIPp's -trace_rtt files (ms).
percentiles() {
	cat "$@" 2>/dev/null | awk -F';' 'NR > 0 && $2 ~ /^[0-9.]+$/ { print $2 }' | sort -n | awk '
		{ v[NR] = $1 } END { if (!NR) { print "no samples"; exit }
		printf "n=%d p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", NR,
			v[int(NR * .5) + 1], v[int(NR * .9) + 1], v[int(NR * .99) + 1], v[NR] }'
}

: >"$OUT"
say "# Reliability"
say ""
say "Written by \`bench/reliability.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r);"
say "sipreg $(git -C "$top" describe --always --dirty 2>/dev/null). Figures from a shared machine:"
say "compare within a run. The assertions live in \`make check\`; this file holds figures."

flood() {
	build "$top/build-bench" CFLAGS="-O2 -g"
	local B="$top/build-bench" legit=""
	start "$B"
	python3 "$top/bench/provision.py" "$WORK/ctl.sock" 500 100000 >/dev/null || exit 1
	# phases: without, then with the flood
	for phase in quiet flood; do
		rm -f "$WORK"/legit*_rtt.csv
		legit=""
		for i in 1 2 3 4 5; do
			users_csv $((100000 + (i - 1) * 100)) 100 >"$WORK/u$i.csv"
			(cd "$WORK" && sipp "$ADDR:$PORT" -i "127.0.$((RANDOM % 200 + 20)).$((i + 10))" -p $((PORT + i * 7)) \
				-sf "$WORK/register-rtd.xml" -inf "$WORK/u$i.csv" -r 20 -timeout "$((FLOOD_SECONDS + 5))s" \
				-trace_rtt -rtt_freq 1 -trace_stat -stf "$WORK/legit$i-$phase.csv" -nostdin -nd \
				>/dev/null 2>&1) &
			legit="$legit $!"
		done
		local t0 fpid=""
		t0=$(date +%s.%N)
		if [ "$phase" = flood ]; then
			users_csv 100000 500 | sed 's/password=p/password=wrong/' >"$WORK/wrong.csv"
			(cd "$WORK" && sipp "$ADDR:$PORT" -i 127.0.250.250 -p $((PORT + 99)) -sf "$top/bench/register.xml" \
				-inf "$WORK/wrong.csv" -r 20000 -rp 1000 -l 40000 -timeout "${FLOOD_SECONDS}s" \
				-buff_size 8388608 -trace_stat -stf "$WORK/flood.csv" -nostdin -nd >/dev/null 2>&1) &
			fpid=$!
		fi
		# shellcheck disable=SC2086
		wait $legit $fpid
		local ok=0 fail=0 f
		for f in "$WORK"/legit*-"$phase".csv; do
			read -r s e < <(tail -n 1 "$f" | awk -F';' '{ print $16, $18 }')
			ok=$((ok + ${s:-0}))
			fail=$((fail + ${e:-0}))
		done
		mv "$WORK"/*_rtt.csv "$WORK/rtt-$phase/" 2>/dev/null || { mkdir -p "$WORK/rtt-$phase"; mv "$WORK"/*_rtt.csv "$WORK/rtt-$phase/" 2>/dev/null; }
		if [ "$phase" = quiet ]; then
			Q="500 phones (5 addresses) refreshing at 100 REGISTERs/s, no flood: $ok registrations, $fail failed; answer time (first REGISTER to 200, SIPp resolution 1 ms) $(percentiles "$WORK/rtt-quiet"/*)"
		else
			local ban offered
			ban=$(grep -m1 "ban: source 127.0.250.250 banned" "$WORK/sipregd.log" | awk '{ print $1 " " $2 }')
			offered=$(tail -n 1 "$WORK/flood.csv" | awk -F';' '{ print $13 }')
			BANT=$(python3 -c "
import datetime, sys
b = '$ban'
print('%.0f ms' % ((datetime.datetime.strptime(b, '%Y-%m-%d %H:%M:%S.%f').timestamp() - $t0) * 1000) if b else 'never')")
			F="same, with a flood of wrong passwords from one source (SIPp asked for 20,000/s; it made $offered in ${FLOOD_SECONDS} s, holding at most 40,000 unanswered: once banned, the source's requests are dropped unanswered): $ok registrations, $fail failed; answer time $(percentiles "$WORK/rtt-flood"/*)"
		fi
	done
	stop
	say ""
	say "## Flood of wrong passwords from one source"
	say ""
	say "- $Q"
	say "- $F"
	say "- time from the flood's start to its source's ban ([security] ban_failures 10): $BANT"
}

timing() {
	local B="$top/build-bench"
	build "$B" CFLAGS="-O2 -g"
	start "$B" "[security]
ban_exempt = 127.0.0.0/8"
	printf 'alice-secret-1\n' | "$B/sipregctl" -s "$WORK/ctl.sock" user add alice --password-stdin >/dev/null
	"$B/sipregctl" -s "$WORK/ctl.sock" device add desk --model third-party-basic --digest-user alice >/dev/null
	"$B/sipregctl" -s "$WORK/ctl.sock" line add desk 1001 >/dev/null
	local r
	r=$(python3 "$top/bench/timing.py" --server "$ADDR:$PORT" --local 127.0.251.1 --known alice \
		--unknown mallory --n "${TIMING_N:-2000}")
	stop
	say ""
	say "## Answer time for a known and an unknown user (wrong password, 401 either way)"
	say ""
	echo "$r" | sed 's/^/- /' | tee -a "$OUT"
}

# e2e NAME: runs tests/e2e/NAME.sh against the ASan build, its figures (diag lines) into the report.
e2e() {
	local B="$top/build-test"
	build "$B" --enable-sanitizers --enable-werror
	local out
	out=$(cd "$B" && env SIPREGD="$B/sipregd" SIPREGCTL="$B/sipregctl" E2E_DIR="$top/tests/e2e" \
		SRCDIR="$top" BUILDDIR="$B" ASAN_OPTIONS=detect_leaks=1 bash "$top/tests/e2e/$1.sh" 2>&1)
	say ""
	say "## $2 (tests/e2e/$1.sh, ASan+UBSan build)"
	say ""
	say "$(echo "$out" | grep -cE '^ok ') checks passed, $(echo "$out" | grep -cE '^not ok ') failed."
	say ""
	echo "$out" | grep -E '^# ' | grep -vE '^# (command|sipregd log|20[0-9]{2}-)' | sed 's/^# /- /' | tee -a "$OUT"
}
crash() { e2e crash "SIGKILL under load"; }
abuse() { e2e abuse "TCP abuse and sipvicious"; }

fuzz() {
	local out
	out=$(bash "$top/scripts/dev.sh" fuzz "$FUZZ_SECONDS" 2>&1 | grep -E '^(ok|not ok)')
	say ""
	say "## Fuzzing, ${FUZZ_SECONDS} s per harness (clang-14 libFuzzer, ASan+UBSan)"
	say ""
	echo "$out" | sed -E 's/^(not )?ok [0-9]+ - /- /' | tee -a "$OUT"
}

# mixed BUILD SECONDS LABEL: the long run.
mixed() {
	local B=$1 secs=$2 label=$3
	start "$B" "[calls]
line_calls = 1000"
	python3 "$top/bench/provision.py" "$WORK/ctl.sock" 1000 100000 >/dev/null || exit 1
	printf 'pw-alice-1\n' | "$B/sipregctl" -s "$WORK/ctl.sock" user add alice --password-stdin >/dev/null
	printf 'pw-bob-22\n' | "$B/sipregctl" -s "$WORK/ctl.sock" user add bob --password-stdin >/dev/null
	"$B/sipregctl" -s "$WORK/ctl.sock" device add alice-desk --model third-party-basic --digest-user alice >/dev/null
	"$B/sipregctl" -s "$WORK/ctl.sock" device add bob-desk --model third-party-basic --digest-user bob >/dev/null
	"$B/sipregctl" -s "$WORK/ctl.sock" line add alice-desk 1001 >/dev/null
	"$B/sipregctl" -s "$WORK/ctl.sock" line add bob-desk 2001 >/dev/null
	users_csv 100000 1000 >"$WORK/users.csv"
	local uport=$((PORT + 11)) pids=""
	(cd "$WORK" && sipp -sf "$top/bench/call-uas.xml" -i 127.0.0.1 -p "$uport" -timeout "$((secs + 60))s" \
		-nostdin -nd >/dev/null 2>&1) &
	pids="$pids $!"
	python3 "$top/tests/e2e/sipclient.py" --server "$ADDR:$PORT" --dn 2001 --user bob \
		--password pw-bob-22 --contact-hostport "127.0.0.1:$uport" --expires 86400 >/dev/null
	printf 'SEQUENTIAL\n1001;[authentication username=alice password=pw-alice-1];2001\n' >"$WORK/caller.csv"
	(cd "$WORK" && sipp "$ADDR:$PORT" -i 127.0.0.1 -p $((PORT + 12)) -sf "$top/bench/call-uac.xml" \
		-inf "$WORK/caller.csv" -r 50 -l 500 -timeout "${secs}s" -trace_stat -stf "$WORK/calls.csv" \
		-nostdin -nd >/dev/null 2>&1) &
	pids="$pids $!"
	# 1,000 phones registering again and again (each about once a minute)
	(cd "$WORK" && sipp "$ADDR:$PORT" -i 127.0.0.1 -p $((PORT + 13)) -sf "$top/bench/register.xml" \
		-inf "$WORK/users.csv" -r 17 -timeout "${secs}s" -trace_stat -stf "$WORK/reg.csv" -nostdin -nd \
		>/dev/null 2>&1) &
	pids="$pids $!"
	(i=0; end=$(($(date +%s) + secs)); while [ "$(date +%s)" -lt "$end" ]; do
		printf 'pw-%s-xyz\n' "$i" | "$B/sipregctl" -s "$WORK/ctl.sock" user add "x$((i % 50))" --password-stdin --weak >/dev/null 2>&1 ||
			"$B/sipregctl" -s "$WORK/ctl.sock" user del "x$((i % 50))" >/dev/null 2>&1
		i=$((i + 1)); sleep 1; done) &
	pids="$pids $!"
	PIDS="$PIDS $pids"
	local series="" t=0
	while [ "$t" -le "$secs" ]; do
		series="$series
| $((t / 60)):$(printf '%02d' $((t % 60))) | $(rss "$SPID") | $(ls "/proc/$SPID/fd" | wc -l) | $("$B/sipregctl" -s "$WORK/ctl.sock" status --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin)["sip"]; print(d.get("bindings","?"), "|", d.get("calls","?"))') |"
		sleep "$SAMPLE_SECONDS"
		t=$((t + SAMPLE_SECONDS))
	done
	# shellcheck disable=SC2086
	wait $pids 2>/dev/null
	stop
	local calls regs reports
	calls=$(tail -n 1 "$WORK/calls.csv" | awk -F';' '{ print $16 " answered, " $18 " failed" }')
	regs=$(tail -n 1 "$WORK/reg.csv" | awk -F';' '{ print $16 " done, " $18 " failed" }')
	reports=$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$WORK/sipregd.log")
	say ""
	say "## $label, $((secs / 60)) min of mixed load"
	say ""
	say "1,000 phones registering (17/s), calls at 50/s from one phone to another, an"
	say "administrator's change every second. Calls: $calls; registrations: $regs;"
	say "sanitizer reports in the log: $reports."
	say ""
	say "| time (min:s) | resident kB | descriptors | bindings | calls up |"
	say "|---|---|---|---|---|$series"
}
longrun() {
	build "$top/build-test" --enable-sanitizers --enable-werror
	mixed "$top/build-test" "$LONG_SECONDS" "ASan+UBSan"
}
tsan() {
	build "$top/build-tsan" --enable-tsan --enable-werror
	TSAN_OPTIONS="halt_on_error=0" mixed "$top/build-tsan" "$TSAN_SECONDS" "ThreadSanitizer"
}

for s in $sections; do
	echo "== $s" >&2
	"$s"
done
cp "$OUT" "$REPORT"
echo "written to $REPORT" >&2
