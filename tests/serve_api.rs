//! The JSON front doors against a real server: lifeboat's own API, MLflow's
//! scoring protocol, the Open Inference Protocol, and the operations routes;
//! every error class (400, 404, 405, 413, 415, 422) with its exact body.

mod common;

use common::{CSV, PASSENGER, SURVIVOR, parts, start, start_with};
use lifeboat::model::Prediction;
use lifeboat::serve::ServeConfig;
use serde_json::{Value, json};

/// JSON equality with numbers compared to 1e-12 (the test's JSON parser is
/// not exactly round-trip; the server's writer is).
fn approx(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| approx(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| approx(v, w)))
        }
        _ => a == b,
    }
}

/// What the library itself predicts for a JSON row: the API must agree.
fn expected(state: &lifeboat::serve::AppState, row: &str) -> Value {
    let model = state.model();
    let obj: Value = serde_json::from_str(row).unwrap();
    let row = model
        .schema
        .parse_json_object(obj.as_object().unwrap())
        .unwrap();
    let Prediction::Class {
        index,
        probabilities,
    } = model.predict(&row)
    else {
        panic!("classifier")
    };
    let classes = model.schema.classes();
    json!({
        "class": classes[index].value,
        "label": classes[index].label.en,
        "probability": probabilities[index],
        "probabilities": { "0": probabilities[0], "1": probabilities[1] },
    })
}

#[tokio::test]
async fn predict_one_object() {
    let s = start().await;
    let (status, ct, body) = s.post_json("/api/v1/predict", PASSENGER).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let got: Value = serde_json::from_str(&body).unwrap();
    assert!(approx(&got, &expected(&s.state, PASSENGER)), "{got}");
    assert_eq!(got["label"], "Passenger dies");
}

#[tokio::test]
async fn predict_an_array_with_explanations_in_spanish() {
    let s = start().await;
    let body = format!("[{PASSENGER},{SURVIVOR}]");
    let (status, _, text) = s
        .post_json("/api/v1/predict?explain=true&lang=es", &body)
        .await;
    assert_eq!(status, 200, "{text}");
    let got: Value = serde_json::from_str(&text).unwrap();
    let arr = got.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["label"], "El pasajero muere");
    assert_eq!(arr[1]["label"], "El pasajero sobrevive");
    let e = &arr[1]["explanation"];
    assert_eq!(e["class"], "1");
    let sum: f64 = e["contributions"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    let (base, score) = (e["base"].as_f64().unwrap(), e["score"].as_f64().unwrap());
    assert!((base + sum - score).abs() < 1e-9);
    assert_eq!(e["contributions"].as_object().unwrap().len(), 7);
    // Accept-Language works too.
    let r = s
        .client
        .post(s.url("/api/v1/predict"))
        .header("content-type", "application/json")
        .header("accept-language", "es-ES,es;q=0.9")
        .body(PASSENGER)
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["label"], "El pasajero muere");
}

#[tokio::test]
async fn predict_errors_have_exact_problem_bodies() {
    let s = start().await;
    // 422: one entry per field problem, in the schema's order, unknown fields last.
    let (status, ct, body) = s
        .post_json(
            "/api/v1/predict",
            r#"{"Pclass":4,"Sex":"male","Age":"abc","SibSp":1,"Parch":0,"Fare":-1,"Agee":3}"#,
        )
        .await;
    assert_eq!((status, ct.as_str()), (422, "application/problem+json"));
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        got,
        json!({
            "type": "/docs#invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": "Pclass: \"4\" is not allowed; expected one of: 1, 2, 3; Age: \"abc\" is not a number; expected a number from 0 to 100; Fare: -1 is out of range; expected a number from 0 to 600; Agee: is not a field of this model; did you mean \"Age\"? the fields are: Pclass, Sex, Age, SibSp, Parch, Fare, Embarked",
            "errors": [
                { "field": "Pclass", "pointer": "/Pclass", "message": "\"4\" is not allowed; expected one of: 1, 2, 3" },
                { "field": "Age", "pointer": "/Age", "message": "\"abc\" is not a number; expected a number from 0 to 100" },
                { "field": "Fare", "pointer": "/Fare", "message": "-1 is out of range; expected a number from 0 to 600" },
                { "field": "Agee", "pointer": "/Agee", "message": "is not a field of this model; did you mean \"Age\"? the fields are: Pclass, Sex, Age, SibSp, Parch, Fare, Embarked" },
            ]
        })
    );
    // 422 in an array: rows are numbered.
    let (status, _, body) = s
        .post_json(
            "/api/v1/predict",
            &format!("[{PASSENGER}, {{\"Pclass\": 1}}]"),
        )
        .await;
    assert_eq!(status, 422);
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        got["errors"][0],
        json!({ "row": 1, "field": "Sex", "pointer": "/1/Sex", "message": "is required; expected one of: male, female" })
    );

    // 400: malformed JSON names line and column, never the input.
    let (status, ct, body) = s.post_json("/api/v1/predict", "{\"Pclass\": 3,,}").await;
    assert_eq!((status, ct.as_str()), (400, "application/problem+json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "type": "/docs#malformed-json", "title": "Malformed JSON", "status": 400,
                "detail": "the body is not valid JSON at line 1 column 14: an object key must be a string in double quotes" })
    );
    // 400: valid JSON of the wrong shape.
    let (status, _, body) = s.post_json("/api/v1/predict", "42").await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["detail"],
        "invalid type: integer `42`, expected a JSON object (one row) or an array of objects (many rows) at line 1 column 2"
    );
    let (status, _, _) = s.post_json("/api/v1/predict", "[]").await;
    assert_eq!(status, 400);
    let (status, _, _) = s
        .post_json("/api/v1/predict?explain=maybe", PASSENGER)
        .await;
    assert_eq!(status, 400);

    // 415: not JSON.
    let (status, ct, body) = parts(s.post("/api/v1/predict", "text/plain", PASSENGER).await).await;
    assert_eq!((status, ct.as_str()), (415, "application/problem+json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "type": "/docs#unsupported-media-type", "title": "Unsupported media type", "status": 415,
                "detail": "Content-Type \"text/plain\" is not accepted; send application/json" })
    );
    let r = s
        .client
        .post(s.url("/api/v1/predict"))
        .body(PASSENGER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    // 404 and 405 speak problem+json under /api/.
    let (status, ct, body) = parts(s.get("/api/v1/nothing").await).await;
    assert_eq!((status, ct.as_str()), (404, "application/problem+json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "type": "/docs#not-found", "title": "Not found", "status": 404, "detail": "there is nothing at /api/v1/nothing" })
    );
    let (status, ct, body) = parts(s.get("/api/v1/predict").await).await;
    assert_eq!((status, ct.as_str()), (405, "application/problem+json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "type": "/docs#method-not-allowed", "title": "Method not allowed", "status": 405, "detail": "this path does not accept that method; it accepts POST" })
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_in_every_protocol() {
    let s = start_with(ServeConfig {
        body_limit: 1000,
        ..Default::default()
    })
    .await;
    let big = format!("[{}]", vec![PASSENGER; 40].join(","));
    let (status, ct, body) = s.post_json("/api/v1/predict", &big).await;
    assert_eq!((status, ct.as_str()), (413, "application/problem+json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "type": "/docs#too-large", "title": "Request body too large", "status": 413,
                "detail": "the request body is larger than 1000 bytes" })
    );
    let (status, _, body) = s.post_json("/invocations", &big).await;
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "error_code": "BAD_REQUEST", "message": "the request body is larger than 1000 bytes" })
    );
    let (status, _, body) = s.post_json("/v2/models/titanic/infer", &big).await;
    assert_eq!(status, 413);
    assert_eq!(
        body,
        r#"{"error":"the request body is larger than 1000 bytes"}"#
    );
    let (status, ct, body) = parts(
        s.post(
            "/predict",
            "application/x-www-form-urlencoded",
            "x=".repeat(600),
        )
        .await,
    )
    .await;
    assert_eq!(status, 413);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(body.contains("larger than 1000 bytes"), "{body}");
}

#[tokio::test]
async fn huge_unknown_field_names_are_not_echoed() {
    let s = start().await;
    let name = "x".repeat(100_000);
    let (status, _, body) = s
        .post_json("/api/v1/predict", &format!("{{\"{name}\": 1}}"))
        .await;
    assert_eq!(status, 422);
    assert!(body.len() < 2000, "{} bytes", body.len());
    let (status, _, body) = s
        .post_json("/api/v1/predict", &format!("{{\"Age\": \"{name}\"}}"))
        .await;
    assert_eq!(status, 422);
    assert!(body.len() < 2000, "{} bytes", body.len());
}

#[tokio::test]
async fn model_card_and_openapi() {
    let s = start().await;
    let (status, ct, body) = parts(s.get("/api/v1/model").await).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let card: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(card["name"], "titanic");
    assert_eq!(card["version"], s.state.loaded.version());
    assert_eq!(card["inputs"].as_array().unwrap().len(), 7);
    let (status, _, body) = parts(s.get("/openapi.json").await).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/predict"]["post"].is_object());
    assert_eq!(
        doc["components"]["schemas"]["Input"]["properties"]["Sex"]["enum"],
        json!(["male", "female"])
    );
}

// --- MLflow ---------------------------------------------------------------

#[tokio::test]
async fn mlflow_accepts_all_four_json_forms_and_csv() {
    let s = start().await;
    let want = json!({ "predictions": [0, 1] });
    let cols = r#"["Pclass","Sex","Age","SibSp","Parch","Fare","Embarked"]"#;
    let bodies = [
        format!(r#"{{"dataframe_split": {{"columns": {cols}, "data": [[3,"male",22.0,1,0,7.25,"S"],[1,"female",38.0,1,0,71.2833,"C"]]}}}}"#),
        format!(r#"{{"dataframe_records": [{PASSENGER}, {SURVIVOR}]}}"#),
        format!(r#"{{"instances": [{PASSENGER}, {SURVIVOR}]}}"#),
        r#"{"instances": [[3,"male",22.0,1,0,7.25,"S"],[1,"female",38.0,1,0,71.2833,"C"]]}"#.to_string(),
        r#"{"inputs": {"Pclass":[3,1],"Sex":["male","female"],"Age":[22.0,38.0],"SibSp":[1,1],"Parch":[0,0],"Fare":[7.25,71.2833],"Embarked":["S","C"]}}"#.to_string(),
        format!(r#"{{"inputs": [{PASSENGER}, {SURVIVOR}], "params": {{"x": 1}}}}"#),
        // Extra columns are ignored and order does not matter, as in MLflow.
        r#"{"dataframe_split": {"columns": ["Name","Sex","Pclass","Age","SibSp","Parch","Fare","Embarked"], "data": [["A","male",3,22.0,1,0,7.25,"S"],["B","female",1,38.0,1,0,71.2833,"C"]], "index": [0, 1]}}"#.to_string(),
    ];
    for body in &bodies {
        let (status, ct, text) = s.post_json("/invocations", body).await;
        assert_eq!(
            (status, ct.as_str()),
            (200, "application/json"),
            "{body}: {text}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            want,
            "{body}"
        );
    }
    for ct in ["text/csv", "application/csv", "text/csv; charset=utf-8"] {
        let (status, _, text) = parts(s.post("/invocations", ct, CSV).await).await;
        assert_eq!(status, 200, "{ct}: {text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), want);
    }
    // As a spreadsheet in Spanish saves it: semicolons and decimal commas.
    let semicolons = "Pclass;Sex;Age;SibSp;Parch;Fare;Embarked\n\
                      3;male;22;1;0;7,25;S\n1;female;38;1;0;71,2833;C\n";
    let (status, _, text) = parts(s.post("/invocations", "text/csv", semicolons).await).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), want);
}

#[tokio::test]
async fn mlflow_errors() {
    let s = start().await;
    let check = |status: u16, code: &str, body: &str, want_status: u16, want_code: &str| {
        assert_eq!(status, want_status, "{body}");
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error_code"], want_code, "{body}");
        assert!(v.get("stack_trace").is_none());
        let _ = code;
    };
    let (st, _, body) = s.post_json("/invocations", "[1, 2]").await;
    check(st, "", &body, 400, "BAD_REQUEST");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["message"],
        "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. Received a list."
    );
    let (st, _, body) = s
        .post_json("/invocations", r#"{"instances": [], "inputs": []}"#)
        .await;
    check(st, "", &body, 400, "BAD_REQUEST");
    let (st, _, body) = s
        .post_json(
            "/invocations",
            r#"{"dataframe_split": {"data": [[1]], "foo": 1}}"#,
        )
        .await;
    check(st, "", &body, 400, "BAD_REQUEST");
    assert!(body.contains("must have 'data' field"), "{body}");
    let (st, _, body) = s.post_json("/invocations", "{oops").await;
    check(st, "", &body, 400, "BAD_REQUEST");
    // Invalid values: 400 INVALID_PARAMETER_VALUE, each problem named.
    let (st, _, body) = s
        .post_json(
            "/invocations",
            r#"{"dataframe_records": [{"Pclass":3,"Sex":"robot","SibSp":0,"Parch":0}]}"#,
        )
        .await;
    check(st, "", &body, 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["message"],
        "row 0: Sex: \"robot\" is not allowed; expected one of: male, female"
    );
    // A required column missing from a table.
    let (st, _, body) = s
        .post_json(
            "/invocations",
            r#"{"dataframe_split": {"columns": ["Pclass"], "data": [[3]]}}"#,
        )
        .await;
    check(st, "", &body, 400, "INVALID_PARAMETER_VALUE");
    assert!(
        body.contains("the required columns \\\"Sex\\\", \\\"SibSp\\\", \\\"Parch\\\" are missing"),
        "{body}"
    );
    // Content types, in MLflow's order of checks.
    let (st, _, body) = parts(
        s.post("/invocations", "application/json; charset=latin-1", "{}")
            .await,
    )
    .await;
    check(st, "", &body, 415, "BAD_REQUEST");
    let (st, _, body) = parts(
        s.post(
            "/invocations",
            "application/json; format=pandas-split",
            "{}",
        )
        .await,
    )
    .await;
    check(st, "", &body, 415, "BAD_REQUEST");
    let (st, _, body) = parts(s.post("/invocations", "text/plain", "x").await).await;
    check(st, "", &body, 415, "BAD_REQUEST");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["message"],
        "Content-Type \"text/plain\" is not accepted; send application/json, text/csv or application/csv"
    );
    let (st, _, body) = parts(
        s.post("/invocations", "text/csv", "Pclass,Sex\n3,male\n")
            .await,
    )
    .await;
    check(st, "", &body, 400, "INVALID_PARAMETER_VALUE");
    let (st, _, body) = parts(s.post("/invocations", "text/csv", "").await).await;
    check(st, "", &body, 400, "BAD_REQUEST");
    // A quote left open would take the rows after it into one cell.
    let open =
        "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n3,male,\"22,1,0,7.25,S\n1,female,30,0,0,80,C\n";
    let (st, _, body) = parts(s.post("/invocations", "text/csv", open).await).await;
    check(st, "", &body, 400, "BAD_REQUEST");
    assert!(body.contains("line 2: a quote"), "{body}");
    let (st, _, body) = parts(s.get("/invocations").await).await;
    check(st, "", &body, 405, "BAD_REQUEST");
}

#[tokio::test]
async fn mlflow_health_and_version() {
    let s = start().await;
    for path in ["/ping", "/health"] {
        let (st, ct, body) = parts(s.get(path).await).await;
        assert_eq!(
            (st, ct.as_str(), body.as_str()),
            (200, "application/json", "\n")
        );
    }
    let (st, _, body) = parts(s.get("/version").await).await;
    assert_eq!((st, body.as_str()), (200, env!("CARGO_PKG_VERSION")));
}

// --- Open Inference Protocol ----------------------------------------------

#[tokio::test]
async fn oip_health_and_metadata() {
    let s = start().await;
    let version = s.state.loaded.version().to_string();
    let (st, ct, body) = parts(s.get("/v2/health/live").await).await;
    assert_eq!(
        (st, ct.as_str(), body.as_str()),
        (200, "application/json", r#"{"live":true}"#)
    );
    let (st, _, body) = parts(s.get("/v2/health/ready").await).await;
    assert_eq!((st, body.as_str()), (200, r#"{"ready":true}"#));
    let (st, _, body) = parts(s.get("/v2").await).await;
    assert_eq!(st, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "name": "lifeboat", "version": env!("CARGO_PKG_VERSION"), "extensions": [] })
    );
    let want = json!({
        "name": "titanic",
        "versions": [version],
        "platform": "lifeboat",
        "inputs": [
            { "name": "Pclass", "datatype": "INT64", "shape": [-1] },
            { "name": "Sex", "datatype": "BYTES", "shape": [-1] },
            { "name": "Age", "datatype": "FP64", "shape": [-1] },
            { "name": "SibSp", "datatype": "INT64", "shape": [-1] },
            { "name": "Parch", "datatype": "INT64", "shape": [-1] },
            { "name": "Fare", "datatype": "FP64", "shape": [-1] },
            { "name": "Embarked", "datatype": "BYTES", "shape": [-1] },
        ],
        "outputs": [
            { "name": "predict", "datatype": "INT64", "shape": [-1, 1] },
            { "name": "predict_proba", "datatype": "FP64", "shape": [-1, 2] },
        ],
    });
    for path in [
        "/v2/models/titanic".to_string(),
        format!("/v2/models/titanic/versions/{version}"),
    ] {
        let (st, _, body) = parts(s.get(&path).await).await;
        assert_eq!(st, 200, "{path}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), want);
        let (st, _, body) = parts(s.get(&format!("{path}/ready")).await).await;
        assert_eq!(
            (st, body.as_str()),
            (200, r#"{"name":"titanic","ready":true}"#)
        );
    }
    let (st, ct, body) = parts(s.get("/v2/models/nope").await).await;
    assert_eq!((st, ct.as_str()), (404, "application/json"));
    assert_eq!(
        body,
        r#"{"error":"Model nope not found; this server serves titanic"}"#
    );
    let (st, _, body) = parts(s.get("/v2/models/titanic/versions/7/ready").await).await;
    assert_eq!(st, 404);
    assert_eq!(
        body,
        format!(r#"{{"error":"Model titanic has no version 7; the version served is {version}"}}"#)
    );
    let (st, _, body) = parts(s.get("/v2/nothing").await).await;
    assert_eq!(
        (st, body.as_str()),
        (404, r#"{"error":"there is nothing at /v2/nothing"}"#)
    );
}

#[tokio::test]
async fn oip_infer_columns_and_matrix() {
    let s = start().await;
    let version = s.state.loaded.version().to_string();
    let p0: Value = expected(&s.state, PASSENGER);
    let p1: Value = expected(&s.state, SURVIVOR);
    let proba = json!([
        p0["probabilities"]["0"],
        p0["probabilities"]["1"],
        p1["probabilities"]["0"],
        p1["probabilities"]["1"]
    ]);
    let want = |id: Option<&str>| {
        let mut v = json!({
            "model_name": "titanic",
            "model_version": version,
            "parameters": {},
            "outputs": [
                { "name": "predict", "shape": [2, 1], "datatype": "INT64", "parameters": { "content_type": "np" }, "data": [0, 1] },
                { "name": "predict_proba", "shape": [2, 2], "datatype": "FP64", "parameters": { "content_type": "np" }, "data": proba },
            ],
        });
        if let Some(id) = id {
            v["id"] = json!(id);
        }
        v
    };
    let columns = r#"{"id": "req-42", "parameters": {"content_type": "pd"}, "inputs": [
        {"name": "Pclass", "shape": [2], "datatype": "INT64", "data": [3, 1]},
        {"name": "Sex", "shape": [2], "datatype": "BYTES", "parameters": {"content_type": "str"}, "data": ["male", "female"]},
        {"name": "Age", "shape": [2], "datatype": "FP64", "data": [22.0, 38.0]},
        {"name": "SibSp", "shape": [2, 1], "datatype": "INT64", "data": [[1.0], [1.0]]},
        {"name": "Parch", "shape": [2], "datatype": "INT64", "data": [0, 0]},
        {"name": "Fare", "shape": [2], "datatype": "FP64", "data": [7.25, 71.2833]},
        {"name": "Embarked", "shape": [2], "datatype": "BYTES", "data": ["S", "C"]}
    ], "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}"#;
    // No Content-Type at all, as tritonclient sends it.
    let r = s
        .client
        .post(s.url("/v2/models/titanic/infer"))
        .body(columns)
        .send()
        .await
        .unwrap();
    let (st, ct, body) = parts(r).await;
    assert_eq!((st, ct.as_str()), (200, "application/json"), "{body}");
    let got = serde_json::from_str::<Value>(&body).unwrap();
    assert!(approx(&got, &want(Some("req-42"))), "{got}");
    // Written as compact JSON with keys in order, as the answer always was.
    assert_eq!(body, got.to_string());

    let matrix = r#"{"inputs": [{"name": "input__0", "shape": [2, 7], "datatype": "BYTES",
        "data": [[3, "male", 22.0, 1, 0, 7.25, "S"], [1, "female", 38.0, 1, 0, 71.2833, "C"]]}]}"#;
    let (st, _, body) = s
        .post_json(
            &format!("/v2/models/titanic/versions/{version}/infer"),
            matrix,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let got = serde_json::from_str::<Value>(&body).unwrap();
    assert!(approx(&got, &want(None)), "{got}");

    // One output asked for; a missing optional value as null.
    let one = r#"{"inputs": [
        {"name": "Pclass", "shape": [1], "datatype": "INT64", "data": [3]},
        {"name": "Sex", "shape": [1], "datatype": "BYTES", "data": ["male"]},
        {"name": "Age", "shape": [1], "datatype": "FP64", "data": [null]},
        {"name": "SibSp", "shape": [1], "datatype": "INT64", "data": [0]},
        {"name": "Parch", "shape": [1], "datatype": "INT64", "data": [0]}
    ], "outputs": [{"name": "predict", "parameters": {"binary_data": false}}]}"#;
    let (st, _, body) = s.post_json("/v2/models/titanic/infer", one).await;
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["outputs"].as_array().unwrap().len(), 1);
    assert_eq!(v["outputs"][0]["shape"], json!([1, 1]));
}

#[tokio::test]
async fn oip_infer_errors() {
    let s = start().await;
    let cases: &[(&str, &str)] = &[
        (
            r#"{"inputs": [{"name": "Age", "shape": [1], "datatype": "INT64", "data": [1.5]}]}"#,
            r#"{"error":"input Age: element 0 (1.5) is not a valid INT64 value"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Age", "shape": [2], "datatype": "FP64", "data": [1.5]}]}"#,
            r#"{"error":"input Age: shape [2] needs 2 values but data has 1"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Pclass", "shape": [2], "datatype": "INT64"}]}"#,
            r#"{"error":"input Pclass: data is missing; send \"data\": a list of the tensor's values (null for a missing one)"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Pclass", "shape": [1], "datatype": "INT64", "data": null}]}"#,
            r#"{"error":"input Pclass: data is missing; send \"data\": a list of the tensor's values (null for a missing one)"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Agee", "shape": [1], "datatype": "FP64", "data": [1.5]}]}"#,
            r#"{"error":"unknown input \"Agee\"; send one tensor per input (Pclass, Sex, Age, SibSp, Parch, Fare, Embarked), or one [n, 7] tensor with the inputs as columns in that order"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Pclass", "shape": [1], "datatype": "INT64", "data": [9]}]}"#,
            r#"{"error":"row 0: Pclass: \"9\" is not allowed; expected one of: 1, 2, 3; row 0: Sex: is required; expected one of: male, female; row 0: SibSp: is required; expected a whole number from 0 to 10; row 0: Parch: is required; expected a whole number from 0 to 10"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Pclass", "shape": [1], "datatype": "INT64", "data": [3]}], "outputs": [{"name": "nope"}]}"#,
            r#"{"error":"unknown output \"nope\"; the outputs are: predict, predict_proba"}"#,
        ),
        (
            r#"{"inputs": []}"#,
            r#"{"error":"the request has no inputs"}"#,
        ),
        (
            r#"{"inputs": [{"name": "Age", "shape": [1], "datatype": "FP8", "data": [1]}]}"#,
            r#"{"error":"input Age: unknown datatype \"FP8\""}"#,
        ),
        (
            r#"{"inputs": 3}"#,
            r#"{"error":"invalid type: integer `3`, expected a sequence at line 1 column 12"}"#,
        ),
        (
            "{",
            r#"{"error":"the body is not valid JSON at line 1 column 1: unexpected end of input (the JSON is cut off: a bracket, brace or quote is not closed)"}"#,
        ),
    ];
    for (body, want) in cases {
        let (st, ct, got) = s.post_json("/v2/models/titanic/infer", body).await;
        assert_eq!(
            (st, ct.as_str()),
            (400, "application/json"),
            "{body}: {got}"
        );
        assert_eq!(&got, want, "{body}");
    }
    // The binary extension is refused clearly, not misread: said by its
    // header, by the media type (in any spelling), or both. A wrong model
    // name is still the error reported first.
    let binary: [(&str, Option<&str>, Option<&str>, u16); 5] = [
        ("titanic", Some("10"), Some("application/octet-stream"), 400),
        ("titanic", Some("10"), None, 400),
        ("titanic", None, Some("application/octet-stream"), 400),
        ("titanic", None, Some("Application/Octet-Stream; x=1"), 400),
        ("other", Some("10"), Some("application/octet-stream"), 404),
    ];
    for (model, length, media_type, want) in binary {
        let mut request = s
            .client
            .post(s.url(&format!("/v2/models/{model}/infer")))
            .body(b"{\"inputs\"}\x00\x01".to_vec());
        if let Some(length) = length {
            request = request.header("inference-header-content-length", length);
        }
        if let Some(media_type) = media_type {
            request = request.header("content-type", media_type);
        }
        let (st, _, body) = parts(request.send().await.unwrap()).await;
        let case = format!("{model} {length:?} {media_type:?}: {body}");
        assert_eq!(st, want, "{case}");
        if want == 400 {
            assert!(
                body.contains("binary tensor data is not supported"),
                "{case}"
            );
        }
    }
    let (st, _, body) = s
        .post_json("/v2/models/other/infer", r#"{"inputs": []}"#)
        .await;
    assert_eq!(
        (st, body.as_str()),
        (
            404,
            r#"{"error":"Model other not found; this server serves titanic"}"#
        )
    );
    let (st, _, body) = parts(s.get("/v2/models/titanic/infer").await).await;
    assert_eq!(
        (st, body.as_str()),
        (
            405,
            r#"{"error":"this path does not accept that method; it accepts POST"}"#
        )
    );
}

// --- Operations -------------------------------------------------------------

#[tokio::test]
async fn ops_health_and_metrics() {
    let s = start().await;
    let (st, ct, body) = parts(s.get("/livez").await).await;
    assert_eq!(
        (st, ct.as_str(), body.as_str()),
        (200, "application/json", r#"{"status":"ok"}"#)
    );
    let (st, _, body) = parts(s.get("/readyz").await).await;
    assert_eq!((st, body.as_str()), (200, r#"{"status":"ready"}"#));
    let (st, _, body) = parts(s.get("/healthz").await).await;
    assert_eq!(st, 200);
    let h: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["model"]["name"], "titanic");
    assert_eq!(h["ready"], true);

    s.post_json("/api/v1/predict", SURVIVOR).await;
    s.post_json("/api/v1/predict", "{").await;
    s.get("/nothing-here").await;
    let (st, ct, text) = parts(s.get("/metrics").await).await;
    assert_eq!(
        (st, ct.as_str()),
        (200, "text/plain; version=0.0.4; charset=utf-8")
    );
    for line in [
        "lifeboat_http_requests_total{route=\"/api/v1/predict\",method=\"POST\",status=\"200\"} 1",
        "lifeboat_http_requests_total{route=\"/api/v1/predict\",method=\"POST\",status=\"400\"} 1",
        "lifeboat_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "lifeboat_http_request_duration_seconds_count{route=\"/api/v1/predict\",method=\"POST\"} 2",
        "lifeboat_http_requests_in_flight 1",
        "lifeboat_predictions_total{class=\"1\"} 1",
        "lifeboat_predictions_total{class=\"0\"} 0",
    ] {
        assert!(text.contains(line), "missing {line}\n{text}");
    }
    let info = format!(
        "lifeboat_model_info{{name=\"titanic\",version=\"{}\"",
        s.state.loaded.version()
    );
    assert!(text.contains(&info), "{text}");

    // Draining: readiness fails, liveness does not.
    s.state.set_draining();
    assert_eq!(s.get("/readyz").await.status(), 503);
    assert_eq!(s.get("/v2/health/ready").await.status(), 503);
    assert_eq!(s.get("/livez").await.status(), 200);
}

#[tokio::test]
async fn every_response_has_an_id_and_security_headers() {
    let s = start().await;
    // `/nothing` is asked for as a browser asks: its 404 is an HTML page.
    for (path, html) in [
        ("/", true),
        ("/nothing", true),
        ("/api/v1/model", false),
        ("/metrics", false),
    ] {
        let r = s
            .client
            .get(s.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert!(h.get("x-request-id").is_some(), "{path}");
        let is_html = h["content-type"].to_str().unwrap().starts_with("text/html");
        assert_eq!(is_html, html, "{path}");
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        if html {
            // Pages may use our stylesheet and post the form back, nothing more.
            assert!(csp.contains("style-src 'self'") && csp.contains("form-action 'self'"));
            assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer", "{path}");
            assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
            assert_eq!(h.get("cross-origin-opener-policy").unwrap(), "same-origin");
        } else {
            // Data loads nothing, and the document-only headers are left out.
            assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{path}");
            for name in [
                "referrer-policy",
                "x-frame-options",
                "cross-origin-opener-policy",
            ] {
                assert!(h.get(name).is_none(), "{path}: {name}");
            }
        }
    }
    // A sane X-Request-ID from the router is kept; a strange one replaced.
    let r = s
        .client
        .get(s.url("/livez"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = s
        .client
        .get(s.url("/livez"))
        .header("x-request-id", "a b<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "a b<script>");
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let s = start().await;
    let r = s
        .client
        .get(s.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let r = s.client.get(s.url("/docs")).send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
}

/// Whether a response says it varies with `Accept-Encoding`.
fn varies_on_encoding(r: &reqwest::Response) -> bool {
    r.headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|h| h.trim().eq_ignore_ascii_case("accept-encoding"))
}

#[tokio::test]
async fn a_page_names_what_it_varies_with_in_one_header() {
    let s = start().await;
    for encoding in [None, Some("gzip")] {
        let mut request = s.client.get(s.url("/"));
        if let Some(e) = encoding {
            request = request.header("accept-encoding", e);
        }
        let r = request.send().await.unwrap();
        let vary: Vec<_> = r.headers().get_all("vary").iter().collect();
        assert_eq!(vary.len(), 1, "{encoding:?}: {vary:?}");
        let names: Vec<String> = (vary[0].to_str().unwrap().split(','))
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        assert_eq!(
            names,
            ["accept-language", "accept-encoding"],
            "{encoding:?}"
        );
    }
}

#[tokio::test]
async fn gzip_follows_what_the_client_accepts() {
    let s = start().await;
    let page = |encoding: Option<&'static str>| {
        let mut request = s.client.get(s.url("/docs"));
        if let Some(e) = encoding {
            request = request.header("accept-encoding", e);
        }
        request.send()
    };
    for accepted in ["gzip", "GZIP", "br, gzip;q=0.5", "*", "x-gzip, deflate"] {
        let r = page(Some(accepted)).await.unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip", "{accepted}");
        assert!(varies_on_encoding(&r), "{accepted}");
    }
    // Not accepted: the page as it is, still saying it varies with the
    // header, as the gzipped one does, so a cache keeps the two apart.
    for refused in [None, Some("br"), Some("identity"), Some("gzip;q=0")] {
        let r = page(refused).await.unwrap();
        assert!(r.headers().get("content-encoding").is_none(), "{refused:?}");
        assert!(varies_on_encoding(&r), "{refused:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains("</html>"), "{refused:?}");
    }
    // A prediction is too small to be worth gzipping, asked or not, and
    // says nothing about encodings.
    for encoding in [None, Some("gzip")] {
        let mut request = s
            .client
            .post(s.url("/api/v1/predict"))
            .header("content-type", "application/json")
            .body(r#"{"Pclass":3,"Sex":"male","Age":22,"SibSp":1,"Parch":0,"Fare":7.25,"Embarked":"S"}"#);
        if let Some(e) = encoding {
            request = request.header("accept-encoding", e);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 200, "{encoding:?}");
        assert!(
            r.headers().get("content-encoding").is_none(),
            "{encoding:?}"
        );
        assert!(!varies_on_encoding(&r), "{encoding:?}");
    }
}

#[tokio::test]
async fn slow_requests_time_out_with_503() {
    let s = start_with(ServeConfig {
        timeout: std::time::Duration::from_millis(1),
        ..Default::default()
    })
    .await;
    // A large CSV takes longer than a millisecond to score.
    let mut csv = String::from("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n");
    for _ in 0..50_000 {
        csv.push_str("3,male,22,1,0,7.25,S\n");
    }
    let r = s
        .client
        .post(s.url("/batch"))
        .header("content-type", "text/csv")
        .header("accept", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn rows_of_a_csv_file_count_as_predictions() {
    let s = start().await;
    let r = s
        .client
        .post(s.url("/batch"))
        .header("content-type", "text/csv")
        .header("accept", "text/csv")
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, _, text) = parts(s.get("/metrics").await).await;
    // CSV holds one passenger who dies and one who survives.
    for line in [
        "lifeboat_predictions_total{class=\"0\"} 1",
        "lifeboat_predictions_total{class=\"1\"} 1",
    ] {
        assert!(text.contains(line), "missing {line}\n{text}");
    }
}

// --- Hostile and careless requests ------------------------------------------

const INFER: &str = "/v2/models/titanic/infer";

/// One whole-row tensor with `shape` (as JSON) and one row of data.
fn row_tensor(shape: &str) -> String {
    format!(
        r#"{{"inputs":[{{"name":"x","shape":{shape},"datatype":"BYTES","data":[3,"male",22,1,0,7.25,"S"]}}]}}"#
    )
}

#[tokio::test]
async fn oip_shapes_whose_size_overflows_are_400_not_a_panic() {
    let s = start().await;
    // 7905747460161236407 × 7 wraps to 1 in 64 bits, and 4611686018427387904
    // × 7 to a negative number: both once got past the check on data length.
    for (shape, data) in [
        ("[7905747460161236407,7]", "[3]"),
        ("[4611686018427387904,7]", "[3]"),
        ("[9223372036854775807,7]", "[3]"),
        // Wraps to 5, and five values are sent.
        ("[2635249153387078803,7]", "[3,1,2,3,4]"),
    ] {
        let body = format!(
            r#"{{"inputs":[{{"name":"x","shape":{shape},"datatype":"BYTES","data":{data}}}]}}"#
        );
        let (st, ct, got) = s.post_json(INFER, &body).await;
        assert_eq!(
            (st, ct.as_str()),
            (400, "application/json"),
            "{shape}: {got}"
        );
        let message = serde_json::from_str::<Value>(&got).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("holds more values than any request can carry"),
            "{shape}: {message}"
        );
        assert!(!message.contains("needs -"), "{shape}: {message}");
    }
    // Negative dimensions are named, in both layouts.
    for (body, want) in [
        (
            row_tensor("[-1,7]"),
            "input x: shape [-1, 7] has a negative dimension (-1); every dimension is a count of 0 or more",
        ),
        (
            r#"{"inputs":[{"name":"Age","shape":[-2],"datatype":"FP64","data":[1]}]}"#.into(),
            "input Age: shape [-2] has a negative dimension (-2); every dimension is a count of 0 or more",
        ),
    ] {
        let (st, _, got) = s.post_json(INFER, &body).await;
        assert_eq!(st, 400, "{got}");
        assert_eq!(serde_json::from_str::<Value>(&got).unwrap()["error"], want);
    }
    // The server is still there, and answers.
    let (st, _, got) = s.post_json(INFER, &row_tensor("[1,7]")).await;
    assert_eq!(st, 200, "{got}");
}

#[tokio::test]
async fn oip_shapes_are_echoed_capped() {
    let s = start().await;
    let ones = vec!["1"; 150_000].join(",");
    let body =
        format!(r#"{{"inputs":[{{"name":"Age","shape":[{ones}],"datatype":"FP64","data":[1]}}]}}"#);
    let (st, _, got) = s.post_json(INFER, &body).await;
    assert_eq!(st, 400);
    assert!(got.len() < 300, "{} bytes", got.len());
    let message = serde_json::from_str::<Value>(&got).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("input Age: shape [1, 1, 1, 1,")
            && message.contains("…] (150000 dimensions) is not [n] or [n, 1]"),
        "{message}"
    );
    // A short shape is shown whole.
    let (_, _, got) = s
        .post_json(
            INFER,
            r#"{"inputs":[{"name":"Age","shape":[3],"datatype":"FP64","data":[1]}]}"#,
        )
        .await;
    assert_eq!(
        got,
        r#"{"error":"input Age: shape [3] needs 3 values but data has 1"}"#
    );
}

#[tokio::test]
async fn oip_whole_rows_in_another_shape_say_n_by_k() {
    let s = start().await;
    for shape in ["[7]", "[1,1,7]"] {
        let (st, _, got) = s.post_json(INFER, &row_tensor(shape)).await;
        assert_eq!(st, 400, "{shape}: {got}");
        let message = serde_json::from_str::<Value>(&got).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("is not [n, 7]; one tensor of whole rows must have shape [n, 7]"),
            "{shape}: {message}"
        );
    }
}

#[tokio::test]
async fn oip_id_is_a_string_and_the_request_an_object() {
    let s = start().await;
    let row =
        r#"[{"name":"x","shape":[1,7],"datatype":"BYTES","data":[3,"male",22,1,0,7.25,"S"]}]"#;
    for (id, what) in [
        (r#"{"a":[1,2]}"#, "an object"),
        ("5", "a number"),
        ("true", "a boolean"),
        ("[\"a\"]", "an array"),
    ] {
        let (st, _, got) = s
            .post_json(INFER, &format!(r#"{{"id":{id},"inputs":{row}}}"#))
            .await;
        assert_eq!(st, 400, "{id}: {got}");
        let message = serde_json::from_str::<Value>(&got).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.starts_with(&format!("id must be a string, not {what}")),
            "{id}: {message}"
        );
    }
    // A string is echoed; null or no id, nothing.
    for (id, echoed) in [(r#""req-1""#, json!("req-1")), ("null", Value::Null)] {
        let (st, _, got) = s
            .post_json(INFER, &format!(r#"{{"id":{id},"inputs":{row}}}"#))
            .await;
        assert_eq!(st, 200, "{got}");
        assert_eq!(serde_json::from_str::<Value>(&got).unwrap()["id"], echoed);
    }
    // serde's array form of a struct is not a request, nor of a tensor.
    let want = r#"invalid type: an array, expected an inference request: a JSON object {"inputs": [...], "id"?, "outputs"?}"#;
    for body in [
        format!(r#"["myid",{row},null]"#),
        format!(r#"[{{"inputs":{row}}}]"#),
    ] {
        let (st, _, got) = s.post_json(INFER, &body).await;
        assert_eq!(st, 400, "{body}: {got}");
        assert_eq!(serde_json::from_str::<Value>(&got).unwrap()["error"], want);
    }
    let (st, _, got) = s
        .post_json(
            INFER,
            r#"{"inputs":[["x",[1,7],"BYTES",null,[3,"male",22,1,0,7.25,"S"]]]}"#,
        )
        .await;
    assert_eq!(st, 400, "{got}");
    assert!(got.contains("expected an input tensor: an object"), "{got}");
    let (st, _, got) = s
        .post_json(
            INFER,
            &format!(r#"{{"inputs":{row},"outputs":[["predict"]]}}"#),
        )
        .await;
    assert_eq!(st, 400, "{got}");
    assert!(
        got.contains("expected a requested output: an object"),
        "{got}"
    );
}

#[tokio::test]
async fn problems_past_the_limit_are_counted_not_dropped() {
    let s = start().await;
    // 100 rows with two problems each: 200 problems, 50 listed.
    let row = r#"{"Pclass":3,"Sex":"y","Age":"x","SibSp":1,"Parch":0}"#;
    let body = format!("[{}]", vec![row; 100].join(","));
    let (st, _, got) = s.post_json("/api/v1/predict", &body).await;
    assert_eq!(st, 422);
    let v: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 50);
    let detail = v["detail"].as_str().unwrap();
    assert!(detail.ends_with("; and 190 more"), "{detail}");
    // The same count on the other doors.
    let records = format!(r#"{{"dataframe_records":[{}]}}"#, vec![row; 100].join(","));
    let (st, _, got) = s.post_json("/invocations", &records).await;
    assert_eq!(st, 400);
    let message = serde_json::from_str::<Value>(&got).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.ends_with("; and 190 more"), "{message}");
    // Exactly ten problems: all listed, no "more".
    let five = format!("[{}]", [row; 5].join(","));
    let (_, _, got) = s.post_json("/api/v1/predict", &five).await;
    let v: Value = serde_json::from_str(&got).unwrap();
    assert!(!v["detail"].as_str().unwrap().contains("more"), "{got}");
}

/// The message of an error answer in any of the three JSON protocols.
fn message_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}"));
    ["detail", "message", "error"]
        .iter()
        .find_map(|k| v[*k].as_str())
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

#[tokio::test]
async fn json_syntax_errors_say_why_and_what_to_send() {
    let s = start().await;
    let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    // A value, sent where each door reads it.
    let values: [(&[u8], &str); 8] = [
        (
            b"NaN",
            "NaN is not valid JSON; send null or leave the field out for a missing value",
        ),
        (
            b"Infinity",
            "Infinity is not valid JSON (numbers must be finite); send a finite number",
        ),
        (
            b"-Infinity",
            "Infinity is not valid JSON (numbers must be finite); send a finite number",
        ),
        (
            b"1e400",
            "a number is out of range: JSON numbers here must be finite and within ±1.8e308",
        ),
        (
            b"\"m\xe9le\"",
            "starts an invalid sequence); send JSON encoded as UTF-8",
        ),
        (
            br#""\ud800""#,
            "a \\u escape is a lone surrogate (\\uD800 to \\uDFFF), which is not a character",
        ),
        (
            br#""\udc00x""#,
            "a \\u escape is a lone surrogate (\\uD800 to \\uDFFF), which is not a character",
        ),
        (b"-", "invalid number"),
    ];
    for (value, want) in values {
        let shown = String::from_utf8_lossy(value);
        for (path, before, after) in [
            ("/api/v1/predict", &br#"{"Sex": "#[..], &b"}"[..]),
            (
                "/invocations",
                br#"{"dataframe_records": [{"Sex": "#,
                b"}]}",
            ),
            (
                INFER,
                br#"{"inputs":[{"name":"Sex","shape":[1],"datatype":"BYTES","data":["#,
                b"]}]}",
            ),
        ] {
            let body = [before, value, after].concat();
            let (st, _, got) = parts(s.post(path, "application/json", body).await).await;
            assert_eq!(st, 400, "{path} {shown}: {got}");
            let message = message_of(&got);
            assert!(
                message.starts_with("the body is not valid JSON at line 1 column ")
                    && message.contains(want),
                "{path} {shown}: {message}"
            );
        }
    }
    // The whole body.
    for (body, want) in [
        (
            &b"\xef\xbb\xbf{\"Age\": 1}"[..],
            "the body is not valid JSON at line 1 column 1: the body starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not allow; send the JSON without it",
        ),
        (b" \n", "the body is empty; send a JSON document"),
        (
            b"{\"Age\": NaN}",
            "the body is not valid JSON at line 1 column 9: NaN is not valid JSON; send null or leave the field out for a missing value",
        ),
    ] {
        for path in ["/api/v1/predict", "/invocations", INFER] {
            let r = s.post(path, "application/json", body.to_vec()).await;
            let (st, _, got) = parts(r).await;
            assert_eq!(st, 400, "{path}: {got}");
            assert_eq!(message_of(&got), want, "{path}");
        }
    }
    // Nesting: /api/v1/predict skips a nested value without recursing (and
    // reports it as the wrong type); the others parse it and stop at 128.
    for (path, deep) in [
        (
            "/invocations",
            format!(r#"{{"dataframe_split": {{"data": {nested}}}}}"#),
        ),
        (
            INFER,
            format!(
                r#"{{"inputs":[{{"name":"Age","shape":[1],"datatype":"FP64","data":{nested}}}]}}"#
            ),
        ),
    ] {
        let (st, _, got) = s.post_json(path, &deep).await;
        assert_eq!(st, 400, "{path}: {got}");
        let message = message_of(&got);
        assert!(
            message.contains(
                "the JSON is nested too deeply (more than 127 levels of arrays and objects)"
            ),
            "{path}: {message}"
        );
    }
    // A surrogate pair is a character, not an error.
    let pair = r#"{"Pclass":3,"Sex":"male","SibSp":1,"Parch":0,"Embarked":"\ud83d\ude00"}"#;
    let (st, _, got) = s.post_json("/api/v1/predict", pair).await;
    assert_eq!(st, 422, "{got}");
    assert!(got.contains("\"Embarked\""), "{got}");
}

#[tokio::test]
async fn mlflow_refuses_a_key_given_twice_as_our_api_does() {
    let s = start().await;
    let (st, _, got) = s
        .post_json(
            "/invocations",
            r#"{"dataframe_records":[{"Pclass":3,"Sex":"male","Age":22,"Age":80,"SibSp":1,"Parch":0}]}"#,
        )
        .await;
    assert_eq!(st, 400, "{got}");
    assert!(
        message_of(&got).starts_with(
            "the key \"Age\" is given more than once in one object; give each key once"
        ),
        "{got}"
    );
    let (st, _, got) = s
        .post_json(
            "/api/v1/predict",
            r#"{"Pclass":3,"Sex":"male","Age":22,"Age":80,"SibSp":1,"Parch":0}"#,
        )
        .await;
    assert_eq!(st, 422, "{got}");
    assert!(message_of(&got).contains("more than once"), "{got}");
    // Once each is fine.
    let (st, _, got) = s
        .post_json(
            "/invocations",
            r#"{"dataframe_records":[{"Pclass":3,"Sex":"male","Age":22,"SibSp":1,"Parch":0}]}"#,
        )
        .await;
    assert_eq!(st, 200, "{got}");
}

#[tokio::test]
async fn a_charset_other_than_utf8_is_415_on_both_json_apis() {
    let s = start().await;
    let want = "Content-Type \"application/json; charset=latin-1\" is not accepted; send charset=utf-8 or no charset: bodies must be UTF-8";
    for path in ["/api/v1/predict", "/invocations"] {
        let r = s
            .post(path, "application/json; charset=latin-1", PASSENGER)
            .await;
        let (st, _, got) = parts(r).await;
        assert_eq!(st, 415, "{path}: {got}");
        assert_eq!(message_of(&got), want, "{path}");
        for ok in [
            "application/json; charset=utf-8",
            "application/json; charset=UTF-8",
        ] {
            let body = if path == "/invocations" {
                format!(r#"{{"dataframe_records":[{PASSENGER}]}}"#)
            } else {
                PASSENGER.to_string()
            };
            let (st, _, got) = parts(s.post(path, ok, body).await).await;
            assert_eq!(st, 200, "{path} {ok}: {got}");
        }
    }
}

#[tokio::test]
async fn compressed_request_bodies_are_415() {
    let s = start().await;
    for (path, ct, body) in [
        ("/api/v1/predict", "application/json", PASSENGER.to_string()),
        (
            "/invocations",
            "application/json",
            format!(r#"{{"dataframe_records":[{PASSENGER}]}}"#),
        ),
        (INFER, "application/json", row_tensor("[1,7]")),
    ] {
        for coding in ["gzip", "br"] {
            let r = s
                .client
                .post(s.url(path))
                .header("content-type", ct)
                .header("content-encoding", coding)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let (st, _, got) = parts(r).await;
            assert_eq!(st, 415, "{path} {coding}: {got}");
            assert_eq!(
                message_of(&got),
                format!("Content-Encoding {coding} is not supported; send an uncompressed body")
            );
        }
        // identity is no encoding at all.
        let r = s
            .client
            .post(s.url(path))
            .header("content-type", ct)
            .header("content-encoding", "identity")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // And on the CSV page, as an error page.
    let r = s
        .client
        .post(s.url("/batch"))
        .header("content-type", "text/csv")
        .header("content-encoding", "gzip")
        .body(CSV)
        .send()
        .await
        .unwrap();
    let (st, ct, got) = parts(r).await;
    assert_eq!((st, ct.starts_with("text/html")), (415, true), "{got}");
    assert!(
        got.contains("Content-Encoding gzip is not supported; send an uncompressed body"),
        "{got}"
    );
}

#[tokio::test]
async fn every_405_has_an_allow_header_and_names_the_methods() {
    let s = start().await;
    for (path, allow) in [
        ("/api/v1/predict", "POST"),
        ("/invocations", "POST"),
        (INFER, "POST"),
        ("/predict", "GET,HEAD,POST"),
        ("/batch", "GET,HEAD,POST"),
        ("/static/css/style.css", "GET,HEAD"),
    ] {
        let r = s.client.put(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 405, "{path}");
        assert_eq!(
            r.headers().get("allow").map(|v| v.to_str().unwrap()),
            Some(allow),
            "{path}"
        );
        let body = r.text().await.unwrap();
        let named = allow.replace(',', ", ");
        assert!(
            body.contains(&format!("it accepts {named}")),
            "{path}: {body}"
        );
    }
}

/// Whether every parenthesis in `s` closes one that was opened.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

#[tokio::test]
async fn mlflow_messages_close_each_parenthesis_once() {
    let s = start().await;
    let bodies = [
        (
            r#"{"instances": 5}"#,
            "instances must be a list of rows (objects, or lists of values in the model's column order)",
        ),
        (
            r#"{"inputs": "x"}"#,
            "inputs must be a list of rows (objects, or lists of values in the model's column order) or an object of columns",
        ),
        (r#"{"inputs": [1, {"a": 1}]}"#, ""),
        (r#"{"instances": [[1], {"a": 1}]}"#, ""),
        (r#"{"inputs": {"Age": 3}}"#, ""),
        (r#"{"inputs": {"Age": [1], "Sex": []}}"#, ""),
        (r#"{"dataframe_records": 3}"#, ""),
        (r#"{"dataframe_records": [3]}"#, ""),
        (r#"{"dataframe_split": {"data": [3]}}"#, ""),
        (r#"{"dataframe_split": {"data": [[3]]}}"#, ""),
        (r#"{"dataframe_split": {"columns": [1], "data": []}}"#, ""),
        (r#"{"dataframe_split": []}"#, ""),
        (r#"{"foo": 1}"#, ""),
        ("3", ""),
    ];
    for (body, want) in bodies {
        let (st, _, got) = s.post_json("/invocations", body).await;
        assert_eq!(st, 400, "{body}: {got}");
        let message = message_of(&got);
        assert!(balanced(&message), "{body}: {message}");
        if !want.is_empty() {
            assert_eq!(message, want, "{body}");
        }
    }
    for csv in [
        "Pclass,Sex\n3\n",
        "pclass,sex,age,sibsp,parch\n3,male,22,1,0\n",
        "Pclass\tSex\tAge\tSibSp\tParch\n3\tmale\t22\t1\t0\n",
        "Pclass;Sex,Age;SibSp;Parch\n3;male,22;1;0\n",
    ] {
        let (st, _, got) = parts(s.post("/invocations", "text/csv", csv).await).await;
        assert_eq!(st, 400, "{csv}: {got}");
        let message = message_of(&got);
        assert!(balanced(&message), "{csv}: {message}");
    }
}

#[tokio::test]
async fn echoed_values_are_quoted_as_json_writes_them() {
    let s = start().await;
    // A right-to-left override and a zero-width space: escaped as JSON
    // escapes them, never raw (which would turn the message around) and not
    // as Rust writes them (`\u{202e}`).
    let body = r#"{"Pclass":3,"Sex":"ma\u202ele\u200b","Age":22,"SibSp":1,"Parch":0}"#;
    let (st, _, got) = s.post_json("/api/v1/predict", body).await;
    assert_eq!(st, 422, "{got}");
    let v: Value = serde_json::from_str(&got).unwrap();
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(r#""ma\u202ele\u200b" is not allowed; expected one of"#),
        "{message}"
    );
    assert!(!got.contains("u{"), "{got}");
    // A name the model does not have is shown as given, quoted when a
    // character in it would not show as itself.
    let body = r#"{"Pclass":3,"Sex":"male","Age":22,"SibSp":1,"Parch":0,"Ag\u202ee":1}"#;
    let (st, _, got) = s.post_json("/api/v1/predict", body).await;
    assert_eq!(st, 422, "{got}");
    let v: Value = serde_json::from_str(&got).unwrap();
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(r#""Ag\u202ee": is not a field of this model"#),
        "{detail}"
    );
    assert!(!detail.contains('\u{202e}'), "{detail}");
    // Accents and quotes as typed (a quote escaped as in JSON).
    let body = r#"{"Pclass":3,"Sex":"mañ\"a","Age":22,"SibSp":1,"Parch":0}"#;
    let (_, _, got) = s.post_json("/api/v1/predict", body).await;
    let v: Value = serde_json::from_str(&got).unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with(r#"Sex: "mañ\"a" is not allowed"#),
        "{got}"
    );
    // MLflow and OIP echo names the same way.
    let (_, _, got) = s
        .post_json(
            "/invocations",
            r#"{"dataframe_records":[{"Ag\u202ee":1,"Ag\u202ee":2}]}"#,
        )
        .await;
    assert!(
        message_of(&got).starts_with(r#"the key "Ag\u202ee" is given more than once"#),
        "{got}"
    );
    let (_, _, got) = s
        .post_json(
            "/v2/models/titanic/infer",
            r#"{"inputs":[{"name":"x\u0007","shape":[1],"datatype":"FP64","data":[1]}]}"#,
        )
        .await;
    assert!(
        message_of(&got).starts_with(r#"unknown input "x\u0007""#),
        "{got}"
    );
}

#[tokio::test]
async fn an_oip_path_that_does_not_decode_is_an_oip_error() {
    let s = start().await;
    for path in ["/v2/models/%ff/ready", "/v2/models/titanic/versions/%ff"] {
        let (st, ct, got) = parts(s.get(path).await).await;
        assert_eq!(
            (st, ct.as_str()),
            (400, "application/json"),
            "{path}: {got}"
        );
        assert!(
            message_of(&got).starts_with("the path has %ff, which does not decode to UTF-8 text"),
            "{got}"
        );
    }
}

#[tokio::test]
async fn predictions_vary_with_accept_language() {
    let s = start().await;
    for body in [PASSENGER, r#"{"Age": "x"}"#] {
        let r = s
            .post("/api/v1/predict", "application/json", body.to_string())
            .await;
        let vary: Vec<String> = r
            .headers()
            .get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        assert!(vary.contains(&"accept-language".into()), "{body}: {vary:?}");
    }
}

#[tokio::test]
async fn mlflow_dataframe_split_index_has_one_label_per_row() {
    let s = start().await;
    let split = |index: &str| {
        format!(
            r#"{{"dataframe_split": {{"columns": ["Pclass","Sex","Age","SibSp","Parch","Fare","Embarked"],
                "data": [[3,"male",22,1,0,7.25,"S"], [1,"female",38,1,0,71.28,"C"]]{index}}}}}"#
        )
    };
    // As pandas takes it: left out, null, or one label (of any kind) per row.
    for index in [
        "",
        r#", "index": null"#,
        r#", "index": [0, 1]"#,
        r#", "index": ["a", 7.5]"#,
    ] {
        let (st, _, got) = s.post_json("/invocations", &split(index)).await;
        assert_eq!(st, 200, "{index}: {got}");
        assert_eq!(got, r#"{"predictions":[0,1]}"#);
    }
    for (index, want) in [
        (
            r#", "index": [0]"#,
            "dataframe_split index has 1 label for 2 rows of data; give one label per row, or leave index out",
        ),
        (
            r#", "index": [0, 1, 2]"#,
            "dataframe_split index has 3 labels for 2 rows of data; give one label per row, or leave index out",
        ),
        (
            r#", "index": 5"#,
            "dataframe_split index must be an array with one label per row of data (2), or left out; got a number",
        ),
        (
            r#", "index": {"0": 0, "1": 1}"#,
            "dataframe_split index must be an array with one label per row of data (2), or left out; got an object",
        ),
    ] {
        let (st, _, got) = s.post_json("/invocations", &split(index)).await;
        assert_eq!(st, 400, "{index}: {got}");
        let v: Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["error_code"], "BAD_REQUEST", "{got}");
        assert_eq!(v["message"], want, "{index}");
    }
}

#[tokio::test]
async fn predict_refuses_a_language_it_does_not_speak() {
    let s = start().await;
    let (st, ct, got) = s.post_json("/api/v1/predict?lang=fr", PASSENGER).await;
    assert_eq!(
        (st, ct.as_str()),
        (400, "application/problem+json"),
        "{got}"
    );
    assert_eq!(
        message_of(&got),
        r#"the query parameter lang is "fr"; use en or es (or leave it out: then Accept-Language, else en)"#
    );
    let (st, _, got) = s.post_json("/api/v1/predict?lang=es-MX", PASSENGER).await;
    assert_eq!(st, 200, "{got}");
    assert!(got.contains("El pasajero"), "{got}");
    // Endpoints that take no language ignore it, as any other parameter.
    for (path, body) in [
        (
            "/invocations?lang=fr",
            r#"{"dataframe_records": [{"Pclass":3,"Sex":"male","SibSp":0,"Parch":0}]}"#,
        ),
        (
            "/v2/models/titanic/infer?lang=fr",
            r#"{"inputs":[{"name":"Pclass","shape":[1],"datatype":"INT64","data":[3]},{"name":"Sex","shape":[1],"datatype":"BYTES","data":["male"]},{"name":"SibSp","shape":[1],"datatype":"INT64","data":[0]},{"name":"Parch","shape":[1],"datatype":"INT64","data":[0]}]}"#,
        ),
    ] {
        let (st, _, got) = s.post_json(path, body).await;
        assert_eq!(st, 200, "{path}: {got}");
    }
}

/// Sends `head` (a request's head, without its body) on a new connection
/// and reads what comes back until the first answer's head is complete.
fn first_answer(addr: std::net::SocketAddr, head: &str) -> (std::net::TcpStream, String) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    socket.write_all(head.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    (socket, String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn a_body_announced_over_the_limit_gets_413_without_100_continue() {
    let s = start().await;
    let addr = s.addr;
    tokio::task::spawn_blocking(move || {
        let over = |path: &str, content_type: &str, length: usize| {
            format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
            )
        };
        for (path, content_type, limit) in [
            ("/api/v1/predict", "application/json", 1 << 20),
            ("/invocations", "application/json", 1 << 20),
            ("/v2/models/titanic/infer", "application/json", 1 << 20),
            ("/predict", "application/x-www-form-urlencoded", 1 << 20),
            ("/batch", "text/csv", 32 << 20),
        ] {
            let (_, answer) = first_answer(addr, &over(path, content_type, limit + 1));
            assert!(answer.starts_with("HTTP/1.1 413 "), "{path}: {answer}");
        }
        // Within the limit: 100 Continue, then the answer once the body is sent.
        use std::io::{Read, Write};
        let (mut socket, answer) = first_answer(
            addr,
            &over("/api/v1/predict", "application/json", PASSENGER.len()),
        );
        assert!(answer.starts_with("HTTP/1.1 100 Continue\r\n"), "{answer}");
        socket.write_all(PASSENGER.as_bytes()).unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.read(&mut buf).unwrap();
        let rest = String::from_utf8_lossy(&buf[..n]);
        assert!(rest.starts_with("HTTP/1.1 200 "), "{rest}");
    })
    .await
    .unwrap();
}
