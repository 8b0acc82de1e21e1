//! Applying a schema the user wrote (`--schema`) to an imported model: it
//! renames and labels the inputs, adds ranges and translations, and may
//! present a numeric-coded input (Sex as 0/1) as labelled categories. It
//! must describe the same inputs the model takes; every mismatch is named.
//!
//! Fields are matched by name when the model was trained on named columns,
//! and by position when it saw a bare array (`x0`, `x1`, ...).

use crate::model::{Model, Step};
use crate::quote::quoted;
use crate::schema::{FieldKind, Schema, TargetKind};

use super::SklearnError;

pub fn apply(mut model: Model, user: Schema, named: bool) -> Result<Model, SklearnError> {
    user.check()
        .map_err(|e| SklearnError::Schema(e.to_string()))?;
    let derived = &model.schema;
    let err = |why: String| SklearnError::Schema(why);
    if user.fields.len() != derived.fields.len() {
        let names: Vec<&str> = derived.field_names().collect();
        return Err(err(format!(
            "it lists {} fields but the model takes {} inputs ({})",
            user.fields.len(),
            derived.fields.len(),
            names.join(", ")
        )));
    }
    // user field index -> derived field index
    let mut source = Vec::with_capacity(user.fields.len());
    for (i, f) in user.fields.iter().enumerate() {
        let d = if named {
            derived.field_index(&f.name).ok_or_else(|| {
                err(format!(
                    "field {} is not an input of the model; its inputs are {}",
                    quoted(&f.name),
                    derived.field_names().collect::<Vec<_>>().join(", ")
                ))
            })?
        } else {
            i
        };
        source.push(d);
    }
    let mut columns = std::mem::take(&mut model.preprocessor.columns);
    // The derived field of each column, before any is renumbered.
    let original: Vec<usize> = columns.iter().map(|c| c.field as usize).collect();
    for (u, (uf, &d)) in user.fields.iter().zip(&source).enumerate() {
        let df = &derived.fields[d];
        if uf.optional && !df.optional {
            return Err(err(format!(
                "field {} is optional, but the scikit-learn model cannot take a missing {} (nothing imputes it); set optional = false",
                quoted(&uf.name),
                quoted(&df.name)
            )));
        }
        let reading: Vec<usize> = (0..columns.len()).filter(|c| original[*c] == d).collect();
        match (&df.kind, &uf.kind) {
            (
                FieldKind::Number(_),
                FieldKind::Number(_) | FieldKind::Integer(_) | FieldKind::Boolean,
            ) => {}
            (FieldKind::Number(_), FieldKind::Category(spec)) => {
                // A numeric-coded input shown as categories: each value is its code.
                let codes: Vec<f64> = spec
                    .values
                    .iter()
                    .map(|c| {
                        c.value.trim().parse::<f64>().map_err(|_| {
                            err(format!(
                                "field {}: the model takes a number here, so every category value must be a number, not {}",
                                quoted(&uf.name),
                                quoted(&c.value)
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                for c in &reading {
                    let steps = &mut columns[*c].steps;
                    let mut head = Vec::new();
                    if let Some(Step::ImputeNumber(v)) = steps.first().cloned() {
                        let Some(k) = codes.iter().position(|code| *code == v) else {
                            return Err(err(format!(
                                "field {}: the model fills a missing value with {v}, which is not one of its values",
                                quoted(&uf.name)
                            )));
                        };
                        steps.remove(0);
                        head.push(Step::ImputeCategory(k as u32));
                    }
                    head.push(Step::Ordinal {
                        codes: codes.clone(),
                        unseen: f64::NAN,
                        missing: f64::NAN,
                    });
                    head.append(steps);
                    *steps = head;
                }
            }
            (FieldKind::Category(dspec), FieldKind::Category(uspec)) => {
                if uspec.open && !dspec.open {
                    return Err(err(format!(
                        "field {} is open, but the model's encoder refuses values it did not see; set open = false",
                        quoted(&uf.name)
                    )));
                }
                let dvals: Vec<&str> = dspec.values.iter().map(|c| c.value.as_str()).collect();
                let uvals: Vec<&str> = uspec.values.iter().map(|c| c.value.as_str()).collect();
                let mut same = dvals.clone();
                same.sort_unstable();
                let mut other = uvals.clone();
                other.sort_unstable();
                if same != other {
                    return Err(err(format!(
                        "field {} lists the values {} but the model knows {}",
                        quoted(&uf.name),
                        uvals.join(", "),
                        dvals.join(", ")
                    )));
                }
                // derived category index -> user category index
                let map: Vec<u32> = dvals
                    .iter()
                    .map(|v| uvals.iter().position(|u| u == v).unwrap_or(0) as u32)
                    .collect();
                for c in &reading {
                    for step in &mut columns[*c].steps {
                        match step {
                            Step::ImputeCategory(k) => *k = map[*k as usize],
                            Step::Indicator {
                                category: Some(k), ..
                            } => *k = map[*k as usize],
                            Step::Ordinal { codes, unseen, .. } => {
                                let mut permuted = vec![*unseen; uvals.len()];
                                for (di, code) in codes.iter().enumerate() {
                                    if let Some(ui) = map.get(di) {
                                        permuted[*ui as usize] = *code;
                                    }
                                }
                                *codes = permuted;
                            }
                            _ => {}
                        }
                    }
                }
            }
            (dk, uk) => {
                return Err(err(format!(
                    "field {} is a {} field, but the model reads {} as {}",
                    quoted(&uf.name),
                    kind_name(uk),
                    quoted(&df.name),
                    match dk {
                        FieldKind::Category(_) => "categories",
                        _ => "a number",
                    }
                )));
            }
        }
        for c in reading {
            columns[c].field = u as u32;
        }
    }
    model.preprocessor.columns = columns;
    let target = match (&derived.target.kind, user.target.kind.clone()) {
        (TargetKind::Classes(dc), TargetKind::Classes(uc)) => {
            let mut classes = Vec::with_capacity(dc.len());
            for d in dc {
                let Some(u) = uc.iter().find(|u| u.value == d.value) else {
                    return Err(err(format!(
                        "the target lists the classes {} but the model predicts {}",
                        uc.iter()
                            .map(|c| c.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        dc.iter()
                            .map(|c| c.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                };
                classes.push(u.clone());
            }
            if uc.len() != dc.len() {
                return Err(err(format!(
                    "the target lists {} classes but the model predicts {}",
                    uc.len(),
                    dc.len()
                )));
            }
            TargetKind::Classes(classes)
        }
        (TargetKind::Value { .. }, kind @ TargetKind::Value { .. }) => kind,
        (TargetKind::Classes(_), TargetKind::Value { .. }) => {
            return Err(err(
                "the target is a value, but the model is a classifier; list its classes".into(),
            ));
        }
        (TargetKind::Value { .. }, TargetKind::Classes(_)) => {
            return Err(err(
                "the target lists classes, but the model is a regressor; use kind = \"value\""
                    .into(),
            ));
        }
    };
    let description = if user.description.is_empty() {
        derived.description.clone()
    } else {
        user.description.clone()
    };
    let mut schema = user;
    schema.target.kind = target;
    schema.description = description;
    model.schema = schema;
    Ok(model)
}

fn kind_name(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Number(_) => "number",
        FieldKind::Integer(_) => "integer",
        FieldKind::Category(_) => "category",
        FieldKind::Boolean => "boolean",
    }
}
