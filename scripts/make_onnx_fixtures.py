#!/usr/bin/env python3
"""Writes the ONNX parity fixtures lifeboat's tests read.

    pip install skl2onnx onnx onnxruntime
    python3 scripts/make_onnx_fixtures.py tests/fixtures/onnx

Trains scikit-learn estimators and pipelines on the same synthetic
Titanic-like table as scripts/make_sklearn_fixtures.py (no download, seeds
fixed), exports each with skl2onnx (classifiers with ZipMap on and off; one
pipeline with the scaler's `div` option, so both our Scaler op and tract's
Sub/Div run), and writes `expected.json`: the held-out rows (missing values
and unseen categories included) and what onnxruntime answers for each, row by
row. It also writes a tree rewritten to use every branch mode (BRANCH_LT, GT,
GTE as well as LEQ), a graph with an operator lifeboat does not run
(SVMClassifier), and records the estimators skl2onnx cannot export.

Every file is written deterministically (same versions, same bytes), so a
rerun shows as no change in git.
"""

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
import skl2onnx
from onnx import helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_sklearn_fixtures import array_of, held_out_rows, numeric, table  # noqa: E402

warnings.filterwarnings("ignore")

OPSET = {"": 15, "ai.onnx.ml": 3}
FLOATS = ["Age", "Fare", "SibSp", "Parch"]
STRINGS = ["Sex", "Embarked"]
# What the string imputers read as missing (ONNX string tensors have no NaN).
MISSING = ""


def frame_for_training(frame):
    f = frame.copy()
    for c in FLOATS:
        f[c] = f[c].astype(np.float32)
    f["Pclass"] = f["Pclass"].astype(np.int64)
    f["Embarked"] = f["Embarked"].fillna(MISSING).astype(str)
    f["Sex"] = f["Sex"].astype(str)
    return f


def named_types(with_pclass_int):
    types = [(c, FloatTensorType([None, 1])) for c in FLOATS]
    if with_pclass_int:
        types.append(("Pclass", Int64TensorType([None, 1])))
    types += [(c, StringTensorType([None, 1])) for c in STRINGS]
    return types


def preprocess(pclass_onehot):
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    strings = Pipeline([
        ("impute", SimpleImputer(strategy="most_frequent", missing_values=MISSING)),
        ("onehot", OneHotEncoder(handle_unknown="ignore")),
    ])
    parts = [("num", numbers, FLOATS), ("cat", strings, STRINGS)]
    if pclass_onehot:
        parts.append(("pclass", OneHotEncoder(handle_unknown="ignore"), ["Pclass"]))
    return ColumnTransformer(parts)


def models():
    """(name, estimator, input kind, target, extra skl2onnx options from the fitted estimator)."""
    out = []
    classifiers = [
        ("lr", LogisticRegression(max_iter=1000)),
        ("dtc", DecisionTreeClassifier(max_depth=6, random_state=0)),
        ("rfc", RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
        ("etc", ExtraTreesClassifier(n_estimators=8, max_depth=5, random_state=0)),
        ("gbc", GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0)),
    ]
    for short, est in classifiers:
        for target in ("binary", "multiclass"):
            out.append((f"{short}_{target}_array", sklearn.base.clone(est), "array", target, None))
    for short, est in [
        ("linreg", LinearRegression()),
        ("ridge", Ridge(alpha=2.0)),
        ("dtr", DecisionTreeRegressor(max_depth=6, random_state=0)),
        ("rfr", RandomForestRegressor(n_estimators=8, max_depth=5, random_state=0)),
        ("etr", ExtraTreesRegressor(n_estimators=8, max_depth=5, random_state=0)),
        ("gbr", GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0)),
    ]:
        out.append((f"{short}_array", est, "array", "regression", None))
    pipes = [
        ("pipe_lr", LogisticRegression(max_iter=1000), "binary", False),
        ("pipe_lr_multiclass", LogisticRegression(max_iter=1000), "multiclass", True),
        ("pipe_rfc_multiclass", RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0), "multiclass", False),
        ("pipe_gbc", GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0), "binary", True),
        ("pipe_dtc", DecisionTreeClassifier(max_depth=5, random_state=0), "binary", True),
        ("pipe_ridge", Ridge(alpha=1.0), "regression", True),
        ("pipe_gbr", GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0), "regression", False),
    ]
    for name, est, target, pclass in pipes:
        pipe = Pipeline([("columns", preprocess(pclass)), ("model", est)])
        out.append((name, pipe, "frame_pclass" if pclass else "frame", target, None))
    # The same binary pipeline with StandardScaler exported as Sub and Div
    # (skl2onnx's `div` option) instead of the ai.onnx.ml Scaler.
    # (Options name the fitted scaler, which ColumnTransformer clones at fit time.)
    pipe = Pipeline([("columns", preprocess(False)), ("model", LogisticRegression(max_iter=1000))])
    out.append(("pipe_lr_div", pipe, "frame", "binary",
                lambda fitted: {id(fitted.named_steps["columns"].named_transformers_["num"].named_steps["scale"]):
                                {"div": "div"}}))
    return out


def export(name, est, kind, target, extra, zipmap):
    options = dict(extra(est) if extra else {})
    final = est[-1] if isinstance(est, Pipeline) else est
    if target != "regression":
        options[id(final)] = {"zipmap": zipmap}
    if kind == "array":
        types = [("X", FloatTensorType([None, 7]))]
    else:
        types = named_types(kind == "frame_pclass")
    return convert_sklearn(est, initial_types=types, target_opset=OPSET, options=options or None)


def onnx_inputs(kind, rows):
    """The onnxruntime feeds for held-out rows (dicts as in expected.json)."""
    if kind == "array":
        return {"X": np.array([array_of(r) for r in rows], dtype=np.float32)}
    feeds = {}
    for c in FLOATS:
        feeds[c] = np.array([[np.nan if r[c] is None else r[c]] for r in rows], dtype=np.float32)
    if kind == "frame_pclass":
        feeds["Pclass"] = np.array([[r["Pclass"]] for r in rows], dtype=np.int64)
    for c in STRINGS:
        feeds[c] = np.array([[MISSING if r[c] is None else r[c]] for r in rows], dtype=object)
    return feeds


def label_text(v):
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode()
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return str(v)


def probabilities(out, session):
    """The probability output, with or without ZipMap."""
    names = [o.name for o in session.get_outputs()]
    probs = out[names.index("output_probability")] if "output_probability" in names else out[1]
    if isinstance(probs, list):  # ZipMap: a list of {class: probability}
        keys = list(probs[0].keys())
        return np.array([[d[k] for k in keys] for d in probs], dtype=np.float64)
    return np.asarray(probs, dtype=np.float64)


def answers(session, kind, rows, target):
    """onnxruntime's answers, one row at a time, checked against a whole batch."""
    result = []
    batch = session.run(None, onnx_inputs(kind, rows))
    for i, row in enumerate(rows):
        out = session.run(None, onnx_inputs(kind, [row]))
        if target == "regression":
            v = float(np.asarray(out[0]).reshape(-1)[0])
            w = float(np.asarray(batch[0]).reshape(-1)[i])
            assert (math.isnan(v) and math.isnan(w)) or abs(v - w) <= 1e-5 * max(1, abs(v))
            result.append({"value": None if math.isnan(v) else v})
        else:
            p = probabilities(out, session)[0]
            assert np.allclose(p, probabilities(batch, session)[i], atol=1e-6, equal_nan=True)
            if np.isnan(p).any():
                result.append({"proba": None, "label": label_text(out[0][0])})
            else:
                result.append({"proba": [float(x) for x in p], "label": label_text(out[0][0])})
    return result


def every_branch_mode(model):
    """Rewrites a tree's BRANCH_LEQ nodes into LT, GT and GTE nodes that decide
    the same way (float32 thresholds moved by one unit where needed)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for node in m.graph.node:
        if node.op_type != "TreeEnsembleClassifier":
            continue
        attrs = {a.name: a for a in node.attribute}
        modes = list(attrs["nodes_modes"].strings)
        values = list(attrs["nodes_values"].floats)
        true_ids = list(attrs["nodes_truenodeids"].ints)
        false_ids = list(attrs["nodes_falsenodeids"].ints)
        tracks = list(attrs["nodes_missing_value_tracks_true"].ints) if "nodes_missing_value_tracks_true" in attrs else [0] * len(modes)
        branch = 0
        for i, mode in enumerate(modes):
            if mode != b"BRANCH_LEQ":
                continue
            t = np.float32(values[i])
            up = float(np.nextafter(t, np.float32(np.inf)))
            kind = branch % 4
            branch += 1
            if kind == 1:  # x <= t  <=>  x < next(t)
                modes[i], values[i] = b"BRANCH_LT", up
            elif kind == 2:  # x <= t  <=>  not (x > t)
                modes[i] = b"BRANCH_GT"
                true_ids[i], false_ids[i] = false_ids[i], true_ids[i]
                tracks[i] = 1 - tracks[i]
            elif kind == 3:  # x <= t  <=>  not (x >= next(t))
                modes[i], values[i] = b"BRANCH_GTE", up
                true_ids[i], false_ids[i] = false_ids[i], true_ids[i]
                tracks[i] = 1 - tracks[i]
        for name, value in [("nodes_modes", modes), ("nodes_values", values), ("nodes_truenodeids", true_ids),
                            ("nodes_falsenodeids", false_ids), ("nodes_missing_value_tracks_true", tracks)]:
            if name in attrs:
                node.attribute.remove(attrs[name])
            node.attribute.append(helper.make_attribute(name, value))
    return m


def write(path, model):
    # skl2onnx names the graph with a random UUID; a fixed name keeps reruns byte-identical.
    model.graph.name = path.stem.split(".")[0]
    # ... and it lists opsets in set order, which changes with Python's hash seed.
    opsets = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    path.write_bytes(model.SerializeToString(deterministic=True))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_onnx_fixtures.py OUTPUT_DIR")
    outdir = Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    frame, survived, deck, value = table(400, seed=42)
    targets = {"binary": survived, "multiclass": deck, "regression": value}
    train_frame = frame_for_training(frame)
    x_array = numeric(frame, impute=True).astype(np.float32)
    rows = held_out_rows()
    expected = {
        "sklearn_version": sklearn.__version__,
        "skl2onnx_version": skl2onnx.__version__,
        "onnx_version": onnx.__version__,
        "onnxruntime_version": ort.__version__,
        "missing_string": MISSING,
        "rows": rows,
        "rows_array": [[None if math.isnan(v) else v for v in array_of(r)] for r in rows],
        "models": [],
        "unconverted": [],
        "unsupported": [],
    }

    def record(name, file, kind, target, session, classes, zipmap):
        expected["models"].append({
            "name": name,
            "file": file,
            "input": "array" if kind == "array" else "frame",
            "task": "regression" if target == "regression" else "classification",
            "zipmap": zipmap,
            "classes": classes,
            "answers": answers(session, kind, rows, target),
        })

    for name, est, kind, target, extra in models():
        est.fit(x_array if kind == "array" else train_frame, targets[target])
        classes = [label_text(c) for c in getattr(est, "classes_", [])]
        for zipmap in ([True, False] if target != "regression" else [None]):
            model = export(name, est, kind, target, extra, zipmap)
            if extra:
                assert not any(n.op_type == "Scaler" for n in model.graph.node), "the div option was not applied"
            file = f"{name}{'' if zipmap is None else ('.zipmap' if zipmap else '.nozipmap')}.onnx"
            write(outdir / file, model)
            session = ort.InferenceSession(str(outdir / file), providers=["CPUExecutionProvider"])
            record(name, file, kind, target, session, classes, zipmap)
        if name == "dtc_binary_array":
            model = every_branch_mode(export(name, est, kind, target, extra, False))
            write(outdir / "dtc_binary_array.modes.onnx", model)
            session = ort.InferenceSession(str(outdir / "dtc_binary_array.modes.onnx"), providers=["CPUExecutionProvider"])
            record("dtc_binary_array_modes", "dtc_binary_array.modes.onnx", kind, target, session, classes, False)
            assert expected["models"][-1]["answers"] == expected["models"][-2]["answers"]

    # An operator lifeboat does not run: a support vector classifier.
    svc = SVC(probability=True, random_state=0).fit(x_array[:120], survived[:120])
    model = convert_sklearn(svc, initial_types=[("X", FloatTensorType([None, 7]))], target_opset=OPSET,
                            options={id(svc): {"zipmap": False}})
    write(outdir / "svc_unsupported.onnx", model)
    expected["unsupported"].append({"file": "svc_unsupported.onnx", "operator": "SVMClassifier"})

    # What skl2onnx cannot export (recorded, so the documentation can say why).
    hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(x_array, survived)
    try:
        convert_sklearn(hgb, initial_types=[("X", FloatTensorType([None, 7]))], target_opset=OPSET)
    except Exception as e:  # noqa: BLE001 - the message is what we record
        cause = e.__cause__ or e
        expected["unconverted"].append({"estimator": "HistGradientBoostingClassifier",
                                        "error": f"{type(e).__name__}: {str(e).splitlines()[0][:80]}...",
                                        "cause": f"{type(cause).__name__}: {str(cause)[:200]}"})

    with open(outdir / "expected.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"wrote {len(expected['models'])} ONNX models (skl2onnx {skl2onnx.__version__}, "
          f"onnxruntime {ort.__version__}) to {outdir}")


if __name__ == "__main__":
    main()
