#!/bin/bash
# RFC 4475 torture messages (and a few of sipregd's own) over UDP and TCP:
# each gets the answer torture/expect states, and sipregd keeps answering.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

start_sipregd || exit 1
DIR="$E2E_DIR/torture"

answers() { # answers udp|tcp NAME WANT
	local got
	got=$(python3 "$E2E_DIR/torture.py" "$1" "$SIP_ADDR" "$SIP_PORT" "$DIR/$2.dat") || return 1
	echo "got $got, want $3"
	[ "$got" = "$3" ]
}

listed=0
while read -r name udp tcp why; do
	case "$name" in '' | '#'*) continue ;; esac
	listed=$((listed + 1))
	check "$name over UDP: $udp${why:+ ($why)}" answers udp "$name" "$udp"
	check "$name over TCP: $tcp" answers tcp "$name" "$tcp"
done <"$DIR/expect"
check "every message has an expectation" test "$listed" -eq "$(ls "$DIR"/*.dat | wc -l)"

# The 420 says what is not supported.
cat >"$WORK/msg" <<'MSG'
OPTIONS sip:probe@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bK-req-1;rport
From: <sip:a@127.0.0.1>;tag=1
To: <sip:probe@127.0.0.1>
Call-ID: require-1@test
CSeq: 1 OPTIONS
Max-Forwards: 70
Require: timer, foo, bar
Content-Length: 0

MSG
unsupported_named() {
	python3 - "$SIP_ADDR" "$SIP_PORT" "$WORK/msg" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.bind(("127.0.0.1", 0))
h, p = s.getsockname()
m = open(sys.argv[3]).read().replace("{lhost}", h).replace("{lport}", str(p))
s.sendto(m.replace("\n", "\r\n").encode(), (sys.argv[1], int(sys.argv[2])))
d = s.recv(65535).decode()
print(d)
sys.exit(0 if d.startswith("SIP/2.0 420") and "\r\nUnsupported: foo, bar\r\n" in d else 1)
PY
}
check "420 names the unsupported tags (Unsupported: foo, bar)" unsupported_named
check "OPTIONS lists the supported tags" sh -c \
	"sipsak -s sip:probe@$SIP_ADDR -r $SIP_PORT -vv 2>&1 | grep -q 'Supported: replaces, norefersub, 100rel, timer'"
check "sipregd still answers" sh -c "sipsak -s sip:probe@$SIP_ADDR -r $SIP_PORT -vv 2>&1 | grep -q 'SIP/2.0 200 OK'"
check "sipregd stops cleanly" stop_sipregd
