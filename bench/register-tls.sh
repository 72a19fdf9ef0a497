#!/bin/bash
# Registration benchmark over TLS (bench/register.sh --tls): sipregd's TLS
# listener and Kamailio's TLS module, driven alike by SIPp over TCP through
# stunnel (Debian's SIPp has no TLS), each server on core 0 within the same
# CPU share (SERVER_CPU percent), SIPp and stunnel on core 1. Two measures:
#   persistent: one connection, every registration (REGISTER, 401, REGISTER
#     with digest, 200) and its refreshes on it: registrations per second
#     and CPU per registration at the highest rate held
#   new connections: one TLS connection per registration (SIPp -t tn):
#     new TLS connections (handshake and registration) per second
# Both servers use the same RSA 2048 certificate (sipregd's lab CA).
#
# usage: bench/register.sh --tls [USERS] [SECONDS_PER_STEP]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
USERS=${1:-2000}
STEP=${2:-8}
RATES=${RATES:-"500 1000 1500 2000 2500 3000 3500 4000 5000 6000 7000 8000 9000 10000 12000 14000"}
CONN_RATES=${CONN_RATES:-"50 100 200 300 400 500 600 800 1000 1200 1500"}
SERVER_CPU=${SERVER_CPU:-40}
UNIT=registration

. "$top/bench/lib.sh"
command -v stunnel4 >/dev/null || command -v stunnel >/dev/null || { echo "stunnel4 is missing"; exit 1; }
STUNNEL=$(command -v stunnel4 || command -v stunnel)

ADDR=127.0.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
SIPREG_PORT=$((RANDOM % 10000 + 30000))
SIPREG_TLS=$((SIPREG_PORT + 1))
KAM_TLS=$((SIPREG_PORT + 2))
TUN_SIPREG=$((SIPREG_PORT + 3)) # stunnel's plain side, toward each server
TUN_KAM=$((SIPREG_PORT + 4))

printf 'SEQUENTIAL\n' >"$WORK/users.csv"
for i in $(seq 0 $((USERS - 1))); do
	dn=$((100000 + i))
	printf '%s;[authentication username=u%s password=p%s]\n' "$dn" "$dn" "$dn" >>"$WORK/users.csv"
done
# Over the tunnel the Via must say TLS (the servers check it against the connection).
sed 's#Via: SIP/2.0/\[transport\]#Via: SIP/2.0/TLS#; s#<sip:\[field0\]@\[local_ip\]:\[local_port\]>#<sip:[field0]@[local_ip]:[local_port];transport=tls>#' \
	"$top/bench/register.xml" >"$WORK/register-tls.xml"

# ---- sipregd: a lab CA, then the TLS listener ----
conf() { # TLS_LISTEN
	cat >"$WORK/sipregd.conf" <<EOF2
[sip]
listen = $ADDR:$SIPREG_PORT
listen_tls = $1
[tls]
dir = $WORK/tls
[store]
path = $WORK/sipreg.db
[ctl]
socket = $WORK/ctl.sock
[log]
level = error
[registrar]
max_contacts = 1000
device_contacts = 1000
[security]
ban_failures = 1000000
EOF2
}
start_sipregd() {
	taskset -c 0 "$BUILD/sipregd" -f -c "$WORK/sipregd.conf" >>"$WORK/sipregd.log" 2>&1 &
	SIPREG_PID=$!
	PIDS="$PIDS $SIPREG_PID"
	for _ in $(seq 100); do "$BUILD/sipregctl" -s "$WORK/ctl.sock" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "sipregd did not start:"; tail "$WORK/sipregd.log"; exit 1
}
conf ""
start_sipregd
"$BUILD/sipregctl" -s "$WORK/ctl.sock" tls init --cn bench.test >/dev/null || exit 1
python3 "$top/bench/provision.py" "$WORK/ctl.sock" "$USERS" 100000 || exit 1
kill "$SIPREG_PID"
wait "$SIPREG_PID" 2>/dev/null
conf "$ADDR:$SIPREG_TLS"
start_sipregd
limit_cpu sipregd "$SIPREG_PID" || exit 1

# ---- Kamailio with its TLS module, the same certificate ----
if [ ! -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ]; then
	echo "kamailio-tls-modules is missing"; exit 1
fi
kam_subscribers "$WORK/kam.db" 100000 "$USERS" || exit 1
mkdir -p "$WORK/kamrun"
cat >"$WORK/kamtls.cfg" <<EOF2
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $WORK/tls/agent.pem
certificate = $WORK/tls/agent.pem
EOF2
kam_register_cfg "$WORK/kamailio.cfg" "$WORK/kam.db" "tcp_children=1
enable_tls=yes
tcp_connection_lifetime=3605
listen=tls:$ADDR:$KAM_TLS" "loadmodule \"tls.so\"
modparam(\"tls\", \"config\", \"$WORK/kamtls.cfg\")"
# shellcheck disable=SC2086
taskset -c 0 kamailio -f "$WORK/kamailio.cfg" -DD -E ${KAM_MEM--m 1024 -M 32} -Y "$WORK/kamrun" \
	-w "$WORK/kamrun" >"$WORK/kamailio.log" 2>&1 &
KAM_PID=$!
PIDS="$PIDS $KAM_PID"
sleep 1
kill -0 "$KAM_PID" 2>/dev/null || { echo "kamailio did not start:"; tail "$WORK/kamailio.log"; exit 1; }
# shellcheck disable=SC2046
limit_cpu kamailio "$KAM_PID" $(pgrep -P "$KAM_PID") || exit 1

# ---- stunnel: SIPp's TCP to each server's TLS ----
cat >"$WORK/stunnel.conf" <<EOF2
foreground = yes
pid =
debug = 0
[sipreg]
client = yes
accept = 127.0.0.1:$TUN_SIPREG
connect = $ADDR:$SIPREG_TLS
[kamailio]
client = yes
accept = 127.0.0.1:$TUN_KAM
connect = $ADDR:$KAM_TLS
EOF2
taskset -c 1 "$STUNNEL" "$WORK/stunnel.conf" >"$WORK/stunnel.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.5

# run_step PORT RATE (lib.sh's bench): RATE registrations/s for STEP s over
# the tunnel; MODE t1 (one connection) or tn (one per registration).
MODE=t1
run_step() {
	local port=$1 rate=$2 t0 t1
	rm -f "$WORK/stat.csv"
	t0=$(date +%s%N)
	cd "$WORK" || return # SIPp writes its files in the current directory
	taskset -c 1 sipp "127.0.0.1:$port" -t "$MODE" -i 127.0.0.1 -sf "$WORK/register-tls.xml" \
		-inf "$WORK/users.csv" -r "$rate" -rp 1000 -l $((rate * 2)) -max_socket 10000 \
		-timeout "${STEP}s" -nostdin -nd -trace_stat -stf "$WORK/stat.csv" -fd 1 \
		>/dev/null 2>&1
	t1=$(date +%s%N)
	tail -n 1 "$WORK/stat.csv" | awk -F';' -v ms=$(((t1 - t0) / 1000000)) '{ print $16, $18, ms }'
}

table() { # TITLE UNIT s_rate s_cpu s_peak s_load k_rate k_cpu k_peak k_load
	echo
	printf '%-10s %14s %20s %16s %14s\n' server "best $2/s" "CPU us per $2" "peak memory kB" "server load"
	printf '%-10s %14s %20s %16s %13s%%\n' sipregd "$3" "$4" "$5" "$6"
	printf '%-10s %14s %20s %16s %13s%%\n' kamailio "$7" "$8" "$9" "${10}"
	if [ "$7" -gt 0 ] && [ "$4" -gt 0 ]; then
		echo "$1: rate ratio sipregd/kamailio $(awk -v a="$3" -v b="$7" 'BEGIN { printf "%.2f", a / b }')," \
			"CPU ratio $(awk -v a="$4" -v b="$8" 'BEGIN { printf "%.2f", a / b }')"
	fi
}

echo "== TLS, persistent connection: $USERS users, ${STEP} s per step, servers on core 0 at ${SERVER_CPU}%, SIPp and stunnel on core 1"
read -r s1 s2 s3 s4 < <(bench sipregd "$SIPREG_PID" "$TUN_SIPREG")
read -r k1 k2 k3 k4 < <(bench kamailio "$KAM_PID" "$TUN_KAM")
table "TLS persistent" registration "$s1" "$s2" "$s3" "$s4" "$k1" "$k2" "$k3" "$k4"

echo
echo "== TLS, a new connection per registration (handshake included)"
MODE=tn
RATES=$CONN_RATES
UNIT=connection
read -r s1 s2 s3 s4 < <(bench sipregd "$SIPREG_PID" "$TUN_SIPREG")
read -r k1 k2 k3 k4 < <(bench kamailio "$KAM_PID" "$TUN_KAM")
table "TLS new connections" connection "$s1" "$s2" "$s3" "$s4" "$k1" "$k2" "$k3" "$k4"
echo "(server load is in % of a whole core; stunnel shares core 1 with SIPp, so the client side may be the limit at high rates: see the server load)"
