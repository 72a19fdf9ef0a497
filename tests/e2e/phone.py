#!/usr/bin/env python3
"""A scripted phone for the end-to-end tests: registers (optionally shaped
like a Cisco phone in CUCM mode, with the bulk registration body), keeps its
socket or connection, answers what sipregd sends it (INVITE, REFER, NOTIFY,
BYE, CANCEL, OPTIONS) and performs actions (PUBLISH, REFER, NOTIFY, INVITE
with digest answers). Every request received and every action's result goes
to the log file, one line each:

  REGISTERED
  RECV <METHOD> <header: value | ...> BODY <body on one line>
  AUTH OK | AUTH BAD          (a challenged INVITE's answer checked)
  RESULT <action> <code>

Actions (--do, in order): keepalive:HOST:PORT (an expires-0 REGISTER with
cisco-keep-alive to a standby server), keepalive-plain:HOST:PORT (the same without
the marker, as older firmware), token:HOST:PORT (refer:token to that server),
failover:HOST:PORT (register there from now on), fallback:HOST:PORT (unregister
here, then register there), publish:dnd, publish:available, refer:alarm,
refer:token (token registration), refer:remotecc (a soft key), publish:open (plain
PIDF), publish:refresh|remove|stale (SIP-If-Match: the last SIP-ETag or none
known), publish:text (a body that is not PIDF),
notify:dialog, invite:USER (INVITE to sip:USER@server, answers 407, ACKs a
2xx), transfer:USER (blind: REFER in the first call to sip:USER@server),
attended (REFER in the first call naming the second with Replaces),
replaces:USER (an INVITE with a Replaces naming no dialog), require:TAG (an INFO
in the first call with Require: TAG), bye
(hangs up the newest call), sleep:SECONDS. Afterwards it serves until
--until FILE exists (120 s at most) or, without --until, ends. With
--control FILE, actions written to FILE (one per line) are run while
serving; the file is removed once read, and "quit" ends.

Calls are dialogs: re-INVITEs are answered with this phone's SDP. A REFER
in a call makes this phone the transferee (202, NOTIFY 100, INVITE to the
Refer-To with its Replaces, NOTIFY with the final status); a NOTIFY saying
200 for a REFER it sent makes it hang up that call, as phones do.

More log lines: DIALOG <n> <call-id> (a call set up), TRANSFEREE <code>,
TRANSFER DONE, BYE <n> <code> (this phone hung up call n), HANGUP <n> (the
other side did), REINVITE <n>.

Exit status: 0 registered and every action got a final response, 1 not,
2 on bad usage.
"""
import argparse
import os
import random
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import (CRLF, Transport, authorization, digest, header,  # noqa: E402
                       parse_challenge, rand_hex)



SRTP_KEY = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"


def sdp(dn, srtp="none"):
    """The phone's SDP; its origin names the DN, so a peer's log shows whose it got.
    srtp: none, savp (SRTP keys only) or avp (keys, plain RTP allowed)."""
    proto = "RTP/SAVP" if srtp == "savp" else "RTP/AVP"
    return CRLF.join([
        "v=0", f"o=callee-{dn} 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
        f"m=audio {40000 + int(dn) % 10000 * 2 if dn.isdigit() else 40000} {proto} 0 8 101",
        "a=rtpmap:101 telephone-event/8000"] + ([SRTP_KEY] if srtp != "none" else []) +
        ["a=sendrecv", ""])


def uri_of(value):
    """The URI in a name-addr (or a bare addr-spec)."""
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value.split(">")[-1])
    return m.group(1) if m else None


def user_of(uri):
    m = re.match(r"sips?:([^@;?]+)@", uri)
    return m.group(1) if m else ""

PIDF = ('<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
        'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:{dn}@{host}">'
        '<dm:person id="p1"><rpid:activities><rpid:{what}/></rpid:activities></dm:person>'
        '</presence>')

PIDF_OPEN = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:{dn}@{host}">'
             '<tuple id="t1"><status><basic>open</basic></status></tuple></presence>')


class Phone:
    def __init__(self, a):
        self.a = a
        host, port = a.server.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.t = Transport(a.transport, (host, int(port)), a.local, 0.2, a.bind_port)
        self.lhost, self.lport = self.t.local
        self.log = open(a.log, "a", buffering=1)
        self.cseq = random.randint(1, 1000)
        self.etag = "none-yet"
        self.tag = rand_hex(10)
        self.calls = {}  # Call-ID -> state of incoming INVITEs
        self.nonces = set()
        self.dialogs = {}  # Call-ID -> dialog (calls set up, either way)
        self.order = []  # Call-IDs of dialogs, oldest first
        self.todo = []  # work to do outside the message handler
        self.sdp = sdp(a.dn, a.srtp)

    def say(self, line):
        self.log.write(line.replace("\r\n", " ").replace("\n", " ") + "\n")

    # ---- sending ----

    def via(self):
        return (f"Via: SIP/2.0/{self.a.transport.upper()} {self.lhost}:{self.lport};"
                f"branch=z9hG4bK{rand_hex(12)};rport")

    def contact(self, user):
        tp = "" if self.a.transport == "udp" else ";transport=" + self.a.transport
        return f"<sip:{user}@{self.lhost}:{self.lport}{tp}>"

    def send_request(self, method, ruri, extra, body="", ctype=None, call_id=None,
                     to_tag=None, cseq=None):
        self.cseq += 1
        h = [f"{method} {ruri} SIP/2.0", self.via(),
             f"From: <sip:{self.a.dn}@{self.host}>;tag={self.tag}",
             f"To: <{ruri}>" + (f";tag={to_tag}" if to_tag else ""),
             f"Call-ID: {call_id or rand_hex(16) + '@' + self.lhost}",
             f"CSeq: {cseq or self.cseq} {method}", "Max-Forwards: 70",
             f"Contact: {self.contact(self.a.dn)}", "User-Agent: Cisco-CP7941G/9.4.2"]
        h += extra
        if body:
            h.append(f"Content-Type: {ctype}")
        h.append(f"Content-Length: {len(body.encode())}")
        self.t.send(CRLF.join(h) + CRLF + CRLF + body)
        return h

    def reply(self, req, code, phrase, extra=(), body="", ctype=None, tag=None):
        _, headers, _ = req
        h = [f"SIP/2.0 {code} {phrase}"]
        h += [f"Via: {v}" for v in header(headers, "Via")]
        h.append(f"From: {header(headers, 'From')[0]}")
        to = header(headers, "To")[0]
        if tag and ";tag=" not in to:
            to += f";tag={tag}"
        h.append(f"To: {to}")
        h.append(f"Call-ID: {header(headers, 'Call-ID')[0]}")
        h.append(f"CSeq: {header(headers, 'CSeq')[0]}")
        h += list(extra)
        if body:
            h.append(f"Content-Type: {ctype}")
        h.append(f"Content-Length: {len(body.encode())}")
        self.t.send(CRLF.join(h) + CRLF + CRLF + body)

    def add_dialog(self, d):
        self.dialogs[d["call_id"]] = d
        self.order.append(d["call_id"])
        self.say(f"DIALOG {len(self.order) - 1} {d['call_id']}")

    def live(self):
        return [self.dialogs[c] for c in self.order if c in self.dialogs]

    def send_in_dialog(self, d, method, extra, body="", ctype=None):
        d["cseq"] += 1
        h = [f"{method} {d['target']} SIP/2.0", self.via(),
             f"From: <{d['local']}>;tag={d['ltag']}", f"To: <{d['remote']}>;tag={d['rtag']}",
             f"Call-ID: {d['call_id']}", f"CSeq: {d['cseq']} {method}", "Max-Forwards: 70",
             f"Contact: {self.contact(self.a.dn)}", "User-Agent: Cisco-CP7941G/9.4.2"]
        h += extra
        if body:
            h.append(f"Content-Type: {ctype}")
        h.append(f"Content-Length: {len(body.encode())}")
        self.t.send(CRLF.join(h) + CRLF + CRLF + body)

    def in_dialog(self, d, method, extra=(), body="", ctype=None):
        """Sends a request in dialog d; its final status (0 when none came)."""
        self.send_in_dialog(d, method, list(extra), body, ctype)
        r = self.wait_final()
        return int(r[0].split(" ")[1]) if r else 0

    # ---- receiving ----

    def serve_one(self, m):
        """Handles a request; returns responses to the caller."""
        start, headers, body = m
        parts = start.split(" ")
        if parts[0] == "SIP/2.0":
            return m
        method = parts[0]
        keep = ("Diversion", "Remote-Party-ID", "P-Asserted-Identity", "Event", "Refer-To",
                "Content-Type", "From", "Authorization", "Require", "Call-Info", "Supported")
        shown = " | ".join(f"{k}: {v}" for k, v in headers if k in keep)
        self.say(f"RECV {method} {parts[1] if len(parts) > 1 else ''} {shown} BODY {body}")
        cid = header(headers, "Call-ID")[0]
        d = self.dialogs.get(cid)
        if method == "INVITE" and d:
            self.say(f"REINVITE {self.order.index(cid)}")
            self.reply(m, 200, "OK", body=self.sdp, ctype="application/sdp",
                       extra=[f"Contact: {self.contact(self.a.dn)}"])
        elif method == "INVITE":
            self.incoming_invite(m, cid)
        elif method == "REFER":
            self.reply(m, 202, "Accepted", tag=rand_hex(8))
            if d:
                self.todo.append(("transferee", d, header(headers, "Refer-To")[0]))
        elif method == "NOTIFY":
            self.reply(m, 200, "OK", tag=rand_hex(8))
            if d and d.get("referred") and body.startswith("SIP/2.0 200"):
                self.say("TRANSFER DONE")
                self.todo.append(("bye", d, None))
        elif method in ("OPTIONS", "INFO", "UPDATE"):
            self.reply(m, 200, "OK", tag=rand_hex(8))
        elif method == "BYE":
            self.reply(m, 200, "OK")
            if self.dialogs.pop(cid, None):
                self.say(f"HANGUP {self.order.index(cid)}")
        elif method == "CANCEL":
            self.reply(m, 200, "OK")
            inv = self.calls.get(cid)
            if inv:
                self.reply(inv["req"], 487, "Request Terminated", tag=inv["tag"])
        return None

    def incoming_invite(self, m, cid):
        _, headers, _ = m
        state = self.calls.setdefault(cid, {"tag": rand_hex(8)})
        state["req"] = m
        if self.a.on_invite == "challenge":
            auth = header(headers, "Authorization")
            if not auth:
                nonce = self.server_nonce() if self.a.challenge_nonce == "server" else rand_hex(24)
                self.nonces.add(nonce)
                alg = self.a.challenge_alg
                self.reply(m, 401, "Unauthorized", tag=state["tag"], extra=[
                    f'WWW-Authenticate: Digest realm="{self.a.challenge_realm}", nonce="{nonce}", '
                    f'algorithm={alg}, qop="auth"'])
                return
            _, p = parse_challenge(auth[0])
            alg = p.get("algorithm", "MD5")
            ha1 = digest(alg, f"{p.get('username')}:{p.get('realm')}:{self.a.password}")
            ha2 = digest(alg, f"INVITE:{p.get('uri')}")
            if p.get("qop"):
                want = digest(alg, f"{ha1}:{p.get('nonce')}:{p.get('nc')}:{p.get('cnonce')}:"
                              f"{p.get('qop')}:{ha2}")
            else:
                want = digest(alg, f"{ha1}:{p.get('nonce')}:{ha2}")
            good = p.get("nonce") in self.nonces and p.get("response") == want
            self.say(f"AUTH {'OK' if good else 'BAD'} {alg} user={p.get('username')}")
            if not good:
                self.reply(m, 403, "Forbidden", tag=state["tag"])
                return
        if self.a.on_invite == "busy":
            self.reply(m, 486, "Busy Here", tag=state["tag"])
            return
        self.reply(m, 200, "OK", tag=state["tag"], body=self.sdp, ctype="application/sdp",
                   extra=[f"Contact: {self.contact(self.a.dn)}"])
        frm, to = header(headers, "From")[0], header(headers, "To")[0]
        self.add_dialog({"call_id": cid, "local": uri_of(to), "ltag": state["tag"],
                         "remote": uri_of(frm), "rtag": tag_of(frm),
                         "target": uri_of(header(headers, "Contact")[0]),
                         "cseq": random.randint(1, 1000)})

    def wait_final(self, seconds=5.0):
        deadline = time.time() + seconds
        while time.time() < deadline:
            m = self.t.recv()
            if m is None:
                continue
            r = self.serve_one(m)
            if r is not None:
                code = int(r[0].split(" ")[1])
                if code >= 200:
                    return r
        return None

    def serve(self, seconds, until=None, control=None):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if until and os.path.exists(until):
                return
            if control and os.path.exists(control):
                with open(control) as f:
                    actions = f.read().split()
                os.unlink(control)
                for x in actions:
                    if x == "quit":
                        return
                    self.act(x)
            m = self.t.recv()
            if m is not None:
                self.serve_one(m)
            while self.todo:
                self.work(*self.todo.pop(0))

    def work(self, what, d, arg):
        if what == "bye":
            if d["call_id"] in self.dialogs:
                code = self.in_dialog(d, "BYE")
                self.dialogs.pop(d["call_id"], None)
                self.say(f"BYE {self.order.index(d['call_id'])} {code}")
            return
        # The transferee: a new call to the Refer-To, reported to the transferor.
        uri = uri_of(arg)
        base, _, query = uri.partition("?")
        extra = []
        for item in query.split("&") if query else []:
            k, _, v = item.partition("=")
            extra.append(f"{k}: {urllib.parse.unquote(v)}")
        frag = "message/sipfrag;version=2.0"
        self.in_dialog(d, "NOTIFY", ["Event: refer", "Subscription-State: active;expires=60"],
                       "SIP/2.0 100 Trying" + CRLF, frag)
        self.invite(user_of(base), extra)
        code = self.last_invite or 500
        phrase = "OK" if code == 200 else "Failed"
        self.say(f"TRANSFEREE {code}")
        if d["call_id"] in self.dialogs:
            self.in_dialog(d, "NOTIFY", ["Event: refer",
                                         "Subscription-State: terminated;reason=noresource"],
                           f"SIP/2.0 {code} {phrase}" + CRLF, frag)

    # ---- registration and actions ----

    def register(self, expires=None):
        a = self.a
        expires = a.expires if expires is None else expires
        ruri = f"sip:{self.host}:{self.port}"
        call_id = rand_hex(16) + "@" + self.lhost
        cnonce = rand_hex(16)
        auth = None
        for _ in range(3):
            contact = self.contact(a.contact_user or a.dn)
            extra = [f"Contact: {contact}" + (
                f';+u.sip!devicename.ccm.cisco.com="{a.cisco}"' if a.cisco else ""),
                f"Expires: {expires}"]
            body, ctype = "", None
            if a.cisco and expires:
                extra.append("Supported: replaces,join,norefersub,X-cisco-serviceuri,"
                             "X-cisco-sis-7.0.0")
                extra.append(f'Reason: SIP;cause=200;text="cisco-alarm:23 Name={a.cisco} '
                             'Load=SIP41.9-4-2SR3-1S Last=reset-restart"')
                body = CRLF.join([
                    "--uniqueBoundary",
                    "Content-Type: application/x-cisco-remotecc-request+xml", "",
                    "<x-cisco-remotecc-request><bulkregisterreq><contact all=\"true\">"
                    "<register></register></contact></bulkregisterreq>"
                    "</x-cisco-remotecc-request>",
                    "--uniqueBoundary--", ""])
                ctype = "multipart/mixed; boundary=uniqueBoundary"
            if auth:
                extra.append(f"Authorization: {auth}")
            # REGISTER's To is the AOR, and its Request-URI the registrar.
            self.cseq += 1
            h = [f"REGISTER {ruri} SIP/2.0", self.via(),
                 f"From: <sip:{a.dn}@{self.host}>;tag={self.tag}",
                 f"To: <sip:{a.dn}@{self.host}>", f"Call-ID: {call_id}",
                 f"CSeq: {self.cseq} REGISTER", "Max-Forwards: 70",
                 "User-Agent: Cisco-CP7941G/9.4.2"] + extra
            if body:
                h.append(f"Content-Type: {ctype}")
            h.append(f"Content-Length: {len(body.encode())}")
            self.t.send(CRLF.join(h) + CRLF + CRLF + body)
            r = self.wait_final()
            if r is None:
                return False
            code = int(r[0].split(" ")[1])
            if code == 200:
                self.say("REGISTERED" if expires else "UNREGISTERED")
                return True
            if code != 401:
                self.say(f"REGISTER {code}")
                return False
            _, ch = parse_challenge(header(r[1], "WWW-Authenticate")[0])
            auth = authorization(ch, "MD5", a.user, a.password, "REGISTER", ruri, 1, True,
                                 cnonce)
        return False

    def switch(self, hostport):
        """Sends to another server from now on (UDP: the same socket)."""
        host, port = hostport.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.t.server = (host, int(port))

    def keepalive(self, marker):
        """An expires-0 REGISTER to the current server, as to a standby (3.2): with the
        cisco-keep-alive marker, or without it as older firmware (answering a 401)."""
        a = self.a
        ruri = f"sip:{self.host}:{self.port}"
        call_id = rand_hex(16) + "@" + self.lhost
        auth = None
        for _ in range(2):
            contact = self.contact(a.dn) + (
                f';+u.sip!devicename.ccm.cisco.com="{a.cisco}"' if a.cisco else "")
            if marker:
                contact += ";expires=0;cisco-keep-alive"
            self.cseq += 1
            h = [f"REGISTER {ruri} SIP/2.0", self.via(),
                 f"From: <sip:{a.dn}@{self.host}>;tag={self.tag}",
                 f"To: <sip:{a.dn}@{self.host}>", f"Call-ID: {call_id}",
                 f"CSeq: {self.cseq} REGISTER", "Max-Forwards: 70",
                 "User-Agent: Cisco-CP7941G/9.4.2", f"Contact: {contact}", "Expires: 0"]
            if auth:
                h.append(f"Authorization: {auth}")
            h.append("Content-Length: 0")
            self.t.send(CRLF.join(h) + CRLF + CRLF)
            r = self.wait_final()
            if r is None:
                return None
            code = int(r[0].split(" ")[1])
            if code != 401:
                return r
            _, ch = parse_challenge(header(r[1], "WWW-Authenticate")[0])
            auth = authorization(ch, "MD5", a.user, a.password, "REGISTER", ruri, 1, True,
                                 rand_hex(16))
        return r

    def act(self, action):
        kind, _, arg = action.partition(":")
        if kind in ("keepalive", "keepalive-plain", "token"):  # to another server, then back
            home = f"{self.host}:{self.port}"
            self.switch(arg)
            if kind == "token":
                ok = self.act("refer:token")
            else:
                r = self.keepalive(kind == "keepalive")
                dated = bool(r and header(r[1], "Date"))
                self.say(f"RESULT {action} {r[0].split(' ')[1] if r else 'NONE'}"
                         f"{' dated' if dated else ''}")
                ok = r is not None
            self.switch(home)
            return ok
        if kind == "failover":  # the active server is gone: register to the standby
            self.switch(arg)
            return self.register()
        if kind == "fallback":  # token granted: unregister here, register there (3.4)
            self.register(0)
            self.switch(arg)
            return self.register()
        target = f"sip:{self.a.dn}@{self.host}:{self.port}"
        if kind == "sleep":
            self.serve(float(arg))
            return True
        if kind == "publish" and arg == "open":  # a plain PIDF, as twinkle sends
            body = PIDF_OPEN.format(dn=self.a.dn, host=self.host)
            self.send_request("PUBLISH", target, ["Event: presence", "Expires: 3600"], body,
                              "application/pidf+xml")
        elif kind == "publish" and arg in ("refresh", "remove", "stale"):
            etag = self.etag if arg != "stale" else "no-such-etag"
            self.send_request("PUBLISH", target, ["Event: presence", f"SIP-If-Match: {etag}",
                                                  "Expires: " + ("0" if arg == "remove" else
                                                                 "600")])
        elif kind == "publish" and arg == "text":  # not PIDF at all
            self.send_request("PUBLISH", target, ["Event: presence", "Expires: 3600"],
                              "I am here", "text/plain")
        elif kind == "publish":
            body = PIDF.format(dn=self.a.dn, host=self.host, what=arg)
            self.send_request("PUBLISH", target, ["Event: presence", "Expires: 3600"], body,
                              "application/pidf+xml")
        elif kind == "refer" and arg == "token":  # fallback to this server (3.4)
            self.send_request("REFER", target, [
                "Refer-To: <urn:X-cisco-remotecc:token-registration>",
                "Require: norefersub", "Expires: 10",
                f"Referred-By: <sip:{self.a.dn}@{self.lhost}>"])
        elif kind == "refer" and arg == "remotecc":  # a soft key (4.4)
            body = ('<?xml version="1.0" encoding="UTF-8"?><x-cisco-remotecc-request>'
                    '<softkeyeventmsg><softkeyevent>IDivert</softkeyevent><dialogid><callid>'
                    '</callid><localtag></localtag><remotetag></remotetag></dialogid>'
                    '</softkeyeventmsg></x-cisco-remotecc-request>')
            self.send_request("REFER", target, [
                "Refer-To: cid:1234567@" + self.lhost, "Content-Id: <1234567@" + self.lhost + ">",
                "Require: norefersub", "Expires: 10",
                f"Referred-By: <sip:{self.a.dn}@{self.lhost}>",
                "Content-Disposition: session;handling=required"],
                body, "application/x-cisco-remotecc-request+xml")
        elif kind == "refer":  # an alarm, as capture E6
            body = ('<?xml version="1.0" encoding="UTF-8"?><x-cisco-alarm><Alarm Name='
                    '"DeviceTLInfo"><ParameterList><String name="TLInfo">ok</String>'
                    '</ParameterList></Alarm></x-cisco-alarm>')
            self.send_request("REFER", target, [f"Refer-To: {target}", "Require: norefersub",
                                                "Content-Disposition: session;handling=required"],
                              body, "application/x-cisco-alarm+xml")
        elif kind == "notify":
            body = ('<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" '
                    f'version="1" state="partial" entity="sip:{self.a.dn}@{self.host}">'
                    '<dialog id="1"><state>trying</state></dialog></dialog-info>')
            self.send_request("NOTIFY", target, ["Event: dialog", "Subscription-State: active"],
                              body, "application/dialog-info+xml")
        elif kind == "invite":
            return self.invite(arg)
        elif kind == "invite-fallback":  # Cisco: SRTP, plain RTP if the callee cannot
            return self.invite(arg, ["Supported: X-cisco-srtp-fallback"])
        elif kind == "replaces":  # an INVITE naming a dialog nobody has
            return self.invite(arg, ["Replaces: no-such-call@127.0.0.1;to-tag=1;from-tag=2"])
        elif kind in ("transfer", "attended", "bye", "require"):
            return self.transfer_act(action, kind, arg)
        else:
            return False
        r = self.wait_final()
        if r and kind == "publish":
            etag = header(r[1], "SIP-ETag")
            if etag:
                self.etag = etag[0]
            self.say(f"PUBLISHED {action} etag={etag[0] if etag else '-'} "
                     f"expires={(header(r[1], 'Expires') or ['-'])[0]}")
        self.say(f"RESULT {action} {r[0].split(' ')[1] if r else 'NONE'}")
        return r is not None

    def transfer_act(self, action, kind, arg):
        calls = self.live()
        code = 0
        if kind == "bye" and calls:
            code = self.in_dialog(calls[-1], "BYE")
            self.dialogs.pop(calls[-1]["call_id"], None)
        elif kind == "require" and calls:  # an INFO in the first call requiring arg
            code = self.in_dialog(calls[0], "INFO", [f"Require: {arg}"])
        elif kind == "transfer" and calls:
            calls[0]["referred"] = True
            code = self.in_dialog(calls[0], "REFER", [
                f"Refer-To: <sip:{arg}@{self.host}:{self.port}>",
                f"Referred-By: <sip:{self.a.dn}@{self.host}>"])
        elif kind == "attended" and len(calls) > 1:
            d = calls[1]
            rp = urllib.parse.quote(f"{d['call_id']};to-tag={d['rtag']};from-tag={d['ltag']}",
                                    safe="")
            calls[0]["referred"] = True
            code = self.in_dialog(calls[0], "REFER", [
                f"Refer-To: <sip:{user_of(d['remote'])}@{self.host}:{self.port}?Replaces={rp}>",
                f"Referred-By: <sip:{self.a.dn}@{self.host}>"])
        self.say(f"RESULT {action} {code or 'NONE'}")
        return code != 0

    def invite(self, user, headers=()):
        ruri = f"sip:{user}@{self.host}:{self.port}"
        call_id = rand_hex(16) + "@" + self.lhost
        cseq = self.cseq + 1
        cnonce = rand_hex(16)
        extra = list(headers)
        self.last_invite = 0
        for _ in range(3):
            h = self.send_request("INVITE", ruri, extra, self.sdp, "application/sdp",
                                  call_id=call_id, cseq=cseq)
            r = self.wait_final()
            code = int(r[0].split(" ")[1]) if r else 0
            to = header(r[1], "To")[0] if r else ""
            if r and code >= 300:
                self.ack(h, r, ruri, call_id, cseq, to)
            if code in (401, 407):
                name = "Proxy-Authenticate" if code == 407 else "WWW-Authenticate"
                _, ch = parse_challenge(header(r[1], name)[0])
                auth = authorization(ch, "MD5", self.a.user, self.a.password, "INVITE", ruri,
                                     1, True, cnonce)
                extra = list(headers) + [
                    f"{'Proxy-' if code == 407 else ''}Authorization: {auth}"]
                cseq += 1
                continue
            break
        if r:
            info = header(r[1], "Call-Info")
            self.say(f"FINAL invite:{user} {code} Call-Info: {info[0] if info else '-'} "
                     f"BODY {r[2]}")
        self.say(f"RESULT invite:{user} {code or 'NONE'}")
        self.last_invite = code
        if r and 200 <= code < 300:
            self.ack(h, r, ruri, call_id, cseq, to, ok=True)
            contact = header(r[1], "Contact")
            self.add_dialog({"call_id": call_id, "local": f"sip:{self.a.dn}@{self.host}",
                             "ltag": self.tag, "remote": uri_of(to), "rtag": tag_of(to),
                             "target": uri_of(contact[0]) if contact else ruri, "cseq": cseq})
        return r is not None

    def server_nonce(self):
        """A nonce of sipregd's own: the one its 407 to an INVITE of ours carries."""
        ruri = f"sip:nobody@{self.host}:{self.port}"
        tag, call_id = rand_hex(8), rand_hex(16)
        h = [f"INVITE {ruri} SIP/2.0", self.via(), f"From: <sip:{self.a.dn}@{self.host}>;tag={tag}",
             f"To: <{ruri}>", f"Call-ID: {call_id}", "CSeq: 1 INVITE", "Max-Forwards: 70",
             f"Contact: {self.contact(self.a.dn)}", "Content-Length: 0"]
        self.t.send(CRLF.join(h) + CRLF + CRLF)
        for _ in range(50):
            m = self.t.recv()
            if m and m[0].startswith("SIP/2.0 407"):
                _, ch = parse_challenge(header(m[1], "Proxy-Authenticate")[0])
                self.say(f"SERVER NONCE {ch['nonce']}")
                return ch["nonce"]
        return rand_hex(24)

    def ack(self, sent, resp, ruri, call_id, cseq, to, ok=False):
        via = sent[1] if not ok else self.via()
        h = [f"ACK {ruri} SIP/2.0", via, f"From: <sip:{self.a.dn}@{self.host}>;tag={self.tag}",
             f"To: {to}", f"Call-ID: {call_id}", f"CSeq: {cseq} ACK", "Max-Forwards: 70",
             "Content-Length: 0"]
        self.t.send(CRLF.join(h) + CRLF + CRLF)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--transport", default="udp", choices=["udp", "tcp", "tls"])
    ap.add_argument("--dn", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--cisco", metavar="DEVICE", help="a CUCM-mode Cisco phone (bulk register)")
    ap.add_argument("--expires", type=int, default=120)
    ap.add_argument("--on-invite", default="answer", choices=["answer", "challenge", "busy"])
    ap.add_argument("--srtp", default="none", choices=["none", "savp", "avp"],
                    help="SRTP keys in the phone's descriptions")
    ap.add_argument("--challenge-alg", default="MD5", choices=["MD5", "SHA-256"])
    ap.add_argument("--challenge-realm", default="sipreg")
    ap.add_argument("--challenge-nonce", default="own", choices=["own", "server"],
                    help="server: challenge with a nonce fetched from sipregd")
    ap.add_argument("--local", default="127.0.0.1", help="the address to bind")
    ap.add_argument("--bind-port", type=int, default=0, help="the port to bind (default any)")
    ap.add_argument("--contact-user", help="the Contact's user part when registering")
    ap.add_argument("--do", action="append", default=[])
    ap.add_argument("--until", help="serve until this file exists")
    ap.add_argument("--control", help="run the actions written to this file while serving")
    ap.add_argument("--unregister", action="store_true", help="unregister before ending")
    ap.add_argument("--skip-register", action="store_true", help="act without registering")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    p = Phone(a)
    if not a.skip_register and not p.register():
        return 1
    good = all(p.act(x) for x in a.do)
    if a.until or a.control:
        p.serve(120, a.until, a.control)
    if a.unregister and not a.skip_register:
        p.register(0)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
