"""Conformance of `lifeboat serve` with clients nobody here wrote.

    python scripts/check_serve.py http://127.0.0.1:5000

- Triton's own HTTP client (tritonclient[http]): health, server and model
  metadata (with and without a version), inference with JSON tensors, request
  ids, error messages, and a clear refusal of binary tensors.
- MLflow scoring requests as pandas and MLflow's docs build them: all four
  JSON forms, text/csv and application/csv, and the error shapes.
- The OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), and real
  responses validate against its schemas.
- /metrics parses with the Prometheus client library's parser.

Prints `N passed, 0 failed` and exits 0, or names what failed and exits 1.
"""

import json
import sys

import numpy as np
import pandas as pd
import requests
import tritonclient.http as triton
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from prometheus_client.parser import text_string_to_metric_families
from tritonclient.utils import InferenceServerException

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:5000"
HOSTPORT = BASE.split("://", 1)[1]

ROWS = pd.DataFrame(
    {
        "Pclass": [3, 1],
        "Sex": ["male", "female"],
        "Age": [22.0, 38.0],
        "SibSp": [1, 1],
        "Parch": [0, 0],
        "Fare": [7.25, 71.2833],
        "Embarked": ["S", "C"],
    }
)
EXPECTED = [0, 1]

passed = 0
failed = []


def check(name):
    def wrap(fn):
        global passed
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed.append(name)
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        return fn

    return wrap


client = triton.InferenceServerClient(url=HOSTPORT, connection_timeout=10, network_timeout=10)


@check("tritonclient: server live, ready, model ready")
def _():
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("titanic")
    assert not client.is_model_ready("no-such-model")


@check("tritonclient: server metadata does not advertise binary tensors")
def _():
    md = client.get_server_metadata()
    assert md["name"] == "lifeboat", md
    assert "binary_tensor_data" not in md["extensions"], md


@check("tritonclient: model metadata, with and without a version")
def _():
    md = client.get_model_metadata("titanic")
    names = [i["name"] for i in md["inputs"]]
    assert names == list(ROWS.columns), names
    assert [o["name"] for o in md["outputs"]] == ["predict", "predict_proba"], md
    version = md["versions"][0]
    assert client.get_model_metadata("titanic", model_version=version)["name"] == "titanic"
    assert client.is_model_ready("titanic", model_version=version)
    try:
        client.get_model_metadata("titanic", model_version="999")
        raise AssertionError("an unknown version was accepted")
    except InferenceServerException as e:
        assert "no version 999" in e.message(), e.message()


def column_inputs(frame):
    md = client.get_model_metadata("titanic")
    inputs = []
    for meta in md["inputs"]:
        values = frame[meta["name"]].to_numpy()
        dtype = {"INT64": np.int64, "FP64": np.float64, "BYTES": np.object_, "BOOL": np.bool_}[meta["datatype"]]
        arr = values.astype(dtype)
        inp = triton.InferInput(meta["name"], list(arr.shape), meta["datatype"])
        inp.set_data_from_numpy(arr, binary_data=False)
        inputs.append(inp)
    return inputs


def outputs():
    return [
        triton.InferRequestedOutput("predict", binary_data=False),
        triton.InferRequestedOutput("predict_proba", binary_data=False),
    ]


@check("tritonclient: infer with one JSON tensor per column (pd convention)")
def _():
    result = client.infer("titanic", column_inputs(ROWS), outputs=outputs(), request_id="conformance-1")
    predict = result.as_numpy("predict")
    proba = result.as_numpy("predict_proba")
    assert predict.shape == (2, 1), predict.shape
    assert predict.ravel().tolist() == EXPECTED, predict
    assert proba.shape == (2, 2), proba.shape
    assert np.allclose(proba.sum(axis=1), 1.0), proba
    response = result.get_response()
    assert response["id"] == "conformance-1", response
    assert response["model_name"] == "titanic", response


@check("tritonclient: infer with one [n, k] tensor, versioned path")
def _():
    version = client.get_model_metadata("titanic")["versions"][0]
    matrix = ROWS.to_numpy(dtype=np.object_)
    inp = triton.InferInput("input__0", list(matrix.shape), "BYTES")
    inp.set_data_from_numpy(matrix, binary_data=False)
    result = client.infer("titanic", [inp], model_version=version, outputs=outputs())
    assert result.as_numpy("predict").ravel().tolist() == EXPECTED


@check("tritonclient: invalid values are reported by field")
def _():
    bad = ROWS.copy()
    bad["Sex"] = ["robot", "female"]
    try:
        client.infer("titanic", column_inputs(bad), outputs=outputs())
        raise AssertionError("an invalid value was accepted")
    except InferenceServerException as e:
        assert 'Sex: "robot" is not allowed' in e.message(), e.message()


@check("tritonclient: unknown model is an error, not a crash")
def _():
    try:
        client.infer("nope", column_inputs(ROWS), outputs=outputs())
        raise AssertionError("an unknown model was accepted")
    except InferenceServerException as e:
        assert "not found" in e.message(), e.message()


@check("tritonclient: binary tensors (its default) get a clear refusal")
def _():
    arr = np.array([[22.0]], dtype=np.float64)
    inp = triton.InferInput("Age", [1, 1], "FP64")
    inp.set_data_from_numpy(arr.reshape(1, 1), binary_data=True)
    try:
        client.infer("titanic", [inp])
        raise AssertionError("binary data was accepted")
    except InferenceServerException as e:
        assert "binary tensor data is not supported" in e.message(), e.message()


def invocations(body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(f"{BASE}/invocations", data=data, headers={"Content-Type": content_type}, timeout=10)


@check("mlflow: dataframe_split as pandas writes it (orient=split)")
def _():
    r = invocations({"dataframe_split": json.loads(ROWS.to_json(orient="split"))})
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": EXPECTED}, r.text


@check("mlflow: dataframe_records (orient=records)")
def _():
    r = invocations({"dataframe_records": json.loads(ROWS.to_json(orient="records"))})
    assert r.json() == {"predictions": EXPECTED}, r.text


@check("mlflow: instances (rows) and inputs (columns)")
def _():
    r = invocations({"instances": json.loads(ROWS.to_json(orient="records"))})
    assert r.json() == {"predictions": EXPECTED}, r.text
    r = invocations({"inputs": {c: ROWS[c].tolist() for c in ROWS.columns}, "params": {}})
    assert r.json() == {"predictions": EXPECTED}, r.text


@check("mlflow: CSV as text/csv and application/csv")
def _():
    csv = ROWS.to_csv(index=False)
    for ct in ["text/csv", "application/csv"]:
        r = invocations(csv, ct)
        assert r.status_code == 200, (ct, r.text)
        assert r.json() == {"predictions": EXPECTED}, r.text


@check("mlflow: error shapes")
def _():
    for body, ct, status, code in [
        ([1, 2], "application/json", 400, "BAD_REQUEST"),
        ("{", "application/json", 400, "BAD_REQUEST"),
        ({"dataframe_records": [{"Pclass": 9, "Sex": "male", "SibSp": 0, "Parch": 0}]}, "application/json", 400, "INVALID_PARAMETER_VALUE"),
        ({"dataframe_split": {"columns": ["Pclass"], "data": [[3]]}}, "application/json", 400, "INVALID_PARAMETER_VALUE"),
        ("{}", "application/json; format=pandas-split", 415, "BAD_REQUEST"),
        ("{}", "text/plain", 415, "BAD_REQUEST"),
    ]:
        r = invocations(body, ct)
        assert r.status_code == status, (body, r.status_code, r.text)
        j = r.json()
        assert set(j) == {"error_code", "message"}, j
        assert j["error_code"] == code, j
    assert requests.get(f"{BASE}/ping", timeout=10).status_code == 200
    assert requests.get(f"{BASE}/health", timeout=10).status_code == 200


spec = requests.get(f"{BASE}/openapi.json", timeout=10).json()


@check("openapi: the document is valid OpenAPI 3.1")
def _():
    assert spec["openapi"] == "3.1.0"
    validate_openapi(spec)


def schema_of(name):
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


@check("openapi: real responses match the documented schemas")
def _():
    row = json.loads(ROWS.iloc[[0]].to_json(orient="records"))[0]
    r = requests.post(f"{BASE}/api/v1/predict?explain=true", json=row, timeout=10)
    schema_of("Prediction").validate(r.json())
    schema_of("Input").validate(row)
    r = requests.post(f"{BASE}/api/v1/predict", json={"Pclass": 7}, timeout=10)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    schema_of("Problem").validate(r.json())
    schema_of("ModelMetadata").validate(requests.get(f"{BASE}/v2/models/titanic", timeout=10).json())
    schema_of("ServerMetadata").validate(requests.get(f"{BASE}/v2", timeout=10).json())
    example = spec["paths"]["/v2/models/{name}/infer"]["post"]["requestBody"]["content"]["application/json"]["example"]
    schema_of("InferenceRequest").validate(example)
    r = requests.post(f"{BASE}/v2/models/titanic/infer", json=example, timeout=10)
    schema_of("InferenceResponse").validate(r.json())
    schema_of("MlflowResponse").validate(invocations({"dataframe_records": [row]}).json())
    schema_of("MlflowError").validate(invocations([1]).json())
    schema_of("OipError").validate(requests.get(f"{BASE}/v2/models/x", timeout=10).json())


@check("metrics: /metrics parses as Prometheus text")
def _():
    text = requests.get(f"{BASE}/metrics", timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ["lifeboat_http_requests", "lifeboat_http_request_duration_seconds", "lifeboat_http_requests_in_flight", "lifeboat_predictions", "lifeboat_model_info"]:
        assert name in families, sorted(families)
    predicted = sum(s.value for s in families["lifeboat_predictions"].samples if s.name == "lifeboat_predictions_total")
    assert predicted > 0, predicted


print(f"{passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
