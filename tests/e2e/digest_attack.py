#!/usr/bin/env python3
"""Digest attacks on REGISTER, over UDP from chosen loopback addresses.

usage: digest_attack.py --server HOST:PORT --dn DN --user U --password P MODE [options]

MODE:
  replay       register from --local with credentials without qop (RFC 2069),
               then send the same credentials on a new request from --from
               (default the same address). Prints the two answers.
  foreign      fetch a challenge from --from, then send --count responses with
               that nonce from --local (wrong ones with --wrong). Prints each answer.
  resend       one request with wrong credentials, sent --count times unchanged
               (a retransmission). Prints each answer.
Exit status 0; the caller checks the printed answers ("STATUS <code>").
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import CRLF, Transport, authorization, header, parse_challenge, rand_hex  # noqa: E402


class Reg:
    def __init__(self, a, local):
        host, port = a.server.rsplit(":", 1)
        self.a, self.host, self.port = a, host, int(port)
        self.t = Transport("udp", (host, int(port)), local, a.timeout)
        self.lhost, self.lport = self.t.local
        self.call_id = f"{rand_hex(12)}@{self.lhost}"
        self.tag = rand_hex(10)
        self.cseq = 1
        self.ruri = f"sip:{host}:{port}"

    def text(self, auth=None, branch=None):
        self.cseq += 1
        h = [f"REGISTER {self.ruri} SIP/2.0",
             f"Via: SIP/2.0/UDP {self.lhost}:{self.lport};branch={branch or 'z9hG4bK' + rand_hex(10)};rport",
             f"From: <sip:{self.a.dn}@{self.host}>;tag={self.tag}",
             f"To: <sip:{self.a.dn}@{self.host}>", f"Call-ID: {self.call_id}",
             "Max-Forwards: 70", f"CSeq: {self.cseq} REGISTER",
             f"Contact: <sip:{self.a.dn}@{self.lhost}:{self.lport}>", "Expires: 600"]
        if auth:
            h.append(f"Authorization: {auth}")
        h.append("Content-Length: 0")
        return CRLF.join(h) + CRLF + CRLF

    def answer(self):
        while True:
            m = self.t.recv()
            if m is None:
                return None, None
            start = m[0].split(" ")
            if start[0] == "SIP/2.0" and int(start[1]) >= 200:
                return int(start[1]), m[1]

    def challenge(self):
        self.t.send(self.text())
        code, h = self.answer()
        if code != 401:
            return None
        return parse_challenge(header(h, "WWW-Authenticate")[0])[1]


def say(code):
    print(f"STATUS {code if code else 'NO ANSWER'}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--dn", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--local", default="127.0.0.1")
    ap.add_argument("--from", dest="src", help="the other address")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--wrong", action="store_true")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("mode", choices=["replay", "foreign", "resend"])
    a = ap.parse_args()
    pw = "not-" + a.password if a.wrong else a.password

    if a.mode == "replay":
        r = Reg(a, a.local)
        ch = r.challenge()
        auth = authorization(ch, "MD5", a.user, pw, "REGISTER", r.ruri, 1, False, "")
        r.t.send(r.text(auth))
        say(r.answer()[0])
        other = Reg(a, a.src or a.local)
        other.t.send(other.text(auth))
        say(other.answer()[0])
    elif a.mode == "foreign":
        ch = Reg(a, a.src).challenge()
        r = Reg(a, a.local)
        for i in range(a.count):
            auth = authorization(ch, "MD5", a.user, pw, "REGISTER", r.ruri, i + 1, True,
                                 rand_hex(8))
            r.t.send(r.text(auth))
            say(r.answer()[0])
    else:
        r = Reg(a, a.local)
        ch = r.challenge()
        auth = authorization(ch, "MD5", a.user, pw, "REGISTER", r.ruri, 1, True, rand_hex(8))
        msg = r.text(auth, branch="z9hG4bK" + rand_hex(10))
        for _ in range(a.count):
            r.t.send(msg)
            say(r.answer()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
