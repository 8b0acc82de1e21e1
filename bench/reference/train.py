"""Train the reference app's models the way the classic Titanic tutorial does.

    python train.py path/to/train.csv OUT_DIR

The seven tutorial inputs, numeric-coded like the tutorial (Sex male 0 /
female 1, Embarked S 0 / C 1 / Q 2), missing Age filled with the training
median and missing Embarked with "S". Two classifiers, each `pickle.dump`ed
bare (no Pipeline), as the tutorial does:

    OUT_DIR/model_logistic.pkl   LogisticRegression
    OUT_DIR/model_forest.pkl     RandomForestClassifier, 100 trees
"""

import pickle
import sys
from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

FIELDS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
SEX = {"male": 0, "female": 1}
EMBARKED = {"S": 0, "C": 1, "Q": 2}


def features(frame):
    x = frame[FIELDS].copy()
    x["Sex"] = x["Sex"].map(SEX)
    x["Age"] = x["Age"].fillna(x["Age"].median())
    x["Embarked"] = x["Embarked"].fillna("S").map(EMBARKED)
    # A plain float array, so predicting on lists later raises no feature-name warning.
    return x.to_numpy(dtype=float)


def main(csv_path, out_dir):
    frame = pd.read_csv(csv_path)
    x, y = features(frame), frame["Survived"].to_numpy()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    models = {
        "logistic": LogisticRegression(max_iter=1000),
        "forest": RandomForestClassifier(n_estimators=100, random_state=42),
    }
    for name, model in models.items():
        model.fit(x, y)
        with open(out / f"model_{name}.pkl", "wb") as f:
            pickle.dump(model, f)
        print(f"model_{name}.pkl: training accuracy {model.score(x, y):.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
