//! `OrdinalEncoder`: category k of each input becomes the number k. As in
//! scikit-learn's `transform`: a missing value is `encoded_missing_value`
//! when NaN was a category in training; otherwise it is unknown, like an
//! unseen value, which becomes `unknown_value` with
//! `handle_unknown="use_encoded_value"` and is an error with `"error"`.

use super::SklearnError;
use super::categories;
use super::features::{CatValue, Col, Encoding, Fields, Out};
use super::object::Obj;
use crate::quote::quoted;

pub fn apply(encoder: &Obj, cols: Vec<Col>, fields: &mut Fields) -> Result<Vec<Col>, SklearnError> {
    if encoder.has("_infrequent_enabled") && encoder.bool("_infrequent_enabled")? {
        return Err(SklearnError::Unsupported {
            class: "OrdinalEncoder".into(),
            why: "min_frequency / max_categories group infrequent categories".into(),
        });
    }
    let unknown = match encoder.string("handle_unknown")? {
        "use_encoded_value" => Out::Value(encoder.number("unknown_value")?),
        "error" => Out::Raises,
        other => {
            return Err(encoder.bad(
                "handle_unknown",
                format!("{} is not known to lifeboat", quoted(other)),
            ));
        }
    };
    let encoded_missing = if encoder.has("encoded_missing_value") {
        encoder.number("encoded_missing_value")?
    } else {
        f64::NAN
    };
    let lists = encoder.items("categories_")?;
    if lists.len() != cols.len() {
        return Err(encoder.bad(
            "categories_",
            format!("has {} lists for {} input columns", lists.len(), cols.len()),
        ));
    }
    let mut out = Vec::with_capacity(cols.len());
    for (col, list) in cols.iter().zip(lists) {
        let cats = categories::values(encoder.pickle, *list)
            .ok_or_else(|| encoder.bad("categories_", "should hold arrays of categories"))?;
        let has_missing = cats.iter().any(Option::is_none);
        let table: Vec<(CatValue, Out)> = cats
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.clone().map(|c| (c, Out::Value(k as f64))))
            .collect();
        let encoding = Encoding {
            table,
            unseen: unknown,
            missing: if has_missing {
                Out::Value(encoded_missing)
            } else {
                unknown
            },
        };
        out.push(fields.encode(col, encoding, col.name.clone(), "OrdinalEncoder")?);
    }
    Ok(out)
}
