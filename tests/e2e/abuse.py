#!/usr/bin/env python3
"""TCP clients that abuse sipregd, for tests/e2e/abuse.sh.

usage: abuse.py --server HOST:PORT bigbody [BYTES]
       abuse.py --server HOST:PORT idle N --base A.B.C --hold-until FILE

  bigbody  one REGISTER whose Content-Length announces BYTES (default 1 MiB)
           and whose body follows in full, as fast as sipregd takes it.
           Prints "answered CODE" or "closed after K bytes" (sipregd hung up).
  idle     N connections opened at once from addresses A.B.C.1, A.B.C.2, ...
           (50 each, under the per-source limit), sending nothing. Prints
           "open K of N" once they are all made, then, when FILE exists or
           120 s have passed, "closed K of N": how many sipregd closed (each
           awaited, 30 s at most).
"""
import argparse
import os
import resource
import select
import socket
import sys
import time


def bigbody(server, size):
    s = socket.create_connection(server, timeout=10)
    head = ("REGISTER sip:%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-big%d\r\n"
            "From: <sip:1001@%s>;tag=big\r\nTo: <sip:1001@%s>\r\n"
            "Call-ID: big-%d@abuse\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
            "Contact: <sip:1001@127.0.0.1:5999;transport=tcp>\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
            % (server[0], server[1], os.getpid(), server[0], server[0], os.getpid(), size))
    sent = 0
    chunk = b"x" * 65536
    try:
        s.sendall(head.encode())
        while sent < size:
            n = s.send(chunk[:min(len(chunk), size - sent)])
            sent += n
    except OSError:
        print("closed after %d bytes" % sent)
        return 0
    s.settimeout(15)
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    if data.startswith(b"SIP/2.0 "):
        print("answered %s" % data.split(b" ")[1].decode())
    else:
        print("closed after %d bytes" % sent)
    return 0


def idle(server, n, base, until):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("%s.%d" % (base, i // 50 + 1), 0))
        s.setblocking(False)
        try:
            s.connect(server)
        except BlockingIOError:
            pass
        socks.append(s)
    # Wait until every connection is made (or refused), 30 s at most.
    pending = {s.fileno(): s for s in socks}
    poll = select.poll()
    for fd in pending:
        poll.register(fd, select.POLLOUT)
    deadline = time.time() + 30
    while pending and time.time() < deadline:
        for fd, _ in poll.poll(1000):
            poll.unregister(fd)
            pending.pop(fd, None)
    pending = set(pending.values())
    made = sum(1 for s in socks if s not in pending and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    print("open %d of %d" % (made, n), flush=True)
    deadline = time.time() + 120
    while not os.path.exists(until) and time.time() < deadline:
        time.sleep(0.1)
    # Connections still in the listen backlog when the server's count of
    # descriptors fell are accepted, then closed, a little later: await each
    # close, 30 s at most.
    closed = 0
    waiting = {s.fileno(): s for s in socks}
    poll = select.poll()
    for fd in waiting:
        poll.register(fd, select.POLLIN)
    deadline = time.time() + 30
    while waiting and time.time() < deadline:
        for fd, _ in poll.poll(500):
            s = waiting.get(fd)
            if s is None:
                continue
            try:
                data = s.recv(1)
                if data != b"":
                    continue  # something other than a close: keep waiting
            except BlockingIOError:
                continue
            except OSError:
                pass
            closed += 1
            poll.unregister(fd)
            del waiting[fd]
    for s in socks:
        s.close()
    print("closed %d of %d" % (closed, n), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("mode", choices=["bigbody", "idle"])
    ap.add_argument("n", nargs="?", type=int, default=0)
    ap.add_argument("--base", default="127.0.9")
    ap.add_argument("--hold-until", default="/nonexistent")
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    server = (host, int(port))
    if a.mode == "bigbody":
        return bigbody(server, a.n or 1 << 20)
    return idle(server, a.n, a.base, a.hold_until)


if __name__ == "__main__":
    sys.exit(main())
