#!/bin/bash
# Trunk hosts resolved by sipregd on the SIP thread (sip/hosts.c) against a DNS
# server of the test's own (tests/e2e/dnsserver.py, named in [sip]
# resolv_conf): NAPTR leads to SRV, SRV to a target whose address counts as
# the trunk's, as does the name's own A record; an INVITE from the SRV
# target's address is taken as the provider's call to a DID; a new answer is
# taken when the old one's TTL runs out; a name that does not resolve is
# logged and refuses nobody's administration; a resolv_conf that cannot be
# read stops sipregd at start.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

DNS_PORT=$(random_port)
TARGET=$(random_addr)
NAME_ADDR=$(random_addr)
MOVED=$(random_addr)
ZONE="$WORK/zone.json"
DNS_LOG="$WORK/dns.log"
zone() { # SRV_TARGET_ADDRESS
	cat >"$ZONE.tmp" <<ZONE_EOF
{"provider.test": [{"type": "NAPTR", "ttl": 60, "flags": "s", "services": "SIP+D2U",
                    "replacement": "_sip._udp.provider.test"},
                   {"type": "A", "ttl": 60, "value": "$NAME_ADDR"}],
 "_sip._udp.provider.test": [{"type": "SRV", "ttl": 60, "port": 5060,
                              "target": "sip1.provider.test"}],
 "sip1.provider.test": [{"type": "A", "ttl": 1, "value": "$1"}]}
ZONE_EOF
	mv "$ZONE.tmp" "$ZONE"
}
zone "$TARGET"
python3 "$E2E_DIR/dnsserver.py" 127.0.0.1 "$DNS_PORT" "$ZONE" "$DNS_LOG" &
OTHER_PIDS="$OTHER_PIDS $!"
check "the test's DNS server runs" wait_for 100 grep -q ready "$DNS_LOG"
printf 'nameserver 127.0.0.1\nport %s\n' "$DNS_PORT" >"$WORK/resolv.conf"

CONF_EXTRA="[trunks]
retry_min = 1"
SIP_EXTRA="resolv_conf = $WORK/resolv.conf"
start_sipregd || exit 1
check "the configuration names the resolver's file" sh -c \
	"'$SIPREGCTL' -s '$SOCK' config --json | grep -q 'resolv.conf'"

add_phone bob pw-bob bob-desk third-party-basic 2001
ok "a phone set up"
ctl trunk add prov --registrar provider.test --register no --user 620 --did 4930200=2001 \
	>/dev/null </dev/null
addresses() { ctl trunk show "$1" --json | json_get addresses; }
has_address() { addresses "$1" | grep -qF "\"$2\""; }
check "trunk show lists the SRV target's address (NAPTR -> SRV -> A)" wait_for 100 has_address prov "$TARGET"
check "and the name's own address" has_address prov "$NAME_ADDR"
check "the resolver asked NAPTR, SRV and A" sh -c \
	"grep -q '^NAPTR provider.test' '$DNS_LOG' && grep -q '^SRV _sip._udp.provider.test' '$DNS_LOG' &&
	 grep -q '^A sip1.provider.test' '$DNS_LOG'"
check "the log names the addresses" log_has "trunk prov: host provider.test is"

# ---- a call from the SRV target's address is the provider's ----
uas call-uas.xml 1
phone --dn 2001 --user bob --password pw-bob --contact-hostport "127.0.0.1:$UAS_PORT" >/dev/null
check "an INVITE from the SRV target to DID 4930200 is taken as inbound and completes" \
	sipp "$SIP_ADDR:$SIP_PORT" -i "$TARGET" -p "$(random_port)" -sf "$SIPP_DIR/trunk-in.xml" \
	-s 620 -key did 4930200 -m 1 -timeout 20s -timeout_error -nostdin -nd
check "and rang line 2001 (the phone answered it)" uas_done
OUTSIDER=$(random_addr)
check "the same INVITE from an address of no trunk is challenged (407)" \
	sipp "$SIP_ADDR:$SIP_PORT" -i "$OUTSIDER" -p "$(random_port)" -sf "$SIPP_DIR/trunk-in-challenged.xml" \
	-s 620 -key did 4930200 -m 1 -timeout 20s -timeout_error -nostdin -nd

# ---- a new answer after the TTL ----
zone "$MOVED"
check "when the target's TTL runs out, its new address replaces the old" \
	wait_for 300 sh -c "ctl() { '$SIPREGCTL' -s '$SOCK' \"\$@\"; };
		ctl trunk show prov --json | grep -qF '$MOVED' && ! ctl trunk show prov --json | grep -qF '$TARGET'"

# ---- names that do not resolve ----
ctl trunk add ghost --registrar nowhere.test --register no --user 1 >/dev/null </dev/null
check "a name with no answer is logged" log_has "trunk ghost: host nowhere.test does not resolve"
check "and has no addresses" sh -c "[ \"\$('$SIPREGCTL' -s '$SOCK' trunk show ghost --json |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"addresses\"]))')\" = 0 ]"
check "a numeric host is its own address at once" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk add lit --registrar 192.0.2.44:5070 --register no --user 1 </dev/null >/dev/null &&
	 '$SIPREGCTL' -s '$SOCK' trunk show lit --json | grep -qF '192.0.2.44'"
check "sipregd stops cleanly" stop_sipregd

# ---- a resolv_conf that cannot be read ----
SIP_EXTRA="resolv_conf = $WORK/no-such-resolv.conf"
write_conf
expect_exit 1 "a resolv_conf that cannot be read stops sipregd at start (exit 1)" \
	"$SIPREGD" -f -c "$CONF"
check "naming the file" sh -c "'$SIPREGD' -f -c '$CONF' 2>&1 | grep -qF 'no-such-resolv.conf cannot be read'"
