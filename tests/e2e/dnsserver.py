#!/usr/bin/env python3
"""A DNS server for the tests: answers A, AAAA, SRV and NAPTR questions over
UDP from a zone in a JSON file, read again for every question (a test changes
answers by rewriting it), and logs each question. Unknown names get NXDOMAIN.

usage: dnsserver.py ADDR PORT ZONE.json LOG

ZONE.json: {"name": [{"type": "A", "ttl": 5, "value": "127.0.0.9"},
                     {"type": "SRV", "ttl": 5, "priority": 10, "weight": 10,
                      "port": 5060, "target": "sip1.example.test"},
                     {"type": "NAPTR", "ttl": 5, "order": 10, "pref": 10,
                      "flags": "s", "services": "SIP+D2U",
                      "replacement": "_sip._udp.example.test"}], ...}
"""
import json
import socket
import struct
import sys

TYPES = {1: "A", 28: "AAAA", 33: "SRV", 35: "NAPTR"}


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_name(data, i):
    labels = []
    while data[i]:
        n = data[i]
        labels.append(data[i + 1:i + 1 + n].decode(errors="replace"))
        i += 1 + n
    return ".".join(labels).lower(), i + 1


def cstr(s):
    b = s.encode()
    return bytes([len(b)]) + b


def rdata(rr):
    t = rr["type"]
    if t == "A":
        return socket.inet_pton(socket.AF_INET, rr["value"])
    if t == "AAAA":
        return socket.inet_pton(socket.AF_INET6, rr["value"])
    if t == "SRV":
        return struct.pack("!HHH", rr.get("priority", 10), rr.get("weight", 10),
                           rr["port"]) + name_wire(rr["target"])
    if t == "NAPTR":
        return (struct.pack("!HH", rr.get("order", 10), rr.get("pref", 10)) +
                cstr(rr.get("flags", "s")) + cstr(rr.get("services", "SIP+D2U")) +
                cstr(rr.get("regexp", "")) + name_wire(rr["replacement"]))
    return None


def answer(query, zone):
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if qd != 1:
        return None, None, None
    qname, i = read_name(query, 12)
    qtype, qclass = struct.unpack("!HH", query[i:i + 4])
    question = query[12:i + 4]
    records = [rr for rr in zone.get(qname, []) if rr["type"] == TYPES.get(qtype)]
    rcode = 0 if qname in zone else 3
    answers = b""
    for rr in records:
        rd = rdata(rr)
        answers += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, rr.get("ttl", 5), len(rd)) + rd
    header = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1, len(records), 0, 0)
    return header + question + answers, qname, TYPES.get(qtype, str(qtype))


def main():
    addr, port, zone_path, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    with open(log_path, "a", buffering=1) as log:
        log.write("ready\n")
        while True:
            data, peer = s.recvfrom(4096)
            try:
                with open(zone_path) as f:
                    zone = {k.lower().rstrip("."): v for k, v in json.load(f).items()}
                reply, qname, qtype = answer(data, zone)
            except (ValueError, OSError, KeyError, IndexError, struct.error) as e:
                log.write("error %s\n" % e)
                continue
            if reply:
                log.write("%s %s\n" % (qtype, qname))
                s.sendto(reply, peer)


if __name__ == "__main__":
    main()
