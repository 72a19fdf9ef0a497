#!/usr/bin/env python3
"""Connections that misbehave, to see how long sipregd keeps them.

usage: tcpprobe.py --server HOST:PORT [--local ADDR] MODE [N]

  silent     half a request, then silence
  body       a whole header with Content-Length: 100 and 10 bytes of body
  trickle    one byte of a request every 2 s, never finishing it
  idle       connect and send nothing
  once       one whole request at once, then nothing (idle, never unfinished)
  many N     open N connections at once, say how many sipregd closes
  hello      (with --tls) the start of a TLS ClientHello, then silence
With --tls, each connection completes a TLS handshake first (except hello).
Prints "closed after S s" (or, for many, "closed K of N") once sipregd
closes it, "open" if still open after 60 s. Exit 0 when it was closed.
"""
import argparse
import socket
import ssl
import sys
import time


def gone(s):
    try:
        s.settimeout(0.1)
        data = s.recv(4096)
        return data == b""
    except socket.timeout:
        return False
    except ssl.SSLWantReadError:
        return False
    except OSError:
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--local", default="127.0.0.1")
    ap.add_argument("--tls", action="store_true", help="speak TLS on each connection")
    ap.add_argument("mode", choices=["silent", "body", "trickle", "idle", "once", "many",
                                     "hello"])
    ap.add_argument("n", nargs="?", type=int, default=1)
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    proto = "TLS" if a.tls else "TCP"

    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((a.local, 0))
        s.connect((host, int(port)))
        if a.tls and a.mode != "hello":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.settimeout(10)
            s = ctx.wrap_socket(s)
        return s

    def options(i):
        return ("OPTIONS sip:probe@%s SIP/2.0\r\nVia: SIP/2.0/%s %s:5060;branch=z9hG4bK%d%f\r\n"
                "From: <sip:p@x>;tag=%d\r\nTo: <sip:p@x>\r\nCall-ID: many-%d\r\n"
                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                % (host, proto, a.local, i, time.time(), i, i))

    start = time.time()
    if a.mode == "many":
        socks = [connect() for _ in range(a.n)]
        closed = set()
        last_change = None
        sent = 0.0
        while time.time() - start < 30 and len(closed) < a.n:
            # A whole request on each every second: none of them is idle.
            if time.time() - sent >= 1:
                sent = time.time()
                for i, s in enumerate(socks):
                    if i not in closed:
                        try:
                            s.sendall(options(i).encode())
                        except OSError:
                            pass
            for i, s in enumerate(socks):
                if i not in closed and gone(s):
                    closed.add(i)
                    last_change = time.time()
            # Done once nothing more has closed for 3 s after the first ones.
            if last_change and time.time() - last_change > 3:
                break
        print(f"closed {len(closed)} of {a.n}")
        return 0
    s = connect()
    req = ("OPTIONS sip:probe@%s SIP/2.0\r\nVia: SIP/2.0/%s %s:5060;branch=z9hG4bKprobe\r\n"
           % (host, proto, a.local))
    if a.mode == "hello":  # a record header and the first bytes of a ClientHello
        s.sendall(bytes.fromhex("160301020001" "0001fc0303"))
    elif a.mode == "silent":
        s.sendall(req.encode())
    elif a.mode == "body":
        s.sendall((req + "From: <sip:p@x>;tag=1\r\nTo: <sip:p@x>\r\nCall-ID: probe\r\n"
                   "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\n"
                   "Content-Length: 100\r\n\r\n0123456789").encode())
    elif a.mode == "once":
        s.sendall(options(0).encode())
    sent = 0
    last = start
    while time.time() - start < 60:
        if a.mode == "trickle" and time.time() - last >= 2 and sent < len(req):
            try:
                s.sendall(req[sent].encode())
            except OSError:
                pass
            sent += 1
            last = time.time()
        if gone(s):
            print(f"closed after {time.time() - start:.0f} s")
            return 0
    print("open")
    return 1


if __name__ == "__main__":
    sys.exit(main())
