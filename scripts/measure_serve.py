"""Rough figures for `lifeboat serve`: time from process start to the first
200, resident memory after some traffic, and the weight of the pages.

    cargo build --release
    python3 scripts/measure_serve.py [target/release/lifeboat]

Standard library only. Not a benchmark: a quick, honest look.
"""

import gzip
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/lifeboat"
FORM = "Pclass=1&Sex=female&Age=29&SibSp=0&Parch=0&Fare=80&Embarked=S"
JSON = '{"Pclass":3,"Sex":"male","Age":22,"SibSp":1,"Parch":0,"Fare":7.25,"Embarked":"S"}'


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_200(port, deadline):
    """Polls GET /readyz until it answers 200; returns the time it did."""
    while time.perf_counter() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return time.perf_counter()
        except OSError:
            pass
    raise RuntimeError("the server did not answer in time")


def start(port):
    env = dict(os.environ, PORT=str(port), LIFEBOAT_LOG="warn")
    t0 = time.perf_counter()
    proc = subprocess.Popen([BIN, "serve", "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL)
    t1 = first_200(port, t0 + 10)
    return proc, (t1 - t0) * 1000


def fetch(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read(), dict(r.getheaders())


def weight(port, method, path, body=None, ctype=None):
    headers = {"Content-Type": ctype} if ctype else {}
    _, plain, _ = fetch(port, method, path, body, headers)
    _, zipped, h = fetch(port, method, path, body, dict(headers, **{"Accept-Encoding": "gzip"}))
    assert h.get("content-encoding") == "gzip", h
    assert gzip.decompress(zipped) == plain
    return len(plain), len(zipped)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


times = []
for _ in range(15):
    port = free_port()
    proc, ms = start(port)
    times.append(ms)
    proc.terminate()
    proc.wait(10)
print(f"process start to first 200 (GET /readyz), 15 runs: median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f}")

port = free_port()
proc, _ = start(port)
try:
    print(f"RSS after start: {rss_kib(proc.pid) / 1024:.1f} MiB")
    css = weight(port, "GET", "/static/css/style.css")
    for name, args in [
        ("GET /", ("GET", "/")),
        ("POST /predict (result page)", ("POST", "/predict", FORM, "application/x-www-form-urlencoded")),
        ("GET /model", ("GET", "/model")),
        ("GET /docs", ("GET", "/docs")),
    ]:
        plain, zipped = weight(port, *args)
        print(f"{name}: {plain} bytes, {zipped} gzipped (+ style.css {css[0]} / {css[1]} gzipped, + favicon.svg)")
    for _ in range(2000):
        fetch(port, "POST", "/api/v1/predict", JSON, {"Content-Type": "application/json"})
        fetch(port, "POST", "/predict", FORM, {"Content-Type": "application/x-www-form-urlencoded"})
    print(f"RSS after 4000 requests: {rss_kib(proc.pid) / 1024:.1f} MiB")
finally:
    proc.terminate()
    proc.wait(10)
