#!/usr/bin/env python3
"""A contact that leads back: every UDP datagram received on ADDR:PORT is sent
on, unchanged, to TARGET_HOST:TARGET_PORT, until the file UNTIL exists (60 s
at most). Prints how many it reflected.

usage: reflect.py ADDR PORT TARGET_HOST TARGET_PORT UNTIL
"""
import os
import socket
import sys
import time


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    addr, port, thost, tport, until = sys.argv[1:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    s.settimeout(0.1)
    n = 0
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(until):
        try:
            data = s.recv(65535)
        except socket.timeout:
            continue
        s.sendto(data, (thost, int(tport)))
        n += 1
    print(f"REFLECTED {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
