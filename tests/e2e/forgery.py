#!/usr/bin/env python3
"""Requests whose every field carries a forged log line, for tests/e2e/forgery.sh.

usage: forgery.py --server HOST:PORT --local ADDR --marker TEXT

Sends REGISTER, INVITE, OPTIONS, PUBLISH, REFER, NOTIFY, SUBSCRIBE, MESSAGE
and a request of an unknown method, each once plainly and once with
credentials for user "alice" (password "alice-secret-1", computed from the
challenge), with TEXT (and TEXT percent-encoded with a line break before it)
in the From, To and Contact display names and users, the Request-URI user,
User-Agent, Call-ID, the Authorization username, realm and uri, Reason,
Refer-To, Event, +sip.instance and the Cisco device name. Waits for each
answer (1 s at most). Prints how many got one.
"""
import argparse
import hashlib
import random
import re
import socket
import sys
import urllib.parse


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--marker", required=True)
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    server = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.local, 0))
    s.settimeout(1.0)
    me = "%s:%d" % s.getsockname()
    mk = a.marker
    quoted = mk.replace("\\", "\\\\").replace('"', '\\"')
    esc = urllib.parse.quote("\n" + mk, safe="")
    answered = 0
    sent = 0

    def send(text):
        nonlocal answered, sent
        s.sendto(text.encode("utf-8", "surrogateescape"), server)
        sent += 1
        try:
            data, _ = s.recvfrom(65536)
            while data.startswith(b"SIP/2.0 1"):
                data, _ = s.recvfrom(65536)
            answered += 1
            return data.decode("utf-8", "replace")
        except socket.timeout:
            return ""

    methods = ["REGISTER", "INVITE", "OPTIONS", "PUBLISH", "REFER", "NOTIFY", "SUBSCRIBE",
               "MESSAGE", "FORGED.198.51.100.99"]
    for user in ("1001", esc, "1001" + esc):
        for method in methods:
            cid = "%x" % random.getrandbits(64)
            ruri = "sip:%s@%s" % (user, a.server)
            extra = ""
            if method == "REFER":
                extra += "Refer-To: <sip:%s@%s>\r\n" % (esc, a.server)
            if method in ("NOTIFY", "SUBSCRIBE", "PUBLISH"):
                extra += "Event: %s\r\n" % re.sub(r"[^A-Za-z0-9.-]", "-", mk)
            body = ""
            if method == "INVITE":
                body = "v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=%s\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n" % (
                    re.sub(r"\s", "_", mk), mk)
                extra += "Content-Type: application/sdp\r\n"

            def request(auth, branch):
                return (
                    "%s %s SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s\r\n"
                    "Max-Forwards: 70\r\n"
                    'From: "%s" <sip:%s@%s>;tag=%s\r\n'
                    'To: "%s" <sip:%s@%s>\r\n'
                    "Call-ID: %s-%s\r\n"
                    "CSeq: %d %s\r\n"
                    'Contact: "%s" <sip:%s@%s>;+sip.instance="<urn:uuid:%s>";'
                    '+u.sip!devicename.ccm.cisco.com="%s"\r\n'
                    "User-Agent: %s\r\n"
                    'Reason: SIP;cause=200;text="cisco-alarm:23 Name=%s Last=x"\r\n'
                    "%s%s"
                    "Content-Length: %d\r\n\r\n%s"
                    % (method, ruri, me, branch, quoted, user, a.server, cid[:8], quoted, user,
                       a.server, cid, re.sub(r"\s", "_", mk), 2 if auth else 1, method, quoted,
                       user, me, re.sub(r"\s", "_", mk), quoted, mk, re.sub(r"\s", "_", mk),
                       extra, auth, len(body.encode()), body))

            ans = send(request("", "a" + cid))
            ch = re.search(r'^(WWW|Proxy)-Authenticate: Digest (.*)$', ans, re.M | re.I)
            if not ch:
                continue
            nonce = re.search(r'nonce="([^"]*)"', ch.group(2))
            realm = re.search(r'realm="([^"]*)"', ch.group(2))
            if not nonce or not realm:
                continue
            ha1 = md5("alice:%s:alice-secret-1" % realm.group(1))
            resp = md5("%s:%s:00000001:c0ffee:auth:%s" % (ha1, nonce.group(1),
                                                          md5("%s:%s" % (method, ruri))))
            hdr = "Proxy-Authorization" if ch.group(1).lower() == "proxy" else "Authorization"
            for uname, rlm, uri in (("alice", realm.group(1), ruri),
                                    (quoted, realm.group(1), ruri),
                                    ("alice", quoted, ruri),
                                    ("alice", realm.group(1), "sip:%s@x" % esc)):
                auth = ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                        'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"\r\n'
                        % (hdr, uname, rlm, nonce.group(1), uri, resp))
                send(request(auth, "b%x" % random.getrandbits(48)))
    print("%d of %d requests answered" % (answered, sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
