#!/usr/bin/env python3
"""The classic Titanic tutorial's model, as its readers trained it.

    python3 train_tutorial_model.py path/to/train.csv

Reads Kaggle's Titanic train.csv, codes the seven inputs as numbers (Sex:
male 0, female 1; Embarked: S 0, C 1, Q 2), fills the gaps, trains a
classifier and pickles it to titanic_model.pkl, the file the tutorial's
Flask app loads with pickle.load. lifeboat serves that same file without
Python and without executing it:

    lifeboat serve --model titanic_model.pkl --schema titanic_tutorial.toml
"""

import pickle
import sys

import pandas as pd
from sklearn.ensemble import RandomForestClassifier

FEATURES = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "train.csv"
    data = pd.read_csv(path)
    data["Sex"] = data["Sex"].map({"male": 0, "female": 1})
    data["Embarked"] = data["Embarked"].fillna("S").map({"S": 0, "C": 1, "Q": 2})
    data["Age"] = data["Age"].fillna(data["Age"].median())
    data["Fare"] = data["Fare"].fillna(data["Fare"].median())
    x = data[FEATURES].values  # a bare numpy array, as in the tutorial
    y = data["Survived"].values
    classifier = RandomForestClassifier(n_estimators=100, max_depth=7, random_state=0)
    classifier.fit(x, y)
    print(f"training accuracy: {classifier.score(x, y):.3f}")
    pickle.dump(classifier, open("titanic_model.pkl", "wb"))
    print("wrote titanic_model.pkl")


if __name__ == "__main__":
    main()
