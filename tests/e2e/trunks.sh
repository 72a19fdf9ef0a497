#!/bin/bash
# Trunks against Kamailio as the upstream provider (tests/e2e/kamailio/provider.cfg),
# once shaped as a FritzBox (realm fritz.box, MD5, no qop) and once as an ITSP
# (SHA-256, qop=auth): the trunk registers with the expected algorithm, a phone
# calls out through it (strip and prepend applied, caller ID from the line's
# DID) and reaches a SIPp callee registered at the provider, a call from the
# provider's side reaches a phone through its DID, a wrong password shows
# failed with its reason and backs off, INVITEs from unknown sources never
# reach the trunk, restricted numbers are refused, and 112 from a device in
# do not disturb, against a blocking route, still reaches the emergency trunk.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

command -v kamailio >/dev/null || {
	echo "1..0 # SKIP kamailio is not installed (scripts/install-deps.sh installs it)"
	exit 77
}
CONF_EXTRA="[trunks]
retry_min = 1
retry_max = 4
keepalive = 2
[dialplan]
emergency = 112 911"
RING_TIMEOUT=10
start_sipregd || exit 1

add_phone alice pw-alice alice-desk third-party-basic 1001 &&
	add_phone bob pw-bob bob-desk third-party-basic 2001
ok "phones set up"

# ---- the provider ----
KAM_ADDR=$(random_addr)
while [ "$KAM_ADDR" = "$SIP_ADDR" ]; do KAM_ADDR=$(random_addr); done
KAM_PORT=$(random_port)

# provider REALM ALG QOP [MAX_EXPIRES]: (re)starts Kamailio with that challenge.
provider() {
	sed -e "s/@ADDR@/$KAM_ADDR/g" -e "s/@PORT@/$KAM_PORT/g" -e "s/@REALM@/$1/g" \
		-e "s/@ALG@/$2/g" -e "s/@QOP@/$3/g" -e "s/@USER@/620/g" \
		-e "s/@PASSWORD@/secret620/g" -e "s/@SIPREG@/$SIP_ADDR/g" -e "s/@MAXEXP@/${4:-3600}/g" \
		"$E2E_DIR/kamailio/provider.cfg" >"$WORK/provider.cfg"
	kam_restart "$WORK/provider.cfg"
}
kam_has() { # TEXT: the provider's log holds TEXT, waited for
	wait_for 100 grep -qF -- "$1" "$KAM_LOG"
}
kam_lacks() { ! grep -qF -- "$1" "$KAM_LOG"; }

trunk_field() { # TRUNK FIELD
	ctl trunk show "$1" --json | json_get "$2"
}
trunk_is() { # TRUNK FIELD VALUE
	[ "$(trunk_field "$1" "$2")" = "$3" ]
}

# A SIPp phone registered at the provider as NUMBER: UAS_PID, UAS_PORT.
outside_callee() { # NUMBER COUNT
	UAS_PORT=$(random_port)
	sipp -sf "$SIPP_DIR/trunk-callee.xml" -i 127.0.0.1 -p "$UAS_PORT" -m "$2" -timeout 30s \
		-timeout_error -nostdin -nd -trace_err -error_file "$WORK/uas.err" >/dev/null 2>&1 &
	UAS_PID=$!
	python3 "$E2E_DIR/sipclient.py" --server "$KAM_ADDR:$KAM_PORT" --dn "$1" \
		--contact-hostport "127.0.0.1:$UAS_PORT" >/dev/null
}
# ======== as a FritzBox: realm fritz.box, MD5, no qop ========
check "Kamailio runs as a FritzBox-like provider" provider fritz.box MD5 0
printf 'secret620\n' | ctl trunk add fritzbox --registrar "$KAM_ADDR:$KAM_PORT" --user 620 \
	--password-stdin --realm fritz.box --did 4930100=1001 --did 4930200=2001 \
	--default-dn 2001 >/dev/null
check "trunk add stores the trunk with its DIDs" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk show fritzbox | grep -q '4930200 -> 2001'"
check "the trunk registers" wait_for 100 trunk_is fritzbox state registered
check "with MD5, as the provider offered" trunk_is fritzbox algorithm MD5
check "the provider authenticated it with MD5 and no qop (FritzBox style)" sh -c \
	"grep -F 'REGISTER of 620 authenticated' '$KAM_LOG' | grep -F 'algorithm=MD5' | grep -vq 'qop='"
check "trunk list shows it registered" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk list | grep -E '^fritzbox .* registered'"
check "trunk show says what the provider saw (received/rport)" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk show fritzbox | grep -E '^seen as +$SIP_ADDR:[0-9]+'"
check "keep-alive OPTIONS reach the provider" kam_has "provider got OPTIONS from $SIP_ADDR"
check "the password is never shown" sh -c \
	"! '$SIPREGCTL' -s '$SOCK' trunk show fritzbox --json | grep -q secret620 && ! grep -q secret620 '$WORK/sipregd.log'"

# ---- outbound, with strip and prepend ----
ctl route add '0.' --trunk fritzbox --strip 1 --prepend 49 >/dev/null
check "route list shows the route" sh -c "'$SIPREGCTL' -s '$SOCK' route list | grep -E '0\\. +fritzbox +1 +49'"
outside_callee 49301234 1
as_caller 1001 alice pw-alice
check "a phone dials 0301234: the call goes out and completes" caller call-uac.xml 0301234 -m 1
check "the callee behind the provider had the whole call" uas_done
check "the provider saw 49301234 (strip 1, prepend 49), caller ID the line's DID 4930100" \
	kam_has "INVITE from the trunk authenticated, from=4930100 to=49301234"

# ---- inbound through a DID ----
UAS_PORT=$(random_port)
sipp -sf "$SIPP_DIR/call-uas.xml" -i 127.0.0.1 -p "$UAS_PORT" -m 1 -timeout 30s -timeout_error \
	-nostdin -nd >/dev/null 2>&1 &
UAS_PID=$!
phone --dn 2001 --user bob --password pw-bob --contact-hostport "127.0.0.1:$UAS_PORT" >/dev/null
check "a call from the provider's side to DID 4930200 completes" \
	sipp "$KAM_ADDR:$KAM_PORT" -i 127.0.0.1 -p "$(random_port)" -sf "$SIPP_DIR/trunk-in.xml" \
	-s 620 -key did 4930200 -m 1 -timeout 20s -timeout_error -nostdin -nd
check "and rang line 2001 (the phone answered it)" uas_done
check "the call record names the outside caller and the trunk" wait_for 100 sh -c \
	"'$SIPREGCTL' -s '$SOCK' cdr list | grep -E '4940777 +2001 .*answered'"

# ---- unknown sources never reach the trunk ----
as_caller 1001 mallory wrong
check "an INVITE from an unknown source to an outside number is refused (407)" \
	caller "$(refused 407)" 0309999 -m 1
check "and never reached the provider" kam_lacks "sip:49309999@"
check "an INVITE from an unknown source to the trunk's DID is challenged, not taken as inbound" \
	caller "$(refused 407)" 4930200 -m 1

# ---- restricted numbers ----
as_caller 1001 alice pw-alice
check "an international number is refused (403) by a route that does not allow it" \
	caller "$(refused 403)" 000441234 -m 1
check "and never reached the provider" kam_lacks "sip:00441234@"
check "the refusal is in the call records" wait_for 100 sh -c \
	"'$SIPREGCTL' -s '$SOCK' cdr list | grep -E '000441234 .*restricted'"
ctl route add '00.' --trunk fritzbox --allow-restricted --priority 10 >/dev/null
check "a route that allows it lets it through (the provider has no such callee: 404)" \
	caller "$(refused 404)" 00441234 -m 1
check "the provider saw it unchanged" kam_has "to=00441234"

# ---- emergency: DND on the caller's device, a route that blocks 11X ----
ctl line set 1001 --dnd on >/dev/null
ctl route add '11X' --block --priority 1 >/dev/null
check "the blocking route blocks 110 (403)" caller "$(refused 403)" 110 -m 1
outside_callee 112 1
check "112 from the device in DND, against the blocking route, reaches the provider" \
	caller call-uac.xml 112 -m 1
check "the emergency callee had the call" uas_done
check "with the caller's DID" kam_has "from=4930100 to=112"
ctl line set 1001 --dnd off >/dev/null

# ---- a wrong password: failed with the reason, retried with back-off ----
ctl trunk del fritzbox >/dev/null
printf 'wrong\n' | ctl trunk add badpw --registrar "$KAM_ADDR:$KAM_PORT" --user 620 \
	--password-stdin --realm fritz.box >/dev/null
check "a wrong password: the trunk shows failed" wait_for 100 trunk_is badpw state failed
check "with the reason" sh -c "'$SIPREGCTL' -s '$SOCK' trunk show badpw | grep -q 'wrong user or password'"
check "and retries, the wait doubling up to retry_max (1, 2, 4 s)" \
	wait_for 150 trunk_is badpw retry_interval 4
check "trunk list shows the failure and when it tries next" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk list | grep -E '^badpw .* failed .*wrong user or password'"
check "each attempt is logged" log_has "trunk badpw: registration failed"
check "trunk set with the right password: it registers" sh -c \
	"printf 'secret620\\n' | '$SIPREGCTL' -s '$SOCK' trunk set badpw --password-stdin"
check "registered now" wait_for 100 trunk_is badpw state registered
check "its other settings stayed" trunk_is badpw realm fritz.box
check "trunk set --realm off clears the realm" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk set badpw --realm off && '$SIPREGCTL' -s '$SOCK' trunk show badpw | grep -E '^realm +-$'"
expect_exit 2 "trunk set with nothing to change is a usage error (exit 2)" ctl trunk set badpw
expect_exit 1 "trunk set of an unknown trunk is refused (exit 1)" ctl trunk set nope --expires 600
ctl trunk del badpw >/dev/null

# ---- 403: stopped, with the reason, not retried ----
printf 'x\n' | ctl trunk add barred --registrar "$KAM_ADDR:$KAM_PORT" --user barred \
	--password-stdin >/dev/null
check "a 403 answer stops the trunk" wait_for 100 trunk_is barred state stopped
check "trunk show says why" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk show barred | grep -q '403 Account Barred: the registrar refuses this account; not retried'"
check "and no next attempt is planned" trunk_is barred next_attempt None
ctl trunk del barred >/dev/null

# ======== as an ITSP: SHA-256 with qop=auth ========
check "Kamailio runs as an ITSP challenging with SHA-256, granting 20 s" \
	provider itsp.example SHA-256 1 20
# The registrar's name leads nowhere; everything goes through the outbound proxy.
printf 'secret620\n' | ctl trunk add itsp --registrar 127.0.0.3:5060 --proxy "$KAM_ADDR:$KAM_PORT" \
	--user 620 --password-stdin --did 4930100=1001 --emergency yes >/dev/null
ctl route add '0.' --trunk itsp --strip 1 --prepend 49 >/dev/null
check "the trunk registers" wait_for 100 trunk_is itsp state registered
check "with SHA-256" trunk_is itsp algorithm SHA-256
check "the provider authenticated it with SHA-256 and qop=auth" sh -c \
	"grep -F 'REGISTER of 620 authenticated' '$KAM_LOG' | grep -F 'algorithm=SHA-256' | grep -q 'qop=auth'"
check "the trunk took the 20 s the provider granted" trunk_is itsp granted 20
# refreshed N: the provider has seen N authenticated REGISTERs of the trunk.
refreshed() { [ "$(grep -cF 'REGISTER of 620 authenticated' "$KAM_LOG")" -ge "$1" ]; }
check "and registers again before they run out" wait_for 250 refreshed 2
check "still registered" trunk_is itsp state registered
outside_callee 49301234 1
check "a call out through the ITSP completes (its INVITE challenge answered with SHA-256)" \
	caller call-uac.xml 0301234 -m 1
check "the callee behind the ITSP had the whole call" uas_done
check "the REGISTER and the INVITE went through the outbound proxy to the registrar's name" sh -c \
	"grep -F 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG' | grep -q 'ruri=sip:127.0.0.3:5060' &&
	 grep -F 'provider got INVITE from $SIP_ADDR' '$KAM_LOG' | grep -q 'ruri=sip:49301234@127.0.0.3:5060'"
check "the trunk is recognised by its proxy's address as well" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk show itsp | grep -E '^addresses +127.0.0.3, $KAM_ADDR'"

# ---- a trunk trusted by its address only (no registration) ----
printf 'secret620\n' | ctl trunk add gw --registrar "$KAM_ADDR:$KAM_PORT" --register no \
	--user 620 --password-stdin >/dev/null
ctl route add '8.' --trunk gw --strip 1 >/dev/null
check "an address-only trunk shows as such" trunk_is gw state address-only
check "a call through it goes out, its challenge answered (the provider has no such callee: 404)" \
	caller "$(refused 404)" 8555 -m 1
check "the provider saw it" kam_has "INVITE from the trunk authenticated, from=620 to=555"
ctl trunk del gw >/dev/null

# ---- administration ----
expect_exit 1 "trunk add of an existing name is refused (exit 1)" \
	ctl trunk add itsp --registrar "$KAM_ADDR:$KAM_PORT" --user 620
expect_exit 1 "a bad registrar is refused (exit 1)" ctl trunk add x --registrar 'a b' --user 1
expect_exit 2 "trunk add without --registrar is a usage error (exit 2)" ctl trunk add x --user 1
expect_exit 2 "route add without --trunk or --block is a usage error (exit 2)" ctl route add 0.
expect_exit 1 "a bad pattern is refused (exit 1)" ctl route add 'a.' --block
expect_exit 1 "a route to an unknown trunk is refused (exit 1)" ctl route add 9. --trunk nope
ROUTE_ID=$(ctl route list --json | json_get 0.id)
check "route del removes a route" ctl route del "$ROUTE_ID"
expect_exit 1 "route del of an unknown route is refused (exit 1)" ctl route del 99999
check "trunk del removes the trunk and its routes" sh -c \
	"'$SIPREGCTL' -s '$SOCK' trunk del itsp && [ \"\$('$SIPREGCTL' -s '$SOCK' trunk list --json)\" = '[]' ] && ! '$SIPREGCTL' -s '$SOCK' route list | grep -q itsp"
check "its registration is withdrawn upstream (REGISTER with Expires 0)" \
	kam_has "provider got REGISTER from $SIP_ADDR"
check "authenticated" sh -c "grep -F 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG' | grep -q 'expires=0'"

check "sipregd stops cleanly" stop_sipregd

# ---- behind NAT: [sip] advertise in the Contact; a trunk over TCP ----
CONF_EXTRA="$CONF_EXTRA
[sip]
advertise = 198.51.100.7:5999"
check "sipregd starts again with [sip] advertise" start_sipregd
printf 'secret620\n' | ctl trunk add nat --registrar "$KAM_ADDR:$KAM_PORT" --user 620 \
	--password-stdin --transport tcp >/dev/null
check "a trunk over TCP registers" wait_for 100 trunk_is nat state registered
check "over TCP, with the advertised address in its Contact" sh -c \
	"grep -F 'provider got REGISTER from $SIP_ADDR' '$KAM_LOG' | grep -F 'proto=tcp' | grep -q '@198.51.100.7:5999;transport=tcp'"
check "sipregd stops cleanly (the trunk unregisters on the way out)" stop_sipregd
check "the unregistration reached the provider" wait_for 50 sh -c \
	"grep -F 'proto=tcp' '$KAM_LOG' | grep -q 'expires=0'"
