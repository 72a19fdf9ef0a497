#!/bin/bash
# Replays every fuzz harness over its seeds and the inputs that once made it
# fail (tests/fuzz/regress/NAME), through a plain main(): one TAP line each.
set -u
src=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${BUILDDIR:-.}
names="sip_request sip_response digest xml sdp ctl config tls ha"
n=0
echo "1..$(echo $names | wc -w)"
for name in $names; do
	n=$((n + 1))
	dirs=()
	for d in "$src/tests/fuzz/seeds/$name" "$src/tests/fuzz/regress/$name"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	out=$(timeout 600 "$build/tests/fuzz/replay_$name" "${dirs[@]}" 2>&1)
	rc=$?
	count=$(echo "$out" | sed -n 's/^\([0-9]*\) inputs replayed$/\1/p' | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$count" ] && [ "$count" -gt 0 ] &&
		! echo "$out" | grep -qE 'Sanitizer|runtime error'; then
		echo "ok $n - fuzz harness $name replays its $count seeds and regression inputs"
	else
		echo "not ok $n - fuzz harness $name replay (exit $rc, ${count:-0} inputs)"
		echo "$out" | tail -n 40 | sed 's/^/# /'
	fi
done
