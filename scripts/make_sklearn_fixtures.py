#!/usr/bin/env python3
"""Writes the scikit-learn parity fixtures lifeboat's tests read.

    python3 scripts/make_sklearn_fixtures.py tests/fixtures/sklearn

Trains every estimator and pipeline lifeboat imports on a small synthetic
Titanic-like table (no download, seeds fixed), saves each as pickle
(protocols 2, 4, 5) and joblib (plain and compressed), and writes
`expected.json`: held-out rows (with missing values and unseen categories)
and what scikit-learn's `predict` / `predict_proba` answer for each, one row
at a time, or the error it raised.

Run it with another scikit-learn (e.g. in a venv with scikit-learn 1.4) and
point LIFEBOAT_SKLEARN_FIXTURES at the output directory to check parity
against that version: `cargo test --test sklearn_parity`.
"""

import json
import math
import pickle
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

warnings.filterwarnings("ignore")

VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2])
FIELDS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]


def table(n, seed):
    """A Titanic-like table: strings, integers, floats and missing values."""
    rng = np.random.default_rng(seed)
    pclass = rng.choice([1, 2, 3], n, p=[0.25, 0.2, 0.55])
    sex = rng.choice(["male", "female"], n, p=[0.64, 0.36])
    age = np.round(rng.gamma(4.0, 7.5, n), 1)
    age[rng.random(n) < 0.2] = np.nan
    sibsp = rng.poisson(0.5, n)
    parch = rng.poisson(0.4, n)
    fare = np.round(rng.lognormal(2.6, 0.9, n) * (4 - pclass), 2)
    embarked = rng.choice(np.array(["S", "C", "Q"], dtype=object), n, p=[0.72, 0.19, 0.09])
    embarked[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame(
        {"Pclass": pclass, "Sex": sex, "Age": age, "SibSp": sibsp, "Parch": parch,
         "Fare": fare, "Embarked": embarked}
    )
    z = (
        1.2 * (sex == "female") * 2 - 0.9 * (pclass - 2) - 0.03 * (np.nan_to_num(age, nan=30) - 30)
        - 0.3 * sibsp + 0.004 * fare + 0.4 * (embarked == "C") + rng.normal(0, 0.8, n)
    )
    survived = (z > 0.6).astype(int)
    # Three classes with string labels, for multiclass estimators.
    deck = np.where(z > 1.5, "upper", np.where(z > -0.5, "middle", "lower")).astype(object)
    # A number to predict, for regressors.
    value = 3.0 * fare ** 0.5 + 2.0 * (sex == "female") - 0.1 * np.nan_to_num(age, nan=28) + rng.normal(0, 1, n)
    return frame, survived, deck, value


def numeric(frame, impute):
    """The tutorial's numeric coding: Sex 0/1, Embarked S/C/Q -> 0/1/2."""
    x = np.column_stack([
        frame["Pclass"].to_numpy(float),
        (frame["Sex"] == "female").to_numpy(float),
        frame["Age"].to_numpy(float),
        frame["SibSp"].to_numpy(float),
        frame["Parch"].to_numpy(float),
        frame["Fare"].to_numpy(float),
        frame["Embarked"].map({"S": 0.0, "C": 1.0, "Q": 2.0}).to_numpy(float),
    ])
    if impute:
        x = np.where(np.isnan(x), np.array([[2, 0, 28.0, 0, 0, 14.0, 0]]), x)
    return x


def held_out_rows():
    frame, _, _, _ = table(40, seed=7)
    specials = [
        {"Pclass": 1, "Sex": "female", "Age": None, "SibSp": 0, "Parch": 0, "Fare": 80.0, "Embarked": None},
        {"Pclass": 3, "Sex": "male", "Age": 22.0, "SibSp": 1, "Parch": 0, "Fare": 7.25, "Embarked": "X"},
        {"Pclass": 2, "Sex": "other", "Age": 40.0, "SibSp": 0, "Parch": 1, "Fare": 13.0, "Embarked": "S"},
        {"Pclass": 3, "Sex": "male", "Age": 0.42, "SibSp": 5, "Parch": 2, "Fare": 0.0, "Embarked": "Q"},
        {"Pclass": 1, "Sex": "female", "Age": 80.0, "SibSp": 0, "Parch": 0, "Fare": 512.3292, "Embarked": "C"},
    ]
    rows = []
    for record in frame.to_dict("records"):
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    rows.extend(specials)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows]


def frame_of(row):
    return pd.DataFrame([{k: (np.nan if v is None else v) for k, v in row.items()}]).astype(
        {"Age": float, "Fare": float, "Embarked": object, "Sex": object}
    )


def array_of(row):
    coded = {"S": 0.0, "C": 1.0, "Q": 2.0}
    sex = {"male": 0.0, "female": 1.0}

    def num(v):
        return np.nan if v is None else float(v)

    return [
        num(row["Pclass"]), sex.get(row["Sex"], np.nan), num(row["Age"]), num(row["SibSp"]),
        num(row["Parch"]), num(row["Fare"]),
        np.nan if row["Embarked"] is None else coded.get(row["Embarked"], 3.0),
    ]


def category_text(c):
    if isinstance(c, (float, np.floating)) and float(c).is_integer():
        return str(int(c))
    return str(c.item() if hasattr(c, "item") else c)


def supports_missing(cls):
    """Whether scikit-learn of this version lets the estimator fit on NaN."""
    name = cls.__name__
    if name.startswith("HistGradient"):
        return True
    if name.startswith("DecisionTree"):
        return VERSION >= (1, 3)
    if name.startswith("RandomForest"):
        return VERSION >= (1, 4)
    if name.startswith("ExtraTree"):  # the forests and the single trees
        return VERSION >= (1, 6)
    return False


def short_name(cls):
    """`dtc` for DecisionTreeClassifier; the single extra tree is `xtc`, as
    `etc` is the forest (ExtraTreesClassifier)."""
    special = {ExtraTreeClassifier: "xtc", ExtraTreeRegressor: "xtr"}
    return special.get(cls) or "".join(ch for ch in cls.__name__ if ch.isupper()).lower()


def models():
    """(name, estimator, input, target) for every fixture."""
    hgb = dict(max_iter=15, max_leaf_nodes=8, random_state=0)
    out = []
    for cls, kw in [
        (LogisticRegression, dict(max_iter=1000)),
        (DecisionTreeClassifier, dict(max_depth=6, random_state=0)),
        (RandomForestClassifier, dict(n_estimators=8, max_depth=5, random_state=0)),
        (ExtraTreesClassifier, dict(n_estimators=8, max_depth=5, random_state=0)),
        (ExtraTreeClassifier, dict(max_depth=6, random_state=0)),
        (GradientBoostingClassifier, dict(n_estimators=15, max_depth=3, random_state=0)),
        (HistGradientBoostingClassifier, hgb),
    ]:
        short = short_name(cls)
        out.append((f"{short}_binary_array", cls(**kw), "array", "binary"))
        out.append((f"{short}_multiclass_array", cls(**kw), "array", "multiclass"))
    for cls, kw in [
        (LinearRegression, {}),
        (Ridge, dict(alpha=2.0)),
        (DecisionTreeRegressor, dict(max_depth=6, random_state=0)),
        (RandomForestRegressor, dict(n_estimators=8, max_depth=5, random_state=0)),
        (ExtraTreesRegressor, dict(n_estimators=8, max_depth=5, random_state=0)),
        (ExtraTreeRegressor, dict(max_depth=6, random_state=0)),
        (GradientBoostingRegressor, dict(n_estimators=15, max_depth=3, random_state=0)),
        (GradientBoostingRegressor, dict(n_estimators=15, max_depth=3, loss="absolute_error", random_state=0)),
        (HistGradientBoostingRegressor, hgb),
    ]:
        short = short_name(cls)
        if kw.get("loss") == "absolute_error":
            short += "_absolute"
        out.append((f"{short}_array", cls(**kw), "array", "regression"))
    # One-vs-rest logistic regression, where this scikit-learn still has it (< 1.8).
    try:
        out.append(("lr_ovr_multiclass_array", LogisticRegression(multi_class="ovr", max_iter=1000), "array", "multiclass"))
    except TypeError:
        pass
    # Categorical splits on a bare array: Pclass (1-3) and Embarked (0-2) codes.
    out.append(("hgbc_categorical_array", HistGradientBoostingClassifier(categorical_features=[0, 6], **hgb),
                "array", "binary"))
    # The tutorial's own shape: seven numeric-coded columns, no names.
    out.append(("tutorial_rf_array", RandomForestClassifier(n_estimators=10, max_depth=6, random_state=1), "array_imputed", "binary"))

    numeric_by_name = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categories_by_name = Pipeline([
        ("impute", SimpleImputer(strategy="most_frequent")),
        ("onehot", OneHotEncoder(handle_unknown="ignore")),
    ])
    out.append(("pipe_lr_names", Pipeline([
        ("columns", ColumnTransformer([
            ("num", numeric_by_name, ["Age", "Fare", "SibSp", "Parch"]),
            ("cat", categories_by_name, ["Sex", "Embarked"]),
        ], remainder="passthrough")),
        ("model", LogisticRegression(max_iter=1000)),
    ]), "frame", "binary"))
    out.append(("pipe_lr_multiclass_strict", Pipeline([
        ("columns", ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", MinMaxScaler())]), ["Age", "Fare"]),
            ("sex", OneHotEncoder(handle_unknown="error", drop="if_binary"), ["Sex"]),
            ("embarked", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="S")),
                                   ("onehot", OneHotEncoder(drop="first"))]), ["Embarked"]),
            ("pclass", OneHotEncoder(), ["Pclass"]),
        ])),
        ("model", LogisticRegression(max_iter=1000)),
    ]), "frame", "multiclass"))
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2)
    out.append(("pipe_rf_indices", Pipeline([
        ("columns", ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", MinMaxScaler())]), [2, 5]),
            ("cat", ordinal, [1, 6]),
        ], remainder="drop")),
        ("model", RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0)),
    ]), "frame", "binary"))
    out.append(("pipe_gb_onehot_nan", Pipeline([
        ("columns", ColumnTransformer([
            ("age", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=-1.0)),
                              ("scale", StandardScaler(with_mean=False))]), ["Age"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["Embarked", "Sex"]),
            ("rest", "passthrough", ["Pclass", "Fare"]),
        ])),
        ("model", GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0)),
    ]), "frame", "binary"))
    hgb_cat = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    for name, cls, target in [
        ("pipe_hgb_categorical", HistGradientBoostingClassifier, "binary"),
        ("pipe_hgb_categorical_multiclass", HistGradientBoostingClassifier, "multiclass"),
        ("pipe_hgbr_categorical", HistGradientBoostingRegressor, "regression"),
    ]:
        out.append((name, Pipeline([
            ("columns", ColumnTransformer([
                ("cat", hgb_cat, ["Sex", "Embarked", "Pclass"]),
            ], remainder="passthrough")),
            ("model", cls(categorical_features=[0, 1, 2], **hgb)),
        ]), "frame", target))
    out.append(("pipe_ridge", Pipeline([
        ("columns", ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler(with_std=False))]),
             ["Age", "Fare", "SibSp"]),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                              ("onehot", OneHotEncoder(handle_unknown="ignore"))]), ["Embarked", "Sex", "Pclass"]),
        ])),
        ("model", Ridge(alpha=1.0)),
    ]), "frame", "regression"))
    out.append(("pipe_dt_multiclass", Pipeline([
        ("columns", ColumnTransformer([
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["Sex", "Embarked"]),
            ("num", SimpleImputer(strategy="median"), ["Age", "Fare", "Pclass", "SibSp", "Parch"]),
        ])),
        ("model", DecisionTreeClassifier(max_depth=5, random_state=0)),
    ]), "frame", "multiclass"))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_sklearn_fixtures.py OUTPUT_DIR")
    outdir = Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    frame, survived, deck, value = table(400, seed=42)
    targets = {"binary": survived, "multiclass": deck, "regression": value}
    rows = held_out_rows()
    rows_array = [array_of(r) for r in rows]
    expected = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "joblib_version": joblib.__version__,
        "fields": FIELDS,
        "rows": rows,
        "rows_array": [[None if math.isnan(v) else v for v in r] for r in rows_array],
        "models": [],
    }
    for name, estimator, kind, target in models():
        if kind == "frame":
            x = frame
        else:
            x = numeric(frame, impute=kind == "array_imputed" or not supports_missing(type(estimator)))
        estimator.fit(x, targets[target])
        answers = []
        for row, arow in zip(rows, rows_array):
            xr = frame_of(row) if kind == "frame" else np.array([arow])
            try:
                predicted = estimator.predict(xr)[0]
                answer = {"predict": category_text(predicted) if target != "regression" else float(predicted)}
                if target != "regression":
                    answer["proba"] = [float(p) for p in estimator.predict_proba(xr)[0]]
            except ValueError as e:
                answer = {"error": str(e).splitlines()[0][:200]}
            answers.append(answer)
        files = []
        variants = [("p2.pkl", 2), ("p4.pkl", 4), ("p5.pkl", 5), ("joblib", None), ("zlib.joblib", 3)]
        if name in ("gbc_multiclass_array", "pipe_lr_names"):
            variants += [("gzip.joblib", ("gzip", 3)), ("xz.joblib", ("xz", 3)),
                         ("lzma.joblib", ("lzma", 3)), ("bz2.joblib", ("bz2", 3))]
        for suffix, how in variants:
            path = outdir / f"{name}.{suffix}"
            if suffix.endswith(".pkl"):
                with open(path, "wb") as f:
                    pickle.dump(estimator, f, protocol=how)
            else:
                joblib.dump(estimator, path, compress=how or 0)
            files.append(path.name)
        expected["models"].append({
            "name": name,
            "class": type(estimator).__name__,
            "estimator": type(estimator[-1] if isinstance(estimator, Pipeline) else estimator).__name__,
            "input": "frame" if kind == "frame" else "array",
            "task": "regression" if target == "regression" else "classification",
            "classes": [category_text(c) for c in getattr(estimator, "classes_", [])],
            "files": files,
            "answers": answers,
        })
    with open(outdir / "expected.json", "w") as f:
        json.dump(expected, f, indent=1)
    print(f"wrote {len(expected['models'])} models with scikit-learn {sklearn.__version__} to {outdir}")


if __name__ == "__main__":
    main()
