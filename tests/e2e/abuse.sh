#!/bin/bash
# What attackers and broken clients do to a SIP server, end to end: a 1 MB
# body, 2,000 idle TCP connections at once, a phone that reads nothing while
# calls are sent to it, and sipvicious (svmap, svwar, svcrack) as it is used.
# Functional assertions: sipregd survives, keeps serving other phones, keeps
# its memory bounded, gives nothing away.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

BAN_FAILURES=5 RING_TIMEOUT=3 LINE_CALLS=500
SIP_EXTRA="tcp_idle_timeout = 4
tcp_message_timeout = 4"
start_sipregd || exit 1

add_phone alice alice-secret-1 desk third-party-basic 1001 &&
	add_phone bob bob-secret-22 deaf third-party-basic 2001 &&
	add_phone carol carol-secret-3 desk3 third-party-basic 3001 ||
	not_ok "set-up"
ok "users, devices and lines set up"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
# within KB: sipregd's resident memory grew by less than KB since BASE_RSS.
within() { [ $(($(rss) - BASE_RSS)) -lt "$1" ]; }
serves() { # a UDP phone still registers, and a TCP one
	phone --dn 3001 --user carol --password carol-secret-3 --local "$(random_addr)" >/dev/null &&
		phone --transport tcp --dn 3001 --user carol --password carol-secret-3 \
			--local "$(random_addr)" --expires 0 >/dev/null
}
abuse() { python3 "$E2E_DIR/abuse.py" --server "$SIP_ADDR:$SIP_PORT" "$@"; }

check "a phone registers before the abuse" serves
BASE_RSS=$(rss)
diag "sipregd's resident memory: $BASE_RSS kB"

# ---- a 1 MB body over TCP ----
out=$(abuse bigbody 1048576)
diag "1 MB body: $out"
check "a REGISTER with a 1 MB body gets 413 (or is cut off), not taken in" \
	sh -c "echo '$out' | grep -qE '^(answered 413|closed after)'"
check "and sipregd serves phones afterwards" serves
check "its memory grew by less than 16 MB" within 16384
out=$(for i in 1 2 3 4 5; do abuse bigbody 1048576; done)
check "five more: the memory does not add up (under 16 MB still)" within 16384

# ---- 2,000 idle connections at once ----
rm -f "$WORK/idle.stop"
abuse idle 2000 --base "127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))" \
	--hold-until "$WORK/idle.stop" >"$WORK/idle.out" 2>&1 &
IDLE_PID=$!
OTHER_PIDS="$OTHER_PIDS $IDLE_PID"
check "2,000 connections are opened at once" wait_for 300 grep -q "^open" "$WORK/idle.out"
diag "$(head -n 1 "$WORK/idle.out"); sipregd: $(rss) kB, $(ls "/proc/$PID/fd" | wc -l) descriptors"
check "meanwhile a UDP and a TCP phone register" serves
check "sipregd holds them in less than 96 MB" within 98304
# Idle connections go after tcp_idle_timeout (4 s): await the descriptors.
fds() { ls "/proc/$PID/fd" | wc -l; }
few_fds() { [ "$(fds)" -lt 100 ]; }
check "sipregd closes every idle connection (tcp_idle_timeout)" wait_for 600 few_fds
touch "$WORK/idle.stop"
wait "$IDLE_PID"
diag "$(tail -n 1 "$WORK/idle.out")"
check "the clients saw all 2,000 closed" grep -q "^closed 2000 of 2000" "$WORK/idle.out"

# ---- a phone that reads nothing while calls are sent to it ----
rm -f "$WORK/deaf.stop"
phone --transport tcp --dn 2001 --user bob --password bob-secret-22 --local "$(random_addr)" \
	--rcvbuf 4096 --hold-until "$WORK/deaf.stop" >"$WORK/deaf.out" 2>&1 &
DEAF_PID=$!
OTHER_PIDS="$OTHER_PIDS $DEAF_PID"
check "a TCP phone registers, then reads nothing" wait_for 100 bound 2001 transport=tcp
as_caller 1001 alice alice-secret-1
check "100 calls to it (20 at once) each end with 480: none hangs" \
	caller "$(refused 480)" 2001 -m 100 -r 20 -l 20 -timeout 120s
check "meanwhile another phone registers" serves
check "sipregd's memory stays bounded (under 96 MB more than at the start)" within 98304
touch "$WORK/deaf.stop"
wait "$DEAF_PID"
check "when the deaf phone goes, its binding goes" wait_for 100 sh -c "! bound 2001"

# ---- sipvicious, as attackers run it ----
export HOME="$WORK" # sipvicious keeps its sessions there
SCAN=$(random_addr)
out=$(timeout 60 svmap -b "$SCAN" -p "$SIP_PORT" "$SIP_ADDR" 2>&1)
diag "svmap: $(echo "$out" | grep -F "$SIP_ADDR" | head -n 1)"
check "svmap finds the server (it answers OPTIONS) and nothing breaks" \
	sh -c "echo '$out' | grep -qF '$SIP_ADDR:$SIP_PORT'"
# svwar gives up when an unknown extension is challenged like a known one;
# --force makes it go on (and compare the answers).
# svwar prints a table row "| EXTENSION | ..." for every extension it finds.
found_none() { ! grep -qE '^\| *[0-9]+ +\|' "$1"; }
for m in REGISTER INVITE OPTIONS; do
	for force in "" --force; do
		timeout 120 svwar -b "$SCAN" -p "$SIP_PORT" -m "$m" $force \
			-e 1000-1010,2000-2010,3000-3010 "$SIP_ADDR" >"$WORK/svwar.out" 2>&1
		diag "svwar -m $m $force: $(grep -vE "^ERROR:TakeASip:Response" "$WORK/svwar.out" |
			tr '\n' ' ' | cut -c 1-240)"
		check "svwar -m $m $force finds no extension (known and unknown answered alike)" \
			found_none "$WORK/svwar.out"
	done
done
CRACK=$(random_addr)
seq 1 30 | sed 's/^/wrong-/' >"$WORK/dict"
echo "alice-secret-1" >>"$WORK/dict"
timeout 120 svcrack -b "$CRACK" -p "$SIP_PORT" -u alice -e 1001 -d "$WORK/dict" \
	--maximumtime=10 "$SIP_ADDR" >"$WORK/svcrack.out" 2>&1
diag "svcrack: $(tr '\n' ' ' <"$WORK/svcrack.out" | cut -c 1-200)"
check "svcrack does not find alice's password (the 31st it would try)" \
	sh -c "! grep -qF alice-secret-1 '$WORK/svcrack.out'"
# svcrack sends from where its socket is bound (with -b or not): the address banned.
banned_cracker() {
	ctl ban list | grep -E '^address' | grep -qF 'REGISTER wrong credentials: user "alice"'
}
check "its source address is banned after 5 failures" banned_cracker
check "alice herself still registers from her own address" \
	phone --dn 1001 --user alice --password alice-secret-1 --local "$(random_addr)"

check "sipregd stops cleanly" stop_sipregd
