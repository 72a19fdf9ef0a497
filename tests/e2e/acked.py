#!/usr/bin/env python3
"""The registrations a SIPp message log (-trace_msg) shows acknowledged.

usage: acked.py MESSAGE_LOG [BEFORE_EPOCH]
Prints one line per 200 OK to a REGISTER that SIPp received: "DN EPOCH".
With BEFORE_EPOCH, only those received before it.
"""
import datetime
import re
import sys


def main():
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    before = float(sys.argv[2]) if len(sys.argv) > 2 else None
    for block in text.split("-----------------------------------------------")[1:]:
        first, _, rest = block.partition("\n")
        if "message received" not in rest.split("\n", 1)[0]:
            continue
        if not re.search(r"^SIP/2\.0 200 ", rest, re.M) or not re.search(r"^CSeq: *\d+ REGISTER", rest, re.M):
            continue
        to = re.search(r"^To:.*?<sip:([^@>]+)@", rest, re.M)
        if not to:
            continue
        when = datetime.datetime.strptime(first.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        if before is None or when < before:
            print(to.group(1), "%.3f" % when)
    return 0


if __name__ == "__main__":
    sys.exit(main())
