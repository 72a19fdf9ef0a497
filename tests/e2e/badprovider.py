#!/usr/bin/env python3
"""A hostile upstream registrar on UDP, for the trunk tests.

usage: badprovider.py --listen HOST:PORT --mode stale|huge --count FILE --until FILE

  stale  every REGISTER gets 401 with stale=true and a new nonce, forever
  huge   every REGISTER gets 200 granting 10^20 seconds (Expires and the
         contact's expires parameter)
Writes the number of REGISTERs received to FILE after each one; ends when
the --until file exists (checked every 0.2 s, at most 10 minutes).
"""
import argparse
import os
import secrets
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--mode", required=True, choices=["stale", "huge"])
    ap.add_argument("--count", required=True)
    ap.add_argument("--until", required=True)
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    s.settimeout(0.2)
    n = 0
    end = time.time() + 600
    while not os.path.exists(a.until) and time.time() < end:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        text = data.decode("utf-8", "replace")
        lines = text.split("\r\n")
        if not lines[0].startswith("REGISTER "):
            continue
        n += 1
        with open(a.count + ".tmp", "w") as f:
            f.write(f"{n}\n")
        os.replace(a.count + ".tmp", a.count)
        keep = [l for l in lines[1:] if l.split(":", 1)[0].lower() in
                ("via", "from", "to", "call-id", "cseq")]
        contact = next((l.split(":", 1)[1].strip() for l in lines[1:]
                        if l.lower().startswith("contact:")), None)
        if a.mode == "stale":
            out = ["SIP/2.0 401 Unauthorized"] + keep + [
                f'WWW-Authenticate: Digest realm="bad.example", nonce="{secrets.token_hex(16)}", '
                'algorithm=MD5, qop="auth", stale=true']
        else:
            out = ["SIP/2.0 200 OK"] + keep + ["Expires: 100000000000000000000"]
            if contact:
                out.append(f"Contact: {contact.split(';expires')[0]};expires=100000000000000000000")
        out.append("Content-Length: 0")
        s.sendto(("\r\n".join(out) + "\r\n\r\n").encode(), peer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
