"""The benchmark's scenarios: request bodies, expected answers, and the check
of one answer against the model that should have given it.

The same rows go to every server, in one of two encodings: "named" (Sex
"male"/"female", Embarked "S"/"C"/"Q", as lifeboat's built-in schema and the
ceiling take them) or "coded" (Sex 0/1, Embarked 0/1/2, the tutorial's numbers,
as its Flask app and lifeboat with examples/tutorial/titanic_tutorial.toml take
them). Servers of the same model get byte-identical bodies. The expected answer
comes from the same model by another path: `lifeboat predict` on the same rows
for lifeboat's own model files, scikit-learn's `predict_proba` on the same
pickle for the reference app (and for lifeboat serving that pickle).
"""

import csv
import hashlib
import io
import json
import os
import pickle
import random
import re
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

FIELDS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
LABELS = {"0": "Passenger dies", "1": "Passenger survives"}
# The tutorial's numeric coding (bench/reference/train.py).
SEX = {"male": 0, "female": 1}
EMBARKED = {"S": 0, "C": 1, "Q": 2}

PASSENGER = {"Pclass": 3, "Sex": "female", "Age": 22.0, "SibSp": 1, "Parch": 0, "Fare": 7.25,
             "Embarked": "S"}
BATCH_ROWS = 100


def batch_rows(n=BATCH_ROWS, seed=42):
    """Rows spread over the schema's ranges (examples/titanic/titanic.toml)."""
    rng = random.Random(seed)
    return [{"Pclass": rng.choice([1, 2, 3]), "Sex": rng.choice(["male", "female"]),
             "Age": rng.randrange(1, 160) / 2, "SibSp": rng.randrange(0, 6),
             "Parch": rng.randrange(0, 5), "Fare": round(rng.uniform(0, 300), 2),
             "Embarked": rng.choice(["S", "C", "Q"])} for _ in range(n)]


def encode(row, coded):
    """A row in the named or the coded (tutorial) encoding."""
    if not coded:
        return row
    return {**row, "Sex": SEX[row["Sex"]], "Embarked": EMBARKED[row["Embarked"]]}


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def oip_body(rows, coded):
    text = "INT64" if coded else "BYTES"
    kinds = {"Pclass": "INT64", "Sex": text, "Age": "FP64", "SibSp": "INT64", "Parch": "INT64",
             "Fare": "FP64", "Embarked": text}
    inputs = []
    for name in FIELDS:
        tensor = {"name": name, "shape": [len(rows)], "datatype": kinds[name]}
        if kinds[name] == "BYTES":
            tensor["parameters"] = {"content_type": "str"}
        tensor["data"] = [encode(r, coded)[name] for r in rows]
        inputs.append(tensor)
    return compact({"id": "bench", "parameters": {"content_type": "pd"}, "inputs": inputs,
                    "outputs": [{"name": "predict"}, {"name": "predict_proba"}]})


@dataclass
class Scenario:
    name: str
    title: str
    path: str
    content_type: str
    rows: list
    body: str


def scenarios(oip_model="titanic", coded=False):
    one, many = [PASSENGER], batch_rows()
    passenger = encode(PASSENGER, coded)
    split = {"dataframe_split": {"columns": FIELDS,
                                 "data": [[encode(r, coded)[f] for f in FIELDS] for r in many]}}
    return {s.name: s for s in [
        Scenario("json", "JSON predict, one row", "/api/v1/predict", "application/json", one,
                 compact(passenger)),
        Scenario("form", "Form POST → HTML result page", "/predict",
                 "application/x-www-form-urlencoded", one, urllib.parse.urlencode(passenger)),
        Scenario("mlflow", f"MLflow /invocations, {BATCH_ROWS}-row dataframe_split", "/invocations",
                 "application/json", many, compact(split)),
        Scenario("oip", "Open Inference Protocol v2 infer, one row",
                 f"/v2/models/{oip_model}/infer", "application/json", one, oip_body(one, coded)),
    ]}


# ---- expected answers ---------------------------------------------------------------------------

def expected(source, rows, lifeboat="target/release/lifeboat", cache=None):
    """[(class, probability of class "1")] per row, or None for the ceiling (constant by design).

    source: "none", "sklearn:PATH.pkl", "lifeboat:MODEL" (MODEL as `lifeboat --model` takes it).
    cache: a directory where answers are kept, so that servers of the same model and later
    rounds reuse them rather than load the pickle again (about 1.5 s with scikit-learn's imports)
    or run lifeboat again.
    """
    kind, _, where = source.partition(":")
    if kind == "none":
        return None
    if cache is None:
        return compute_expected(kind, where, rows, lifeboat)
    # The key holds everything the answers depend on: the source, the rows, the model file and
    # the lifeboat binary that computes them (size and time of each, where they are files).
    stamps = [(p, os.path.getsize(p), os.path.getmtime(p)) for p in (where, lifeboat) if os.path.isfile(p)]
    key = hashlib.sha256(json.dumps([source, rows, stamps]).encode()).hexdigest()[:32]
    path = Path(cache) / f"{key}.json"
    if path.exists():
        return [tuple(answer) for answer in json.loads(path.read_text())]
    answers = compute_expected(kind, where, rows, lifeboat)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(answers))
    temporary.replace(path)
    return answers


def compute_expected(kind, where, rows, lifeboat):
    """`expected` without the cache."""
    if kind == "sklearn":
        with open(where, "rb") as f:
            model = pickle.load(f)
        coded = [[float(r["Pclass"]), SEX[r["Sex"]], float(r["Age"]), float(r["SibSp"]),
                  float(r["Parch"]), float(r["Fare"]), EMBARKED[r["Embarked"]]] for r in rows]
        proba = model.predict_proba(coded)
        return [(str(int(p[1] > p[0])), float(p[1])) for p in proba]
    if kind == "lifeboat":
        text = io.StringIO()
        writer = csv.DictWriter(text, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        out = subprocess.run([lifeboat, "predict", "--model", where, "--input", "-"],
                             input=text.getvalue(), capture_output=True, text=True, check=True)
        return [(r["prediction"], float(r["probability_1"])) for r in csv.DictReader(io.StringIO(out.stdout))]
    raise ValueError(f"unknown expected-answer source {kind + ':' + where!r}")


# ---- reading answers ----------------------------------------------------------------------------

def answers(scenario, body):
    """[(class, probability of "1" or None)] from one response body, in the scenario's protocol."""
    if scenario == "form":
        # The verdict is the label in a heading (a page may name both labels elsewhere, in a chart).
        headings = re.findall(r"<h[1-6][^>]*>\s*([^<]*?)\s*</h[1-6]>", body)
        found = {c for c, label in LABELS.items() if label in headings}
        if len(found) != 1:
            raise ValueError(f"{len(found)} of the labels {list(LABELS.values())} are headings")
        return [(found.pop(), None)]
    data = json.loads(body)
    if scenario == "json":
        return [(str(data["class"]), float(data["probabilities"]["1"]))]
    if scenario == "mlflow":
        return [(str(p), None) for p in data["predictions"]]
    if scenario == "oip":
        outputs = {o["name"]: o["data"] for o in data["outputs"]}
        flat = outputs["predict_proba"]
        flat = [x for row in flat for x in row] if flat and isinstance(flat[0], list) else flat
        classes = [str(c[0] if isinstance(c, list) else c) for c in outputs["predict"]]
        return list(zip(classes, [float(p) for p in flat[1::2]]))
    raise ValueError(f"unknown scenario {scenario!r}")


def check(scenario, body, want, tolerance=1e-6):
    """None if the body answers `want`, else what is wrong."""
    try:
        got = answers(scenario, body)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        return f"cannot read the answer: {error!r}"
    if want is None:
        return None
    if len(got) != len(want):
        return f"{len(got)} answers for {len(want)} rows"
    for i, ((c, p), (wc, wp)) in enumerate(zip(got, want)):
        if c != wc:
            return f"row {i}: class {c!r}, expected {wc!r} (probability {wp:.6f})"
        if p is not None and abs(p - wp) > tolerance:
            return f"row {i}: probability {p!r}, expected {wp!r}"
    return None


def main(argv):
    """`scenarios.py`: print every scenario's body, for a look or a curl by hand.
    `scenarios.py expect CACHE LIFEBOAT SOURCE...`: work out every scenario's expected answers
    for each source into the cache, in this one process (scikit-learn is imported once, not
    once per model and scenario)."""
    if argv[:1] == ["expect"] and len(argv) >= 3:
        cache, lifeboat, sources = argv[1], argv[2], argv[3:]
        row_sets = {compact(s.rows): s.rows for s in scenarios().values()}
        for source in sources:
            for rows in row_sets.values():
                expected(source, rows, lifeboat, cache)
        return
    for coded in (False, True):
        for s in scenarios(coded=coded).values():
            print(f"{s.name} ({'coded' if coded else 'named'}) POST {s.path} ({s.content_type}, "
                  f"{len(s.body)} bytes)\n{s.body[:300]}\n")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
