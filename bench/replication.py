#!/usr/bin/env python3
"""Drives changes into a primary at a steady rate and reads what its backup made of them.

Each change is `line set DN --cfwd-all X` over the primary's control socket
(persistent connections, one request at a time on each, paced to the rate
asked). The backup's `ha status` gives its position and the lag of each
change it applied (the primary's commit to the backup's, milliseconds, one
clock on loopback). Prints one line of key=value figures.
"""
import argparse
import json
import socket
import threading
import time


def call(sock, f, cmd, args=None):
    sock.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
    line = f.readline()
    if not line:
        raise RuntimeError("sipregd closed the control connection")
    reply = json.loads(line)
    if not reply.get("ok"):
        raise RuntimeError(reply.get("error"))
    return reply.get("data")


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s, s.makefile("r")


def status(path):
    s, f = connect(path)
    try:
        return call(s, f, "ha.status")
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--primary", required=True, help="control socket")
    ap.add_argument("--backup", required=True, help="control socket")
    ap.add_argument("--rate", type=float, required=True, help="changes a second")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--dns", required=True, help="comma-separated lines to change")
    ap.add_argument("--workers", type=int, default=4)
    a = ap.parse_args()

    dns = a.dns.split(",")
    total = int(a.rate * a.seconds)
    start_b = status(a.backup)
    sent = [0] * a.workers
    errors = []
    t0 = time.monotonic()

    def worker(w):
        s, f = connect(a.primary)
        try:
            for i in range(w, total, a.workers):
                due = t0 + i / a.rate
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                dn = dns[i % len(dns)]
                call(s, f, "line.set", {"dn": dn, "cfwd_all": str(9000 + i % 1000)})
                sent[w] += 1
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(str(e))
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_sent = time.monotonic() - t0
    head = status(a.primary)["head"]
    # the backup catches up: bounded wait
    deadline = time.monotonic() + 60
    b = status(a.backup)
    while b["applied"] < head and time.monotonic() < deadline:
        time.sleep(0.01)
        b = status(a.backup)
    t_done = time.monotonic() - t0
    applied = b["applied_total"] - start_b["applied_total"]
    lag = b["lag_ms"]
    print("rate_asked=%g sent=%d sent_per_s=%.0f applied=%d applied_per_s=%.0f caught_up=%s "
          "lag_p50_ms=%d lag_p90_ms=%d lag_p99_ms=%d samples=%d errors=%d" % (
              a.rate, sum(sent), sum(sent) / t_sent, applied, applied / t_done,
              "yes" if b["applied"] >= head else "no", lag["p50"], lag["p90"], lag["p99"],
              lag["samples"], len(errors)))
    if errors:
        print("first error: %s" % errors[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
