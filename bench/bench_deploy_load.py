#!/usr/bin/env python3
"""bench_deploy_load.py — closed-loop load against a chorus server: C clients, each sending
speech requests one after another for S seconds (HTTP/1.1 keep-alive). Prints requests/s and the
p50/p99 time to first byte (request sent -> first body byte) in ms, and the failures.

Usage: bench_deploy_load.py URL CLIENTS SECONDS cached|uncached|same LABEL
  cached:   texts from a set of 8 (warmed first), so every timed request is a cache hit
  uncached: every text unique (with the cache off on the server, each is generated)
  same:     one text, sequentially (cache hit latency)
"""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse

url, clients, seconds, mode, label = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
u = urlparse(url)
TEXTS = ["Cached sentence number %d, spoken by the load balancer's backends." % i for i in range(8)]


def one(conn, text):
    body = json.dumps({"model": "espeak", "input": text, "voice": "en-us", "response_format": "wav"})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/audio/speech", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    first = r.read(1)
    ttfb = time.perf_counter() - t0
    rest = r.read()
    return r.status, ttfb, len(first) + len(rest)


def worker(wid, out, stop_at):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    k = 0
    while time.perf_counter() < stop_at:
        k += 1
        text = TEXTS[k % len(TEXTS)] if mode != "uncached" else "Unique request %d of client %d at %f." % (k, wid, time.time())
        if mode == "same":
            text = TEXTS[0]
        try:
            out.append(one(conn, text))
        except Exception:
            out.append((0, 0.0, 0))
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.close()


if mode in ("cached", "same"):  # warm the cache
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for t in TEXTS:
        one(c, t)
    c.close()
results = []
stop_at = time.perf_counter() + seconds
ts = [threading.Thread(target=worker, args=(i, results, stop_at)) for i in range(clients)]
t0 = time.perf_counter()
for t in ts:
    t.start()
for t in ts:
    t.join()
wall = time.perf_counter() - t0
ok = sorted(r[1] for r in results if r[0] == 200 and r[2] > 44)
bad = len(results) - len(ok)


def pct(p):
    return ok[min(len(ok) - 1, int(p * len(ok)))] * 1000 if ok else float("nan")


print("%-34s %7.1f req/s  ttfb p50 %7.2f ms  p99 %7.2f ms  (%d requests, %d failed, %d clients)"
      % (label, len(ok) / wall, pct(0.50), pct(0.99), len(results), bad, clients))
