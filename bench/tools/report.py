"""Tables, ratios and docs/benchmarks.md from one run's results.

    python report.py machine [--lifeboat PATH]      the machine as JSON (at the start of a run)
    python report.py best-tune RUN_DIR              the fastest gunicorn configuration tried (no errors, p99 ≤ 1 s)
    python report.py report RUN_DIR [--docs PATH]   print the report; write results.csv (and PATH)
    python report.py check RUN_DIR                  exit 1 if any answer was wrong or anything failed

Every ratio compares figures from the same run.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCENARIO_TITLES = {
    "json": "JSON predict, one row (`POST /api/v1/predict`)",
    "form": "Form POST rendering the result page (`POST /predict`)",
    "mlflow": "MLflow `POST /invocations`, 100-row `dataframe_split` (rows/s = requests/s × 100)",
    "oip": "Open Inference Protocol v2 `POST /v2/models/{name}/infer`, one row",
}
# (lifeboat server, gunicorn model, how alike the two models are)
PAIRS = [
    ("lifeboat/pickle-logistic", "sklearn-logistic", "the same pickle"),
    ("lifeboat/pickle-forest", "sklearn-forest", "the same pickle"),
    ("lifeboat/builtin-logistic", "sklearn-logistic",
     "not the same model: lifeboat's built-in logistic regression vs the tutorial's, same data"),
]


# ---- the machine --------------------------------------------------------------------------------

def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def cpu_busy(seconds):
    """The share of all cores' time spent busy over the next `seconds` (from
    /proc/stat): what other processes leave to the benchmark right now, which
    the load average (a minute-long decay) only shows minutes later."""
    def totals():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle

    total0, idle0 = totals()
    time.sleep(seconds)
    total1, idle1 = totals()
    spent = total1 - total0
    return 1.0 - (idle1 - idle0) / spent if spent > 0 else 0.0


def settle(below, max_wait):
    """Waits (at most `max_wait` seconds) until the cores are busy less than
    `below` of the time over two seconds, so that a build that has just
    finished does not run into the first loads. Returns the last busy share."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = cpu_busy(2.0)
        if busy < below or time.monotonic() >= deadline:
            return busy


def machine(lifeboat, busy=None):
    """The machine as JSON; `busy`: the cores' busy share just measured (else measured here, 1 s)."""
    def cpuinfo(key):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        return "?"

    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    os_name = "?"
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    versions = {"lifeboat": run([lifeboat, "--version"]), "rustc": run(["rustc", "--version"]),
                "wrk": (run(["wrk", "--version"]) or "wrk ?").split(" [")[0],
                "python": platform.python_version(),
                "git": run(["git", "describe", "--always", "--dirty"])}
    for package in ["flask", "gunicorn", "scikit-learn", "numpy", "pandas", "gevent"]:
        try:
            from importlib.metadata import version
            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - any failure means "not installed"
            versions[package] = "not installed"
    blas = "?"
    try:
        import numpy  # noqa: F401 - loads the BLAS threadpoolctl reports
        from threadpoolctl import threadpool_info
        blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')}".strip()
                         for i in threadpool_info())
    except Exception:  # noqa: BLE001
        pass
    return {"cores": os.cpu_count(), "cpu": cpuinfo("model name"), "memory_gib": round(mem_kb / 2**20, 1),
            "os": os_name, "kernel": platform.release(), "load_average_at_start": os.getloadavg(),
            "cpu_busy_at_start": round(cpu_busy(1.0) if busy is None else busy, 3),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": versions, "numpy_blas": blas}


# ---- reading a run ------------------------------------------------------------------------------

def load(run_dir):
    with open(Path(run_dir) / "results.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


# A configuration that keeps one request in a hundred waiting longer than this
# is not one anyone would deploy, however many requests it answers: gevent
# workers accept every connection and leave some waiting for seconds.
TUNE_MAX_P99_MS = 1000


def problems(records):
    """What went wrong in a run, one line each: a server that did not start,
    a scenario whose first answer was wrong, a load with any error (a wrong
    answer, a non-200, a timeout), a batch command that failed or differed.
    The gunicorn configurations `--tune` tries are left out: some of them
    time out by design."""
    out = []
    for r in records:
        if r.get("server", "").startswith("tune/"):
            continue
        where = f"{r.get('server')} {r.get('scenario')}"
        if "connections" in r:
            where += f" at {r['connections']} connections (round {r.get('round')})"
        if "failed" in r:
            out.append(f"{where}: {r['failed']}")
        elif r.get("errors"):
            out.append(f"{where}: {r['errors']} errors")
    if not any("rps" in r for r in records):
        out.append("no load ran")
    return out


def best_tune(records):
    """The fastest configuration with no errors and a p99 under TUNE_MAX_P99_MS."""
    tried = [r for r in records if r["server"].startswith("tune/") and "rps" in r and r["errors"] == 0]
    if not tried:
        sys.exit("no gunicorn configuration ran without errors")
    usable = [r for r in tried if r["p99_ms"] <= TUNE_MAX_P99_MS] or tried
    return max(usable, key=lambda r: r["rps"])["server"][len("tune/"):]


def key(r):
    return r["server"], r["scenario"], r.get("connections")


def by_round(records):
    """{(server, scenario, connections): {round: record}} for the loads (records with rps),
    leaving out the ceiling's loads paired with one server (`pairs`)."""
    out = {}
    for r in records:
        if "rps" in r and "pair_for" not in r:
            out.setdefault(key(r), {})[r.get("round", 1)] = r
    return out


def pairs(records):
    """{(server, scenario, connections, the server it was paired with): {round: record}}: the
    ceiling's loads made just before one lifeboat server's (run.sh)."""
    out = {}
    for r in records:
        if "rps" in r and "pair_for" in r:
            out.setdefault((*key(r), r["pair_for"]), {})[r.get("round", 1)] = r
    return out


def combined(rounds):
    """One record for a server's loads of one scenario over all rounds: medians of
    throughput and latency, the worst tail, all errors and requests, the largest memory."""
    rs = [rounds[k] for k in sorted(rounds)]

    def med(field):
        values = [r[field] for r in rs if r.get(field) is not None]
        return statistics.median(values) if values else None

    out = dict(rs[0])
    for field in ("rps", "rows_per_s", "p50_ms", "p90_ms", "p99_ms", "bytes_per_response",
                  "log_bytes_per_request", "cpu_us_per_answer", "user_us_per_answer",
                  "system_us_per_answer"):
        out[field] = med(field)
    for field in ("errors", "requests", "seconds"):
        out[field] = sum(r.get(field, 0) for r in rs)
    for field in ("max_ms", "rss_mb", "pss_mb", "processes"):
        values = [r[field] for r in rs if r.get(field) is not None]
        out[field] = max(values) if values else None
    out.update(rounds=len(rs), rps_min=min(r["rps"] for r in rs), rps_max=max(r["rps"] for r in rs))
    out.pop("round", None)
    return out


def by_key(records):
    """{(server, scenario, connections): record}, the loads of all rounds combined."""
    out = {key(r): r for r in records if "rps" not in r and "pair_for" not in r}
    out.update({k: combined(v) for k, v in by_round(records).items()})
    return out


# ---- formatting ---------------------------------------------------------------------------------

def num(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def ms(x):
    if x is None:
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def ratio(a, b):
    if not a or not b:
        return None
    return a / b


def fmt_ratio(x):
    if x is None:
        return "–"
    if x >= 10:
        return f"{x:,.0f}×"
    if x >= 1:
        return f"{x:.2f}×"
    return f"{x:.3f}× (1/{1 / x:.1f})"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def split_server(name):
    stack, _, model = name.partition("/")
    return stack, model or "constant answer"


# ---- the report ---------------------------------------------------------------------------------

class Run:
    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.records = load(run_dir)
        self.at = by_key(self.records)
        self.rounds = by_round([r for r in self.records if not r["server"].startswith("tune/")])
        self.pairs = pairs(self.records)
        self.round_count = max((len(v) for v in self.rounds.values()), default=0)
        self.machine = json.loads((self.dir / "machine.json").read_text())
        self.command = (self.dir / "command.txt").read_text().strip()
        best = self.dir / "gunicorn-best.txt"
        self.gunicorn_best = best.read_text().strip() if best.exists() else "?"
        self.servers = list(dict.fromkeys(r["server"] for r in self.records
                                          if not r["server"].startswith("tune/") and r["scenario"] != "batch"))

    def get(self, server, scenario, connections=None, field="rps"):
        r = self.at.get((server, scenario, connections))
        return r.get(field) if r else None

    def rounds_against(self, server, other, scenario, connections):
        """server's loads round by round, to compare with other's: where server (the ceiling) was
        also loaded just before other, those loads, seconds from other's instead of minutes."""
        regular = self.rounds.get((server, scenario, connections), {})
        return {**regular, **self.pairs.get((server, scenario, connections, other), {})}

    def per_round(self, a, b, scenario, connections=64, field="rps"):
        """a's figure over b's, round by round, for the rounds both loaded."""
        ra = self.rounds_against(a, b, scenario, connections)
        rb = self.rounds_against(b, a, scenario, connections)
        each = [ratio(ra[k].get(field), rb[k].get(field)) for k in sorted(set(ra) & set(rb))]
        return [x for x in each if x is not None]

    def paired(self, a, b, scenario, connections=64, field="rps"):
        """The median of a/b over the rounds both were loaded in (each round loads every server
        once, so a slower or faster spell of the machine hits both); without rounds in
        common, the ratio of the combined figures."""
        each = self.per_round(a, b, scenario, connections, field)
        if each:
            return statistics.median(each)
        return ratio(self.get(a, scenario, connections, field), self.get(b, scenario, connections, field))

    def spread(self, server, scenario, connections=64):
        """(max − min) / median of requests/s over the rounds, or None with one round."""
        r = self.at.get((server, scenario, connections))
        if not r or r.get("rounds", 1) < 2 or not r.get("rps"):
            return None
        return (r["rps_max"] - r["rps_min"]) / r["rps"]

    def cold(self, server):
        return self.get(server, "cold_start", None, "median_ms")

    def rss(self, server, scenario=None):
        """The largest RSS read after a load (of one scenario, or of any)."""
        values = [r["rss_mb"] for r in self.records if r["server"] == server and "rss_mb" in r
                  and (scenario is None or r["scenario"] == scenario)]
        return max(values) if values else None

    def failures(self):
        return [r for r in self.records if "failed" in r]

    def scenario_table(self, scenario):
        rows = []
        for server in self.servers:
            if (server, scenario, 64) not in self.at and (server, scenario, 8) not in self.at:
                continue
            stack, model = split_server(server)
            row = [stack, model]
            for c in (64, 8):
                row += [num(self.get(server, scenario, c)), ms(self.get(server, scenario, c, "p50_ms")),
                        ms(self.get(server, scenario, c, "p99_ms"))]
            if scenario == "mlflow":
                row.insert(2, num(self.get(server, scenario, 64, "rows_per_s")))
            errors = [self.get(server, scenario, c, "errors") for c in (64, 8)]
            spread = self.spread(server, scenario)
            cpu = [self.get(server, scenario, 64, f) for f in
                   ("cpu_us_per_answer", "user_us_per_answer", "system_us_per_answer")]
            row += ["–" if cpu[0] is None else f"{cpu[0]:,.1f} ({cpu[1]:,.1f} + {cpu[2]:,.1f})"]
            row += [sum(e for e in errors if e is not None), num(self.rss(server, scenario), 1),
                    num(self.get(server, scenario, 64, "bytes_per_response")),
                    "–" if spread is None else f"{spread:.0%}"]
            rows.append(row)
        header = ["server", "model", "req/s @64", "p50 ms @64", "p99 ms @64", "req/s @8", "p50 ms @8",
                  "p99 ms @8", "server CPU µs/answer @64 (user + kernel)", "errors", "RSS MB after load",
                  "bytes/answer with headers",
                  "req/s @64 spread over rounds"]
        if scenario == "mlflow":
            header.insert(2, "rows/s @64")
        return table(header, rows) if rows else None

    def servers_table(self):
        rows = []
        for server in self.servers:
            stack, model = split_server(server)
            checks = {r.get("check") for r in self.records if r["server"] == server and r.get("check")}
            rows.append([stack, model, ms(self.cold(server)), num(self.rss(server), 1),
                         num(max((r.get("pss_mb", 0) for r in self.records if r["server"] == server), default=None), 1),
                         max((r.get("processes", 0) for r in self.records if r["server"] == server), default="–"),
                         "; ".join(sorted(checks)) or "–"])
        return table(["server", "model", "cold start ms (median)", "max RSS MB after load",
                      "max PSS MB", "processes", "answers checked against"], rows)

    def batch_table(self):
        rows = []
        for r in self.records:
            if r["scenario"] != "batch":
                continue
            stack, model = split_server(r["server"])
            same = ""
            if "compared_rows" in r:
                same = (f"{r['class_differs']} classes differ of {r['compared_rows']:,}; "
                        f"max probability diff {r['max_probability_diff']:.1e}")
            rows.append([stack, model, num(r["rows"]), num(r["seconds"], 2), num(r["rows_per_s"]),
                         num(r["cpu_seconds"], 2), num(r["max_rss_mb"], 1), r["exit_code"], r["errors"], same])
        if not rows:
            return None
        return table(["tool", "model", "rows", "wall s", "rows/s", "CPU s", "peak RSS MB", "exit",
                      "errors", "same answers as pandas + scikit-learn"], rows)

    def tune_table(self):
        rows = [[r["server"][len("tune/"):], num(r["rps"]), ms(r["p50_ms"]), ms(r["p99_ms"]), r["errors"],
                 num(r["rss_mb"], 1)]
                for r in self.records if r["server"].startswith("tune/") and "rps" in r]
        if not rows:
            return None
        return table(["gunicorn options (logistic model)", "req/s @64", "p50 ms", "p99 ms", "errors",
                      "RSS MB"], rows)

    # ---- ratios, all within this run ----

    def batch_best(self, name, rows):
        for r in self.records:
            if r["scenario"] == "batch" and r["server"] == name and r["rows"] == rows:
                return r
        return None

    def ratios(self):
        """[(what, measured ratio, target text, met or None, the per-round ratios)]"""
        out = []

        def add(what, value, target=None, ok=None, each=None):
            out.append((what, value, target, ok, each))

        def add_paired(what, a, b, scenario, field="rps", goal=None, at_most=False):
            r = self.paired(a, b, scenario, 64, field)
            ok = None
            if goal is not None and r is not None:
                ok = r <= goal if at_most else r >= goal
            target = None if goal is None else f"{'≤' if at_most else '≥'} {goal}"
            add(what, r, target, ok, self.per_round(a, b, scenario, 64, field))

        lifeboats = [s for s in self.servers if s.startswith("lifeboat/")]
        for s in lifeboats:
            for scenario, goal in (("json", 0.85), ("form", 0.7), ("mlflow", None), ("oip", None)):
                add_paired(f"{s} / ceiling, {scenario} req/s @64", s, "ceiling", scenario, goal=goal)
            # No target: what the req/s ratio stands on, without wrk's share of the cores.
            add_paired(f"{s} / ceiling, json server CPU per answer @64", s, "ceiling", "json",
                       "cpu_us_per_answer")
        for s, model, alike in PAIRS:
            g = f"gunicorn-best/{model}"
            if s not in self.servers or g not in self.servers:
                continue
            goal = 200 if "forest" in model else 40
            add_paired(f"{s} / {g}, json req/s @64 ({alike})", s, g, "json", goal=goal)
            add_paired(f"{s} / {g}, json p99 @64", s, g, "json", "p99_ms", goal=0.1, at_most=True)
            add_paired(f"{s} / {g}, mlflow rows/s @64", s, g, "mlflow", "rows_per_s")
            add_paired(f"{s} / {g}, json server CPU per answer @64", s, g, "json", "cpu_us_per_answer")
            r = ratio(self.rss(s), self.rss(g))
            add(f"{s} / {g}, RSS after load", r, "≤ 0.1", r <= 0.1 if r else None)
            r = ratio(self.cold(s), self.cold(g))
            add(f"{s} / {g}, cold start", r, "≤ 0.05", r <= 0.05 if r else None)
        for s in lifeboats:
            if s.startswith("lifeboat/builtin"):
                rss = self.rss(s)
                add(f"{s}: RSS after load, MB", rss, "< 30", rss < 30 if rss else None)
            c = self.cold(s)
            add(f"{s}: cold start, ms", c, "< 50", c < 50 if c else None)
        rows = max((r["rows"] for r in self.records if r["scenario"] == "batch"), default=None)
        for lb, pd_name, alike in (
                ("lifeboat-predict/pickle-logistic", "pandas-sklearn/sklearn-logistic", "the same pickle"),
                ("lifeboat-predict/pickle-forest", "pandas-sklearn/sklearn-forest", "the same pickle"),
                ("lifeboat-predict/builtin-logistic", "pandas-sklearn/sklearn-logistic", "not the same model")):
            a, b = self.batch_best(lb, rows), self.batch_best(pd_name, rows)
            if a and b:
                r = ratio(a["rows_per_s"], b["rows_per_s"])
                add(f"{lb} / {pd_name}, rows/s on {rows:,} rows ({alike})", r, "≥ 5", r >= 5)
                add(f"{lb} / {pd_name}, peak RSS", ratio(a["max_rss_mb"], b["max_rss_mb"]))
        # Flat memory: peak RSS on the largest file against the smallest.
        sizes = sorted({r["rows"] for r in self.records if r["scenario"] == "batch"})
        if len(sizes) > 1:
            names = dict.fromkeys(r["server"] for r in self.records if r["scenario"] == "batch")
            for name in names:
                small, large = self.batch_best(name, sizes[0]), self.batch_best(name, sizes[-1])
                if small and large:
                    r = ratio(large["max_rss_mb"], small["max_rss_mb"])
                    flat = name.startswith("lifeboat")
                    add(f"{name}: peak RSS on {sizes[-1]:,} rows / on {sizes[0]:,} rows", r,
                        "≤ 1.2 (flat)" if flat else None, r <= 1.2 if flat else None)
        # Context: the two sides without lifeboat.
        for model in ("sklearn-logistic", "sklearn-forest"):
            g, h = f"gunicorn-best/{model}", f"gunicorn-heroku/{model}"
            add_paired(f"ceiling / {g}, json req/s @64", "ceiling", g, "json")
            add_paired(f"{g} / {h}, json req/s @64", g, h, "json")
        return [x for x in out if x[1] is not None]

    def ratios_table(self):
        rows = []
        for what, value, target, ok, each in self.ratios():
            shown = num(value, 1) if what.endswith((", MB", ", ms")) else fmt_ratio(value)
            rounds = ", ".join(f"{x:.3g}" for x in each) if each and len(each) > 1 else "–"
            rows.append([what, shown, rounds, target or "–", {True: "met", False: "**missed**", None: "–"}[ok]])
        return table(["ratio (same run)", "measured (median over rounds)", "each round", "target", ""], rows)

    def headline(self):
        """A paragraph for the README, from this run's ratios."""
        m = self.machine
        parts = []
        ceiling, g_lr, g_rf = ("ceiling", "gunicorn-best/sklearn-logistic", "gunicorn-best/sklearn-forest")
        lb = next((s for s in ("lifeboat/pickle-logistic", "lifeboat/builtin-logistic") if s in self.servers), None)

        def rounds_of(a, b):
            each = self.per_round(a, b, "json")
            if len(each) < 2:
                return ""
            return f"; {min(each):.3g} to {max(each):.3g} in single rounds"

        if lb and g_lr in self.servers:
            parts.append(
                f"lifeboat answered {num(self.get(lb, 'json', 64))} single-row JSON predictions per second "
                f"at 64 connections{' with its built-in logistic regression' if 'builtin' in lb else ''}, {fmt_ratio(self.paired(lb, g_lr, 'json'))} "
                f"the tutorial's Flask app under its best gunicorn configuration "
                f"({num(self.get(g_lr, 'json', 64))}/s, logistic regression{rounds_of(lb, g_lr)}) and "
                f"{fmt_ratio(self.paired(lb, ceiling, 'json'))} a constant-answer "
                f"axum server that only parses the request ({num(self.get(ceiling, 'json', 64))}/s"
                f"{rounds_of(lb, ceiling)}), "
                f"in {num(self.rss(lb), 1)} MB against gunicorn's {num(self.rss(g_lr), 1)} MB, and was ready "
                f"{num(self.cold(lb), 0)} ms after starting against {num(self.cold(g_lr), 0)} ms.")
        elif g_lr in self.servers:
            parts.append(
                f"lifeboat's server did not run in this measurement. For scale: the tutorial's Flask app under "
                f"its best gunicorn configuration answered {num(self.get(g_lr, 'json', 64))} JSON predictions/s "
                f"with a logistic regression and {num(self.get(g_rf, 'json', 64))}/s with a 100-tree random "
                f"forest, in {num(self.rss(g_lr), 0)} MB, ready {num(self.cold(g_lr), 0)} ms after starting; "
                f"a constant-answer axum server that parses the same request answered "
                f"{num(self.get(ceiling, 'json', 64))}/s in {num(self.rss(ceiling), 1)} MB, ready in "
                f"{num(self.cold(ceiling), 0)} ms.")
        rows = max((r["rows"] for r in self.records if r["scenario"] == "batch"), default=None)
        a = (self.batch_best("lifeboat-predict/pickle-logistic", rows)
             or self.batch_best("lifeboat-predict/builtin-logistic", rows))
        b = self.batch_best("pandas-sklearn/sklearn-logistic", rows)
        if a and b:
            which = "the tutorial's pickled" if "pickle" in a["server"] else "its built-in"
            parts.append(
                f"With {which} logistic regression, `lifeboat predict` scored {num(rows)} CSV rows at "
                f"{num(a['rows_per_s'])} rows/s in "
                f"{num(a['max_rss_mb'], 0)} MB peak, {fmt_ratio(ratio(a['rows_per_s'], b['rows_per_s']))} pandas + "
                f"scikit-learn ({num(b['rows_per_s'])} rows/s, {num(b['max_rss_mb'], 0)} MB).")
        rounds = (f", each server loaded in {self.round_count} rounds (figures are medians over rounds, "
                  f"ratios medians of the per-round ratios)" if self.round_count > 1 else "")
        parts.append(f"One run of `{self.command}` on {m['cores']} cores ({m['cpu']}), load generator (wrk) on "
                     f"the same cores{rounds}, every answer checked; details in docs/benchmarks.md.")
        return " ".join(parts)

    def markdown(self):
        m = self.machine
        v = m["versions"]
        load_note = ""
        # The busy share measured at the start says whether something else was running; runs from
        # before it was recorded only have the load average, which lags behind a finished build.
        busy = m.get("cpu_busy_at_start")
        if busy is not None and busy > 0.25:
            load_note = (f"\n> **The machine was busy** when this run started ({busy:.0%} of the cores' time "
                         f"taken by other processes): these numbers only show that the harness works. "
                         f"Measure again on a quiet machine.\n")
        elif busy is None and m["load_average_at_start"][0] > 0.5 * m["cores"]:
            load_note = (f"\n> **The machine was busy** when this run started (load average "
                         f"{m['load_average_at_start'][0]:.1f} on {m['cores']} cores): these numbers only show "
                         f"that the harness works. Measure again on a quiet machine.\n")
        eight = any(k[2] == 8 for k in self.rounds)
        # A --quick run times one start of each server and then loads that same process.
        kept = any("pid" in r for r in self.records if r.get("scenario") == "cold_start")
        connections = ("64 and at 8 connections" if eight
                       else "64 connections (a `--quick` run: no loads at 8 connections)")
        out = [
            "# Benchmarks",
            "",
            "lifeboat against the classic tutorial's stack (a Flask app loading a scikit-learn pickle, under "
            "gunicorn as Heroku runs it and in the best gunicorn configuration found for this machine) and "
            "against the ceiling (an axum server with the same axum and tokio that parses the same request "
            "bodies and answers a constant; no model server on this stack can beat it). Everything here comes "
            "from one run of `bench/run.sh`; every ratio compares figures of that same run.",
            load_note,
            "## The run",
            "",
            f"- Command: `{self.command}` ({m['date']})",
            f"- Machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB memory, {m['os']}, "
            f"Linux {m['kernel']}; load average at the start {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}"
            + (f"; cores busy with other work at the start {m['cpu_busy_at_start']:.0%}"
               if "cpu_busy_at_start" in m else ""),
            f"- **The load generator shares the machine**: wrk (`-t2`) runs on the same {m['cores']} cores as the "
            "server, so every server is measured with about a core's worth of wrk beside it. Absolute numbers are "
            "lower than on a separate client machine; the ratios are fair because every server pays the same.",
            f"- Versions: lifeboat `{v['lifeboat']}` (work tree at git {v['git']}), {v['rustc']}, {v['wrk']}; Python "
            f"{v['python']}, Flask {v['flask']}, gunicorn {v['gunicorn']}, scikit-learn {v['scikit-learn']}, "
            f"numpy {v['numpy']} ({m['numpy_blas']}), pandas {v['pandas']}, gevent {v['gevent']}",
            f"- gunicorn as Heroku runs it: `WEB_CONCURRENCY=2 gunicorn app:app` (gunicorn reads "
            "`WEB_CONCURRENCY` as its worker count: two sync workers). Best configuration found for this "
            f"machine: `gunicorn {self.gunicorn_best} app:app` (with `--tune`: the most requests/s among "
            "the configurations that answered without errors and with a p99 under 1 s).",
            "- Method: each server has its own 127.0.0.1 port. Cold start is the time from starting "
            "its process to the first 200 answer to the JSON request, "
            + ("one start per server (a `--quick` run), each once the server before it was quiet again; that "
               "process stays up and is the one loaded. Then all servers are loaded " if kept else
               "median of several starts, with no other server running. Then all servers are started and loaded ")
            + "one at a time, in rounds: every round loads, scenario by scenario, "
            "every server once (in reverse order every other round), so that a slower or faster spell of this shared machine "
            "falls on all servers alike instead of on whichever ran then. Per server and scenario: one request "
            "whose answer is checked against the model (expected answers come from "
            "scikit-learn on the same pickle, or from `lifeboat predict` for lifeboat's own model files); a "
            "second one, which must be byte-identical to the first; a warm-up in the first round; then, each "
            "time the machine's cores are idle again (another server may still be answering what its own "
            f"load left queued), wrk at {connections}, where a `response()` hook counts every answer that is not 200 or not "
            "that exact body as an error. The tables show the median over rounds (errors summed, memory and "
            "`max` the largest); a ratio is the median of the per-round ratios, each of two servers loaded "
            + ("a minute or two apart at most, except lifeboat's ratios to the ceiling: in every round and "
               "scenario, the ceiling is loaded once more at 64 connections just before each lifeboat server, "
               "and lifeboat's ratio to the ceiling in that round compares those two loads, seconds apart (these "
               "extra loads are left out of the ceiling's own rows). " if self.pairs else
               "a minute or two apart at most (a `--quick` run: the ceiling is not loaded again before each "
               "lifeboat server, so its ratios to the ceiling are as noisy as any other). ")
            + "RSS is summed over the server's process tree (gunicorn's master and "
            "workers) from /proc right after each load; PSS, which splits shared pages, is shown beside it. "
            "Server CPU per answer is the CPU time (user and kernel) the server's processes spent during "
            "the load at 64 connections, from /proc, over the answers wrk received: what a server costs per "
            "answer whatever share of the cores wrk took (it still moves with the machine's speed). The "
            "kernel's part includes passing each answer through the loopback to wrk.",
            "",
        ]
        skipped = self.dir / "skipped.txt"
        if skipped.exists():
            out += ["## Not measured in this run", ""]
            out += [f"- {line}" for line in skipped.read_text().splitlines() if line] + [""]
        failures = self.failures()
        if failures:
            out += ["## Failures", ""] + [f"- {f['server']} {f['scenario']}: {f['failed']}" for f in failures] + [""]
        out += ["## Servers", "", self.servers_table(), ""]
        for scenario, title in SCENARIO_TITLES.items():
            t = self.scenario_table(scenario)
            if t:
                out += [f"## {title}", "", t, ""]
        t = self.batch_table()
        if t:
            out += ["## Batch scoring: a CSV file generated from the schema", "",
                    "`lifeboat predict` against pandas `read_csv` + scikit-learn `predict_proba` + `to_csv` "
                    "(bench/reference/predict_csv.py), on the same file, writing the same columns. Wall time and "
                    "peak RSS from `/usr/bin/time -v`, whole commands (start-up and imports included).", "", t, ""]
        t = self.tune_table()
        if t:
            out += ["## gunicorn configurations tried", "",
                    "JSON predict with the logistic model at 64 connections (`bench/run.sh --tune`).", "", t, ""]
        out += ["## Ratios and the issue's targets", "", self.ratios_table(), "",
                "## For the README", "", self.headline(), ""]
        return "\n".join(out)

    def write_csv(self):
        fields = ["server", "round", "pair_for", "scenario", "connections", "rps", "rows_per_s", "p50_ms", "p90_ms", "p99_ms",
                  "max_ms", "errors", "requests", "seconds", "rss_mb", "pss_mb", "processes",
                  "bytes_per_response", "log_bytes_per_request", "median_ms", "rows", "cpu_seconds",
                  "max_rss_mb", "exit_code", "failed"]
        with open(self.dir / "results.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fields, extrasaction="ignore")
            w.writeheader()
            w.writerows(self.records)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("machine")
    m.add_argument("--lifeboat", default="target/release/lifeboat")
    m.add_argument("--cpu-busy", help="the cores' busy share at the start as `settle` printed it (say 3%%), "
                                      "instead of measuring it again")
    sub.add_parser("best-tune").add_argument("run_dir")
    st = sub.add_parser("settle")
    st.add_argument("--below", type=float, default=0.1)
    st.add_argument("--max-wait", type=float, default=90)
    sub.add_parser("check").add_argument("run_dir")
    r = sub.add_parser("report")
    r.add_argument("run_dir")
    r.add_argument("--docs")
    a = p.parse_args()
    if a.command == "machine":
        busy = float(a.cpu_busy.rstrip("%")) / 100 if a.cpu_busy else None
        print(json.dumps(machine(a.lifeboat, busy), indent=1))
    elif a.command == "settle":
        print(f"{settle(a.below, a.max_wait):.0%}")
    elif a.command == "check":
        found = problems(load(a.run_dir))
        for line in found:
            print(f"bench: {line}", file=sys.stderr)
        sys.exit(1 if found else 0)
    elif a.command == "best-tune":
        print(best_tune(load(a.run_dir)))
    else:
        report = Run(a.run_dir)
        text = report.markdown()
        report.write_csv()
        (report.dir / "benchmarks.md").write_text(text)
        if a.docs:
            Path(a.docs).parent.mkdir(parents=True, exist_ok=True)
            Path(a.docs).write_text(text)
        print(text)
        print(f"\n(raw results: {report.dir}/results.jsonl and results.csv)", file=sys.stderr)


if __name__ == "__main__":
    main()
