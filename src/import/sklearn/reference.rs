//! Reference rows for imported models: a few inputs built from the schema
//! alone (no training data is in the file), recorded with their answers so
//! that every later load of the converted model checks itself.

use crate::model::{Model, Step};
use crate::schema::{Cell, FieldKind, Row};

/// Three rows: typical values, other values, and every optional field left out.
pub fn rows(model: &Model) -> Vec<Row> {
    let fields = &model.schema.fields;
    let imputed = |field: usize| {
        model
            .preprocessor
            .columns
            .iter()
            .filter(|c| c.field as usize == field)
            .find_map(|c| {
                c.steps.iter().find_map(|s| match s {
                    Step::ImputeNumber(v) => Some(*v),
                    _ => None,
                })
            })
    };
    let cell = |i: usize, second: bool| -> Cell {
        let f = &fields[i];
        match &f.kind {
            FieldKind::Number(spec) | FieldKind::Integer(spec) => {
                let typical = imputed(i).unwrap_or(0.0);
                let v = if second { typical + 1.0 } else { typical };
                let v = if matches!(f.kind, FieldKind::Integer(_)) {
                    v.round()
                } else {
                    v
                };
                let v = spec.min.map_or(v, |m| v.max(m));
                Cell::Number(spec.max.map_or(v, |m| v.min(m)))
            }
            FieldKind::Boolean => Cell::Number(if second { 1.0 } else { 0.0 }),
            FieldKind::Category(spec) => {
                let n = spec.values.len().max(1) as u32;
                Cell::Category(if second { n - 1 } else { 0 })
            }
        }
    };
    let first = Row {
        cells: (0..fields.len()).map(|i| cell(i, false)).collect(),
    };
    let second = Row {
        cells: (0..fields.len()).map(|i| cell(i, true)).collect(),
    };
    let mut rows = vec![first.clone(), second];
    if fields.iter().any(|f| f.optional) {
        let cells = fields
            .iter()
            .zip(first.cells)
            .map(|(f, c)| if f.optional { Cell::Missing } else { c })
            .collect();
        rows.push(Row { cells });
    }
    rows
}
