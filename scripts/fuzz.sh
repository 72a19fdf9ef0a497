#!/bin/bash
# Runs every fuzz harness of a build configured with --enable-fuzzing for
# SECONDS each, from its seeds and regression inputs (copied into a corpus
# directory of the build, which grows from run to run), and prints one TAP
# line per harness with its figures: executions, executions per second,
# coverage (edges) and features. A crash leaves its input in
# BUILD/fuzz-artifacts/; copy it to tests/fuzz/regress/NAME/ once fixed.
# The last line: "N passed, N failed". FUZZ_SEED (default 1: the same
# mutations on every run, so a CI failure can be reproduced; 0: a new seed).
#   scripts/fuzz.sh BUILD SECONDS [NAME...]
set -u
build=${1:?usage: fuzz.sh BUILD SECONDS [NAME...]}
seconds=${2:?usage: fuzz.sh BUILD SECONDS [NAME...]}
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
names=${*:-"sip_request sip_response digest xml sdp ctl config tls ha"}
mkdir -p "$build/fuzz-artifacts"
pass=0
fail=0
n=0
echo "1..$(echo $names | wc -w)"
for name in $names; do
	n=$((n + 1))
	bin="$build/tests/fuzz/fuzz_$name"
	corpus="$build/fuzz-corpus/$name"
	mkdir -p "$corpus"
	for d in "$src/tests/fuzz/seeds/$name" "$src/tests/fuzz/regress/$name"; do
		[ -d "$d" ] && cp -n "$d"/* "$corpus"/ 2>/dev/null
	done
	dict=()
	case $name in sip_*) dict=("-dict=$src/tests/fuzz/sip.dict") ;; esac
	log="$build/fuzz-$name.log"
	# -rss_limit_mb: the whole stack keeps finished transactions for 2 s.
	ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
		timeout $((seconds + 120)) "$bin" "${dict[@]}" -max_total_time="$seconds" \
		-seed="${FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=3072 -max_len=65000 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-artifacts/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 |
		sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/\1 edges, \2 features/')
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		pass=$((pass + 1))
		echo "ok $n - fuzz $name: ${runs} runs in ${seconds} s, ${speed} exec/s, coverage ${cov:-?}"
	else
		fail=$((fail + 1))
		echo "not ok $n - fuzz $name failed (exit $rc): $(ls "$build/fuzz-artifacts/" | grep "^$name-" | tr '\n' ' ')"
		grep -E -A 25 'ERROR: |runtime error|deadly signal|out-of-memory|timeout' "$log" | head -n 60 | sed 's/^/# /'
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
