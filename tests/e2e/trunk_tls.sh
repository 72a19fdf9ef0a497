#!/bin/bash
# A trunk over TLS to Kamailio (kamailio-tls-modules) with its certificate
# from a test CA: it registers with the provider's chain and host name
# verified against [tls] trunk_ca, and a call goes out over it; with a
# certificate for another host name, or from another CA, it does not, and
# `trunk test` and `trunk list` say why.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

KAM_MODULES=/usr/lib/x86_64-linux-gnu/kamailio/modules
if ! command -v kamailio >/dev/null || [ ! -e "$KAM_MODULES/tls.so" ]; then
	echo "1..0 # SKIP kamailio with its TLS module is not installed (scripts/install-deps.sh installs them)"
	exit 0
fi

# ---- a test CA and the provider's certificates ----
PKI="$WORK/pki"
mkdir -p "$PKI"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 30 \
	-subj "/CN=provider test CA" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/rogue-ca.key" -out "$PKI/rogue-ca.pem" \
	-days 30 -subj "/CN=rogue CA" 2>/dev/null
cert() { # NAME HOST CA: NAME.key and NAME.pem for HOST, issued by CA
	openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$1.key" -subj "/CN=$2" \
		-out "$PKI/$1.csr" 2>/dev/null &&
		printf 'subjectAltName=DNS:%s\n' "$2" >"$PKI/$1.ext" &&
		openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.pem" -CAkey "$PKI/$3.key" \
			-CAcreateserial -days 30 -extfile "$PKI/$1.ext" -out "$PKI/$1.pem" 2>/dev/null
}
check "a test CA issues the provider's certificate (provider.test)" cert good provider.test ca
check "and one for another name (other.test)" cert other other.test ca
check "another CA issues one for provider.test" cert rogue provider.test rogue-ca

# ---- names: provider.test is the provider's address, for sipregd's resolver ----
KAM_ADDR=$(random_addr)
SIP_ADDR=$(random_addr)
SIP_PORT=$(random_port)
DNS_PORT=$(random_port)
printf '{"provider.test": [{"type": "A", "ttl": 60, "value": "%s"}]}\n' "$KAM_ADDR" >"$WORK/zone.json"
python3 "$E2E_DIR/dnsserver.py" 127.0.0.1 "$DNS_PORT" "$WORK/zone.json" "$WORK/dns.log" &
OTHER_PIDS="$OTHER_PIDS $!"
check "the test's DNS server runs" wait_for 100 grep -q ready "$WORK/dns.log"
printf 'nameserver 127.0.0.1\nport %s\n' "$DNS_PORT" >"$WORK/resolv.conf"

# ---- the provider ----
KAM_PORT=$(random_port)
KAM_TLS=$((KAM_PORT + 1))
provider() { # CERT: (re)starts Kamailio presenting CERT over TLS
	cat >"$WORK/kamtls.cfg" <<TLS_EOF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $PKI/$1.key
certificate = $PKI/$1.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
TLS_EOF
	sed -e "s/@ADDR@/$KAM_ADDR/g" -e "s/@PORT@/$KAM_PORT/g" -e "s/@REALM@/provider.test/g" \
		-e "s/@ALG@/MD5/g" -e "s/@QOP@/1/g" -e "s/@USER@/620/g" \
		-e "s/@PASSWORD@/secret620/g" -e "s/@SIPREG@/$SIP_ADDR/g" -e "s/@MAXEXP@/3600/g" \
		-e "s/@TLSPORT@/$KAM_TLS/g" -e "s#@TLSCFG@#$WORK/kamtls.cfg#g" \
		"$E2E_DIR/kamailio/provider.cfg" >"$WORK/provider.cfg"
	kam_restart "$WORK/provider.cfg" -A WITH_TLS
}
kam_has() { wait_for 100 grep -qF -- "$1" "$KAM_LOG"; }
trunk_field() { ctl trunk show "$1" --json | json_get "$2"; }
trunk_is() { [ "$(trunk_field "$1" "$2")" = "$3" ]; }

check "Kamailio listens over TLS with the provider.test certificate" provider good

# sofia-sip leaks a little on each TLS connection whose peer presents a
# certificate (tests/e2e/lsan-sofia.supp): suppressed by its function, which
# takes whole stacks to see.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$E2E_DIR/lsan-sofia.supp"
SIP_EXTRA="resolv_conf = $WORK/resolv.conf"
CONF_EXTRA="[tls]
dir = $WORK/tls
trunk_ca = $PKI/ca.pem
[trunks]
retry_min = 1
retry_max = 2"
start_sipregd || exit 1
add_phone alice pw-alice-1 alice-phone third-party-basic 1001 || not_ok "set-up"
check "the TLS transport toward trunks leaves no file behind" sh -c "! test -e '$WORK/tls/trunk'"

printf 'secret620\n' | ctl trunk add prov --registrar "provider.test:$KAM_TLS" --transport tls \
	--user 620 --password-stdin --realm provider.test --did 5550100=1001 >/dev/null
check "a TLS trunk registers, the provider verified" wait_for 150 trunk_is prov state registered
check "the provider got the REGISTER over TLS" kam_has "provider got REGISTER from $SIP_ADDR"
check "over TLS" sh -c "grep 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG' | grep -q 'proto=tls'"
check "its contact names TLS" sh -c "grep 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG' | grep -q 'transport=tls'"
check "trunk test says the certificate is good" \
	sh -c "'$SIPREGCTL' -s '$SOCK' trunk test prov | grep -q 'verified: provider.test'"

# an outbound call over the TLS trunk
ctl route add '0.' --trunk prov --strip 1 >/dev/null
UAS_PORT=$(random_port)
sipp -sf "$E2E_DIR/sipp/trunk-callee.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1 -timeout 30s \
	-timeout_error -nostdin -nd >/dev/null 2>&1 &
UAS_PID=$!
python3 "$E2E_DIR/sipclient.py" --server "$KAM_ADDR:$KAM_PORT" --dn 301234 \
	--contact-hostport "127.0.0.1:$UAS_PORT" >/dev/null
as_caller 1001 alice pw-alice-1
check "a phone's call goes out over the TLS trunk and completes" caller call-uac.xml 0301234 -m 1
check "the callee behind the provider had the whole call" uas_done
check "the provider took the INVITE over TLS" sh -c \
	"grep 'provider got INVITE from $SIP_ADDR' '$KAM_LOG' | grep -q 'proto=tls'"

# ---- a certificate for another name ----
check "Kamailio restarted with the other.test certificate" provider other
ctl trunk set prov --expires 120 >/dev/null # registers anew
check "the trunk does not register" wait_for 150 sh -c \
	"[ \"\$('$SIPREGCTL' -s '$SOCK' trunk show prov --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = failed ]"
check "no REGISTER reached the provider" sh -c "! grep -q 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG'"
ctl trunk test prov >"$WORK/test.out" 2>&1
check "trunk test says: name mismatch" grep -q "name mismatch: the certificate is for CN=other.test" "$WORK/test.out"
check "and exits 1" sh -c "! '$SIPREGCTL' -s '$SOCK' trunk test prov >/dev/null"
check "trunk list shows the last check" sh -c "'$SIPREGCTL' -s '$SOCK' trunk list | grep -q 'name mismatch'"

# ---- a certificate from another CA ----
check "Kamailio restarted with a certificate from another CA" provider rogue
check "trunk test says: unknown issuer" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk test prov | grep -q 'unknown issuer'"
check "the trunk still does not register" sh -c "! grep -q 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG'"
expect_exit 1 "trunk test of a trunk that is not TLS is refused" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk add plain --registrar 127.0.0.9 --register no >/dev/null; '$SIPREGCTL' -s '$SOCK' trunk test plain"
check "sipregd stops cleanly" stop_sipregd
