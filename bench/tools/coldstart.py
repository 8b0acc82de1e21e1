"""Cold start: from starting a server's process to its first 200 answer.

    python coldstart.py --url http://127.0.0.1:PORT --scenario json --repeat 5 \
        [--log FILE] [--keep] -- COMMAND ARGS...

Each repeat starts COMMAND (in its own session), sends the scenario's request
every millisecond until one is answered 200, records the time since the
start, then stops the process by its PID (SIGTERM, then SIGKILL to its process
group after 10 s). Prints one JSON line: every time in ms, and the median.
With --keep, the last start is left running, and the line also has its "pid"
(run.sh --quick loads that same server instead of starting it again).
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

import scenarios as sc


def first_200(url, scenario, process, timeout):
    u = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before answering")
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
            conn.request("POST", scenario.path, body=scenario.body.encode(),
                         headers={"Content-Type": scenario.content_type})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
        except (ConnectionError, http.client.HTTPException, OSError):
            pass
        time.sleep(0.001)
    raise RuntimeError(f"no 200 within {timeout} s")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--scenario", default="json")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--log", help="append the server's output here (default: discard)")
    p.add_argument("--coded", action="store_true", help="send the tutorial's numeric coding")
    p.add_argument("--keep", action="store_true", help="leave the last start running; print its pid")
    p.add_argument("command", nargs="+")
    a = p.parse_args()
    scenario = sc.scenarios(coded=a.coded)[a.scenario]
    log = open(a.log, "ab") if a.log else subprocess.DEVNULL
    times, kept = [], {}
    for repeat in range(1, a.repeat + 1):
        start = time.perf_counter()
        process = subprocess.Popen(a.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
        try:
            first_200(a.url, scenario, process, a.timeout)
            times.append((time.perf_counter() - start) * 1e3)
            if a.keep and repeat == a.repeat:
                kept = {"pid": process.pid}
        finally:
            if process.poll() is None and not kept:
                stop(process)
    print(json.dumps({"cold_start_ms": times, "median_ms": statistics.median(times), **kept}))


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as error:
        print(f"cold start: {error}", file=sys.stderr)
        sys.exit(1)
