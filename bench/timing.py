#!/usr/bin/env python3
"""Answer timing for known and unknown users (no enumeration by timing).

usage: timing.py --server HOST:PORT --local ADDR --known USER --unknown USER [--n N]

For each of N rounds, in alternation: a REGISTER without credentials, then
with a wrong password, for the known user and for the unknown one; the time
from sending the request with credentials to its answer is recorded.
Prints, per user: median, 10th and 90th percentile and interquartile range
in microseconds, and the answers' status codes.
"""
import argparse
import hashlib
import random
import re
import socket
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--unknown", required=True)
    ap.add_argument("--dn-known", default="1001")
    ap.add_argument("--dn-unknown", default="9999")
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    server = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.local, 0))
    s.settimeout(2)
    me = "%s:%d" % s.getsockname()
    times = {a.known: [], a.unknown: []}
    codes = {a.known: {}, a.unknown: {}}

    def register(user, dn, auth, cseq, cid):
        msg = ("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;rport;branch=z9hG4bK%x\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%x\r\nTo: <sip:%s@%s>\r\n"
               "Call-ID: %s\r\nCSeq: %d REGISTER\r\nContact: <sip:%s@%s>\r\nExpires: 60\r\n"
               "%sContent-Length: 0\r\n\r\n"
               % (a.server, me, random.getrandbits(48), dn, host, random.getrandbits(32), dn,
                  host, cid, cseq, dn, me, auth))
        t0 = time.perf_counter()
        s.sendto(msg.encode(), server)
        while True:
            data = s.recvfrom(65536)[0].decode("utf-8", "replace")
            if not data.startswith("SIP/2.0 1"):
                return data, time.perf_counter() - t0

    for i in range(a.n):
        for user, dn in ((a.known, a.dn_known), (a.unknown, a.dn_unknown)):
            cid = "%x" % random.getrandbits(64)
            ans, _ = register(user, dn, "", 1, cid)
            nonce = re.search(r'nonce="([^"]+)"', ans)
            realm = re.search(r'realm="([^"]+)"', ans)
            if not nonce:
                continue
            uri = "sip:%s" % a.server
            ha1 = hashlib.md5(("%s:%s:wrong-password" % (user, realm.group(1))).encode()).hexdigest()
            ha2 = hashlib.md5(("REGISTER:%s" % uri).encode()).hexdigest()
            resp = hashlib.md5(("%s:%s:00000001:abc:auth:%s" % (ha1, nonce.group(1), ha2)).encode()).hexdigest()
            auth = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                    'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc"\r\n'
                    % (user, realm.group(1), nonce.group(1), uri, resp))
            ans, dt = register(user, dn, auth, 2, cid)
            code = ans.split(" ")[1]
            codes[user][code] = codes[user].get(code, 0) + 1
            times[user].append(dt * 1e6)
    for user, label in ((a.known, "known"), (a.unknown, "unknown")):
        t = sorted(times[user])
        if not t:
            print("%s user %s: no answers" % (label, user))
            continue
        q = statistics.quantiles(t, n=20)
        print("%s user %s: n=%d median %.0f us, p10 %.0f, p90 %.0f, IQR %.0f us, answers %s" % (
            label, user, len(t), statistics.median(t), q[1], q[17],
            statistics.quantiles(t, n=4)[2] - statistics.quantiles(t, n=4)[0], codes[user]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
