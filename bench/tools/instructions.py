"""Instructions per request of a server, counted by valgrind's callgrind:
repeatable on a busy machine, where requests/s are not, so a hot-path change
shows as a before/after number.

    python instructions.py --scenario json [--requests 1000] \
        -- target/release/lifeboat serve --host 127.0.0.1 --port 18990

It talks to the port after `--port` in the server's command (or its own
`--port`, for a server that takes its port otherwise; 18990 if neither).

Runs the server under callgrind twice, sending SMALL requests once and
SMALL + N requests the other time, one after another on one keep-alive
connection, and prints (instructions of the second − of the first) / N, so
start-up and shutdown cancel out. The callgrind files are kept
(--out-dir) for `callgrind_annotate`. Expect about a minute per scenario.
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import scenarios as sc

SMALL = 100


def counted(command, port, scenario, requests, out_file):
    server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", *command],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.connect()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start under valgrind")
                time.sleep(0.2)
        for _ in range(requests):
            conn.request("POST", scenario.path, body=scenario.body.encode(),
                         headers={"Content-Type": scenario.content_type})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        conn.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(120)
    text = Path(out_file).read_text(errors="replace")
    match = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
    return int(match.group(1))


def port_in(command):
    """The port given to the server with `--port N` or `--port=N`, if any."""
    for i, arg in enumerate(command):
        if arg == "--port" and i + 1 < len(command) and command[i + 1].isdigit():
            return int(command[i + 1])
        if arg.startswith("--port=") and arg[len("--port="):].isdigit():
            return int(arg[len("--port="):])
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="json", choices=["json", "form", "mlflow", "oip"])
    p.add_argument("--port", type=int, default=None,
                   help="where the server listens (default: the --port in its command, else 18990)")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--oip-model", default="titanic")
    p.add_argument("--out-dir", default=".")
    p.add_argument("--coded", action="store_true", help="send the tutorial's numeric coding")
    p.add_argument("command", nargs="+")
    a = p.parse_args()
    if a.port is None:
        a.port = port_in(a.command) or 18990
    scenario = sc.scenarios(a.oip_model, a.coded)[a.scenario]
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = counted(a.command, a.port, scenario, SMALL, out / f"callgrind.{a.scenario}.{SMALL}")
    full = counted(a.command, a.port, scenario, SMALL + a.requests,
                   out / f"callgrind.{a.scenario}.{SMALL + a.requests}")
    per_request = (full - base) / a.requests
    print(json.dumps({"scenario": a.scenario, "command": " ".join(a.command), "requests": a.requests,
                      "instructions_per_request": round(per_request)}))


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as error:
        print(f"instructions: {error}", file=sys.stderr)
        sys.exit(1)
