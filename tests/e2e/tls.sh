#!/bin/bash
# SIP over TLS: the lab CA made by sipregctl, the certificate directory
# refused at start when broken, the Cisco trust list read back by an
# independent parser, REGISTER with digest and a call over TLS, the
# registration connection's life, TLS 1.0 refused unless [tls] legacy.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

TLSDIR="$WORK/tls"
SIP_ADDR=$(random_addr)
SIP_PORT=$(random_port)
TLS_PORT=$((SIP_PORT + 1))
CONF_EXTRA="[tls]
dir = $TLSDIR"
start_sipregd || exit 1

# ---- the lab CA ----
check "tls init makes a CA and the certificates" \
	ctl tls init --cn sipreg.test --san "DNS:sipreg.test,IP:$SIP_ADDR" --days 400
for f in agent.pem ca.key sast.pem https.pem; do
	check "$f is a file of mode 0600" test "$(stat -c %a "$TLSDIR/$f")" = 600
done
check "the directory is 0700" test "$(stat -c %a "$TLSDIR")" = 700
check "the SIP certificate verifies against the lab CA" \
	openssl verify -CAfile "$TLSDIR/ca.pem" "$TLSDIR/agent.pem"
check "the SIP key is RSA 2048" sh -c "openssl x509 -in '$TLSDIR/agent.pem' -noout -text | grep -q 'Public-Key: (2048 bit)'"
check "signed with SHA-256" sh -c "openssl x509 -in '$TLSDIR/agent.pem' -noout -text | grep -q 'sha256WithRSAEncryption'"
check "the HTTPS key is EC P-256" sh -c "openssl x509 -in '$TLSDIR/https.pem' -noout -text | grep -q 'NIST CURVE: P-256'"
check "the names asked for are in the certificate" sh -c "openssl x509 -in '$TLSDIR/agent.pem' -noout -ext subjectAltName | grep -q 'IP Address:$SIP_ADDR'"
ctl --json tls show >"$WORK/show.json" 2>&1
check "tls show names each certificate's use, fingerprint and expiry" \
	sh -c "grep -q '\"use\": \"SIP over TLS' '$WORK/show.json' && grep -q '\"sha256\": \"SHA256:' '$WORK/show.json' && grep -Eq '\"days_left\": (399|400),' '$WORK/show.json'"
FP=$(openssl x509 -in "$TLSDIR/agent.pem" -noout -fingerprint -sha256 | cut -d= -f2)
check "its fingerprint is the certificate's" grep -q "SHA256:$FP" "$WORK/show.json"
check "no private key travels through the control socket" \
	sh -c "! grep -q 'PRIVATE' '$WORK/show.json' && ! ctl --json tls itl | grep -q PRIVATE"
expect_exit 1 "a second tls init is refused (the CA exists)" ctl tls init
check "and says what to do" grep -q "tls renew" "$WORK/last.out"
expect_exit 2 "tls init with a bad --days is a usage error" ctl tls init --days x
expect_exit 1 "a bad --san is refused" ctl tls init --force --san "FOO:bar"

# ---- the Cisco trust list ----
check "the test's trust list reader reads a real ITLFile.tlv and verifies it" \
	python3 "$E2E_DIR/itl.py" --verify "$SRCDIR/tests/fixtures/cisco-ITLFile.tlv"
check "tls itl writes the trust list" ctl tls itl --out "$WORK/ITLFile.tlv"
check "read back, its signature is valid against the SAST certificate" \
	python3 "$E2E_DIR/itl.py" --verify "$WORK/ITLFile.tlv"
python3 "$E2E_DIR/itl.py" "$WORK/ITLFile.tlv" >"$WORK/itl.txt" 2>&1
SERIAL=$(openssl x509 -in "$TLSDIR/agent.pem" -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')
SAST=$(openssl x509 -in "$TLSDIR/sast.pem" -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')
check "it holds the SIP certificate with the CCM role" grep -q "record role CCM .*serial 0*$SERIAL " "$WORK/itl.txt"
check "and the SAST certificate that signed it" grep -q "record role SAST .*serial 0*$SAST " "$WORK/itl.txt"
check "SHA-1 header hash by default" grep -q "hash sha1 filename ITLFile.tlv" "$WORK/itl.txt"
check "SHA-512 and a per-device name on request" \
	ctl tls itl --hash sha512 --device SEP001122AABBCC --out "$WORK/dev.tlv"
check "that one verifies too" sh -c "python3 '$E2E_DIR/itl.py' --verify '$WORK/dev.tlv' | grep -q 'hash sha512 filename ITLSEP001122AABBCC.tlv'"
expect_exit 1 "a device name that is not SEP+MAC is refused" ctl tls itl --device '../../x'
expect_exit 2 "an unknown hash is a usage error" ctl tls itl --hash md5

# tls renew: new server certificates, same CA, same SAST key
cp "$TLSDIR/sast.pem" "$WORK/sast.before"
check "tls renew issues new server certificates" ctl tls renew
check "from the same CA" openssl verify -CAfile "$TLSDIR/ca.pem" "$TLSDIR/agent.pem"
check "with the same names" sh -c "openssl x509 -in '$TLSDIR/agent.pem' -noout -ext subjectAltName | grep -q 'IP Address:$SIP_ADDR'"
NEWSERIAL=$(openssl x509 -in "$TLSDIR/agent.pem" -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')
check "a new certificate" test "$NEWSERIAL" != "$SERIAL"
check "the SAST key is kept" cmp -s "$TLSDIR/sast.pem" "$WORK/sast.before"
check "the new trust list lists the new certificate, signed by the same SAST" \
	sh -c "python3 '$E2E_DIR/itl.py' --verify '$TLSDIR/ITLFile.tlv' | grep -q 'record role CCM .*serial 0*$NEWSERIAL '"
check "sipregd stops cleanly" stop_sipregd

# ---- the listener ----
SIP_EXTRA="listen_tls = $SIP_ADDR:$TLS_PORT
tcp_message_timeout = 2
tcp_idle_timeout = 3"
RING_TIMEOUT=5 LINE_CALLS=100
start_sipregd || exit 1
check "status lists the TLS listener" sh -c "'$SIPREGCTL' -s '$SOCK' status | grep -q 'tls $SIP_ADDR:$TLS_PORT'"
check "status shows when the certificates expire" sh -c "'$SIPREGCTL' -s '$SOCK' status | grep -q 'certificates .*expires in'"
add_phone alice alice-secret-1 alice-phone third-party-basic 1001 &&
	add_phone bob bob-secret-22 bob-phone third-party-basic 2001 || not_ok "set-up"
tlsphone() {
	python3 "$E2E_DIR/sipclient.py" --server "$SIP_ADDR:$TLS_PORT" --transport tls "$@"
}
check "REGISTER with digest over TLS (the server's certificate verified)" \
	tlsphone --cafile "$TLSDIR/ca.pem" --dn 1001 --user alice --password alice-secret-1 --expires 600
check "the client closed its connection: the binding is gone" wait_for 100 sh -c "! '$SIPREGCTL' -s '$SOCK' reg list | grep -q 1001"
check "a wrong password over TLS is refused" \
	tlsphone --dn 1001 --user alice --password wrong-secret --expect 401
rm -f "$WORK/held"
tlsphone --dn 1001 --user alice --password alice-secret-1 --hold-until "$WORK/held" >"$WORK/held.out" 2>&1 &
HOLDER=$!
check "a held TLS registration is listed" wait_for 100 bound 1001 "transport=tls"
check "refreshed on the same connection" \
	python3 "$E2E_DIR/regsteps.py" --transport tls --server "$SIP_ADDR:$TLS_PORT" --dn 2001 --user bob --password bob-secret-22 -- +a +a -a
touch "$WORK/held"
wait "$HOLDER"
check "closing the held connection removes its binding" wait_for 100 sh -c "! '$SIPREGCTL' -s '$SOCK' reg list | grep -q 1001"
check "logged with its connection" log_has "connection tls/"

# a call between two phones registered over TLS
dev alice --server "$SIP_ADDR:$TLS_PORT" --transport tls --dn 1001 --user alice --password alice-secret-1 &&
	dev bob --server "$SIP_ADDR:$TLS_PORT" --transport tls --dn 2001 --user bob --password bob-secret-22 ||
	not_ok "TLS phones registered"
check "both TLS phones are registered" sh -c "'$SIPREGCTL' -s '$SOCK' reg list | grep -c tls | grep -qx 2"
dev_do alice "invite:2001"
# The scripted phone has no socket but its TLS connection.
check "the callee got the INVITE over its TLS connection" dev_has bob "RECV INVITE sip:2001@"
check "sent to its TLS contact" log_has ';transport=tls"'
check "the call was answered" dev_has alice "RESULT invite:2001 200"
check "the callee's lock: Authenticated (TLS both ways, no SRTP keys)" \
	dev_line bob '^RECV INVITE' 'security=Authenticated'
check "the caller's too" dev_line alice '^FINAL invite:2001' 'security=Authenticated'
dev_do alice "bye"
check "and hung up" dev_has bob "RECV BYE"
dev_stop alice
dev_stop bob

# ---- SRTP keys cross from TLS to TLS only ----
add_phone carol carol-secret-3 carol-phone third-party-basic 4001 || not_ok "set-up"
KEY=WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
ctl trace on >/dev/null
dev alice --server "$SIP_ADDR:$TLS_PORT" --transport tls --dn 1001 --user alice --password alice-secret-1 --srtp savp &&
	dev bob --server "$SIP_ADDR:$TLS_PORT" --transport tls --dn 2001 --user bob --password bob-secret-22 --srtp savp &&
	dev carol --dn 4001 --user carol --password carol-secret-3 ||
	not_ok "phones registered (two over TLS, one over UDP)"
dev_do alice "invite:2001"
check "TLS to TLS: the callee gets the keys" dev_line bob '^RECV INVITE' "inline:$KEY"
check "its lock: Encrypted" dev_line bob '^RECV INVITE' 'security=Encrypted'
check "the caller's lock: Encrypted, and the answer's keys" \
	sh -c "grep '^FINAL invite:2001 200' '$WORK/alice.log' | grep 'security=Encrypted' | grep -q 'a=crypto'"
dev_do alice "bye"
dev_do alice "invite:4001"
check "keys only (RTP/SAVP) toward a UDP phone: 488" dev_has alice "RESULT invite:4001 488"
check "logged with the reason" log_has "the offer carries SRTP keys only"
check "the UDP phone got nothing" sh -c "! grep -q '^RECV INVITE' '$WORK/carol.log'"
dev_do alice "invite-fallback:4001"
check "with X-cisco-srtp-fallback the call reaches the UDP phone" dev_has carol "RECV INVITE"
check "without the keys" sh -c "grep '^RECV INVITE' '$WORK/carol.log' | grep -v crypto | grep -q 'RTP/AVP 0 8 101'"
check "its lock: NotAuthenticated" dev_line carol '^RECV INVITE' 'security=NotAuthenticated'
check "answered" dev_has alice "RESULT invite:4001 200"
dev_do alice "bye"
dev_do carol "invite:2001"
check "a UDP caller's answer from a TLS phone comes back without keys" \
	sh -c "grep '^FINAL invite:2001 200' '$WORK/carol.log' | grep -v crypto | grep -q 'RTP/AVP'"
dev_do carol "bye"
ctl trace off >/dev/null
check "the trace shows SRTP keys masked" log_has "inline:****"
check "and never the key itself" sh -c "! grep -q '$KEY' '$WORK/sipregd.log'"
dev_stop alice
dev_stop bob
dev_stop carol

# ---- device --transport ----
check "device set --transport tls" ctl device set bob-phone --transport tls
check "device show says so" sh -c "'$SIPREGCTL' -s '$SOCK' device show bob-phone | grep -q 'transport *tls'"
check "that device over UDP is refused (403)" \
	phone --dn 2001 --user bob --password bob-secret-22 --expect 403
check "logged with the reason" log_has "the device may use tls only"
check "over TCP too" phone --transport tcp --dn 2001 --user bob --password bob-secret-22 --expect 403
check "over TLS it registers" tlsphone --dn 2001 --user bob --password bob-secret-22
printf '%s\n' cisco-secret-9 | ctl user add ciscouser --password-stdin >/dev/null
ctl device add SEP00112233CCDD --model cisco-7961 --digest-user ciscouser --transport tls >/dev/null
ctl line add SEP00112233CCDD 3001 >/dev/null
phone --cisco SEP00112233CCDD --dn 3001 --user ciscouser --password cisco-secret-9 --expect 503 \
	--show >"$WORK/cisco.out" 2>&1
check "a Cisco device limited to TLS gets 503 over UDP" grep -q "STATUS 503" "$WORK/cisco.out"
check "with Retry-After (a refusal it would reboot on is not sent)" grep -qi "^Retry-After" "$WORK/cisco.out"
check "a phone on UDP" phone --dn 1001 --user alice --password alice-secret-1 --expires 600
check "device set --transport tls while it is bound over UDP" ctl device set alice-phone --transport tls
check "its UDP binding is gone: nothing goes to it over UDP" wait_for 50 sh -c "! '$SIPREGCTL' -s '$SOCK' reg list | grep -q 1001"
ctl device set alice-phone --transport any >/dev/null
ctl device set bob-phone --transport any >/dev/null

# ---- connections that misbehave: the TCP limits hold for TLS ----
probe() { python3 "$E2E_DIR/tcpprobe.py" --server "$SIP_ADDR:$TLS_PORT" "$@"; }
check "a handshake that never completes: closed" probe hello
check "as an unfinished message" log_has "closed: a message was not complete within [sip] tcp_message_timeout"
check "half a request over TLS, then silence: closed" probe --tls silent
# The handshake is the start of the first message: a TLS connection must
# carry a whole SIP message within tcp_message_timeout of it.
check "a TLS connection that sends nothing after its handshake: closed" probe --tls idle
check "a TCP connection to the TLS port that sends nothing: closed" probe idle
check "the reason: idle without a registration" \
	log_has "closed: no message and no registration within [sip] tcp_idle_timeout"
rm -f "$WORK/deaf.stop"
python3 "$E2E_DIR/sipclient.py" --server "$SIP_ADDR:$TLS_PORT" --transport tls --dn 2001 \
	--user bob --password bob-secret-22 --rcvbuf 4096 --hold-until "$WORK/deaf.stop" \
	>"$WORK/deaf.out" 2>&1 &
DEAF_PID=$!
OTHER_PIDS="$OTHER_PIDS $DEAF_PID"
check "a TLS phone registers, then reads nothing" wait_for 100 bound 2001 transport=tls
as_caller 1001 alice alice-secret-1
check "30 calls to it (10 at once) each end with 480: none hangs" \
	caller "$(refused 480)" 2001 -m 30 -r 10 -l 10 -timeout 120s
check "meanwhile another phone registers over TLS" \
	tlsphone --dn 1001 --user alice --password alice-secret-1
touch "$WORK/deaf.stop"
wait "$DEAF_PID"
check "when the deaf phone goes, its binding goes" wait_for 100 sh -c "! '$SIPREGCTL' -s '$SOCK' reg list | grep -q 2001"

# ---- protocol versions ----
check "TLS 1.0 is refused by default" sh -c "! python3 '$E2E_DIR/sipclient.py' --server '$SIP_ADDR:$TLS_PORT' --transport tls --tls-legacy --dn 1001 --user alice --password alice-secret-1"
check "sipregd stops cleanly" stop_sipregd
CONF_EXTRA="[tls]
dir = $TLSDIR
legacy = yes"
start_sipregd || exit 1
check "[tls] legacy is a warning at start" log_has "[tls] legacy = yes"
check "with legacy = yes a TLS 1.0 phone (security level 0) registers" \
	tlsphone --tls-legacy --dn 1001 --user alice --password alice-secret-1 --expires 600
check "status says legacy TLS is allowed" sh -c "'$SIPREGCTL' -s '$SOCK' status | grep -q legacy"
check "sipregd stops cleanly" stop_sipregd

# ---- certificates that are about to expire ----
start_sipregd || exit 1
check "tls renew --days 10" ctl tls renew --days 10
check "sipregd stops cleanly" stop_sipregd
start_sipregd || exit 1
check "the start warns that a certificate expires within 30 days" log_has "agent.pem: the certificate expires in"
check "status shows it, with what to do" sh -c "'$SIPREGCTL' -s '$SOCK' status | grep -q 'expires in .* days (renew: sipregctl tls renew)'"
check "sipregd stops cleanly" stop_sipregd

# ---- a broken certificate directory refuses the start ----
CONF_EXTRA="[tls]
dir = $TLSDIR"
write_conf
cp -a "$TLSDIR" "$WORK/tls.good"
refuses() { # DESCRIPTION TEXT: --check-config and a start both fail naming the file
	expect_exit 1 "$1: --check-config fails" "$SIPREGD" --check-config -c "$CONF"
	check "$1: the sentence names the file" grep -qF -- "$2" "$WORK/last.out"
	expect_exit 1 "$1: sipregd does not start" "$SIPREGD" -f -c "$CONF"
	check "$1: it says why" grep -qF -- "$2" "$WORK/last.out"
	rm -rf "$TLSDIR" && cp -a "$WORK/tls.good" "$TLSDIR"
}
check "the good directory passes --check-config" "$SIPREGD" --check-config -c "$CONF"
# a key that is not the certificate's
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/other.key" 2>/dev/null
{ cat "$WORK/other.key"; openssl x509 -in "$TLSDIR/agent.pem"; } >"$TLSDIR/agent.pem.new" &&
	mv "$TLSDIR/agent.pem.new" "$TLSDIR/agent.pem" && chmod 600 "$TLSDIR/agent.pem"
refuses "a key of another certificate" "agent.pem: the private key does not match the certificate"
# an expired certificate from the same CA
openssl req -new -key "$WORK/other.key" -subj /CN=expired -out "$WORK/e.csr" 2>/dev/null &&
	openssl x509 -req -in "$WORK/e.csr" -CA "$TLSDIR/ca.pem" -CAkey "$TLSDIR/ca.key" -days -1 \
		-out "$WORK/e.pem" 2>/dev/null &&
	cat "$WORK/other.key" "$WORK/e.pem" >"$TLSDIR/agent.pem"
refuses "an expired certificate" "agent.pem: the certificate expired"
# a chain that does not reach cafile.pem
openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -subj /CN=other-ca -days 30 \
	-out "$TLSDIR/cafile.pem" 2>/dev/null
refuses "a chain sipregd cannot complete" "agent.pem: the certificate's chain does not reach a CA in cafile.pem"
chmod 644 "$TLSDIR/agent.pem"
refuses "a key readable by others" "is readable by others (mode 0644)"
rm -f "$TLSDIR/agent.pem"
refuses "no agent.pem" "tls init"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$WORK/short.key" 2>/dev/null
openssl req -new -key "$WORK/short.key" -subj /CN=short -out "$WORK/s.csr" 2>/dev/null &&
	openssl x509 -req -in "$WORK/s.csr" -CA "$TLSDIR/ca.pem" -CAkey "$TLSDIR/ca.key" -days 30 \
		-out "$WORK/s.pem" 2>/dev/null &&
	cat "$WORK/short.key" "$WORK/s.pem" >"$TLSDIR/agent.pem"
refuses "an RSA key of 1024 bits" "agent.pem holds an RSA key shorter than 2048 bits"
