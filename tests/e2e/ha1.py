#!/usr/bin/env python3
"""Prints H(user:realm:password) with Python's hashlib, an implementation
independent of sipregd's, for checking stored digests.

usage: ha1.py USER REALM PASSWORD md5|sha256
"""
import hashlib
import sys

if len(sys.argv) != 5 or sys.argv[4] not in ("md5", "sha256"):
    print(__doc__, file=sys.stderr)
    sys.exit(2)
user, realm, password, alg = sys.argv[1:]
print(hashlib.new(alg, f"{user}:{realm}:{password}".encode()).hexdigest())
