#!/usr/bin/env python3
"""Many Cisco phones asking a returning server for a fallback token at once.

Each of --count phones (its own UDP socket, From its own DN) sends one REFER
with Refer-To: <urn:X-cisco-remotecc:token-registration> (as sipcc does, 3.4),
all before any answer is read; then every final answer is collected (the
phones retransmit nothing: loopback). Prints one line per answer:

  ANSWER <code> retry-after=<seconds or ->

and a summary: GRANTED <n> WAIT <n> OTHER <n> NONE <n>.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import CRLF, Transport, header, rand_hex  # noqa: E402


def refer(t, server, dn):
    lhost, lport = t.local
    h = [f"REFER sip:{dn}@{server} SIP/2.0",
         f"Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bK{rand_hex(12)};rport",
         f"From: <sip:{dn}@{server}>;tag={rand_hex(8)}", f"To: <sip:{dn}@{server}>",
         f"Call-ID: {rand_hex(16)}@{lhost}", "CSeq: 101 REFER", "Max-Forwards: 70",
         f"Contact: <sip:{dn}@{lhost}:{lport}>",
         "Refer-To: <urn:X-cisco-remotecc:token-registration>", "Require: norefersub",
         "Expires: 10", f"Referred-By: <sip:{dn}@{lhost}>",
         "User-Agent: Cisco-CP7941G/9.4.2", "Content-Length: 0"]
    t.send(CRLF.join(h) + CRLF + CRLF)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--first-dn", type=int, default=5000)
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    phones = [Transport("udp", (host, int(port)), "127.0.0.1", 0.05) for _ in range(a.count)]
    for i, t in enumerate(phones):
        refer(t, a.server, a.first_dn + i)
    counts = {"GRANTED": 0, "WAIT": 0, "OTHER": 0, "NONE": 0}
    for t in phones:
        deadline = time.time() + 5
        code = None
        while time.time() < deadline:
            m = t.recv()
            if m is None:
                continue
            c = int(m[0].split(" ")[1])
            if c >= 200:
                code = c
                retry = (header(m[1], "Retry-After") or ["-"])[0]
                break
        if code is None:
            counts["NONE"] += 1
            print("ANSWER none")
            continue
        print(f"ANSWER {code} retry-after={retry}")
        key = "GRANTED" if code == 202 else "WAIT" if code == 503 and retry != "-" else "OTHER"
        counts[key] += 1
    print(" ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
