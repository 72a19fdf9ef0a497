#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into tests/fuzz/seeds/NAME/.

sip_request: the RFC 4475 torture messages (tests/e2e/torture), every
message the SIPp scenarios of tests/e2e/sipp send (keywords filled in with
the fuzz fixture's phones and lines), and Cisco phones' requests as
captured (REGISTER with the Cisco identity, keep-alive, bulk registration,
REFER). The other harnesses get hand-written seeds below. Run it again after
changing a scenario; the seeds are committed.
"""
import glob
import os
import re
import struct
import subprocess
import sys
import tempfile

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(top, "tests", "fuzz", "seeds")

SERVER = "127.0.0.1:5060"
PHONE = "127.0.0.2:5062"

KEYWORDS = {
    "service": "100", "remote_ip": "127.0.0.1", "remote_port": "5060",
    "local_ip": "127.0.0.2", "local_port": "5062", "transport": "UDP",
    "pid": "4242", "call_number": "1", "media_port": "40000",
    "media_ip_type": "4", "media_ip": "127.0.0.2", "local_ip_type": "4",
    "peer_tag_param": ";tag=fz1", "next_url": "sip:100@127.0.0.2:5062",
    "dn": "101", "did": "5550100", "mac": "001122334455",
    "device": "SEP001122334455", "routes": "", "authentication": "",
}


def write(name, key, data):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, key), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frame(kind, body):
    return struct.pack(">I", len(body) + 1) + kind.encode() + body


def changeset(tables, sql):
    """A SQLite session changeset of sql on a database of sipreg's schema (sqlite3 CLI)."""
    with tempfile.TemporaryDirectory() as d:
        db, cs = os.path.join(d, "s.db"), os.path.join(d, "c.bin")
        schema = "".join(open(f).read() for f in sorted(glob.glob(os.path.join(top, "store", "migrations", "*.sql"))))
        base = ("INSERT INTO user VALUES ('alice','x','y',x'00',1,1);"
                "INSERT INTO device (name, model, digest_user, created_at, updated_at) "
                "VALUES ('SEP001122334455','cisco-7965','alice',1,1);"
                "INSERT INTO line (dn, device, idx, created_at) VALUES ('100','SEP001122334455',1,1);")
        subprocess.run(["sqlite3", db], input=schema + base, text=True, check=True)
        script = ".session open main s\n" + "".join(".session s attach %s\n" % t for t in tables)
        script += sql + "\n.session s changeset %s\n" % cs
        subprocess.run(["sqlite3", db], input=script, text=True, check=True)
        return open(cs, "rb").read()


def ha_seeds():
    hello = b'{"node":"node-b","role":"backup","epoch":1,"schema":8,"seq":0,"config":"c8275f36aecebc22","snapshot":false}'
    write("ha", "hello", frame("H", hello))
    join = ('{"token":"%s","node":"node-b","schema":8,"san":"DNS:node-b,IP:127.0.0.2",'
            '"csr_node":"-----BEGIN CERTIFICATE REQUEST-----\\nMIIB\\n-----END CERTIFICATE REQUEST-----\\n",'
            '"csr_sip":"x"}' % ("0" * 32)).encode()
    write("ha", "join", frame("J", join))
    write("ha", "regs-full", frame("R", b'{"full":true,"host":"127.0.0.2","port":5071,'
                                   b'"regs":[["1000","SEP001122334455",1800000000],["2000","bob-desk",1800000060]]}'))
    write("ha", "regs-changes", frame("R", b'{"full":false,"regs":[["1000","SEP001122334455",0]]}'))
    write("ha", "error", frame("E", b'{"error":"the token is not the invitation\'s"}'))
    u64 = lambda *v: b"".join(struct.pack(">Q", x) for x in v)
    write("ha", "acks", frame("A", u64(7)) + frame("P", u64(9)) + frame("V", u64(3)))
    changes = {
        "line-add": (["line"], "INSERT INTO line (dn, device, idx, created_at) VALUES ('101','SEP001122334455',2,2);"),
        "dnd": (["device"], "UPDATE device SET dnd = 1, changed_at = 1700000000000, changed_by = 'node-b' WHERE name = 'SEP001122334455';"),
        "cfwd": (["feature"], "INSERT INTO feature (dn, cfwd_all, changed_at, changed_by) VALUES ('100','200',1700000000001,'node-b');"),
        "line-del": (["line"], "DELETE FROM line WHERE dn = '100';"),
        "cdr": (["cdr"], "INSERT INTO cdr (id, started_at, caller, callee, result, call_id) VALUES (-1, 1700000000, '100', '200', 'unavailable', 'node-b-1-1');"),
        "user": (["user"], "UPDATE user SET ha1_md5 = 'z' WHERE name = 'alice';"),
    }
    for k, (tables, sql) in changes.items():
        cs = changeset(tables, sql)
        write("ha", "change-" + k, frame("C", u64(1, 1700000000000) + cs))
        write("ha", "up-" + k, frame("U", u64(1) + cs))
    write("ha", "hello-then-changes", frame("H", hello) + frame("C", u64(1, 1) + changeset(["line"], changes["line-add"][1]))
          + frame("C", u64(2, 2) + changeset(["device"], changes["dnd"][1])))


def sipp_messages(path):
    text = open(path, encoding="utf-8").read()
    for i, m in enumerate(re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", text, re.S)):
        lines = [l.strip() for l in m.strip("\n").split("\n")]
        lines = [l for l in lines if not re.match(r"^\[last_[A-Za-z-]+:\]$", l)]
        msg = "\n".join(lines)
        if msg.startswith("SIP/2.0"):
            continue  # a response: the request harness takes requests
        msg = msg.replace("[call_id]", "1-4242@127.0.0.2").replace("[branch]", "z9hG4bK-seed%d" % i)
        for k, v in KEYWORDS.items():
            msg = msg.replace("[%s]" % k, v)
        msg = re.sub(r"\[last_[A-Za-z-]+:\]", "", msg)
        head, sep, body = msg.partition("\n\n")
        body = body.replace("\n", "\r\n") if sep else ""
        head = head.replace("[len]", str(len(body.encode())))
        yield i, head.replace("\n", "\r\n") + "\r\n\r\n" + body


CISCO = {
    "cisco-register": """REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKd451a4fa
From: <sip:100@127.0.0.1>;tag=0024142ddf242c6644b6e5d2-f01c795a
To: <sip:100@127.0.0.1>
Call-ID: 0024142d-df24000a-44da4e09-0de51424@127.0.0.2
Max-Forwards: 70
Date: Wed, 15 Jul 2015 12:42:56 GMT
CSeq: 11435 REGISTER
User-Agent: Cisco-CP7965G/9.3.1
Contact: <sip:9e9e1ffb-0206-4ea1-6d77-ba04a72017f7@127.0.0.2:5062;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-001122334455>";+u.sip!devicename.ccm.cisco.com="SEP001122334455";+u.sip!model.ccm.cisco.com="437"
Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,X-cisco-config,X-cisco-sis-6.0.0,X-cisco-xsi-8.5.1
Reason: SIP;cause=200;text="cisco-alarm:23 Name=SEP001122334455 ActiveLoad=SIP70.9-3-1 Last=reset-restart"
Content-Length: 0
Expires: 3600

""",
    "cisco-keepalive": """REGISTER sip:127.0.0.1:5060;transport=udp SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5062;rport;branch=z9hG4bKPjdcJ819aZtTCtmvr0VBheV6p0uL8aC.pG
Max-Forwards: 70
From: <sip:100@127.0.0.1>;tag=5oI-ew53.DGjTDu5LB9orkdDpZlccNbv
To: <sip:100@127.0.0.1>
Call-ID: HxTK.m6BH9qxjstVwexTbhVnUxNeuxle
CSeq: 18800 REGISTER
Expires: 0
Contact: <sip:e2b0f175-feae-d664-befa-b7cd0837fcc6@127.0.0.2:5062;transport=UDP>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-001122334455>";+u.sip!devicename.ccm.cisco.com="SEP001122334455";+u.sip!model.ccm.cisco.com="592";expires=0;cisco-keep-alive
Content-Length: 0

""",
    "cisco-alarm-refer": """REFER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK63f5b3c9
From: "100" <sip:100@127.0.0.2>;tag=c80084aa874300136f85470f-0b656e67
To: <sip:127.0.0.1>
Call-ID: c80084aa-87430007-4ba0abc2-6f7623e8@127.0.0.2
CSeq: 1000 REFER
User-Agent: Cisco-CP7965/9.3.1
Expires: 10
Contact: <sip:04984998-fe29@127.0.0.2:5062;transport=udp>;+u.sip!devicename.ccm.cisco.com="SEP001122334455"
Require: norefersub
Referred-By: "100" <sip:100@127.0.0.2>
Refer-To: cid:5098d8fa@127.0.0.2
Content-Id: <5098d8fa@127.0.0.2>
Allow: ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE
Content-Type: application/x-cisco-alarm+xml
Content-Disposition: session;handling=required
Content-Length: 104

<?xml version="1.0" encoding="UTF-8"?>
<x-cisco-alarm><Alarm Name="LastOutOfServiceInformation"/></x-cisco-alarm>""",
    "cisco-token-refer": """REFER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK11aa22bb
From: <sip:100@127.0.0.1>;tag=ab12
To: <sip:127.0.0.1>
Call-ID: token-1@127.0.0.2
CSeq: 101 REFER
Contact: <sip:100@127.0.0.2:5062>;+u.sip!devicename.ccm.cisco.com="SEP001122334455"
Refer-To: <urn:X-cisco-remotecc:token-registration>
Content-Length: 0

""",
    "cisco-cfwdall": """INVITE sip:*21*200@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKcf01
From: <sip:100@127.0.0.1>;tag=cf1
To: <sip:*21*200@127.0.0.1>
Call-ID: cfwd-1@127.0.0.2
CSeq: 101 INVITE
Contact: <sip:100@127.0.0.2:5062>
Content-Length: 0

""",
    "pidf-publish": """PUBLISH sip:100@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKpub1
From: <sip:100@127.0.0.1>;tag=p1
To: <sip:100@127.0.0.1>
Call-ID: pub-1@127.0.0.2
CSeq: 1 PUBLISH
Event: presence
Expires: 3600
Content-Type: application/pidf+xml
Content-Length: 239

<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:100@127.0.0.1"><dm:person><rpid:activities><rpid:busy/></rpid:activities></dm:person></presence>""",
}


def main():
    ha_seeds()
    for f in sorted(glob.glob(os.path.join(top, "tests", "e2e", "torture", "*.dat"))):
        write("sip_request", "torture-" + os.path.basename(f)[:-4], open(f, "rb").read())
    for f in sorted(glob.glob(os.path.join(top, "tests", "e2e", "sipp", "*.xml"))):
        for i, msg in sipp_messages(f):
            write("sip_request", "sipp-%s-%d" % (os.path.basename(f)[:-4], i), msg)
    for k, v in CISCO.items():
        head, _, body = v.partition("\n\n")
        write("sip_request", k, head.replace("\n", "\r\n") + "\r\n\r\n" + body.replace("\n", "\r\n"))

    sdp = ("v=0\r\no=bob 2890844527 2890844527 IN IP4 127.0.0.4\r\ns=-\r\nc=IN IP4 127.0.0.4\r\n"
           "t=0 0\r\nm=audio 49172 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
           "a=sendrecv\r\n")
    hold = sdp.replace("a=sendrecv", "a=sendonly")
    ok = "SIP/2.0 200 OK\r\nContact: <sip:200@$peer>\r\nContent-Type: application/sdp\r\n\r\n" + sdp
    ring = "SIP/2.0 180 Ringing\r\nContact: <sip:200@$peer>\r\nContent-Length: 0\r\n\r\n"
    early = ("SIP/2.0 183 Session Progress\r\nContact: <sip:200@$peer>\r\nRequire: 100rel\r\n"
             "RSeq: 1\r\nContent-Type: application/sdp\r\n\r\n" + sdp)
    resp = {
        "callee-ring-answer": "0" + ring + "\0" + ok,
        "callee-busy": "0SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n",
        "callee-early-answer": "0" + early + "\0" + ok.replace("200 OK", "200 OK"),
        "callee-redirect": "0SIP/2.0 302 Moved Temporarily\r\nContact: <sip:300@127.0.0.1>\r\nContent-Length: 0\r\n\r\n",
        "callee-dnd": "0SIP/2.0 480 Temporarily Unavailable\r\nReason: SIP;cause=480;text=\"dnd\"\r\nContent-Length: 0\r\n\r\n",
        "trunk-challenge-answer": "1SIP/2.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm=\"provider\", nonce=\"abc123\", qop=\"auth\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n\0" + ring.replace("200@", "0123456@") + "\0" + ok.replace("200@", "0123456@"),
        "trunk-answer-hold": "1" + ok + "\0" + ok.replace(sdp, hold),
        "trunk-unavailable": "1SIP/2.0 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n",
        "trunk-register-challenge": "2SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"provider\", nonce=\"n0nce\", algorithm=MD5, qop=\"auth\"\r\nContent-Length: 0\r\n\r\n\0SIP/2.0 200 OK\r\nContact: <sip:5550100@127.0.0.1:5060>;expires=600\r\nContent-Length: 0\r\n\r\n",
        "trunk-register-ok": "2SIP/2.0 200 OK\r\nContact: <sip:5550100@127.0.0.1:5060>;expires=60\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n",
        "trunk-register-forbidden": "2SIP/2.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
        "trunk-register-interval": "2SIP/2.0 423 Interval Too Brief\r\nMin-Expires: 1800\r\nContent-Length: 0\r\n\r\n",
    }
    for k, v in resp.items():
        write("sip_response", k, v)

    auth = {
        "cisco-7960": "0Digest username=\"1600\",realm=\"asterisk\",uri=\"sip:192.168.1.9\",response=\"40ae0000000000000000000000000000\",nonce=\"1608794790/f4dc\",opaque=\"4cf02bb020c6e7ae\",cnonce=\"61cdcfdc\",qop=auth,nc=00000001,algorithm=md5",
        "sipp-default": "0Digest username=\"alice\",realm=\"sipreg\",uri=\"sip:127.0.0.1:5060\",nonce=\"0000\",response=\"00000000000000000000000000000000\",algorithm=MD5",
        "sha256": "0Digest username=\"alice\", realm=\"sipreg\", uri=\"sip:100@127.0.0.1:5060\", algorithm=SHA-256, nonce=\"x\", nc=00000002, cnonce=\"c\", qop=auth, response=\"0000000000000000000000000000000000000000000000000000000000000000\"",
        "challenge-md5": "1Digest realm=\"fritz.box\", nonce=\"5C1A3E2F\", algorithm=MD5",
        "challenge-qop": "1Digest realm=\"provider\", nonce=\"abc\", opaque=\"xyz\", qop=\"auth,auth-int\", algorithm=MD5",
        "challenge-sha256": "1Digest realm=\"provider\", nonce=\"abc\", qop=\"auth\", algorithm=SHA-256, stale=TRUE",
    }
    for k, v in auth.items():
        write("digest", k, v)

    xml = {
        "pidf-dnd": '<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:100@pbx"><dm:person><rpid:activities><rpid:busy/></rpid:activities></dm:person><tuple id="t1"><status><basic>closed</basic></status></tuple></presence>',
        "pidf-open": '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:100@pbx"><tuple id="a"><status><basic>open</basic></status><note>Available</note></tuple></presence>',
        "target": "200",
        "target-escape": "<&\"'>]]>",
    }
    for k, v in xml.items():
        write("xml", k, v)

    write("sdp", "offer-answer", sdp + "\0" + sdp.replace("2890844527 IN", "2890844528 IN").replace("49172", "49174"))
    write("sdp", "hold", sdp + "\0" + hold)
    write("sdp", "multi", sdp + "m=video 51372 RTP/AVP 31\r\nb=AS:64\r\n\0" + sdp)

    ctl = [
        '{"cmd":"user.add","args":{"name":"bob","password":"secret-pw-1"}}',
        '{"cmd":"user.passwd","args":{"name":"alice","password":"another-pw-2"}}',
        '{"cmd":"user.list"}',
        '{"cmd":"device.add","args":{"name":"SEPAABBCCDDEEFF","model":"cisco-7962","digest_user":"alice","auth":"identify","digest_algs":"both","qop":"auth"}}',
        '{"cmd":"device.set","args":{"name":"SEP001122334455","digest_algs":"sha256"}}',
        '{"cmd":"device.show","args":{"name":"SEP001122334455"}}',
        '{"cmd":"device.list"}',
        '{"cmd":"device.models"}',
        '{"cmd":"line.add","args":{"device":"SEP001122334455","dn":"102","display":"A \\"B\\"","label":"L"}}',
        '{"cmd":"line.set","args":{"dn":"100","dnd":true,"cfwd_all":"200","noanswer_timeout":20}}',
        '{"cmd":"line.show","args":{"dn":"100"}}',
        '{"cmd":"line.del","args":{"dn":"102"}}',
        '{"cmd":"cdr.list","args":{"limit":10}}',
        '{"cmd":"trunk.add","args":{"name":"itsp","registrar":"sip.example.com:5060","user":"u","password":"p4ssword","dids":["5551000=100","5551001"]}}',
        '{"cmd":"trunk.set","args":{"name":"provider","proxy":"","emergency":true}}',
        '{"cmd":"route.add","args":{"pattern":"00","trunk":"provider","strip":1,"prepend":"+","priority":5}}',
        '{"cmd":"route.del","args":{"id":1}}',
        '{"cmd":"status"}',
        '{"cmd":"user.del","args":{"name":"bob"}}',
    ]
    for i, line in enumerate(ctl):
        write("ctl", "req-%02d" % i, line)

    write("config", "shipped", open(os.path.join(top, "etc", "sipregd.conf"), "rb").read())
    write("config", "small", "[sip]\nlisten = 127.0.0.1:5060 [::1]:5062 127.0.0.1:5070;transport=tcp\nrealm = lab\n[registrar]\ndigest_algs = md5 sha256\nidentify_from = 10.0.0.0/8 fc00::/7\n[dialplan]\nemergency = 112\n")
    write("config", "bad", "[sip]\nlisten = nowhere:99999\n[nosuch]\nkey = value\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
