#!/bin/bash
# sipregctl manages users, devices and lines: results, refusals, --json,
# and secrets kept out of every answer and the log.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

start_sipregd || exit 1

PW_ALICE='Alice-Secret-Pw-1'
PW_BOB='Bob-Secret-Pw-2'
check "socket is mode 0660" test "$(stat -c %a "$SOCK")" = 660

add_user() {
	printf '%s\n' "$2" | ctl user add "$1" --password-stdin --weak
}
check "user add alice" add_user alice "$PW_ALICE"
check "user add bob" add_user bob "$PW_BOB"
check "user add carol" add_user carol 'carol pw'
expect_exit 1 "user add alice again is refused" add_user alice x
check "with a clear sentence" last_has "user alice already exists"
expect_exit 1 "a user name with a colon is refused" add_user 'a:b' x
expect_exit 1 "an empty password is refused" add_user dave ''
expect_exit 2 "no terminal and no --password-stdin: usage" sh -c "setsid '$SIPREGCTL' -s '$SOCK' user add dave </dev/null"
expect_exit 1 "a name sipregd would refuse is refused before any password is asked for" \
	sh -c "setsid '$SIPREGCTL' -s '$SOCK' user add 'bad name' </dev/null"
check "with sipregd's own words" last_has "user name must be 1 to 64 letters"

# Without --password-stdin the password is asked twice on the terminal.
prompt_add() {
	python3 - "$SIPREGCTL" "$SOCK" "$1" "$2" "$3" <<'PY'
import os, pty, sys, time
ctl, sock, user, first, second = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(ctl, [ctl, "-s", sock, "user", "add", user])
out = b""
answers = [first, second]
deadline = time.time() + 10
while time.time() < deadline:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if answers and out.rstrip().endswith(b":"):
        os.write(fd, answers.pop(0).encode() + b"\n")
        out += b"<answered>"
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}
expect_exit 0 "user add prompts for the password twice" prompt_add erin 'erin pw 1' 'erin pw 1'
check "the prompts name the user" last_has "Password for erin:"
check "the password is not echoed" sh -c "! grep -q 'erin pw 1' '$WORK/last.out'"
expect_exit 1 "two different answers are refused" prompt_add frank 'one' 'two'
check "saying they differ" last_has "the passwords differ"
check "erin's HA1 matches the prompted password" sh -c \
	"test \"\$(python3 '$E2E_DIR/ha1.py' erin sipreg 'erin pw 1' md5)\" = \"\$(sqlite3 'file:$DB?mode=ro' \"SELECT ha1_md5 FROM user WHERE name = 'erin'\")\""

check "device add (SEP name in lower case)" \
	ctl device add sep001122334455 --model cisco-7941 --digest-user alice
check "the name is stored in upper case" sh -c "'$SIPREGCTL' -s '$SOCK' device show SEP001122334455 | grep -q SEP001122334455"
expect_exit 1 "another device with alice's digest user is refused" \
	ctl device add SEP00AABBCCDDEE --model cisco-7960 --digest-user alice
check "saying who has it" last_has "digest user alice is already assigned to device SEP001122334455"
expect_exit 1 "an unknown model is refused" ctl device add desk --model cisco-1234 --digest-user bob
check "naming the model" last_has "unknown model 'cisco-1234'"
expect_exit 1 "an unknown digest user is refused" ctl device add desk --model cisco-7960 --digest-user zed
check "naming the user" last_has "no user zed"
check "device add desk (7960, identify)" \
	ctl device add desk --model cisco-7960 --digest-user bob --auth identify
expect_exit 1 "set desk to alice is refused" ctl device set desk --digest-user alice
check "device set desk --auth verify" ctl device set desk --auth verify

check "line add 1001 (index 1 by default)" ctl line add SEP001122334455 1001 --display "Alice Doe" --label "Alice"
check "line add 1002 takes index 2" sh -c "'$SIPREGCTL' -s '$SOCK' line add SEP001122334455 1002 | grep -q 'line 2 of device'"
expect_exit 1 "a third line on a 7941 is refused" ctl line add SEP001122334455 1003
check "saying the model has 2 lines" last_has "model cisco-7941 has 2 lines"
expect_exit 1 "index 7 on a 7960 is refused" ctl line add desk 2007 --index 7
check "saying the index is beyond the model" last_has "line index 7 is beyond the 6 lines of model cisco-7960"
expect_exit 1 "a DN in use is refused" ctl line add desk 1001
check "saying where it is" last_has "DN 1001 is already line 1 of device SEP001122334455"
check "line add desk 2003 at index 3" ctl line add desk 2003 --index 3
expect_exit 1 "index 3 again is refused" ctl line add desk 2004 --index 3
expect_exit 1 "shrinking desk to a 7940 with line 3 is refused" ctl device set desk --model cisco-7940
check "saying which line is in the way" last_has "has a line at index 3"
expect_exit 1 "deleting alice while her device exists is refused" ctl user del alice
check "saying which device uses her" last_has "digest user of device SEP001122334455"
expect_exit 1 "line show of an unknown DN" ctl line show 9999
check "says no line" last_has "no line with DN 9999"
expect_exit 1 "device show of an unknown device" ctl device show ghost
expect_exit 1 "deleting an unknown device" ctl device del ghost

# Listings, in text and JSON.
listing_json() {
	ctl "$@" --json >"$WORK/out.json" && python3 -m json.tool "$WORK/out.json" >/dev/null
}
for what in "user list" "device list" "line list" "reg list" "device models" "status" "config"; do
	# shellcheck disable=SC2086
	check "$what --json is valid JSON" listing_json $what
	# shellcheck disable=SC2086
	check "$what prints" ctl $what
done
json_is() {
	test "$(ctl "${@:3}" --json | json_get "$1")" = "$2"
}
check "device list --json: the 7941's model" json_is 0.model cisco-7941 device list
check "device show --json: line 2 is 1002" json_is lines.1.dn 1002 device show SEP001122334455
check "line show --json: display name" json_is display "Alice Doe" line show 1001
check "line list --json: 3 lines" sh -c "test \$('$SIPREGCTL' -s '$SOCK' line list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 3"
check "user list --json: alice's device" json_is 0.device SEP001122334455 user list
check "status --json: 4 users" json_is counts.users 4 status
check "status --json: 2 devices" json_is counts.devices 2 status
check "device models lists the 7861 with 16 lines" sh -c "'$SIPREGCTL' -s '$SOCK' device models | grep -Eq '^cisco-7861 +16 '"

# The password policy: 8 characters at least, not the user's or its device's name.
strict_add() { printf '%s\n' "$2" | ctl user add "$1" --password-stdin; }
strict_passwd() { printf '%s\n' "$2" | ctl user passwd "$1" --password-stdin; }
expect_exit 1 "a password under 8 characters is refused" strict_add gus 'short7!'
check "saying why and how to allow it" last_has "shorter than 8 characters (--weak allows it)"
expect_exit 1 "a password equal to the user name is refused" strict_add gustavus GUSTAVUS
check "saying so" last_has "the password is the user's name"
expect_exit 1 "a password equal to the user's device name is refused" strict_passwd alice sep001122334455
check "naming the device" last_has "the name of the user's device SEP001122334455"
check "8 characters and more pass" strict_add gus 'eight ch'
check "--weak allows a short one" sh -c "echo 'pw' | '$SIPREGCTL' -s '$SOCK' user add hal --password-stdin --weak"
check "and the log says so" log_has "user hal: a weak password accepted as asked"

# Password change keeps the user; the HA1 follows the new password.
check "user passwd carol" sh -c "echo 'carol new pw' | '$SIPREGCTL' -s '$SOCK' user passwd carol --password-stdin"
expect_exit 1 "user passwd of an unknown user" sh -c "echo x | '$SIPREGCTL' -s '$SOCK' user passwd nobody --password-stdin"
ha1_matches() {
	local want got
	want=$(python3 "$E2E_DIR/ha1.py" "$1" sipreg "$2" "$3")
	got=$(sqlite3 "file:$DB?mode=ro" "SELECT $4 FROM user WHERE name = '$1'")
	test "$want" = "$got"
}
check "carol's MD5 HA1 matches the new password (independent hash)" ha1_matches carol 'carol new pw' md5 ha1_md5
check "carol's SHA-256 HA1 matches (independent hash)" ha1_matches carol 'carol new pw' sha256 ha1_sha256

# Secrets never leave sipregd.
no_secret() {
	! grep -rqF -e "$PW_ALICE" -e "$PW_BOB" -e 'carol new pw' "$WORK"/*.json "$WORK/sipregd.log" "$WORK/check.out" "$WORK/last.out"
}
for what in "user list" "device show SEP001122334455" "status" "config"; do
	# shellcheck disable=SC2086
	ctl $what --json >>"$WORK/all.json"
done
check "no password in any listing or in the log" no_secret
check "no password in the database in clear" sh -c "! grep -qF -e '$PW_ALICE' '$DB' '$DB-wal' 2>/dev/null"

# Bad control requests get an error and leave sipregd serving.
raw_ctl() {
	python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.recv(65536).decode())
PY
}
bad_ctl() {
	raw_ctl "$1" | grep -q '"ok": *false'
}
check "not JSON: refused" bad_ctl 'hello'
check "no cmd: refused" bad_ctl '{"args":{}}'
check "unknown cmd: refused" bad_ctl '{"cmd":"drop.tables"}'
check "wrong argument type: refused" bad_ctl '{"cmd":"user.del","args":{"name":5}}'
check "args not an object: refused" bad_ctl '{"cmd":"user.list","args":[1]}'
check "a bad index: refused" bad_ctl '{"cmd":"line.add","args":{"device":"desk","dn":"5","index":"x"}}'
check "sipregd still answers" ctl status

# Deleting.
check "line del 1002" ctl line del 1002
expect_exit 1 "line del 1002 again" ctl line del 1002
check "device del desk (with its lines)" ctl device del desk
check "desk's line 2003 is gone" sh -c "! '$SIPREGCTL' -s '$SOCK' line show 2003"
check "user del bob (now free)" ctl user del bob

check "sipregd stops cleanly" stop_sipregd
