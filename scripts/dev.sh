#!/bin/bash
# The two everyday commands:
#   scripts/dev.sh run  [CONFIGURE_FLAGS...] [-- SIPREGD_OPTIONS...]
#                       install what is missing, build, start sipregd
#   scripts/dev.sh test [CONFIGURE_FLAGS...]  install what is missing, build, run every test
#   scripts/dev.sh fuzz [SECONDS]  build the fuzz harnesses (clang, libFuzzer) in
#                       build-fuzz and run each for SECONDS (default 30)
# "run" starts sipregd in the foreground, on its embedded defaults (database
# and control socket in the current directory) unless options after "--"
# say otherwise, for example: scripts/dev.sh run -- -c /srv/sipreg/sipregd.conf
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
[ $# -gt 0 ] && shift

build() {
	dir=$1
	shift
	sh "$top/scripts/install-deps.sh"
	if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
		[ "$top/Makefile.am" -nt "$top/configure" ]; then
		(cd "$top" && autoreconf -fi)
	fi
	mkdir -p "$dir"
	stamp="$dir/.configure-flags"
	if [ ! -f "$dir/Makefile" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$*" ] ||
		[ "$top/configure" -nt "$dir/Makefile" ]; then
		(cd "$dir" && "$top/configure" -q "$@")
		echo "$*" >"$stamp"
	fi
	make -C "$dir" -j"$(nproc)" -s
}

# Prints "N passed, N failed" from automake's test summary lines in a log.
summary() {
	awk '
		/^# (PASS|XFAIL|SKIP): +[0-9]+$/ { pass += $3 }
		/^# (FAIL|XPASS|ERROR): +[0-9]+$/ { fail += $3 }
		END { printf "%d passed, %d failed\n", pass, fail }
	' "$1"
}

case "$cmd" in
run)
	# Up to "--": configure's flags; after it: sipregd's options.
	flags=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		flags+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift # the "--"
	build "$top/build" "${flags[@]}"
	if [ $# -eq 0 ]; then
		echo "sipregd: database and control socket in $(pwd); stop with Ctrl-C"
	fi
	exec "$top/build/sipregd" -f "$@"
	;;
test)
	# SIPREG_BUILD (a directory name under the tree, default build-test) and
	# SIPREG_TESTS (a list of tests, default all) let CI run a part of the
	# suite in a build of its own (ThreadSanitizer).
	dir="$top/${SIPREG_BUILD:-build-test}"
	build "$dir" "$@"
	log="$dir/check-output.log"
	rc=0
	if [ -n "${SIPREG_TESTS:-}" ]; then
		make -C "$dir" -j"$(nproc)" check AM_COLOR_TESTS=no TESTS="$SIPREG_TESTS" >"$log" 2>&1 || rc=$?
	else
		make -C "$dir" -j"$(nproc)" check AM_COLOR_TESTS=no >"$log" 2>&1 || rc=$?
	fi
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# [A-Z]+:)' "$log" || true
	if [ "$rc" -ne 0 ]; then
		for f in "$dir"/tests/*/*.log; do
			grep -qE '^not ok|^Bail out' "$f" 2>/dev/null && { echo "--- $f"; grep -vE '^ok ' "$f" | head -80; }
		done
		grep -q '^# FAIL' "$log" || tail -n 40 "$log"
	fi
	summary "$log"
	exit "$rc"
	;;
fuzz)
	seconds=${1:-30}
	dir="$top/build-fuzz"
	build "$dir" CC=clang-14 --enable-fuzzing --enable-werror
	exec bash "$top/scripts/fuzz.sh" "$dir" "$seconds"
	;;
*)
	echo "usage: scripts/dev.sh run [CONFIGURE_FLAGS...] [-- SIPREGD_OPTIONS...]" >&2
	echo "       scripts/dev.sh test [CONFIGURE_FLAGS...]" >&2
	echo "       scripts/dev.sh fuzz [SECONDS]" >&2
	exit 2
	;;
esac
