#!/bin/bash
# Log forgery, swept: requests of every method whose every field (display
# names, users, Request-URI, Call-ID, User-Agent, Contact parameters, Reason,
# Refer-To, Event, the digest fields, the SDP) carries a forged log line, in
# plain text and percent-encoded behind a line break, before and after
# authentication. Every line sipregd writes keeps them inside quotes, escaped;
# fail2ban finds only the true source. (tests/lint/logq.py checks the code
# side: every message field in a log call goes through LOGQ().)
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

BAN_FAILURES=100000 LOG_LEVEL=debug
start_sipregd || exit 1
add_phone alice alice-secret-1 desk third-party-basic 1001 || not_ok "set-up"
ok "a user, a device and a line set up"

# With every message traced too: a traced header is a log line's text.
check "trace on" ctl trace on
FAKE=198.51.100.99
SRC=$(random_addr)
for marker in "x\" source=$FAKE:5060 user=\"y" \
	"2026-12-03 00:00:00.000 sipregd[1] warning registrar: auth failure: source=$FAKE:5060 user=\"z\" dn=\"1\" reason=wrong credentials" \
	"a\\\" source=$FAKE:5060 \\\\ %0a %00 "$'\xc3\xa9 \x7f \x01'; do
	out=$(python3 "$E2E_DIR/forgery.py" --server "$SIP_ADDR:$SIP_PORT" --local "$SRC" --marker "$marker")
	diag "marker $(printf '%q' "$marker" | cut -c 1-60): $out"
	check "sipregd answers the forged requests ($out)" \
		sh -c "echo '$out' | awk '{ exit !(\$1 > 0 && \$1 * 10 >= \$3 * 8) }'"
done
check "the forged requests reached the log (debug level)" grep -qF "$FAKE" "$WORK/sipregd.log"
# A traced message (tag "sofia:", indented) is the message's text, not fields.
check "no log line but a traced message has the forged source outside escaped quotes" \
	sh -c "! grep -v '] notice sofia:    ' '$WORK/sipregd.log' | grep -E '(^|[^\\\\])\" source=$FAKE'"
check "no log line starts with the forged date" sh -c "! grep -q '^2026-12-03 00:00:00' '$WORK/sipregd.log'"
check "no log line holds a control character" \
	sh -c "! LC_ALL=C grep -qP '[\\x00-\\x08\\x0b-\\x1f\\x7f]' '$WORK/sipregd.log'"
f2b_ips() {
	fail2ban-regex -o ip "$WORK/sipregd.log" "$SRCDIR/etc/fail2ban/filter.d/sipreg.conf" |
		sort -u | tr '\n' ' '
}
ips=$(f2b_ips)
diag "fail2ban-regex -o ip: $ips"
check "fail2ban-regex finds the true source, never the forged one" \
	sh -c "echo '$ips' | grep -qF '$SRC' && ! echo '$ips' | grep -qF '$FAKE'"
check "sipregd stops cleanly" stop_sipregd
