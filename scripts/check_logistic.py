#!/usr/bin/env python3
"""Checks lifeboat's logistic regression against scikit-learn's.

Trains `lifeboat train --learner logistic` on Titanic train.csv, rebuilds the
same preprocessed matrix with scikit-learn (median imputation + standardization
for numbers, most-frequent imputation + one-hot for categories, in lifeboat's
column order), fits LogisticRegression(C=1.0), and prints the largest absolute
difference between the coefficients. Exits 1 if it exceeds 1e-4.

    pip install scikit-learn pandas
    python3 scripts/check_logistic.py [path/to/train.csv]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "titanic", "train.csv")
lifeboat = os.environ.get("LIFEBOAT", os.path.join(ROOT, "target", "debug", "lifeboat"))

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "lr.lifeboat")
    subprocess.run([lifeboat, "train", "--data", data, "--target", "Survived",
                    "--schema", os.path.join(ROOT, "examples", "titanic", "titanic.toml"),
                    "--learner", "logistic", "--out", out], check=True, capture_output=True)
    card = json.loads(subprocess.run([lifeboat, "inspect", out, "--json"], check=True,
                                     capture_output=True, text=True).stdout)

features = card["estimator"]["features"]
ours = np.array([card["coefficients"][0]["weights"][f] for f in features])
ours_intercept = card["coefficients"][0]["intercept"]

df = pd.read_csv(data)
categories = {"Pclass": [1, 2, 3], "Sex": ["male", "female"], "Embarked": ["S", "C", "Q"]}
numbers = ["Age", "SibSp", "Parch", "Fare"]
order = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
transformers = []
for name in order:
    if name in categories:
        transformers.append((name, make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(categories=[categories[name]], handle_unknown="ignore")), [name]))
    else:
        transformers.append((name, make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), [name]))
X = ColumnTransformer(transformers, sparse_threshold=0).fit_transform(df[order])
y = df["Survived"].to_numpy()

ours_proba = 1 / (1 + np.exp(-(X @ ours + ours_intercept)))
diffs = {}
for label, kwargs in [("default settings (lbfgs, tol=1e-4, max_iter=100)", {}),
                      ("run to convergence (lbfgs, tol=1e-10, max_iter=10000)", {"tol": 1e-10, "max_iter": 10000})]:
    lr = LogisticRegression(C=1.0, **kwargs).fit(X, y)
    diff = max(np.max(np.abs(lr.coef_[0] - ours)), abs(lr.intercept_[0] - ours_intercept))
    pdiff = np.max(np.abs(lr.predict_proba(X)[:, 1] - ours_proba))
    print(f"scikit-learn {label}: max |coefficient difference| = {diff:.2e}, "
          f"max |probability difference| = {pdiff:.2e}")
    diffs[label] = diff
print("features:", ", ".join(features))
# One-hot columns that sum to one make the objective nearly flat along one
# direction, where lbfgs with its default tolerance stops early; lifeboat's
# Newton solver goes to the exact optimum, which scikit-learn reaches when run
# to convergence. That comparison is the one that must hold.
sys.exit(0 if list(diffs.values())[-1] <= 1e-4 else 1)
