#!/bin/sh
# Writes sipregd.conf(5) from etc/sipregd.conf, the annotated file that lists
# every key with its default: one source for both.
#   scripts/conf2man.sh etc/sipregd.conf VERSION > sipregd.conf.5
set -eu
conf=$1
version=${2:-}
cat <<HEAD
.TH SIPREGD.CONF 5 "" "sipreg $version" "File Formats"
.SH NAME
sipregd.conf \- configuration of the sipreg SIP registrar and B2BUA
.SH SYNOPSIS
.B /etc/sipreg/sipregd.conf
.SH DESCRIPTION
HEAD
awk '
function esc(s) { gsub(/\\/, "\\e", s); sub(/^[.'"'"']/, "\\\\\\&&", s); return s }
function flush() {
	if (n == 0) return
	for (i = 1; i <= n; i++) print esc(buf[i])
	n = 0
}
/^\[[a-z]+\]$/ { flush(); print ".SH SECTION " toupper($0); pending = 0; next }
/^#$/ { flush(); print ".PP"; next }
/^# ?/ { line = $0; sub(/^# ?/, "", line); buf[++n] = line; next }
/^[a-z_]+ *=/ {
	key = $0; sub(/ *=.*/, "", key)
	val = $0; sub(/^[a-z_]+ *= */, "", val)
	print ".TP"
	print "\\fB" key "\\fR = " (val == "" ? "(empty)" : esc(val))
	flush()
	next
}
/^$/ { flush(); print ".PP"; next }
END { flush() }
' "$conf"
cat <<TAIL
.SH FILES
.TP
.I /etc/sipreg/sipregd.conf
the file the systemd unit starts sipregd with.
.SH SEE ALSO
.BR sipregd (8),
.BR sipregctl (8)
TAIL
