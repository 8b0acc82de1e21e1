"""Score a CSV file with the reference app's pickle: pandas + scikit-learn
`predict_proba`, the way a tutorial user would batch-score.

    python predict_csv.py MODEL.pkl IN.csv OUT.csv

IN.csv holds the seven inputs in the tutorial's numeric coding.
Writes the same columns as `lifeboat predict`: every input column, then
prediction, label, probability_0, probability_1.
"""

import pickle
import sys

import numpy as np
import pandas as pd

FIELDS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
LABELS = np.array(["Passenger dies", "Passenger survives"], dtype=object)


def main(model_path, in_path, out_path):
    with open(model_path, "rb") as f:
        model = pickle.load(f)
    frame = pd.read_csv(in_path)
    proba = model.predict_proba(frame[FIELDS].to_numpy(dtype=float))
    survives = (proba[:, 1] > proba[:, 0]).astype(int)
    frame["prediction"] = survives
    frame["label"] = LABELS[survives]
    frame["probability_0"] = proba[:, 0]
    frame["probability_1"] = proba[:, 1]
    frame.to_csv(out_path, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
