#!/usr/bin/python3
# Verifies every DKIM-Signature of the message on stdin with dkimpy,
# looking keys up through the DNS server given as "host port".
# Prints one line per signature: "pass" or "fail".
import sys
import dkim
import dns.resolver

host, port = sys.argv[1], int(sys.argv[2])
res = dns.resolver.Resolver(configure=False)
res.nameservers = [host]
res.port = port

def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    try:
        ans = res.resolve(name, "TXT", lifetime=timeout)
    except dns.resolver.NXDOMAIN:
        return None
    for r in ans:
        return b"".join(r.strings)
    return None

msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
n = sum(1 for h in d.headers if h[0].lower() == b"dkim-signature")
for i in range(n):
    try:
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print("verification error:", e, file=sys.stderr)
        ok = False
    print("pass" if ok else "fail")
