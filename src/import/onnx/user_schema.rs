//! A user's schema (`--schema`) against the graph: the same inputs (by
//! position for a bare tensor, else by name), kinds the graph can take, and
//! the graph's classes; every mismatch is named.

use crate::quote::{name_list, quoted};
use crate::schema::{Class, FieldKind, Schema, TargetKind};

use super::OnnxImportError;
use super::convert::{Elem, Slot};
use crate::model::onnx::TensorType;

/// Checks a user's schema against the derived one and returns it with the
/// derived target kind where the user's matches. Fields are matched by
/// position for a bare tensor (x0, x1, ...), else by name.
pub(super) fn apply(
    user: Schema,
    derived: &Schema,
    slots: &[Slot],
    bare: bool,
) -> Result<Schema, OnnxImportError> {
    let err = |why: String| OnnxImportError::Schema(why);
    user.check().map_err(|e| err(e.to_string()))?;
    let names: Vec<&str> = derived.field_names().collect();
    if user.fields.len() != derived.fields.len() {
        return Err(err(format!(
            "it lists {} fields but the graph takes {} inputs ({})",
            user.fields.len(),
            derived.fields.len(),
            name_list(names.iter().copied())
        )));
    }
    for (i, uf) in user.fields.iter().enumerate() {
        let d = if bare {
            i
        } else {
            derived.field_index(&uf.name).ok_or_else(|| {
                err(format!(
                    "field {} is not an input of the graph; its inputs are {}",
                    quoted(&uf.name),
                    name_list(names.iter().copied())
                ))
            })?
        };
        let (df, slot) = (&derived.fields[d], &slots[d]);
        if uf.optional && !df.optional {
            return Err(err(format!(
                "field {} is optional, but the graph cannot take a missing {} (nothing imputes it); set optional = false",
                quoted(&uf.name),
                quoted(&df.name)
            )));
        }
        match (&uf.kind, slot.elem) {
            (FieldKind::Number(_), Elem::Numeric(TensorType::F32 | TensorType::F64))
            | (FieldKind::Integer(_) | FieldKind::Boolean, Elem::Numeric(_)) => {
                if slot.closed {
                    return Err(err(format!(
                        "field {}: the graph accepts only the values {}; make it a category field listing them",
                        quoted(&uf.name),
                        name_list(slot.categories.iter().map(String::as_str))
                    )));
                }
            }
            (FieldKind::Number(_), Elem::Numeric(_)) => {
                return Err(err(format!(
                    "field {}: the graph takes whole numbers here; use kind \"integer\"",
                    quoted(&uf.name)
                )));
            }
            (FieldKind::Category(spec), Elem::Numeric(dtype)) => {
                for c in &spec.values {
                    let Ok(v) = c.value.trim().parse::<f64>() else {
                        return Err(err(format!(
                            "field {}: the graph takes a number here, so every category value must be a number, not {}",
                            quoted(&uf.name),
                            quoted(&c.value)
                        )));
                    };
                    if matches!(dtype, TensorType::I64 | TensorType::I32) && v.fract() != 0.0 {
                        return Err(err(format!(
                            "field {}: the graph takes whole numbers here, not {}",
                            quoted(&uf.name),
                            quoted(&c.value)
                        )));
                    }
                    if slot.closed
                        && !slot
                            .categories
                            .iter()
                            .any(|k| k.parse::<f64>().ok() == Some(v))
                    {
                        return Err(err(format!(
                            "field {}: the graph does not know the value {}; it knows {}",
                            quoted(&uf.name),
                            quoted(&c.value),
                            name_list(slot.categories.iter().map(String::as_str))
                        )));
                    }
                }
                if spec.open && slot.closed {
                    return Err(err(format!(
                        "field {} is open, but the graph's encoder refuses values it did not see; set open = false",
                        quoted(&uf.name)
                    )));
                }
            }
            (FieldKind::Category(spec), Elem::Text) => {
                let unknown: Vec<&str> = spec
                    .values
                    .iter()
                    .map(|c| c.value.as_str())
                    .filter(|v| !slot.categories.iter().any(|k| k == v))
                    .collect();
                if !unknown.is_empty() && slot.closed {
                    return Err(err(format!(
                        "field {} lists {} but the graph knows only {}",
                        quoted(&uf.name),
                        name_list(unknown.iter().copied()),
                        name_list(slot.categories.iter().map(String::as_str))
                    )));
                }
                if spec.open && slot.closed {
                    return Err(err(format!(
                        "field {} is open, but the graph's encoder refuses values it did not see; set open = false",
                        quoted(&uf.name)
                    )));
                }
                if let Some(m) = &slot.missing
                    && spec.values.iter().any(|c| &c.value == m)
                {
                    return Err(err(format!(
                        "field {} lists {}, which the graph reads as missing",
                        quoted(&uf.name),
                        quoted(m)
                    )));
                }
            }
            (kind, Elem::Text) => {
                return Err(err(format!(
                    "field {} is a {} field, but the graph reads {} as text; make it a category field",
                    quoted(&uf.name),
                    kind_name(kind),
                    quoted(&df.name)
                )));
            }
        }
    }
    let target = match (&derived.target.kind, user.target.kind.clone()) {
        (TargetKind::Classes(dc), TargetKind::Classes(uc)) => {
            let values = |c: &[Class]| c.iter().map(|c| c.value.clone()).collect::<Vec<_>>();
            let mut classes = Vec::with_capacity(dc.len());
            for d in dc {
                match uc.iter().find(|u| u.value == d.value) {
                    Some(u) if uc.len() == dc.len() => classes.push(u.clone()),
                    _ => {
                        return Err(err(format!(
                            "the target lists the classes {} but the graph predicts {}",
                            values(&uc).join(", "),
                            values(dc).join(", ")
                        )));
                    }
                }
            }
            TargetKind::Classes(classes)
        }
        (TargetKind::Value { .. }, kind @ TargetKind::Value { .. }) => kind,
        (TargetKind::Classes(_), TargetKind::Value { .. }) => {
            return Err(err(
                "the target is a value, but the graph is a classifier; list its classes".into(),
            ));
        }
        (TargetKind::Value { .. }, TargetKind::Classes(_)) => {
            return Err(err(
                "the target lists classes, but the graph is a regressor; use kind = \"value\""
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
    Ok(schema)
}

fn kind_name(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Number(_) => "number",
        FieldKind::Integer(_) => "integer",
        FieldKind::Category(_) => "category",
        FieldKind::Boolean => "boolean",
    }
}
