#!/usr/bin/env python3
"""Adds N users, devices and lines to a running sipregd over its control
socket, pipelining the requests on one connection.

usage: provision.py SOCKET N [FIRST_DN]
User uDN with password pDN, device devDN (third-party-basic), line DN.
"""
import json
import socket
import sys


def main():
    sock_path, n = sys.argv[1], int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    f = s.makefile("rwb")
    sent = 0
    for i in range(n):
        dn = first + i
        for req in (
            {"cmd": "user.add", "args": {"name": f"u{dn}", "password": f"p{dn}", "weak": True}},
            {"cmd": "device.add", "args": {"name": f"dev{dn}", "model": "third-party-basic",
                                           "digest_user": f"u{dn}"}},
            {"cmd": "line.add", "args": {"device": f"dev{dn}", "dn": str(dn)}},
        ):
            f.write(json.dumps(req).encode() + b"\n")
            sent += 1
        if sent >= 300 or i == n - 1:
            f.flush()
            for _ in range(sent):
                r = json.loads(f.readline())
                if not r.get("ok"):
                    print("refused:", r.get("error"), file=sys.stderr)
                    return 1
            sent = 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
