//! The model card as data: everything a person or program may want to know
//! about a model (what it takes, what it answers, how it was made, how good it
//! is), in one JSON document. `lifeboat inspect --json` prints it and the web
//! app serves it at `/api/v1/model`, so the two never disagree.

use serde_json::{Value, json};

use crate::model::Estimator;
use crate::model::file::Loaded;
use crate::model::report::{Metrics, Origin};
use crate::schema::{Cell, Field, FieldKind, Lang, TargetKind, Text};

fn text(t: &Text) -> Value {
    json!({ "en": t.en, "es": t.get(Lang::Es) })
}

/// The JSON description of one input field.
pub fn field(f: &Field) -> Value {
    let mut v = json!({
        "name": f.name,
        "label": text(&f.label),
        "help": text(&f.help),
        "optional": f.optional,
        "default": f.default,
    });
    let (kind, extra) = match &f.kind {
        FieldKind::Number(s) | FieldKind::Integer(s) => (
            if matches!(f.kind, FieldKind::Integer(_)) {
                "integer"
            } else {
                "number"
            },
            json!({ "min": s.min, "max": s.max, "step": s.step,
                    "unit": s.unit.as_ref().map(text) }),
        ),
        FieldKind::Category(s) => (
            "category",
            json!({
                "values": s.values.iter()
                    .map(|c| json!({ "value": c.value, "label": text(&c.label) }))
                    .collect::<Vec<_>>(),
                "open": s.open,
            }),
        ),
        FieldKind::Boolean => ("boolean", json!({})),
    };
    v["kind"] = json!(kind);
    if let (Value::Object(map), Value::Object(more)) = (&mut v, extra) {
        map.extend(more);
    }
    v
}

fn metrics(m: &Metrics) -> Value {
    json!({
        "accuracy": m.accuracy,
        "accuracy_std": m.accuracy_std,
        "roc_auc": m.roc_auc,
        "log_loss": m.log_loss,
        "confusion_matrix": m.confusion,
    })
}

fn params(p: &[(String, String)]) -> Value {
    Value::Object(p.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// For linear models, the weight of each feature per output and the intercepts.
fn coefficients(loaded: &Loaded) -> Value {
    let model = &loaded.model;
    let Estimator::Linear(linear) = &model.estimator else {
        return Value::Null;
    };
    let names = model.preprocessor.columns.iter().map(|c| c.name.clone());
    let n = linear.n_features();
    let outputs: Vec<Value> = (0..linear.n_outputs())
        .map(|k| {
            let weights: serde_json::Map<String, Value> = names
                .clone()
                .zip(&linear.weights[k * n..(k + 1) * n])
                .map(|(name, w)| (name, json!(w)))
                .collect();
            json!({ "intercept": linear.intercepts[k], "weights": weights })
        })
        .collect();
    json!(outputs)
}

/// For models explained against a baseline input (ONNX graphs): that input,
/// field by field, as text ("missing" for a missing value).
pub fn explanation_baseline(model: &crate::model::Model) -> Option<Vec<(String, String)>> {
    let Estimator::Onnx(onnx) = &model.estimator else {
        return None;
    };
    Some(
        model
            .schema
            .fields
            .iter()
            .zip(&onnx.baseline.cells)
            .map(|(f, cell)| {
                let text = match (cell, &f.kind) {
                    (Cell::Missing, _) => "missing".to_string(),
                    (Cell::Number(x), _) => x.to_string(),
                    (Cell::Category(i), FieldKind::Category(spec)) => spec
                        .values
                        .get(*i as usize)
                        .map_or_else(|| format!("#{i}"), |c| c.value.clone()),
                    (Cell::Category(i), _) => format!("#{i}"),
                    (Cell::Unseen, _) => "(an unseen value)".to_string(),
                };
                (f.name.clone(), text)
            })
            .collect(),
    )
}

/// The whole card.
pub fn card(loaded: &Loaded) -> Value {
    let model = &loaded.model;
    let schema = &model.schema;
    let report = &model.report;
    let target = match &schema.target.kind {
        TargetKind::Classes(classes) => json!({
            "name": schema.target.name,
            "label": text(&schema.target.label),
            "kind": "classes",
            "classes": classes.iter()
                .map(|c| json!({ "value": c.value, "label": text(&c.label) }))
                .collect::<Vec<_>>(),
        }),
        TargetKind::Value { unit } => json!({
            "name": schema.target.name,
            "label": text(&schema.target.label),
            "kind": "value",
            "unit": unit.as_ref().map(text),
        }),
    };
    let origin = match &report.origin {
        Origin::Trained {
            data_file,
            data_sha256,
            rows,
            skipped_rows,
            seed,
        } => json!({
            "kind": "trained",
            "data_file": data_file,
            "data_sha256": data_sha256,
            "rows": rows,
            "skipped_rows": skipped_rows,
            "seed": seed,
        }),
        Origin::Imported {
            format,
            file_name,
            file_sha256,
            producer,
        } => json!({
            "kind": "imported",
            "format": format,
            "file_name": file_name,
            "file_sha256": file_sha256,
            "producer": producer,
        }),
    };
    let cv = report.cross_validation.as_ref().map(|cv| {
        json!({
            "folds": cv.folds,
            "chosen": cv.results.get(cv.chosen as usize).map(|r| r.learner.clone()),
            "results": cv.results.iter().map(|r| json!({
                "learner": r.learner,
                "params": params(&r.params),
                "metrics": metrics(&r.metrics),
            })).collect::<Vec<_>>(),
        })
    });
    let importance: Vec<Value> = schema
        .fields
        .iter()
        .zip(&report.field_importance)
        .map(|(f, v)| json!({ "field": f.name, "mean_abs_contribution": v }))
        .collect();
    json!({
        "name": schema.name,
        "version": loaded.version(),
        "sha256": loaded.sha256,
        "title": text(&schema.title),
        "description": text(&schema.description),
        "inputs": schema.fields.iter().map(field).collect::<Vec<_>>(),
        "target": target,
        "estimator": {
            "learner": report.learner,
            "family": model.estimator.family(),
            "params": params(&report.params),
            "features": model.preprocessor.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "explanation_units": model.units().describe(),
            // ONNX graphs are explained by baseline Shapley values: each field's
            // share of the change from the answer for this input.
            "explanation_baseline": explanation_baseline(model).map(|b| {
                Value::Object(b.into_iter().map(|(k, v)| (k, json!(v))).collect())
            }),
        },
        "provenance": {
            "created": report.created,
            "lifeboat_version": report.lifeboat_version,
            "origin": origin,
        },
        "coefficients": coefficients(loaded),
        "cross_validation": cv,
        "importance": importance,
    })
}
