#!/usr/bin/env python3
"""REGISTER steps on one transport (one UDP socket or one TCP connection), as
a phone does over its life: register contacts, refresh, unregister one or
all, close the connection. Digest answers as in sipclient.py.

usage: regsteps.py --server HOST:PORT --dn DN [--user U --password P]
                   [--transport udp|tcp] [--cisco DEVICE] STEP...

STEP is one of:
  +NAME[=SECONDS]  register the contact sip:NAME@<this socket> (default 3600 s)
  -NAME            Expires: 0 for that contact
  -NAME;param      ;expires=0 on the contact instead of the Expires header
  '*'              Contact: * with Expires: 0
  close            close the connection (TCP) and stop
  stay=S           TCP: the server must keep the connection open for S seconds
                   (requests sipregd sends meanwhile are read and ignored)
  dropped=S        TCP: the server must close the connection within S seconds
  expect=CODE      the next answer must be CODE (default 200)
Prints one line per answer. Exit status 0 when every answer was as
expected, 1 otherwise, 2 on bad usage.
"""
import argparse
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import (CRLF, authorization, header, open_session,  # noqa: E402
                       parse_challenge, rand_hex)


def server_closed(sock, secs):
    """Whether the server closes the connection within secs (reading what it sends)."""
    end = time.time() + secs
    while time.time() < end:
        sock.settimeout(max(0.05, min(0.5, end - time.time())))
        try:
            if sock.recv(65535) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--transport", default="tcp", choices=["udp", "tcp", "tls"])
    ap.add_argument("--local", default="127.0.0.1")
    ap.add_argument("--dn", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password", default="")
    ap.add_argument("--cisco", metavar="DEVICE")
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("steps", nargs="+")
    a = ap.parse_args()

    t, host, port, lhost, lport, call_id, from_tag = open_session(a)
    state = {"cseq": random.randint(100, 1000), "ch": None, "nc": 0}
    ruri = f"sip:{host}:{port}"
    tparam = "" if a.transport == "udp" else ";transport=" + a.transport
    cnonce = rand_hex(16)

    def contact_of(name, params=""):
        c = f"<sip:{name}@{lhost}:{lport}{tparam}>"
        if a.cisco:
            mac = a.cisco[3:].lower()
            c += (f';+sip.instance="<urn:uuid:00000000-0000-0000-0000-{mac}>"'
                  f';+u.sip!devicename.ccm.cisco.com="{a.cisco}"')
        return c + params

    def send(contact, expires):
        state["cseq"] += 1
        auth = None
        if state["ch"]:
            state["nc"] += 1
            auth = authorization(state["ch"], "MD5", a.user, a.password, "REGISTER", ruri,
                                 state["nc"], True, cnonce)
        h = [f"REGISTER {ruri} SIP/2.0",
             f"Via: SIP/2.0/{a.transport.upper()} {lhost}:{lport};branch=z9hG4bK{rand_hex(10)};rport",
             f"From: <sip:{a.dn}@{host}>;tag={from_tag}",
             f"To: <sip:{a.dn}@{host}>",
             f"Call-ID: {call_id}",
             "Max-Forwards: 70",
             f"CSeq: {state['cseq']} REGISTER",
             f"User-Agent: {'Cisco-CP7941G/9.4.2' if a.cisco else 'sipreg-test-phone/1'}",
             f"Contact: {contact}"]
        if expires is not None:
            h.append(f"Expires: {expires}")
        if auth:
            h.append(f"Authorization: {auth}")
        h.append("Content-Length: 0")
        t.send(CRLF.join(h) + CRLF + CRLF)

    def final():
        for _ in range(20):
            m = t.recv()
            if m is None:
                return None
            start = m[0].split(" ")
            if len(start) >= 2 and start[0] == "SIP/2.0" and start[1].isdigit() and int(start[1]) >= 200:
                return int(start[1]), m[1]
        return None

    def exchange(contact, expires):
        send(contact, expires)
        ans = final()
        tries = 0
        while ans and ans[0] == 401 and a.user and tries < 2:
            tries += 1
            offers = [parse_challenge(v)[1] for v in header(ans[1], "WWW-Authenticate")]
            md5 = [o for o in offers if o.get("algorithm", "MD5").upper() == "MD5"]
            if not md5:
                break
            state["ch"], state["nc"] = md5[0], 0
            send(contact, expires)
            ans = final()
        return ans[0] if ans else 0

    good = True
    want = 200
    for step in a.steps:
        if step.startswith("expect="):
            want = int(step[7:])
            continue
        if step == "close":
            t.sock.close()
            print("closed")
            break
        if step.startswith("stay=") or step.startswith("dropped="):
            name, _, secs = step.partition("=")
            gone = server_closed(t.sock, float(secs))
            print(f"{step} {'closed by the server' if gone else 'open'}")
            if gone != (name == "dropped"):
                good = False
            if gone:
                break
            continue
        if step == "*":
            code = exchange("*", 0)
        elif step.startswith("+"):
            name, _, secs = step[1:].partition("=")
            code = exchange(contact_of(name), int(secs) if secs else 3600)
        elif step.startswith("-") and step.endswith(";param"):
            code = exchange(contact_of(step[1:-6], ";expires=0"), None)
        elif step.startswith("-"):
            code = exchange(contact_of(step[1:]), 0)
        else:
            print(f"bad step {step!r}", file=sys.stderr)
            return 2
        print(f"{step} {code}")
        if code != want:
            good = False
        want = 200
    sys.stdout.flush()
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
