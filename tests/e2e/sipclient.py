#!/usr/bin/env python3
"""A small scripted SIP phone for the end-to-end tests: REGISTER with digest
authentication computed by Python's hashlib (MD5 or SHA-256, with or
without qop), over UDP or TCP, as a plain phone or shaped like a Cisco phone
in CUCM mode. Prints one line per final response ("STATUS <code>") and, with
--show, the headers of the last one.

Exit status: 0 when the last final response has the --expect code (default
200), 1 otherwise, 2 on bad usage. "NO ANSWER" counts as code 0.
"""
import argparse
import hashlib
import os
import random
import re
import socket
import ssl
import sys
import time

CRLF = "\r\n"


def rand_hex(n):
    return "".join(random.choice("0123456789abcdef") for _ in range(n))


def tls_context(cafile=None, legacy=False):
    """A client context: the server checked against cafile (None: not checked);
    legacy forces TLS 1.0 at security level 0, as 7900-series firmware speaks."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if cafile:
        ctx.load_verify_locations(cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if legacy:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
    return ctx


class Transport:
    def __init__(self, proto, server, local, timeout, port=0, rcvbuf=0, cafile=None,
                 legacy=False):
        self.proto = proto
        self.server = server
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.bind((local, port))
        if proto in ("tcp", "tls"):
            self.sock.connect(server)
        if proto == "tls":
            self.sock.settimeout(max(timeout, 10))  # the handshake, however loaded the machine
            self.sock = tls_context(cafile, legacy).wrap_socket(self.sock)
            self.sock.settimeout(timeout)
        self.buf = b""
        self.local = self.sock.getsockname()

    def send(self, text):
        data = text.encode()
        if self.proto == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def recv(self):
        """One SIP message as (start line, headers list, body), or None on timeout."""
        try:
            if self.proto == "udp":
                data = self.sock.recv(65535)
                return parse(data)
            while True:
                end = self.buf.find(b"\r\n\r\n")
                if end >= 0:
                    head = self.buf[:end].decode(errors="replace")
                    m = re.search(r"(?im)^(content-length|l)\s*:\s*(\d+)", head)
                    clen = int(m.group(2)) if m else 0
                    if len(self.buf) >= end + 4 + clen:
                        msg = self.buf[: end + 4 + clen]
                        self.buf = self.buf[end + 4 + clen:]
                        return parse(msg)
                chunk = self.sock.recv(65535)
                if not chunk:
                    return None
                self.buf += chunk
        except (socket.timeout, ConnectionError, ssl.SSLError):
            return None


def open_session(a):
    """The transport to a.server from a.local and what a registration names:
    (transport, host, port, local host, local port, Call-ID, From tag)."""
    host, port = a.server.rsplit(":", 1)
    t = Transport(a.transport, (host, int(port)), a.local, a.timeout, rcvbuf=getattr(a, "rcvbuf", 0),
                  cafile=getattr(a, "cafile", None), legacy=getattr(a, "tls_legacy", False))
    lhost, lport = t.local
    return t, host, port, lhost, lport, f"{rand_hex(8)}-{rand_hex(8)}@{lhost}", rand_hex(12)


def parse(data):
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        elif ":" in line:
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
    return lines[0], headers, body


def header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def parse_challenge(value):
    scheme, _, rest = value.partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z-]+)\s*=\s*("([^"]*)"|[^,\s]+)', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return scheme, params


def digest(alg, text):
    return hashlib.new("sha256" if alg.upper() == "SHA-256" else "md5", text.encode()).hexdigest()


def authorization(ch, alg, user, password, method, uri, nc, qop, cnonce):
    ha1 = digest(alg, f"{user}:{ch['realm']}:{password}")
    ha2 = digest(alg, f"{method}:{uri}")
    if qop:
        resp = digest(alg, f"{ha1}:{ch['nonce']}:{nc:08x}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc:08x}, cnonce="{cnonce}"'
    else:
        resp = digest(alg, f"{ha1}:{ch['nonce']}:{ha2}")
        extra = ""
    return (f'Digest username="{user}", realm="{ch["realm"]}", nonce="{ch["nonce"]}", '
            f'uri="{uri}", response="{resp}", algorithm={alg}{extra}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="HOST:PORT")
    ap.add_argument("--transport", default="udp", choices=["udp", "tcp", "tls"])
    ap.add_argument("--cafile", help="TLS: check the server's certificate against these CAs")
    ap.add_argument("--tls-legacy", action="store_true", help="TLS: 1.0 only, security level 0")
    ap.add_argument("--local", default="127.0.0.1", help="local address to send from")
    ap.add_argument("--dn", required=True, help="the line registered (To user)")
    ap.add_argument("--user", help="digest user (none: never answer a challenge)")
    ap.add_argument("--password", default="")
    ap.add_argument("--alg", default="MD5", choices=["MD5", "SHA-256"])
    ap.add_argument("--force-alg", action="store_true",
                    help="answer with --alg whatever algorithm the challenge names")
    ap.add_argument("--no-qop", action="store_true", help="answer without qop (RFC 2069)")
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--contact-user", help="user part of the Contact (default the DN)")
    ap.add_argument("--contact-hostport", help="HOST:PORT of the Contact (default this socket's)")
    ap.add_argument("--contact", help="the whole Contact header value, as given")
    ap.add_argument("--cisco", metavar="DEVICE", help="shape the REGISTER like a Cisco phone")
    ap.add_argument("--bulk", action="store_true", help="Cisco: Reason and bulkregisterreq body")
    ap.add_argument("--keepalive", action="store_true", help="Cisco standby keep-alive")
    ap.add_argument("--star", action="store_true", help="Contact: * (with --expires 0)")
    ap.add_argument("--refresh", type=float, action="append", default=[],
                    help="after success, wait S seconds and send a bare refresh (repeatable)")
    ap.add_argument("--replay", action="store_true",
                    help="after success, resend the same credentials on a new request")
    ap.add_argument("--hold", type=float, default=0,
                    help="keep the connection open S seconds after the last answer")
    ap.add_argument("--hold-until", help="keep the connection open until this file exists")
    ap.add_argument("--rcvbuf", type=int, default=0,
                    help="SO_RCVBUF of the socket (with --hold: a phone that reads nothing)")
    ap.add_argument("--expect", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--show", action="store_true", help="print the last answer's headers")
    a = ap.parse_args()

    t, host, port, lhost, lport, call_id, from_tag = open_session(a)
    cseq = random.randint(100, 1000)
    ruri = f"sip:{host}:{port}"
    cuser = a.contact_user or a.dn
    tparam = "" if a.transport == "udp" else ";transport=" + a.transport
    mac = a.cisco[3:].lower() if a.cisco and a.cisco.upper().startswith("SEP") else None

    def request(auth=None, bare=False, expires=None):
        nonlocal cseq
        cseq += 1
        exp = a.expires if expires is None else expires
        if a.star:
            contact = "*"
        elif a.cisco:
            contact = (f"<sip:{cuser}@{lhost}:{lport}{tparam}>;"
                       f'+sip.instance="<urn:uuid:00000000-0000-0000-0000-{mac or "000000000000"}>";'
                       f'+u.sip!devicename.ccm.cisco.com="{a.cisco}";+u.sip!model.ccm.cisco.com="437"')
            if a.keepalive:
                contact += ";expires=0;cisco-keep-alive"
        elif a.contact:
            contact = a.contact
        elif a.contact_hostport:
            contact = f"<sip:{cuser}@{a.contact_hostport}{tparam}>"
        else:
            contact = f"<sip:{cuser}@{lhost}:{lport}{tparam}>"
        h = [
            f"REGISTER {ruri} SIP/2.0",
            f"Via: SIP/2.0/{a.transport.upper()} {lhost}:{lport};branch=z9hG4bK{rand_hex(10)};rport",
            f"From: <sip:{a.dn}@{host}>;tag={from_tag}",
            f"To: <sip:{a.dn}@{host}>",
            f"Call-ID: {call_id}",
            "Max-Forwards: 70",
            f"CSeq: {cseq} REGISTER",
            f"User-Agent: {'Cisco-CP7941G/9.4.2' if a.cisco else 'sipreg-test-phone/1'}",
            f"Contact: {contact}",
            f"Expires: {0 if a.keepalive else exp}",
        ]
        if a.cisco:
            h.append("Supported: replaces,join,sdp-anat,norefersub,resource-priority,"
                     "extended-refer,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,"
                     "X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,"
                     "X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1")
        if auth:
            h.append(f"Authorization: {auth}")
        body = ""
        if a.cisco and a.bulk and not bare:
            h.append(f'Reason: SIP;cause=200;text="cisco-alarm:23 Name={a.cisco} '
                     f'Load=SIP41.9-4-2SR3-1S Last=reset-restart"')
            body = CRLF.join([
                "--uniqueBoundary",
                "Content-Type: application/x-cisco-remotecc-request+xml",
                "Content-Disposition: session;handling=optional",
                "",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<x-cisco-remotecc-request><bulkregisterreq><contact all=\"true\">"
                "<register></register></contact></bulkregisterreq></x-cisco-remotecc-request>",
                "--uniqueBoundary",
                "Content-Type: application/x-cisco-remotecc-request+xml",
                "Content-Disposition: session;handling=optional",
                "",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "<x-cisco-remotecc-request><optionsind><combine max=\"6\"><remotecc><status/>"
                "</remotecc><service-control/></combine><dialog usage=\"hook status\"><unot/>"
                "<sub/></dialog><dialog usage=\"shared line\"><unot/><sub/></dialog>"
                "<presence usage=\"blf speed dial\"><unot/><sub/></presence><joinreq/>"
                "</optionsind></x-cisco-remotecc-request>",
                "--uniqueBoundary--",
                "",
            ])
            h.append("Content-Type: multipart/mixed; boundary=uniqueBoundary")
            h.append("Mime-Version: 1.0")
        h.append(f"Content-Length: {len(body.encode())}")
        t.send(CRLF.join(h) + CRLF + CRLF + body)

    def final():
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            m = t.recv()
            if m is None:
                return None
            start = m[0].split(" ")
            if len(start) >= 2 and start[0] == "SIP/2.0" and start[1].isdigit():
                code = int(start[1])
                if code >= 200:
                    return code, m[1], m[2]
        return None

    def report(ans):
        if ans is None:
            print("STATUS NO ANSWER")
            return 0
        print(f"STATUS {ans[0]}")
        return ans[0]

    nc = 0
    cnonce = rand_hex(16)
    ch = None
    last_auth = None
    request()
    ans = final()
    code = report(ans)
    rounds = 0
    while ans and ans[0] == 401 and a.user and rounds < 3:
        rounds += 1
        offers = [parse_challenge(v)[1] for v in header(ans[1], "WWW-Authenticate")]
        pick = [o for o in offers if o.get("algorithm", "MD5").upper() == a.alg.upper()]
        if not pick and a.force_alg:  # as a client that knows only --alg does
            pick = offers[:1]
        if not pick:
            print(f"STATUS NO {a.alg} CHALLENGE")
            break
        ch = pick[0]
        nc = 1
        last_auth = authorization(ch, a.alg, a.user, a.password, "REGISTER", ruri, nc,
                                  not a.no_qop, cnonce)
        request(last_auth)
        ans = final()
        code = report(ans)
        if ans and ans[0] == 401 and not any("stale=true" in v for v in header(ans[1], "WWW-Authenticate")):
            break
    if code == 200 and a.replay and last_auth:
        request(last_auth)
        ans = final()
        code = report(ans)
    for wait in a.refresh:
        if code != 200:
            break
        time.sleep(wait)
        nc += 1
        auth = authorization(ch, a.alg, a.user, a.password, "REGISTER", ruri, nc,
                             not a.no_qop, cnonce) if ch else None
        request(auth, bare=True)
        ans = final()
        code = report(ans)
        while ans and ans[0] == 401 and a.user:
            offers = [parse_challenge(v)[1] for v in header(ans[1], "WWW-Authenticate")]
            pick = [o for o in offers if o.get("algorithm", "MD5").upper() == a.alg.upper()]
            if not pick:
                break
            ch, nc = pick[0], 1
            request(authorization(ch, a.alg, a.user, a.password, "REGISTER", ruri, nc,
                                  not a.no_qop, cnonce), bare=True)
            ans = final()
            code = report(ans)
            break
    if a.show and ans:
        for k, v in ans[1]:
            print(f"{k}: {v}")
        if ans[2]:
            print("BODY " + ans[2].replace("\r\n", " "))
    sys.stdout.flush()
    if a.hold:
        time.sleep(a.hold)
    if a.hold_until:
        deadline = time.time() + 120
        while not os.path.exists(a.hold_until) and time.time() < deadline:
            time.sleep(0.05)
    return 0 if code == a.expect else 1


if __name__ == "__main__":
    sys.exit(main())
