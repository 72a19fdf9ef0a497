#!/bin/bash
# Crash safety: sipregd killed with SIGKILL in the middle of registrations,
# calls and administrators' changes, then started again. Every acknowledged
# change is there; a binding or a call record can be lost only when it was
# acknowledged within the write-behind interval before the kill (the figure
# is printed; a margin of 2 s is allowed); the database is intact.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

LINE_CALLS=100
start_sipregd || exit 1
python3 "$SRCDIR/bench/provision.py" "$SOCK" 2000 100000 >/dev/null &&
	add_phone alice pw-alice-1 alice-desk third-party-basic 1001 &&
	add_phone bob pw-bob-22 bob-desk third-party-basic 2001 ||
	not_ok "set-up"
ok "2,000 phones and two more set up"
users_csv() { # FIRST N: SIPp's injection file for users uFIRST.. (provision.py's)
	echo SEQUENTIAL
	seq "$1" $(($1 + $2 - 1)) | awk '{ print $1 ";[authentication username=u" $1 " password=p" $1 "]" }'
}
register() { # FIRST N RATE LOG: SIPp registers N phones
	users_csv "$1" "$2" >"$WORK/users-$1.csv"
	sipp $(sipp_opts) -sf "$SRCDIR/bench/register.xml" -inf "$WORK/users-$1.csv" -m "$2" -r "$3" \
		-trace_msg -message_file "$4"
}
calls_ended() { ctl cdr list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# ---- before the kill: 1,000 registrations and 30 calls, all finished ----
check "1,000 phones register" register 100000 1000 500 "$WORK/reg-a.log"
uas call-uas.xml 30
check "the callee registers" phone --dn 2001 --user bob --password pw-bob-22 \
	--contact-hostport "127.0.0.1:$UAS_PORT"
as_caller 1001 alice pw-alice-1
check "30 calls complete" caller call-uac.xml 2001 -m 30 -r 15
check "and the callee saw them end" uas_done
records_30() { [ "$(calls_ended)" -ge 30 ]; }
check "their records are written" wait_for 100 records_30 ||
	diag "records: $(calls_ended); calls ended in the log: $(grep -c ' ended: ' "$WORK/sipregd.log")"

# ---- the kill, under load ----
: >"$WORK/acked-users"
admin_loop() { # user.add until killed; each acknowledged name is recorded
	local i=0
	while [ "$i" -lt 2000 ]; do
		printf 'admin-pw-%s\n' "$i" | ctl user add "w$i" --password-stdin --weak >/dev/null &&
			echo "w$i" >>"$WORK/acked-users"
		i=$((i + 1))
	done
}
admin_loop &
ADMIN_PID=$!
OTHER_PIDS="$OTHER_PIDS $ADMIN_PID"
users_csv 101000 1000 >"$WORK/users-b.csv"
sipp $(sipp_opts) -sf "$SRCDIR/bench/register.xml" -inf "$WORK/users-b.csv" -m 1000 -r 200 \
	-trace_msg -message_file "$WORK/reg-b.log" >/dev/null 2>&1 &
REG_PID=$!
OTHER_PIDS="$OTHER_PIDS $REG_PID"
uas call-uas.xml 100000
phone --dn 2001 --user bob --password pw-bob-22 --contact-hostport "127.0.0.1:$UAS_PORT" \
	>/dev/null
caller call-uac.xml 2001 -m 100000 -r 20 >/dev/null 2>&1 &
CALL_PID=$!
OTHER_PIDS="$OTHER_PIDS $CALL_PID $UAS_PID"
acked_b() { python3 "$E2E_DIR/acked.py" "$WORK/reg-b.log" | wc -l; }
check "under load: registrations, calls and changes under way" \
	wait_for 300 sh -c "[ \$(python3 '$E2E_DIR/acked.py' '$WORK/reg-b.log' | wc -l) -ge 300 ] &&
		[ \$(wc -l <'$WORK/acked-users') -ge 20 ]"
KILLED_AT=$(date +%s.%N)
kill -KILL "$PID"
wait "$PID" 2>/dev/null
kill "$ADMIN_PID" "$REG_PID" "$CALL_PID" "$UAS_PID" 2>/dev/null
wait "$ADMIN_PID" "$REG_PID" "$CALL_PID" "$UAS_PID" 2>/dev/null
diag "killed with $(wc -l <"$WORK/acked-users") user additions and $(acked_b) new registrations acknowledged"

check "the database is intact after the kill (PRAGMA integrity_check)" \
	test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
check "sipregd starts again" start_sipregd

ctl user list --json >"$WORK/users.json"
missing_users() {
	python3 -c '
import json, sys
have = {u["name"] for u in json.load(open(sys.argv[1]))}
print(sum(1 for n in open(sys.argv[2]).read().split() if n not in have))
' "$WORK/users.json" "$WORK/acked-users"
}
check "every acknowledged user addition is there ($(wc -l <"$WORK/acked-users"))" \
	test "$(missing_users)" = 0

reg_json >"$WORK/regs.json"
# lost FILE [BEFORE]: acknowledged registrations (before BEFORE) without a binding now.
lost() {
	python3 "$E2E_DIR/acked.py" "$1" ${2:+"$2"} | python3 -c '
import json, sys
have = {r["dn"] for r in json.load(open(sys.argv[1]))}
print(sum(1 for line in sys.stdin if line.split()[0] not in have))
' "$WORK/regs.json"
}
check "all 1,000 registrations from before the load are there" test "$(lost "$WORK/reg-a.log")" = 0
margin=$(python3 -c "print($KILLED_AT - 2)")
check "every registration acknowledged over 2 s before the kill is there" \
	test "$(lost "$WORK/reg-b.log" "$margin")" = 0
diag "bindings lost: $(lost "$WORK/reg-b.log") of $(acked_b) acknowledged under load" \
	"(write-behind interval 100 ms; $(python3 "$E2E_DIR/acked.py" "$WORK/reg-b.log" | awk -v k="$KILLED_AT" '$2 > k - 0.2' | wc -l) were acknowledged in the last 200 ms;" \
	"lost among those acknowledged earlier: $(lost "$WORK/reg-b.log" "$(python3 -c "print($KILLED_AT - 0.2)")"))"
check "the 30 calls ended before the load have their records" test "$(calls_ended)" -ge 30
diag "call records after the restart: $(calls_ended)"
check "sipregd stops cleanly" stop_sipregd
