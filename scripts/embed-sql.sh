#!/bin/sh
# Writes a C file holding the numbered migrations, in order, as strings.
# Usage: embed-sql.sh OUT.c FILE.sql...
set -eu
out=$1
shift
tmp="$out.tmp"
{
	echo "/* Generated from the store/migrations SQL files; do not edit. */"
	echo "#include \"store/migrations.h\""
	echo "char const *const store_migrations[] = {"
	for f in "$@"; do
		printf '\t/* %s */\n' "$(basename "$f")"
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
		printf '\t,\n'
	done
	echo "};"
	echo "unsigned const store_n_migrations = $#;"
} >"$tmp"
mv "$tmp" "$out"
