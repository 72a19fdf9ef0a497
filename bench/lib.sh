# Shared by the benchmarks: dependencies (Kamailio among them), an optimised
# build without sanitizers, a work directory cleaned at exit, CPU shares
# through cgroups, and the CPU and memory of a server's processes.
# Sourced with top (the source tree) and SERVER_CPU set.
HZ=$(getconf CLK_TCK)

sh "$top/scripts/install-deps.sh" || exit 1
if ! command -v kamailio >/dev/null || [ ! -f /usr/lib/x86_64-linux-gnu/kamailio/modules/db_sqlite.so ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		kamailio kamailio-sqlite-modules >/dev/null || exit 1
fi
# An optimised build of its own, without sanitizers.
BUILD="$top/build-bench"
if [ ! -x "$top/configure" ]; then (cd "$top" && autoreconf -fi) || exit 1; fi
mkdir -p "$BUILD"
[ -f "$BUILD/Makefile" ] || (cd "$BUILD" && "$top/configure" -q CFLAGS="-O2 -g") || exit 1
make -C "$BUILD" -s -j"$(nproc)" sipregd sipregctl || exit 1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipreg-bench.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---- CPU share: a cgroup per server with a quota of SERVER_CPU% of a core ----
CG_ROOT=""
if [ "$SERVER_CPU" -lt 100 ]; then
	if [ -w /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		CG_ROOT=/sys/fs/cgroup/cpu # cgroup v1
	elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null && [ -w /sys/fs/cgroup ]; then
		CG_ROOT=/sys/fs/cgroup # cgroup v2
	else
		echo "note: no writable CPU cgroup; the servers get the whole core"
		SERVER_CPU=100
	fi
fi
CGROUPS=""
# limit_cpu NAME PID...: puts the processes in a cgroup of their own with the quota.
limit_cpu() {
	local name=$1 cg p
	shift
	[ -n "$CG_ROOT" ] || return 0
	cg="$CG_ROOT/sipreg-bench-$name-$$"
	mkdir -p "$cg" || return 1
	CGROUPS="$CGROUPS $cg"
	if [ -f "$cg/cpu.cfs_quota_us" ]; then
		echo 10000 >"$cg/cpu.cfs_period_us"
		echo $((SERVER_CPU * 100)) >"$cg/cpu.cfs_quota_us"
	else
		echo "$((SERVER_CPU * 100)) 10000" >"$cg/cpu.max"
	fi
	for p in "$@"; do echo "$p" >"$cg/cgroup.procs"; done
}
cleanup_cgroups() {
	local cg
	for cg in $CGROUPS; do
		[ -d "$cg" ] || continue
		while read -r p; do echo "$p" >"$(dirname "$cg")/cgroup.procs"; done <"$cg/cgroup.procs" 2>/dev/null
		rmdir "$cg" 2>/dev/null
	done
}
trap 'cleanup; cleanup_cgroups' EXIT

# kam_subscribers DB FIRST N [FIRST N]...: a Kamailio SQLite database whose
# subscriber table holds users uDN (password pDN, realm sipreg) for N DNs from
# FIRST, as bench/provision.py makes them in sipregd.
kam_subscribers() {
	sqlite3 "$1" </usr/share/kamailio/db_sqlite/standard-create.sql &&
		sqlite3 "$1" </usr/share/kamailio/db_sqlite/auth_db-create.sql &&
		python3 - "$@" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
r = [int(x) for x in sys.argv[2:]]
for dn in (d for first, n in zip(r[::2], r[1::2]) for d in range(first, first + n)):
    ha1 = hashlib.md5(f"u{dn}:sipreg:p{dn}".encode()).hexdigest()
    db.execute("INSERT INTO subscriber (username, domain, password, ha1) VALUES (?, 'sipreg', '', ?)",
               (f"u{dn}", ha1))
db.commit()
PY
}

# kam_register_cfg FILE DB CORE_LINES MODULE_LINES: a Kamailio registrar for
# the benchmarks (auth_db on SQLite DB, usrloc in memory), its listeners and
# transports in CORE_LINES, extra modules and their settings in MODULE_LINES.
kam_register_cfg() {
	cat >"$1" <<KAM_EOF
#!KAMAILIO
debug=-1
log_stderror=yes
children=1
auto_aliases=no
$3
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
$4
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "db_sqlite.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)
modparam("auth_db", "db_url", "sqlite:///$2")
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("auth_db", "load_credentials", "")
modparam("auth", "qop", "auth")
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (method == "REGISTER") {
		if (!auth_check("sipreg", "subscriber", "0")) {
			auth_challenge("sipreg", "1");
			exit;
		}
		save("location");
		exit;
	}
	sl_send_reply("501", "Not Implemented");
}
KAM_EOF
}

# pair_conf N PORT LEVEL [HA_LINES]: the configuration of node N (A, the
# primary on 127.0.0.1, or B, the backup on 127.0.0.2) of a pair in
# $WORK/N/sipregd.conf: SIP on PORT, the node link on PORT + 1.
pair_conf() {
	local n=$1 addr=127.0.0.1 other=127.0.0.2 role=primary
	[ "$n" = A ] || { addr=127.0.0.2 other=127.0.0.1 role=backup; }
	mkdir -p "$WORK/$n"
	cat >"$WORK/$n/sipregd.conf" <<PAIR_EOF
[sip]
listen = $addr:$2
[store]
path = $WORK/$n/sipreg.db
[ctl]
socket = $WORK/$n/ctl.sock
[tls]
dir = $WORK/$n/tls
[log]
level = $3
[ha]
role = $role
listen = $addr:$(($2 + 1))
peer = $other:$(($2 + 1))
node_id = bench-$n
${4:-}
PAIR_EOF
}

# ---- measuring ----
pids_of() { # the server's processes: the pid and its children
	echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"
}
cpu_ticks() {
	local t=0 p
	for p in $(pids_of "$1"); do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
rss_kb() { # proportional set size of the server's processes, in kB
	local t=0 p v
	for p in $(pids_of "$1"); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# bench NAME PID PORT: the rate ramp over RATES, each step run by the
# script's run_step PORT RATE (printing "ok fail milliseconds"). A step holds
# when under 0.1% of its UNITs fail and SIPp got them through at 90% of the
# asked rate or more; the figures are for the highest rate achieved in a step
# that held.
bench() {
	local name=$1 pid=$2 port=$3 best=0 best_cpu=0 best_load=0 peak=0
	for rate in $RATES; do
		local c0 c1 okn fail ms n r achieved us load
		c0=$(cpu_ticks "$pid")
		read -r okn fail ms < <(run_step "$port" "$rate")
		c1=$(cpu_ticks "$pid")
		n=$((okn + fail))
		r=$(rss_kb "$pid")
		[ "$r" -gt "$peak" ] && peak=$r
		[ "${ms:-0}" -gt 0 ] || ms=1
		achieved=$((okn * 1000 / ms))
		us=0
		[ "$okn" -gt 0 ] && us=$(((c1 - c0) * 1000000 / HZ / okn))
		# server CPU in % of one core over the step
		load=$(((c1 - c0) * 1000 * 100 / HZ / ms))
		printf '  %-8s asked %6d/s: got %6d/s, %7d ok %6d failed, %3d us CPU per %s, server at %3d%% of a core, memory %7d kB\n' \
			"$name" "$rate" "$achieved" "$okn" "$fail" "$us" "$UNIT" "$load" "$r" >&2
		if [ "$n" -gt 0 ] && [ $((fail * 1000)) -lt "$n" ] && [ "$achieved" -ge $((rate * 90 / 100)) ]; then
			if [ "$achieved" -gt "$best" ]; then
				best=$achieved
				best_cpu=$us
				best_load=$load
			fi
		else
			break
		fi
	done
	echo "$best $best_cpu $peak $best_load"
}
