#!/usr/bin/env python3
"""A scripted peer on sipregd's node link, for the tests of two nodes.

Connects over TLS (showing --cert if given, verifying nothing: sipregd
pins certificates itself), optionally sends one frame (--send TYPE JSON),
then prints each frame it receives as "RECV T <body>" (JSON bodies whole,
binary ones by size) until the connection closes ("CLOSED") or --wait
seconds pass ("TIMEOUT"). Frames: 4-byte big-endian length of what
follows, 1-byte type, body.
"""
import argparse
import socket
import ssl
import struct
import sys
import time


def frame(kind, body):
    return struct.pack(">I", len(body) + 1) + kind.encode() + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True, help="HOST:PORT")
    ap.add_argument("--bind", default=None, help="local address")
    ap.add_argument("--cert", default=None, help="PEM with key and certificate")
    ap.add_argument("--send", nargs=2, metavar=("TYPE", "BODY"), action="append", default=[])
    ap.add_argument("--raw", default=None, help="hex bytes sent as they are after the handshake")
    ap.add_argument("--wait", type=float, default=5.0)
    ap.add_argument("--tls10", action="store_true", help="offer TLS 1.0 only (security level 0)")
    a = ap.parse_args()

    host, port = a.connect.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.tls10:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
    if a.cert:
        ctx.load_cert_chain(a.cert)
    raw = socket.create_connection((host, int(port)), timeout=a.wait,
                                   source_address=(a.bind, 0) if a.bind else None)
    try:
        s = ctx.wrap_socket(raw)
    except (ssl.SSLError, OSError) as e:
        print(f"HANDSHAKE FAILED {e}")
        return 0
    print("CONNECTED")
    sys.stdout.flush()
    try:
        for kind, body in a.send:
            s.sendall(frame(kind, body.encode()))
        if a.raw:
            s.sendall(bytes.fromhex(a.raw))
    except OSError as e:
        print(f"SEND FAILED {e}")
    buf = b""
    end = time.monotonic() + a.wait
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            data = b""
        if not data:
            print("CLOSED")
            return 0
        buf += data
        while len(buf) >= 5:
            (n,) = struct.unpack(">I", buf[:4])
            if len(buf) < 4 + n:
                break
            kind, body = chr(buf[4]), buf[5:4 + n]
            buf = buf[4 + n:]
            if kind in "HJKE":
                print(f"RECV {kind} {body.decode(errors='replace')}")
            else:
                print(f"RECV {kind} {len(body)} bytes")
            sys.stdout.flush()
    print("TIMEOUT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
