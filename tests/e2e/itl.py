#!/usr/bin/env python3
"""An independent reader of Cisco trust lists (ITLFile.tlv), for the tests.

    itl.py FILE            prints the header and each record, one per line
    itl.py --verify FILE   also checks the signature with the openssl command
                           against the SAST record's certificate; exit 1 if bad

Written from the format as phones read it (tag: 1 byte, length: 2 bytes
big-endian, value), not from sipregd's writer, so the two can disagree.
"""
import os
import struct
import subprocess
import sys
import tempfile

ROLES = {0: "SAST", 1: "CCM", 2: "CCM+TFTP", 3: "TFTP", 4: "CAPF", 7: "APP-SERVER", 21: "TVS"}


class Bad(Exception):
    pass


def tlv(data, i):
    if i + 3 > len(data):
        raise Bad("truncated element at %d" % i)
    tag, length = struct.unpack_from(">BH", data, i)
    if i + 3 + length > len(data):
        raise Bad("element %d at %d runs past the end" % (tag, i))
    return tag, length, data[i + 3:i + 3 + length]


def cstr(v):
    if not v.endswith(b"\0"):
        raise Bad("a name without its NUL")
    return v[:-1].decode("utf-8")


def parse(data):
    out = {"records": []}
    tag, length, v = tlv(data, 0)
    if tag != 1 or length != 2:
        raise Bad("no version element first")
    out["version"] = "%d.%d" % (v[0], v[1])
    tag, length, v = tlv(data, 5)
    if tag != 2:
        raise Bad("no header length element second")
    header_len = struct.unpack(">H", v)[0]
    out["header_length"] = header_len
    i = 10
    while i < header_len:
        tag = data[i]
        if tag == 13:  # padding, one byte
            i += 1
            continue
        tag, length, v = tlv(data, i)
        if tag in (3, 7, 9):  # containers: their elements follow
            i += 3
            continue
        if tag == 4:
            out["signer"] = cstr(v)
        elif tag == 6:
            out["issuer"] = cstr(v)
        elif tag == 5:
            out["serial"] = v.hex()
        elif tag == 8:
            out["hash"] = {1: "sha1", 2: "sha256", 3: "sha512"}.get(v[0], str(v[0]))
        elif tag == 12:
            out["signature"] = v
            out["signature_at"] = i
        elif tag == 14:
            out["filename"] = cstr(v)
        elif tag == 15:
            out["timestamp"] = struct.unpack(">I", v)[0]
        elif tag == 28:
            out["signer_version"] = "%d.%d" % (v[0], v[1])
        elif tag not in (10, 11):
            raise Bad("unknown header tag %d" % tag)
        i += 3 + length
    if i != header_len:
        raise Bad("the header runs past its length")
    while i < len(data):
        tag, length, v = tlv(data, i)
        if tag != 1:
            raise Bad("record without its length at %d" % i)
        rec_len = struct.unpack(">H", v)[0]
        end = i + rec_len
        if end > len(data):
            raise Bad("record runs past the end")
        rec = {}
        j = i + 5
        while j < end:
            tag, length, v = tlv(data, j)
            if tag == 3:
                rec["subject"] = cstr(v)
            elif tag == 5:
                rec["issuer"] = cstr(v)
            elif tag == 6:
                rec["serial"] = v.hex()
            elif tag == 4:
                rec["role"] = ROLES.get(struct.unpack(">H", v)[0], str(struct.unpack(">H", v)[0]))
            elif tag == 9:
                rec["certificate"] = v
            elif tag == 2:
                rec["dns"] = cstr(v)
            j += 3 + length
        if j != end:
            raise Bad("record elements overrun the record")
        out["records"].append(rec)
        i = end
    for key in ("signature", "hash", "serial"):
        if key not in out:
            raise Bad("the header has no %s" % key)
    return out


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, capture_output=True)


def verify(data, itl):
    sast = [r for r in itl["records"] if r.get("role") == "SAST" and r.get("serial") == itl["serial"]]
    if not sast:
        raise Bad("no SAST record matches the signer's serial number")
    at, sig = itl["signature_at"], itl["signature"]
    signed = data[:at] + data[at + 3 + len(sig):]
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("cert.der", "pub.pem", "sig", "data")}
        open(paths["cert.der"], "wb").write(sast[0]["certificate"])
        open(paths["sig"], "wb").write(sig)
        open(paths["data"], "wb").write(signed)
        r = openssl("x509", "-inform", "DER", "-in", paths["cert.der"], "-pubkey", "-noout")
        if r.returncode:
            raise Bad("the SAST certificate does not parse: " + r.stderr.decode())
        open(paths["pub.pem"], "wb").write(r.stdout)
        r = openssl("dgst", "-" + itl["hash"], "-verify", paths["pub.pem"], "-signature",
                    paths["sig"], paths["data"])
        return r.returncode == 0, (r.stdout + r.stderr).decode().strip()


def main():
    args = sys.argv[1:]
    check = "--verify" in args
    args = [a for a in args if a != "--verify"]
    data = open(args[0], "rb").read()
    try:
        itl = parse(data)
    except (Bad, struct.error, UnicodeDecodeError, IndexError) as e:
        print("unreadable: %s" % e)
        return 1
    print("version %s signer_version %s hash %s filename %s" % (
        itl["version"], itl.get("signer_version"), itl["hash"], itl.get("filename")))
    print("signer %s serial %s signature %d bytes" % (itl.get("signer"), itl["serial"],
                                                      len(itl["signature"])))
    for r in itl["records"]:
        print("record role %s subject %s serial %s certificate %d bytes" % (
            r.get("role"), r.get("subject"), r.get("serial"), len(r.get("certificate", b""))))
    if check:
        ok, text = verify(data, itl)
        print("signature %s (%s)" % ("valid" if ok else "INVALID", text))
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
