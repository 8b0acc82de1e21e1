#!/usr/bin/env python3
"""Cross-validated accuracy of scikit-learn's tree learners on Titanic, on the
same folds and the same encoding as the Rust tests in `src/train/` use, so the
numbers can be compared with lifeboat's own CART, random forest and histogram
gradient boosting (`cargo test --release --lib train:: -- --nocapture`).

Not run in CI. Usage: python3 scripts/compare_trees.py [path/to/train.csv]
(about a minute on an idle machine; scikit-learn runs each learner with ten
seeds, our Rust tests with seed 0).

Folds: rows are ranked within their class in file order, and row r goes to fold
(rank % 5): a stratified split that needs no random numbers, so both sides get
the very same folds.
Encoding: Pclass, SibSp, Parch, Fare as numbers; Sex male=0 female=1;
Embarked S=0 C=1 Q=2 (missing -> S); Age missing -> NaN for gradient
boosting, the training fold's median for the single tree and the forest.
"""

import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.tree import DecisionTreeClassifier

FOLDS = 5


def load(path):
    df = pd.read_csv(path)
    x = pd.DataFrame(
        {
            "Pclass": df["Pclass"].astype(float),
            "Sex": (df["Sex"] == "female").astype(float),
            "Age": df["Age"].astype(float),
            "SibSp": df["SibSp"].astype(float),
            "Parch": df["Parch"].astype(float),
            "Fare": df["Fare"].astype(float),
            "Embarked": df["Embarked"].fillna("S").map({"S": 0.0, "C": 1.0, "Q": 2.0}),
        }
    ).to_numpy()
    y = df["Survived"].to_numpy()
    return x, y


def folds(y):
    fold = np.zeros(len(y), dtype=int)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        fold[rows] = np.arange(len(rows)) % FOLDS
    return fold


def impute_age(train, test):
    median = np.nanmedian(train[:, 2])
    train, test = train.copy(), test.copy()
    train[np.isnan(train[:, 2]), 2] = median
    test[np.isnan(test[:, 2]), 2] = median
    return train, test


def cv_accuracy(make, x, y, impute, seeds):
    fold = folds(y)
    per_seed = []
    for seed in seeds:
        correct = 0
        for k in range(FOLDS):
            tr, te = fold != k, fold == k
            xtr, xte = x[tr], x[te]
            if impute:
                xtr, xte = impute_age(xtr, xte)
            model = make(seed).fit(xtr, y[tr])
            correct += (model.predict(xte) == y[te]).sum()
        per_seed.append(correct / len(y))
    return np.mean(per_seed), np.min(per_seed), np.max(per_seed)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/titanic/train.csv"
    x, y = load(path)
    seeds = range(10)
    learners = [
        ("decision tree (defaults)", lambda s: DecisionTreeClassifier(random_state=s), True),
        ("random forest, 100 trees", lambda s: RandomForestClassifier(n_estimators=100, random_state=s), True),
        ("hist gradient boosting (defaults: early stopping off < 10k rows)",
         lambda s: HistGradientBoostingClassifier(random_state=s), False),
        ("hist gradient boosting, early_stopping=True",
         lambda s: HistGradientBoostingClassifier(early_stopping=True, random_state=s), False),
        ("gradient boosting (GradientBoostingClassifier)",
         lambda s: GradientBoostingClassifier(random_state=s), True),
    ]
    print(f"5-fold stratified CV accuracy on {len(y)} rows, mean [min, max] over {len(seeds)} seeds")
    for name, make, impute in learners:
        mean, lo, hi = cv_accuracy(make, x, y, impute, seeds)
        print(f"  {name:<66} {mean:.4f} [{lo:.4f}, {hi:.4f}]")


if __name__ == "__main__":
    main()
