#!/usr/bin/env python3
"""Writes scikit-learn tree classifiers whose leaf values no `fit` writes,
for lifeboat's refusal tests (tests/sklearn_crafted.rs).

    python3 scripts/make_crafted_tree_fixtures.py tests/fixtures/sklearn_crafted

Each model is fitted on a small random table, then one leaf of one tree gets
crafted class values: negative ones, or values that do not sum to 1 (which
scikit-learn >= 1.4's `predict_proba` returns unchanged, e.g. 2.0 as a
"probability"). lifeboat must refuse them, naming the estimator, the tree and
the node. One more file claims to be from scikit-learn 1.3, which stored
weighted counts and divided them by their sum in `predict_proba`: lifeboat
must give that quotient. `expected.json` says what each file should give.
"""

import copy
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


def first_leaf(tree):
    return int(np.where(tree.tree_.children_left == -1)[0][0])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_crafted_tree_fixtures.py OUTPUT_DIR")
    outdir = Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    x = rng.rand(60, 3)
    y = (x[:, 0] + 0.3 * rng.rand(60) > 0.6).astype(int)
    fitted = {
        "DecisionTreeClassifier": DecisionTreeClassifier(max_depth=3, random_state=0),
        "RandomForestClassifier": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
        "ExtraTreesClassifier": ExtraTreesClassifier(n_estimators=3, max_depth=3, random_state=0),
    }
    expected = {"sklearn_version": sklearn.__version__, "files": {}}
    for name, estimator in fitted.items():
        estimator.fit(x, y)
        for tag, value in [("negative", [-1.0, 2.0]), ("not_fractions", [2.0, 0.5])]:
            crafted = copy.deepcopy(estimator)
            forest = hasattr(crafted, "estimators_")
            tree = crafted.estimators_[1] if forest else crafted
            leaf = first_leaf(tree)
            tree.tree_.value[leaf] = [value]
            assert (tree.tree_.value[leaf] == [value]).all()
            file = f"{name}_{tag}.pkl"
            (outdir / file).write_bytes(pickle.dumps(crafted, protocol=5))
            where = f"{name}.estimators_ tree 1: leaf node {leaf}" if forest else f"{name}.tree_ leaf node {leaf}"
            expected["files"][file] = {"error": [where, "[-1, 2]" if tag == "negative" else "which sum to 2.5"]}

    # A tree that says it was written by scikit-learn 1.3, whose leaves held
    # weighted counts: predict_proba divided them by their sum.
    tree = copy.deepcopy(fitted["DecisionTreeClassifier"])
    leaf = first_leaf(tree)
    tree.tree_.value[leaf] = [[2.0, 0.5]]
    row = next(r for r in x if tree.apply(r.reshape(1, -1))[0] == leaf)
    data = pickle.dumps(tree, protocol=5)
    version = sklearn.__version__.encode()
    assert data.count(version) == 1, "the version string must appear once"
    old = b"1.3." + b"9" * (len(version) - 4)
    assert len(old) == len(version)
    data = data.replace(version, old)
    file = "DecisionTreeClassifier_counts_1_3.pkl"
    (outdir / file).write_bytes(data)
    counts = np.array([2.0, 0.5])
    expected["files"][file] = {
        "row": [float(v) for v in row],
        "probabilities": [float(v) for v in counts / counts.sum()],
    }
    (outdir / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
