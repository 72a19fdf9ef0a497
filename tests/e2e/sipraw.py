#!/usr/bin/env python3
"""Sends one raw SIP message and prints the status line of the answer.

usage: sipraw.py udp|tcp HOST PORT FILE [TIMEOUT]

In FILE, {lhost} and {lport} become the local address and port, and line
ends are turned into CRLF. SIPRAW_LOCAL names the local address (default
127.0.0.1). Prints "NO ANSWER" when nothing comes back in
time. Exit status 0 either way; 2 on bad usage.
"""
import os
import socket
import sys


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    proto, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    timeout = float(sys.argv[5]) if len(sys.argv) == 6 else 2.0
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(timeout)
    s.bind((os.environ.get("SIPRAW_LOCAL", "127.0.0.1"), 0))
    lhost, lport = s.getsockname()
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.replace(b"{lhost}", lhost.encode()).replace(b"{lport}", str(lport).encode())
    text = text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    try:
        if proto == "udp":
            s.sendto(text, (host, port))
            data = s.recv(65535)
        else:
            s.connect((host, port))
            s.sendall(text)
            data = s.recv(65535)
    except (socket.timeout, ConnectionError):
        print("NO ANSWER")
        return 0
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    print(line if line else "NO ANSWER")
    return 0


if __name__ == "__main__":
    sys.exit(main())
