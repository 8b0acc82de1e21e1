//! `OneHotEncoder`: one 0/1 column per category of each input (`drop_idx_`
//! left out). As in scikit-learn's `_transform`, a value not in
//! `categories_` (including a missing value when NaN was not a category) is
//! all zeros with `handle_unknown="ignore"` (and with `"infrequent_if_exist"`
//! / `"warn"` when no category is infrequent) and an error with `"error"`.

use super::SklearnError;
use super::categories;
use super::features::{CatValue, Col, Encoding, Fields, Out};
use super::object::Obj;
use crate::quote::quoted;

pub fn apply(encoder: &Obj, cols: Vec<Col>, fields: &mut Fields) -> Result<Vec<Col>, SklearnError> {
    if encoder.has("_infrequent_enabled") && encoder.bool("_infrequent_enabled")? {
        return Err(SklearnError::Unsupported {
            class: "OneHotEncoder".into(),
            why: "min_frequency / max_categories group infrequent categories".into(),
        });
    }
    let ignore = match encoder.string("handle_unknown")? {
        "ignore" | "infrequent_if_exist" | "warn" => true,
        "error" => false,
        other => {
            return Err(encoder.bad(
                "handle_unknown",
                format!("{} is not known to lifeboat", quoted(other)),
            ));
        }
    };
    let lists = encoder.items("categories_")?;
    if lists.len() != cols.len() {
        return Err(encoder.bad(
            "categories_",
            format!("has {} lists for {} input columns", lists.len(), cols.len()),
        ));
    }
    let drops = dropped(encoder, cols.len())?;
    let mut out = Vec::new();
    for ((col, list), drop) in cols.iter().zip(lists).zip(drops) {
        let cats = categories::values(encoder.pickle, *list)
            .ok_or_else(|| encoder.bad("categories_", "should hold arrays of categories"))?;
        let has_missing = cats.iter().any(Option::is_none);
        let unknown = if ignore { Out::Value(0.0) } else { Out::Raises };
        for (k, this) in cats.iter().enumerate() {
            if drop == Some(k) {
                continue;
            }
            let table: Vec<(CatValue, Out)> = cats
                .iter()
                .flatten()
                .map(|c| {
                    (
                        c.clone(),
                        Out::Value(if Some(c) == this.as_ref() { 1.0 } else { 0.0 }),
                    )
                })
                .collect();
            let missing = if has_missing {
                Out::Value(if this.is_none() { 1.0 } else { 0.0 })
            } else {
                unknown
            };
            let label = this
                .as_ref()
                .map_or_else(|| "nan".to_string(), CatValue::text);
            let encoding = Encoding {
                table,
                unseen: unknown,
                missing,
            };
            out.push(fields.encode(
                col,
                encoding,
                format!("{}_{label}", col.name),
                "OneHotEncoder",
            )?);
        }
    }
    Ok(out)
}

/// The dropped category of each input (`drop_idx_`), if any.
fn dropped(encoder: &Obj, n: usize) -> Result<Vec<Option<usize>>, SklearnError> {
    if encoder.is_none("drop_idx_") {
        return Ok(vec![None; n]);
    }
    let id = encoder
        .get("drop_idx_")
        .ok_or_else(|| encoder.bad("drop_idx_", "is missing"))?;
    let values = categories::values(encoder.pickle, id)
        .ok_or_else(|| encoder.bad("drop_idx_", "should be an array of indices"))?;
    if values.len() != n {
        return Err(encoder.bad(
            "drop_idx_",
            format!("has {} entries for {n} inputs", values.len()),
        ));
    }
    values
        .into_iter()
        .map(|v| match v {
            None => Ok(None),
            Some(CatValue::Number(i)) if i >= 0.0 && i.fract() == 0.0 => Ok(Some(i as usize)),
            Some(_) => Err(encoder.bad("drop_idx_", "holds something that is not an index")),
        })
        .collect()
}
