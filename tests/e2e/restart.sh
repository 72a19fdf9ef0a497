#!/bin/bash
# A restart keeps every user, device and line; the key file and realm
# handling survive it too.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

start_sipregd || exit 1
n=0
while [ "$n" -lt 20 ]; do
	printf 'pw-%d\n' "$n" | ctl user add "user$n" --password-stdin --weak >/dev/null || not_ok "user add user$n"
	ctl device add "phone$n" --model cisco-7962 --digest-user "user$n" >/dev/null || not_ok "device add phone$n"
	ctl line add "phone$n" "$((3000 + n))" --display "User $n" >/dev/null || not_ok "line add $((3000 + n))"
	ctl line add "phone$n" "$((4000 + n))" --index 6 --label "Side $n" >/dev/null || not_ok "line add $((4000 + n))"
	n=$((n + 1))
done
ok "20 users, 20 devices and 40 lines added"

snapshot() {
	{
		ctl user list --json | python3 -c 'import json,sys; print(json.dumps([(u["name"], u["device"]) for u in json.load(sys.stdin)]))'
		ctl device list --json
		ctl line list --json
	} >"$1"
}
snapshot "$WORK/before"
ha1_before=$(sqlite3 "file:$DB?mode=ro" "SELECT ha1_md5 FROM user WHERE name = 'user7'")
check "sipregd stops on SIGTERM" stop_sipregd
check "the database passes an integrity check" sh -c "test \"\$(sqlite3 '$DB' 'PRAGMA integrity_check')\" = ok"
check "the key file is mode 0600" test "$(stat -c %a "$DB.key")" = 600

check "sipregd starts again on the same files" start_sipregd
snapshot "$WORK/after"
check "users, devices and lines are the same after the restart" cmp "$WORK/before" "$WORK/after"
check "user7's digest is unchanged" test "$ha1_before" = "$(sqlite3 "file:$DB?mode=ro" "SELECT ha1_md5 FROM user WHERE name = 'user7'")"
check "sipregd stops again" stop_sipregd

# A new realm at start derives every HA1 again from the stored passwords.
REALM=lab.example
check "sipregd starts with another realm" start_sipregd
check "the log says the digests were derived again" log_has "realm changed from 'sipreg' to 'lab.example': digests of 20 users"
want=$(python3 "$E2E_DIR/ha1.py" user7 lab.example pw-7 md5)
check "user7's MD5 HA1 is for the new realm (independent hash)" test "$want" = "$(sqlite3 "file:$DB?mode=ro" "SELECT ha1_md5 FROM user WHERE name = 'user7'")"
want=$(python3 "$E2E_DIR/ha1.py" user7 lab.example pw-7 sha256)
check "user7's SHA-256 HA1 too" test "$want" = "$(sqlite3 "file:$DB?mode=ro" "SELECT ha1_sha256 FROM user WHERE name = 'user7'")"
check "sipregd stops" stop_sipregd

# Without its key file the stored passwords are unreadable: refuse to start.
mv "$DB.key" "$WORK/key.saved"
expect_exit 1 "sipregd refuses to start without the key file" "$SIPREGD" -f -c "$CONF"
check "and says the key file is missing" last_has "is missing"
check "no new key was made" test ! -e "$DB.key"
mv "$WORK/key.saved" "$DB.key"
check "with the key back it starts" start_sipregd
check "and stops" stop_sipregd
