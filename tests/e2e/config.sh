#!/bin/bash
# Configuration checking and command-line usage of sipregd and sipregctl.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

SIP_ADDR=$(random_addr)
SIP_PORT=$(random_port)
write_conf

expect_exit 0 "--check-config accepts a good file" "$SIPREGD" --check-config -c "$CONF"
check "--check-config opens no database" test ! -e "$DB"
expect_exit 0 "--check-config accepts the embedded defaults" "$SIPREGD" --check-config
expect_exit 0 "the documented etc/sipregd.conf is valid" "$SIPREGD" --check-config -c "$SRCDIR/etc/sipregd.conf"

bad() {
	local line=$1 text=$2 want=$3
	printf '%b' "$text" >"$WORK/bad.conf"
	expect_exit 1 "bad config ($want) exits non-zero" "$SIPREGD" --check-config -c "$WORK/bad.conf"
	check "bad config ($want) names file:line" last_has "$WORK/bad.conf:$line: "
	check "bad config ($want) says what is wrong" last_has "$want"
}
bad 3 '[sip]\nrealm = a\nlisten_on = 127.0.0.1:5060\n' "unknown key 'listen_on'"
bad 2 '[log]\nlevel = loud\n' "not a log level"
bad 4 '# c\n[sip]\n\nlisten = 127.0.0.1:99999\n' "not an address:port"
bad 1 '[nosuch]\n' "unknown section"
bad 2 '[sip]\nthis line is wrong\n' "expected '[section]'"
bad 3 '[security]\nban_time = 10\nban_time = 20\n' "already set on line 2"

expect_exit 1 "a missing config file is an error" "$SIPREGD" -f -c "$WORK/none.conf"
check "the missing file is named" last_has "$WORK/none.conf"
expect_exit 2 "an unknown sipregd option prints usage and exits 2" "$SIPREGD" --bogus
check "the usage is printed" last_has "usage: sipregd"
expect_exit 2 "a stray sipregd argument exits 2" "$SIPREGD" extra
expect_exit 2 "-c without a file exits 2" "$SIPREGD" -c

# A port already taken: sipregd says so and exits non-zero.
start_sipregd || exit 1
OTHER="$WORK/other"
mkdir "$OTHER"
sed -e "s#$DB#$OTHER/db#" -e "s#$SOCK#$OTHER/sock#" "$CONF" >"$OTHER/conf"
expect_exit 1 "a second sipregd on a taken port exits 1" "$SIPREGD" -f -c "$OTHER/conf"
check "it says it cannot listen" last_has "cannot listen on $SIP_ADDR:$SIP_PORT"
sed -e "s#$DB#$OTHER/db#" -e "s#listen = .*#listen = $(random_addr):$(random_port)#" "$CONF" >"$OTHER/conf2"
expect_exit 1 "a second sipregd on a live control socket exits 1" "$SIPREGD" -f -c "$OTHER/conf2"
check "it names the socket in use" last_has "already serves control socket"
check "sipregd stops on SIGTERM" stop_sipregd

# sipregctl: usage errors exit 2, an absent daemon exits 3.
expect_exit 2 "sipregctl with no command exits 2" "$SIPREGCTL" -s "$SOCK"
check "and prints usage" last_has "usage: sipregctl"
expect_exit 2 "an unknown command exits 2" ctl frobnicate
expect_exit 2 "a missing argument exits 2" ctl user del
expect_exit 2 "an extra argument exits 2" ctl user del a b
expect_exit 2 "an unknown option exits 2" ctl device add x --colour red
expect_exit 2 "a required option missing exits 2" ctl device add x --model cisco-7940
expect_exit 2 "a bad --index exits 2" ctl line add dev 100 --index zero
expect_exit 2 "a bad --auth exits 2" ctl device set dev --auth maybe
expect_exit 2 "trace with a bad word exits 2" ctl trace maybe
expect_exit 0 "--help exits 0" ctl --help
expect_exit 3 "no daemon: exit 3" ctl status
check "no daemon: said plainly" last_has "sipregd is not running"
