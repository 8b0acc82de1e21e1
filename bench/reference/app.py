"""The classic Titanic tutorial's Flask app, written for the benchmark.

A form (GET /) whose POST /predict renders the result into the same
template, as in the tutorial; a JSON route (POST /api/v1/predict, one object)
answering in lifeboat's shape; and POST /invocations (MLflow's
`dataframe_split`), the hand-written batch route a tutorial user would add.
Inputs are the tutorial's numbers (Sex male 0 / female 1, Embarked S 0 /
C 1 / Q 2), the form's option values as in the tutorial; lifeboat serving the
same pickle with examples/tutorial/titanic_tutorial.toml takes the same bodies.

    MODEL=model_logistic.pkl gunicorn app:app
"""

import os
import pickle

import numpy as np
from flask import Flask, jsonify, render_template, request

FIELDS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
LABELS = ["Passenger dies", "Passenger survives"]

app = Flask(__name__)
with open(os.environ.get("MODEL", "model.pkl"), "rb") as f:
    model = pickle.load(f)


def coded(values):
    """One row of the tutorial's numeric features from the seven inputs, as the tutorial does."""
    return [float(v) for v in values]


def bad_request(error):
    return jsonify(error=f"bad input: {error!r}"), 400


@app.route("/")
def home():
    return render_template("index.html")


@app.route("/predict", methods=["POST"])
def predict():
    try:
        row = coded([request.form[name] for name in FIELDS])
    except (KeyError, ValueError) as error:
        return bad_request(error)
    proba = model.predict_proba([row])[0]
    survives = int(proba[1] > proba[0])
    return render_template("index.html", prediction_text=LABELS[survives],
                           probability=f"{proba[survives]:.1%}")


@app.route("/api/v1/predict", methods=["POST"])
def predict_api():
    data = request.get_json(force=True)
    try:
        row = coded([data[name] for name in FIELDS])
    except (KeyError, ValueError, TypeError) as error:
        return bad_request(error)
    p0, p1 = model.predict_proba([row])[0].tolist()
    survives = int(p1 > p0)
    return jsonify({"class": str(survives), "label": LABELS[survives],
                    "probability": max(p0, p1), "probabilities": {"0": p0, "1": p1}})


@app.route("/invocations", methods=["POST"])
def invocations():
    split = request.get_json(force=True)["dataframe_split"]
    try:
        where = [split["columns"].index(name) for name in FIELDS]
        rows = [coded([record[i] for i in where]) for record in split["data"]]
    except (KeyError, ValueError, TypeError) as error:
        return bad_request(error)
    proba = model.predict_proba(np.array(rows))
    return jsonify({"predictions": (proba[:, 1] > proba[:, 0]).astype(int).tolist()})
