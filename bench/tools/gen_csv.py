"""A CSV of N passengers for the batch scenario, drawn from the schema's ranges
(examples/titanic/titanic.toml), seeded, with no missing values (so the
tutorial's bare pickle, which has no imputer, can score every row too).

    python gen_csv.py N OUT.csv [--coded]

--coded writes Sex and Embarked in the tutorial's numbers (Sex male 0 /
female 1, Embarked S 0 / C 1 / Q 2); the rows are the same either way.
"""

import sys

import numpy as np
import pandas as pd


def main(n, out, coded):
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "Pclass": rng.integers(1, 4, n),
        "Sex": rng.choice(np.array(["male", "female"], dtype=object), n),
        "Age": rng.integers(1, 160, n) / 2,
        "SibSp": rng.integers(0, 6, n),
        "Parch": rng.integers(0, 5, n),
        "Fare": np.round(rng.uniform(0, 300, n), 2),
        "Embarked": rng.choice(np.array(["S", "C", "Q"], dtype=object), n),
    })
    if coded:
        frame["Sex"] = frame["Sex"].map({"male": 0, "female": 1})
        frame["Embarked"] = frame["Embarked"].map({"S": 0, "C": 1, "Q": 2})
    frame.to_csv(out, index=False)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], "--coded" in sys.argv[3:])
