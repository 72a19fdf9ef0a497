#!/bin/sh
# TAP: every message field in a log call goes through LOGQ() (tests/lint/logq.py).
exec python3 "${SRCDIR:?}/tests/lint/logq.py" "$SRCDIR"
