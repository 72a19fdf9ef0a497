#!/usr/bin/env python3
"""Sends one RFC 4475 message to sipregd as it is and says what came back.

usage: torture.py udp|tcp HOST PORT FILE

FILE holds the message's exact octets. Prints the status code of the first
response, or "none" when nothing answered it: after the message, a probe
OPTIONS goes to sipregd (over UDP from the same socket; over TCP on a
second connection) and its answer bounds the wait, so nothing is timed.

The top Via's transport is made the one the message goes over (sofia drops
a request whose Via names another); nothing else is changed. Over UDP the
answer goes where the message's top Via says (RFC 3261 18.2.2:
the source address, the Via's port or 5060), so the socket is bound to a
random loopback address with that port. Exit status 0 after printing; 1
when even the probe got no answer within 10 s; 2 on bad usage.
"""
import random
import re
import select
import socket
import sys
import time

LIMIT = 10.0


def top_via_port(msg):
    head = msg.split(b"\r\n\r\n", 1)[0]
    head = re.sub(rb"\r\n[ \t]+", b" ", head)  # unfold
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"via", b"v"):
            sent_by = re.sub(rb"\s+", b"", value).split(b",")[0]
            m = re.match(rb"SIP/2\.0/[A-Za-z]+([^;]*)", sent_by, re.I)
            if m:
                port = re.search(rb":(\d+)$", m.group(1))
                return int(port.group(1)) if port else 5060
    return 5060


def via_transport(msg, proto):
    """The top Via names the transport the message goes over (sofia drops it otherwise)."""
    head_end = msg.find(b"\r\n\r\n")
    head = msg[:head_end] if head_end >= 0 else msg
    m = re.search(rb"\r\n(?:via|v)[ \t]*:[ \t\r\n]*SIP[ \t\r\n]*/[ \t\r\n]*2\.0[ \t\r\n]*/[ \t\r\n]*"
                  rb"([A-Za-z]+)", head, re.I)
    if not m:
        return msg
    return msg[:m.start(1)] + proto.upper().encode() + msg[m.end(1):]


def probe(lhost, lport, proto):
    branch = "z9hG4bK-probe-%d" % random.randrange(1 << 30)
    return (
        "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
        "From: <sip:probe@127.0.0.1>;tag=p1\r\n"
        "To: <sip:probe@127.0.0.1>\r\n"
        "Call-ID: torture-probe-%s\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n" % (proto, lhost, lport, branch, branch)
    ).encode()


def status_of(data):
    m = re.match(rb"SIP/2\.0 (\d{3})", data)
    return m.group(1).decode() if m else None


def udp(host, port, msg):
    via_port = top_via_port(msg)
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        addr = "127.%d.%d.%d" % (random.randint(20, 220), random.randint(1, 250),
                                 random.randint(1, 250))
        try:
            s.bind((addr, via_port))
            break
        except OSError:
            s.close()
    else:
        print("cannot bind a loopback address with port %d" % via_port, file=sys.stderr)
        return 1
    s.sendto(msg, (host, port))
    s.sendto(probe(addr, via_port, "UDP"), (host, port))
    got = "none"
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        if b"torture-probe-" in data:
            print(got)
            return 0
        st = status_of(data)
        if st and st != "100" and got == "none":
            got = st
    print("the probe got no answer", file=sys.stderr)
    return 1


def read_answer(s, deadline):
    """The first final (or only) status read from a stream socket, None if none."""
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.01, deadline - time.monotonic()))
        if not r:
            break
        try:
            chunk = s.recv(65535)
        except ConnectionError:
            break
        if not chunk:
            break
        buf += chunk
        for m in re.finditer(rb"SIP/2\.0 (\d{3})", buf):
            if m.group(1) != b"100":
                return m.group(1).decode()
    return None


def tcp(host, port, msg):
    s = socket.create_connection((host, port), timeout=LIMIT)
    s.sendall(msg)
    p = socket.create_connection((host, port), timeout=LIMIT)
    lhost, lport = p.getsockname()
    p.sendall(probe(lhost, lport, "TCP"))
    if read_answer(p, time.monotonic() + LIMIT) is None:
        print("the probe got no answer", file=sys.stderr)
        return 1
    # The message went first; its answer, if any, is there by now.
    got = read_answer(s, time.monotonic() + 0.2) or "none"
    print(got)
    return 0


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("udp", "tcp"):
        print(__doc__, file=sys.stderr)
        return 2
    proto, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(path, "rb") as f:
        msg = via_transport(f.read(), proto)
    return udp(host, port, msg) if proto == "udp" else tcp(host, port, msg)


if __name__ == "__main__":
    sys.exit(main())
