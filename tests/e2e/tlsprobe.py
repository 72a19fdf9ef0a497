#!/usr/bin/env python3
"""An INVITE over TLS without a client certificate (--cert: with that PEM key
and certificate), verifying nothing of the server's. Prints ANSWERED <code>,
CLOSED (no answer: the connection ended) or HANDSHAKE FAILED <reason>."""
import argparse
import socket
import ssl
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connect", required=True, help="HOST:PORT")
    ap.add_argument("--cert")
    a = ap.parse_args()
    host, port = a.connect.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if a.cert:
        ctx.load_cert_chain(a.cert)
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        t = ctx.wrap_socket(s)
        t.sendall(("INVITE sip:1000@{0} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.9:9;branch=z9hG4bKprobe\r\n"
                   "From: <sip:9@{0}>;tag=1\r\nTo: <sip:1000@{0}>\r\nCall-ID: probe@x\r\n"
                   "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                   ).format(host).encode())
        data = b""
        while b"\r\n" not in data:
            chunk = t.recv(4096)
            if not chunk:
                break
            data += chunk
    except ssl.SSLError as e:
        print(f"HANDSHAKE FAILED {e.reason}")
        return 0
    except OSError:
        data = b""
    if data.startswith(b"SIP/2.0 "):
        print("ANSWERED " + data.split(b" ")[1].decode())
    else:
        print("CLOSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
