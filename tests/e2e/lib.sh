# Shared harness for the end-to-end tests: TAP output, a private work
# directory, and sipregd started on a random loopback address and port and
# stopped by its pid. Source it from a test script.
#
# Needs: SIPREGD, SIPREGCTL, E2E_DIR (set by make check).

set -u

: "${SIPREGD:?SIPREGD must name the sipregd binary}"
: "${SIPREGCTL:?SIPREGCTL must name the sipregctl binary}"
: "${E2E_DIR:?E2E_DIR must name tests/e2e}"

TAP_N=0
TAP_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipreg-e2e.XXXXXX")
DAEMON_PIDS=""
OTHER_PIDS=""

# ---- TAP ----

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $*"
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "command: $*" "$(tail -n 20 "$WORK/check.out")"
	fi
}

# expect_exit CODE DESCRIPTION COMMAND...: the command must exit with CODE.
expect_exit() {
	local want=$1 desc=$2 rc=0
	shift 2
	"$@" >"$WORK/last.out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc, wanted $want)"
		diag "command: $*" "$(tail -n 20 "$WORK/last.out")"
	fi
}

# last_has TEXT: the output of the last expect_exit holds TEXT (fixed string).
last_has() {
	grep -qF -- "$1" "$WORK/last.out"
}

finish() {
	local pid
	for pid in $OTHER_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $DAEMON_PIDS; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait_gone "$pid" 100 || kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	if [ "$TAP_FAILED" -ne 0 ] && [ -f "$LOG" ]; then
		diag "sipregd log (last 40 lines):" "$(tail -n 40 "$LOG")"
	fi
	echo "1..$TAP_N"
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$WORK"
}
trap finish EXIT

# ---- waiting, bounded in count ----

# wait_for TRIES COMMAND...: runs COMMAND up to TRIES times, 0.1 s apart.
wait_for() {
	local tries=$1 i=0
	shift
	while [ "$i" -lt "$tries" ]; do
		"$@" >/dev/null 2>&1 && return 0
		i=$((i + 1))
		sleep 0.1
	done
	return 1
}

# wait_gone PID TRIES: waits until PID has exited.
wait_gone() {
	local i=0
	while [ "$i" -lt "$2" ]; do
		kill -0 "$1" 2>/dev/null || return 0
		i=$((i + 1))
		sleep 0.1
	done
	return 1
}

# ---- addresses ----

# random_addr: a random address in 127.0.0.0/8 (not 127.0.0.1).
random_addr() {
	echo "127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
}

random_port() {
	echo $((RANDOM % 30000 + 20000))
}

# ---- sipregd ----

SIP_ADDR=""
SIP_PORT=""
SOCK="$WORK/ctl.sock"
CONF="$WORK/sipregd.conf"
DB="$WORK/sipreg.db"
PID=""
LOG="$WORK/sipregd.log" # sipregd's output (a test of two nodes switches it)

# write_conf [EXTRA_SECTION_TEXT]: the config for SIP_ADDR:SIP_PORT.
write_conf() {
	# LOG_LEVEL=default leaves the level to sipregd.
	local LOG_LEVEL_LINE="level = ${LOG_LEVEL:-info}"
	[ "${LOG_LEVEL:-}" != default ] || LOG_LEVEL_LINE="# level: sipregd's default"
	cat >"$CONF" <<CONF_EOF
# written by the end-to-end test
[sip]
listen = $SIP_ADDR:$SIP_PORT
realm = ${REALM:-sipreg}
${SIP_EXTRA:-}

[store]
path = $DB

[ctl]
socket = $SOCK

[log]
${LOG_LEVEL_LINE}

[registrar]
min_expires = ${MIN_EXPIRES:-60}
cucm_max_expires = ${CUCM_MAX_EXPIRES:-120}
device_contacts = ${DEVICE_CONTACTS:-1}

[calls]
ring_timeout = ${RING_TIMEOUT:-60}
line_calls = ${LINE_CALLS:-2}

[security]
ban_failures = ${BAN_FAILURES:-10}
ban_window = 60
ban_time = 600
${CONF_EXTRA:-}
CONF_EOF
}

# start_sipregd: starts sipregd in the foreground on a free random address
# (a few attempts), waits until its control socket answers. Keeps the
# address of an earlier start, so a restart comes back on the same one.
start_sipregd() {
	local attempt=0 fresh=0
	[ -n "$SIP_ADDR" ] || fresh=1
	while [ "$attempt" -lt 5 ]; do
		attempt=$((attempt + 1))
		if [ "$fresh" -eq 1 ]; then
			SIP_ADDR=$(random_addr)
			SIP_PORT=$(random_port)
		fi
		write_conf
		"$SIPREGD" -f -c "$CONF" >>"$LOG" 2>&1 &
		PID=$!
		DAEMON_PIDS="$DAEMON_PIDS $PID"
		local i=0
		while [ "$i" -lt 100 ]; do
			if ! kill -0 "$PID" 2>/dev/null; then
				break
			fi
			if "$SIPREGCTL" -s "$SOCK" status >/dev/null 2>&1; then
				return 0
			fi
			i=$((i + 1))
			sleep 0.1
		done
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
		[ "$fresh" -eq 1 ] || break
	done
	diag "sipregd did not start" "$(tail -n 20 "$LOG")"
	return 1
}

# stop_sipregd [SIGNAL]: stops it and checks it left within 10 s with
# status 0 and no sanitizer report.
stop_sipregd() {
	local sig=${1:-TERM} rc=0
	kill "-$sig" "$PID" 2>/dev/null || return 1
	if ! wait_gone "$PID" 100; then
		diag "sipregd still running 10 s after SIG$sig"
		return 1
	fi
	wait "$PID" || rc=$?
	if [ "$rc" -ne 0 ]; then
		diag "sipregd exited with status $rc"
		return 1
	fi
	sanitizer_clean
}

sanitizer_clean() {
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$LOG"
}

ctl() {
	"$SIPREGCTL" -s "$SOCK" "$@"
}

# sipp_opts: SIPp options for a client on its own random loopback port.
sipp_opts() {
	echo "$SIP_ADDR:$SIP_PORT -i 127.0.0.1 -p $(random_port) -timeout 20s -timeout_error -nostdin -nd"
}

# log_has TEXT: sipregd's log holds TEXT, waited for (up to 5 s): sipregd may
# write a line just after the answer the test has already read.
log_has() {
	wait_for 50 grep -qF -- "$1" "$LOG"
}

# json_get PATH < JSON: prints one value ("a.b.0.c") with python.
json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

# phone ARGS...: the scripted phone (tests/e2e/sipclient.py) against sipregd.
phone() {
	python3 "$E2E_DIR/sipclient.py" --server "$SIP_ADDR:$SIP_PORT" "$@"
}

# reg_json: the registrations as JSON.
reg_json() {
	ctl reg list --json
}

# bound DN [CONTACT_PART]: DN has a binding (whose contact holds CONTACT_PART).
bound() {
	reg_json | python3 -c '
import json, sys
dn, part = sys.argv[1], sys.argv[2]
sys.exit(0 if any(r["dn"] == dn and part in r["contact"] for r in json.load(sys.stdin)) else 1)
' "$1" "${2:-}"
}

# ---- Kamailio as the upstream provider (tests/e2e/kamailio/provider.cfg) ----

KAM_PID=""
KAM_N=0
# kam_restart CFG [KAMAILIO_OPTIONS]: (re)starts Kamailio from CFG (stopping
# the one started before) and waits until it answers on KAM_ADDR:KAM_PORT;
# KAM_LOG is its log.
kam_restart() {
	local cfg=$1
	shift
	if [ -n "$KAM_PID" ]; then
		kill "$KAM_PID" 2>/dev/null
		wait_gone "$KAM_PID" 100
		wait "$KAM_PID" 2>/dev/null
	fi
	KAM_N=$((KAM_N + 1))
	KAM_LOG="$WORK/kamailio-$KAM_N.log"
	mkdir -p "$WORK/kamrun"
	kamailio -f "$cfg" "$@" -DD -E -n 1 -Y "$WORK/kamrun" -w "$WORK/kamrun" >"$KAM_LOG" 2>&1 &
	KAM_PID=$!
	OTHER_PIDS="$OTHER_PIDS $KAM_PID"
	wait_for 100 sh -c "python3 '$E2E_DIR/sipclient.py' --server '$KAM_ADDR:$KAM_PORT' \
		--dn probe --expires 0 --timeout 0.5"
}

# ---- scripted phones (phone.py) ----

# add_phone USER PASSWORD DEVICE MODEL DN: a user, its device and a line
# whose display name is the user's name.
add_phone() {
	printf '%s\n' "$2" | ctl user add "$1" --password-stdin --weak >/dev/null &&
		ctl device add "$3" --model "$4" --digest-user "$1" >/dev/null &&
		ctl line add "$3" "$5" --display "$1" >/dev/null
}

# dev NAME ARGS...: a scripted phone (phone.py) in the background, serving until
# dev_stop NAME; its log is $WORK/NAME.log. Waits until it has registered.
dev() {
	local name=$1
	shift
	rm -f "$WORK/$name.stop" "$WORK/$name.log"
	rm -f "$WORK/$name.ctl"
	python3 "$E2E_DIR/phone.py" --server "$SIP_ADDR:$SIP_PORT" --log "$WORK/$name.log" \
		--until "$WORK/$name.stop" --control "$WORK/$name.ctl" "$@" >"$WORK/$name.out" 2>&1 &
	eval "PID_$name=$!"
	OTHER_PIDS="$OTHER_PIDS $!"
	wait_for 100 grep -q REGISTERED "$WORK/$name.log"
}
dev_stop() {
	touch "$WORK/$1.stop"
	local pid
	eval "pid=\$PID_$1"
	wait "$pid"
}
# dev_do NAME ACTION...: the phone runs these actions (phone.py --control); waits
# until it has taken them.
dev_do() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$WORK/$name.ctl.new" && mv "$WORK/$name.ctl.new" "$WORK/$name.ctl" &&
		wait_for 100 test ! -e "$WORK/$name.ctl"
}
# dev_has NAME TEXT: the phone's log holds TEXT (fixed string), waited for.
dev_has() {
	wait_for 100 grep -qF -- "$2" "$WORK/$1.log"
}
# dev_line NAME PATTERN TEXT: a log line matching PATTERN (regex) also holds TEXT.
dev_line() {
	wait_for 100 sh -c "grep -E -- '$2' '$WORK/$1.log' | grep -qF -- '$3'"
}

# ---- SIPp phones ----

SIPP_DIR="$E2E_DIR/sipp"

# as_caller DN USER PASSWORD: the injection file for the SIPp caller on line DN.
as_caller() {
	printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$1" "$2" "$3" \
		>"$WORK/caller.csv"
}

# uas SCENARIO COUNT: a SIPp phone on a random port, in the background; UAS_PID, UAS_PORT.
# Each gets a port no earlier one of this test had: two SIPp phones may share a
# UDP port (SO_REUSEADDR), and one of them would then never hear its calls.
UAS_PORTS=" "
uas() {
	local i=0
	UAS_PORT=$(random_port)
	while [ "${UAS_PORTS#* $UAS_PORT }" != "$UAS_PORTS" ] && [ "$i" -lt 20 ]; do
		UAS_PORT=$(random_port)
		i=$((i + 1))
	done
	UAS_PORTS="$UAS_PORTS$UAS_PORT "
	sipp -sf "$SIPP_DIR/$1" -i 127.0.0.1 -p "$UAS_PORT" -m "$2" -timeout 30s -timeout_error \
		-nostdin -nd -trace_err -error_file "$WORK/uas.err" >/dev/null 2>&1 &
	UAS_PID=$!
}

# uas_done: the background SIPp phone ended well.
uas_done() {
	local i=0
	while kill -0 "$UAS_PID" 2>/dev/null && [ "$i" -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$UAS_PID"
}

# caller SCENARIO DN [sipp options]: a SIPp call to DN (SIPp's own digest uri, sip:HOST:PORT).
caller() {
	local sf=$1
	[ "${sf#/}" != "$sf" ] || sf="$SIPP_DIR/$sf"
	sipp $(sipp_opts) -sf "$sf" -s "$2" -inf "$WORK/caller.csv" "${@:3}"
}

# refused STATUS: call-refused.xml expecting STATUS after the INVITE with credentials.
refused() {
	sed "s/@STATUS@/$1/" "$SIPP_DIR/call-refused.xml" >"$WORK/refused-$1.xml"
	echo "$WORK/refused-$1.xml"
}
