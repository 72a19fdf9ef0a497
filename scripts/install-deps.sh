#!/bin/sh
# Installs the Debian packages sipreg needs to build and test, when missing.
# libclang-rt-14-dev (libFuzzer's runtime) is only recommended by clang-14,
# and packages are installed without recommends: it is named here.
set -eu

PACKAGES="gcc libc6-dev make autoconf automake pkg-config
libsofia-sip-ua-dev libevent-dev libssl-dev libsqlite3-dev libcunit1-dev
libjansson-dev libinih-dev libxml2-dev
sip-tester sipsak sqlite3 python3 procps iproute2 tar gzip fail2ban baresip-core kamailio
twinkle-console clang-14 libclang-rt-14-dev sipvicious groff-base systemd
openssl ca-certificates stunnel4 kamailio-tls-modules"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -n "$missing" ] || exit 0

echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: run as root or install sudo; missing:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
