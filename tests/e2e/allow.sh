#!/bin/bash
# [sip] allow: requests from outside the ranges get no answer (UDP) or
# their connection closed at the first message (TCP, TLS, after the
# handshake); phones inside register; a trunk's provider is always let in.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

SIP_ADDR=$(random_addr)
SIP_PORT=$(random_port)
TLS_PORT=$((SIP_PORT + 1))
INSIDE=127.0.0.50
OUTSIDE=127.0.0.61
PROVIDER=127.0.0.70
CONF_EXTRA="[tls]
dir = $WORK/tls"
start_sipregd || exit 1
ctl tls init --cn allow.test >/dev/null || not_ok "tls init"
check "sipregd stops cleanly" stop_sipregd
SIP_EXTRA="listen_tls = $SIP_ADDR:$TLS_PORT
allow = $INSIDE/31, ::1"
start_sipregd || exit 1
add_phone alice alice-secret-1 alice-phone third-party-basic 1001 || not_ok "set-up"
check "a provider's trunk" ctl trunk add prov --registrar "$PROVIDER" --register no --did 5550100=1001

check "a phone inside the ranges registers over UDP" \
	phone --local "$INSIDE" --dn 1001 --user alice --password alice-secret-1
check "and over TLS" phone --server "$SIP_ADDR:$TLS_PORT" --transport tls --local "$INSIDE" \
	--dn 1001 --user alice --password alice-secret-1
check "a phone outside gets no answer over UDP" \
	phone --local "$OUTSIDE" --dn 1001 --user alice --password alice-secret-1 --timeout 1 --expect 0
check "the refusal is logged once, with the address" log_has "a request from $OUTSIDE is outside [sip] allow"
check "over TCP its connection is closed at its first message" sh -c \
	"python3 '$E2E_DIR/tcpprobe.py' --local $OUTSIDE --server $SIP_ADDR:$SIP_PORT once | grep -qx 'closed after 0 s'"
check "over TLS too, once the handshake is done" sh -c \
	"python3 '$E2E_DIR/tcpprobe.py' --tls --local $OUTSIDE --server $SIP_ADDR:$TLS_PORT once | grep -qx 'closed after 0 s'"
check "status counts the requests refused" sh -c \
	"'$SIPREGCTL' -s '$SOCK' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"sip\"][\"not_allowed\"] >= 3 else 1)'"
check "status prints them" sh -c "'$SIPREGCTL' -s '$SOCK' status | grep -q 'not allowed'"
# The provider is outside the ranges: its requests are answered all the same.
cat >"$WORK/options.txt" <<MSG
OPTIONS sip:$SIP_ADDR:$SIP_PORT SIP/2.0
Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bKallow1
From: <sip:p@{lhost}>;tag=1
To: <sip:$SIP_ADDR>
Call-ID: allow-1@{lhost}
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

MSG
check "a trunk's provider outside the ranges is answered" sh -c \
	"SIPRAW_LOCAL=$PROVIDER python3 '$E2E_DIR/sipraw.py' udp $SIP_ADDR $SIP_PORT '$WORK/options.txt' | grep -q 'SIP/2.0 200'"
check "another address outside is not" sh -c \
	"SIPRAW_LOCAL=$OUTSIDE python3 '$E2E_DIR/sipraw.py' udp $SIP_ADDR $SIP_PORT '$WORK/options.txt' 1 | grep -q 'NO ANSWER'"
check "sipregd stops cleanly" stop_sipregd
