"""Time one batch-scoring command: wall and CPU time, peak RSS (/usr/bin/time -v),
rows written; optionally how far its answers are from another output's.

    python batch.py --name NAME --rows N --output OUT.csv --out results.jsonl \
        [--compare OTHER.csv] -- COMMAND ARGS...

Appends one JSON line to --out. Both outputs must have the columns
`prediction` and `probability_1` (as `lifeboat predict` writes them).
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile


def time_v(path):
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            fields[key] = value
    h_m_s = [float(x) for x in fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")]
    wall = sum(x * 60 ** i for i, x in enumerate(reversed(h_m_s)))
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    return wall, cpu, int(fields["Maximum resident set size (kbytes)"]) / 1024


def compare(a_path, b_path):
    """Rows, rows whose class differs, and the largest probability difference."""
    rows = differ = 0
    worst = 0.0
    with open(a_path, newline="") as fa, open(b_path, newline="") as fb:
        for a, b in zip(csv.DictReader(fa), csv.DictReader(fb)):
            rows += 1
            differ += a["prediction"] != b["prediction"]
            worst = max(worst, abs(float(a["probability_1"]) - float(b["probability_1"])))
    return {"compared_rows": rows, "class_differs": differ, "max_probability_diff": worst}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--output", required=True, help="the CSV file the command writes")
    p.add_argument("--out", required=True)
    p.add_argument("--compare", help="another output of the same rows, by the same model")
    p.add_argument("command", nargs="+")
    a = p.parse_args()
    with tempfile.NamedTemporaryFile("r") as t:
        rc = subprocess.run(["/usr/bin/time", "-v", "-o", t.name, *a.command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
        wall, cpu, rss = time_v(t.name)
    with open(a.output, "rb") as f:
        written = sum(1 for _ in f) - 1
    record = {"server": a.name, "scenario": "batch", "rows": a.rows, "exit_code": rc,
              "output_rows": written, "seconds": wall, "cpu_seconds": cpu,
              "rows_per_s": a.rows / wall, "rows_per_cpu_s": a.rows / cpu if cpu else None,
              "max_rss_mb": rss, "errors": int(rc != 0) + abs(written - a.rows)}
    if a.compare:
        record.update(compare(a.output, a.compare))
        record["errors"] += record["class_differs"]
    with open(a.out, "a") as out:
        out.write(json.dumps(record) + "\n")
    print(f"  {a.name:<34} {a.rows:>8} rows {wall:7.2f} s  {a.rows / wall:>10.0f} rows/s  "
          f"peak RSS {rss:7.1f} MB  exit {rc}", file=sys.stderr)


if __name__ == "__main__":
    main()
