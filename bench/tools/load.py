"""Load one running server with wrk, scenario by scenario, checking every answer.

    python load.py --name NAME --url http://127.0.0.1:PORT --pid PID --scenarios json,form \
        --expect sklearn:model.pkl --out results.jsonl [--duration 4 --warmup 2 --round 1 ...]

Per scenario: send the body once and check the answer against the model
(scenarios.check); send it again, and if both bodies are byte-identical, every
answer under load must equal it (else, for HTML only, must name the expected
label); warm up; run wrk at each connection count; read the server's memory
after each run, and the CPU time its processes spent during it. One JSON line per run (with --round, which run.sh uses to
pair servers measured in the same round, and --pair-for, which marks a
ceiling load made just before that server's) is appended to --out; a scenario
whose first answer is wrong gets one line with "failed" and no load.
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import procs
import scenarios as sc

HERE = Path(__file__).resolve().parent


def post(url, scenario):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", scenario.path, body=scenario.body.encode(),
                     headers={"Content-Type": scenario.content_type})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def preflight(url, scenario, want, work):
    """(environment for check.lua, detail) or raises ValueError with what is wrong."""
    status, body = post(url, scenario)
    if status != 200:
        raise ValueError(f"HTTP {status}: {body[:300]}")
    wrong = sc.check(scenario.name, body, want)
    if wrong:
        raise ValueError(f"wrong answer: {wrong}; body: {body[:300]}")
    _, again = post(url, scenario)
    env = {"BENCH_EXPECT": "", "BENCH_NEEDLE": ""}
    if again == body:
        path = work / f"{scenario.name}.expect"
        path.write_text(body)
        env["BENCH_EXPECT"], mode = str(path), "exact body"
    elif scenario.name == "form":
        # Every page must carry the first page's verdict heading, exactly.
        label = sc.LABELS[sc.answers("form", body)[0][0]]
        env["BENCH_NEEDLE"] = re.search(rf"<h[1-6][^>]*>\s*{label}\s*</h[1-6]>", body).group(0)
        mode = f"body varies between requests; each must contain {env['BENCH_NEEDLE']!r}"
    else:
        raise ValueError("two answers to the same request differ; cannot check answers under load")
    first = sc.answers(scenario.name, body)[0]
    detail = {"check": mode, "answer_bytes": len(body.encode()), "first_answer": first,
              "expected_first": list(want[0]) if want else "constant server"}
    return env, detail


def wrk(url, scenario, connections, seconds, threads, env):
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
           "--timeout", "10s", "--latency", "-s", str(HERE.parent / "wrk" / "check.lua"),
           url + scenario.path]
    out = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True,
                         check=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")


def file_size(path):
    try:
        return os.path.getsize(path)
    except (OSError, TypeError):
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--scenarios", required=True)
    p.add_argument("--expect", default="none")
    p.add_argument("--out", required=True)
    p.add_argument("--work", required=True, help="a directory for bodies and expected answers")
    p.add_argument("--duration", type=int, default=10, help="seconds per run")
    p.add_argument("--warmup", type=int, default=2, help="seconds (0: none)")
    p.add_argument("--round", type=int, default=1, help="which round of the run this is (recorded)")
    p.add_argument("--connections", default="64,8")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lifeboat", default="target/release/lifeboat")
    p.add_argument("--oip-model", default="titanic")
    p.add_argument("--coded", action="store_true", help="send the tutorial's numeric coding (scenarios.py)")
    p.add_argument("--expected-cache", help="a directory to keep expected answers in (scenarios.expected)")
    p.add_argument("--log", help="the server's log file: bytes logged per request are recorded")
    p.add_argument("--pair-for", help="this load is the ceiling's, just before this server's (recorded, "
                                      "so report.py compares the two; not in the ceiling's own tables)")
    a = p.parse_args()

    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    all_scenarios = sc.scenarios(a.oip_model, a.coded)
    failures = 0
    with open(a.out, "a") as out:
        pair = {"pair_for": a.pair_for} if a.pair_for else {}

        def record(**fields):
            out.write(json.dumps({"server": a.name, "round": a.round, **pair, **fields}) + "\n")
            out.flush()

        for name in a.scenarios.split(","):
            scenario = all_scenarios[name]
            body_path = work / f"{name}.body"
            body_path.write_text(scenario.body)
            env = {"BENCH_BODY": str(body_path), "BENCH_CTYPE": scenario.content_type}
            try:
                want = sc.expected(a.expect, scenario.rows, a.lifeboat, a.expected_cache)
                check_env, detail = preflight(a.url, scenario, want, work)
            except (ValueError, OSError, subprocess.CalledProcessError) as error:
                print(f"  {a.name} {name}: FAILED before load: {error}", file=sys.stderr)
                record(scenario=name, failed=str(error))
                failures += 1
                continue
            env.update(check_env)
            if a.warmup > 0:
                procs.wait_quiet(a.pid)
                wrk(a.url, scenario, 64, a.warmup, a.threads, env)
            for connections in [int(c) for c in a.connections.split(",")]:
                drained = procs.wait_quiet(a.pid)
                logged = file_size(a.log)
                cpu_before = procs.cpu_times(a.pid)
                r = wrk(a.url, scenario, connections, a.duration, a.threads, env)
                cpu_after = procs.cpu_times(a.pid)
                memory = procs.memory(a.pid)
                log_bytes = file_size(a.log) - logged
                if a.log and file_size(a.log) > 64 << 20:
                    open(a.log, "r+").truncate(0)  # the server appends; keep the disk bounded
                seconds = r["duration_us"] / 1e6
                # A run with no answer at all is an error too (a stalled server).
                errors = int(r["requests"] == 0) + (r["not_200"] + r["wrong_body"] + r["connect_errors"] + r["read_errors"]
                          + r["write_errors"] + r["timeouts"])
                rps = r["requests"] / seconds
                # The server's own CPU per answer (all its processes, user and kernel): unlike
                # requests/s, it does not depend on how the cores were shared with wrk.
                user, system = ((after - before) / procs.TICKS_PER_SECOND * 1e6 / max(r["requests"], 1)
                                for before, after in zip(cpu_before, cpu_after))
                record(scenario=name, connections=connections, seconds=seconds,
                       requests=r["requests"], rps=rps, rows_per_s=rps * len(scenario.rows),
                       p50_ms=r["latency_us"]["p50"] / 1e3, p90_ms=r["latency_us"]["p90"] / 1e3,
                       p99_ms=r["latency_us"]["p99"] / 1e3, max_ms=r["latency_us"]["max"] / 1e3,
                       errors=errors, wrk=r, log_bytes_per_request=log_bytes / max(r["requests"], 1),
                       bytes_per_response=r["bytes"] / max(r["requests"], 1), idle_wait_s=drained,
                       cpu_us_per_answer=user + system, user_us_per_answer=user, system_us_per_answer=system,
                       **memory, **detail)
                label = f"{a.name} (before {a.pair_for})" if a.pair_for else a.name
                print(f"  {label:<22} {name:<6} r{a.round} c={connections:<3} {rps:>10.0f} req/s  "
                      f"p50 {r['latency_us']['p50'] / 1e3:7.2f} ms  p99 {r['latency_us']['p99'] / 1e3:7.2f} ms  "
                      f"CPU {user + system:6.1f} µs/answer  errors {errors}  RSS {memory['rss_mb']:.1f} MB",
                      file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
