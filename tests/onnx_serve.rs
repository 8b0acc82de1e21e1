//! An ONNX file served by `lifeboat serve`: the same form and APIs as a
//! native model, with onnxruntime's answers (from the committed fixtures).

#![cfg(feature = "onnx")]

mod common;

use common::{parts, start_with};
use lifeboat::serve::ServeConfig;
use serde_json::{Map, Value, json};

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx")
}

/// The held-out rows and onnxruntime's answers for one fixture.
fn fixture(name: &str) -> (Vec<Map<String, Value>>, Vec<Value>) {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    let spec = expected["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["file"] == name)
        .unwrap()
        .clone();
    let rows = expected["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect();
    (rows, spec["answers"].as_array().unwrap().clone())
}

/// Rows without missing values (JSON null is fine for the API; the form test
/// wants every field filled).
fn complete(rows: &[Map<String, Value>]) -> Vec<usize> {
    (0..rows.len())
        .filter(|&i| rows[i].values().all(|v| !v.is_null()))
        .collect()
}

#[tokio::test]
async fn an_onnx_pipeline_serves_the_form_and_every_api() {
    let file = "pipe_lr.zipmap.onnx";
    let (rows, answers) = fixture(file);
    let s = start_with(ServeConfig {
        model: Some(fixtures().join(file).display().to_string()),
        ..Default::default()
    })
    .await;
    let fields: Vec<String> = s
        .state
        .model()
        .schema
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let input = |i: usize| -> Value {
        let mut row = rows[i].clone();
        row.retain(|k, _| fields.contains(k));
        Value::Object(row)
    };

    // Our API, a batch of every held-out row (missing values included).
    let batch = Value::Array((0..rows.len()).map(input).collect());
    let (status, _, body) = s.post_json("/api/v1/predict", &batch.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let got: Value = serde_json::from_str(&body).unwrap();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), answers.len());
    for (i, (p, want)) in got.iter().zip(&answers).enumerate() {
        let proba = want["proba"].as_array().unwrap();
        for (class, w) in ["0", "1"].iter().zip(proba) {
            let g = p["probabilities"][class].as_f64().unwrap();
            assert!(
                (g - w.as_f64().unwrap()).abs() <= 1e-5,
                "row {i}: {p} vs {want}"
            );
        }
        assert_eq!(p["class"], want["label"], "row {i}");
    }

    // Explanations come with the answer.
    let (status, _, body) = s
        .post_json("/api/v1/predict?explain=true", &input(0).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"contributions\""), "{body}");

    // MLflow answers too; health and the model card know the model.
    let records = json!({ "dataframe_records": [input(0), input(1)] });
    let (status, _, body) = s.post_json("/invocations", &records.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(got["predictions"].as_array().unwrap().len(), 2, "{body}");
    let r = s.get("/v2/health/ready").await;
    assert_eq!(r.status().as_u16(), 200);
    let r = s.get("/api/v1/model").await;
    assert_eq!(r.status().as_u16(), 200);
    let card = r.text().await.unwrap();
    assert!(card.to_lowercase().contains("onnx"), "{card}");

    // Invalid input is named per field, as for a native model.
    let (status, _, body) = s.post_json("/api/v1/predict", r#"{"Age": "abc"}"#).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("Age"), "{body}");

    // The form is generated from the graph's inputs and answers in words.
    let (status, html) = {
        let r = s.get("/").await;
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 200);
    for name in &fields {
        assert!(html.contains(&format!("name=\"{name}\"")), "{name}: {html}");
    }
    let i = complete(&rows)[0];
    let form: Vec<(String, String)> = input(i)
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&");
    let (status, ct, html) = parts(
        s.post("/predict", "application/x-www-form-urlencoded", body)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(ct.starts_with("text/html"));
    assert!(html.contains("<h1 class=\"verdict\">"), "{html}");
    assert!(html.contains("<svg class=\"chart\""), "{html}");
}
