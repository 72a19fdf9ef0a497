#!/bin/bash
# The package layout: make install (into a staging directory) puts the
# programs, the systemd unit, the user's sysusers.d entry, the configuration,
# the fail2ban filter and the man pages where the configured directories say
# (Debian's with --prefix=/usr --sysconfdir=/etc); the unit runs sipregd as its
# own user without privileges; the installed programs run; uninstall removes
# everything but an administrator's own configuration.
. "${E2E_DIR:?E2E_DIR must name tests/e2e}/lib.sh" || exit 99

ROOT="$WORK/root"
eval "$(make -s -C "$BUILDDIR" print-dirs)"
check "make install into a staging directory" \
	make -s -C "$BUILDDIR" install DESTDIR="$ROOT"
in_root() { test -f "$ROOT$1"; }
check "sipregd in sbindir" test -x "$ROOT$sbindir/sipregd"
check "sipregctl in bindir" test -x "$ROOT$bindir/sipregctl"
check "the configuration in sysconfdir/sipreg" in_root "$sysconfdir/sipreg/sipregd.conf"
check "the fail2ban filter in sysconfdir/fail2ban/filter.d" \
	in_root "$sysconfdir/fail2ban/filter.d/sipreg.conf"
check "the systemd unit" in_root "$systemdunitdir/sipregd.service"
check "the user sipreg for systemd-sysusers" \
	grep -qE '^u sipreg ' "$ROOT$sysusersdir/sipreg.conf"
for m in man8/sipregd.8 man8/sipregctl.8 man5/sipregd.conf.5; do
	check "man page $m renders without a warning" \
		sh -c "groff -man -Tutf8 -ww -z '$ROOT$mandir/$m' 2>&1 | { ! grep -q .; }"
done
check "sipregctl(8) lists every command (trunk add among them)" \
	grep -q 'trunk add NAME' "$ROOT$mandir/man8/sipregctl.8"
check "sipregd.conf(5) documents every section of the shipped file" \
	sh -c "for s in \$(grep -oE '^\\[[a-z]+\\]' '$SRCDIR/etc/sipregd.conf' | tr -d '[]'); do
		grep -qiF \"SECTION [\$s]\" '$ROOT$mandir/man5/sipregd.conf.5' || exit 1; done"

UNIT="$ROOT$systemdunitdir/sipregd.service"
check "the unit starts the installed sipregd with the installed configuration" \
	grep -qxF "ExecStart=$sbindir/sipregd -f -c $sysconfdir/sipreg/sipregd.conf" "$UNIT"
for k in "User=sipreg" "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes" \
	"ReadWritePaths=/var/lib/sipreg" "RuntimeDirectory=sipreg" "CapabilityBoundingSet=" \
	"AmbientCapabilities="; do
	check "the unit sets $k" grep -qxF "$k" "$UNIT"
done
exposure() {
	systemd-analyze security --offline=yes "$UNIT" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
score=$(exposure)
diag "systemd-analyze security: exposure $score (0 safest, 10 unsafe)"
check "systemd-analyze security rates the unit 2.0 or safer" \
	python3 -c "import sys; sys.exit(0 if 0 <= float('${score:-99}') <= 2.0 else 1)"

check "the installed sipregd accepts the installed configuration" \
	"$ROOT$sbindir/sipregd" --check-config -c "$ROOT$sysconfdir/sipreg/sipregd.conf"
check "the installed sipregctl prints its usage" "$ROOT$bindir/sipregctl" --help

echo "# an administrator's change" >>"$ROOT$sysconfdir/sipreg/sipregd.conf"
check "make install again keeps the administrator's configuration" \
	sh -c "make -s -C '$BUILDDIR' install DESTDIR='$ROOT' >/dev/null &&
		grep -q \"an administrator's change\" '$ROOT$sysconfdir/sipreg/sipregd.conf'"
check "make uninstall" make -s -C "$BUILDDIR" uninstall DESTDIR="$ROOT"
check "leaves only the administrator's configuration" \
	test "$(find "$ROOT" -type f)" = "$ROOT$sysconfdir/sipreg/sipregd.conf"
