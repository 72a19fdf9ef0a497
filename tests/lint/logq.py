#!/usr/bin/env python3
"""Every log call that writes a field taken from a SIP message writes it
through LOGQ() (quoted and escaped), so no field can end a log line or pose
as another field. Scans the sources' log_error/warning/notice/info/debug
calls and reports each argument that reads a message (sip->..., a URL's
parts, a header's display name or parameters, a digest response, a body)
outside LOGQ()/log_quote(). Prints TAP: one line per source file.

usage: logq.py SRCDIR
"""
import os
import re
import sys

CALL = re.compile(r"\blog_(error|warning|notice|info|debug)\s*\(")
# What reads a message (or a URL, header or body taken from one).
NETWORK = re.compile(
    r"sip->|->sip_|\brq_|->url_|url_user|url_host|->a_display|->a_url|ar->ar_|\bar_[a-z]+\b|"
    r"->au_|->m_url|->m_display|->v_host|->v_received|->g_string|->g_value|pl_data|"
    r"msg_params_find|->re_|->r_url|->i_id|->ua_|->cs_method_name|rq_method_name")
SAFE = re.compile(r"^\s*(LOGQ\s*\(|log_quote\s*\()")


def args_of(text, start):
    """The top-level arguments of the call whose '(' is at start."""
    depth, cur, out, i = 0, "", [], start
    in_str = None
    while i < len(text):
        ch = text[i]
        if in_str:
            cur += ch
            if ch == "\\":
                cur += text[i + 1]
                i += 1
            elif ch == in_str:
                in_str = None
        elif ch in "\"'":
            in_str = ch
            cur += ch
        elif ch == "(":
            depth += 1
            if depth > 1:
                cur += ch
        elif ch == ")":
            depth -= 1
            if depth == 0:
                out.append(cur)
                return out
            cur += ch
        elif ch == "," and depth == 1:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    return out


def main():
    src = sys.argv[1]
    files = []
    for d in ("sip", "registrar", "b2bua", "cisco", "daemon", "store", "ctl"):
        for f in sorted(os.listdir(os.path.join(src, d))):
            if f.endswith(".c"):
                files.append(os.path.join(d, f))
    n = 0
    bad_total = 0
    print("1..%d" % len(files))
    for f in files:
        n += 1
        text = open(os.path.join(src, f), encoding="utf-8").read()
        bad = []
        for m in CALL.finditer(text):
            args = args_of(text, m.end() - 1)
            for a in args[1:]:
                if NETWORK.search(a) and not SAFE.match(a):
                    line = text.count("\n", 0, m.start()) + 1
                    bad.append("%s:%d: %s" % (f, line, " ".join(a.split())))
        if bad:
            bad_total += 1
            print("not ok %d - %s: every message field in a log line goes through LOGQ()" % (n, f))
            for b in bad:
                print("# " + b)
        else:
            print("ok %d - %s: every message field in a log line goes through LOGQ()" % (n, f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
