//! Scoring a CSV file, streaming: one record in, one record out, so memory
//! stays flat on a file of any size. Shared by `lifeboat predict` and the
//! web app's /batch page.
//!
//! The output holds every input column unchanged, then `prediction` (the class
//! value), `label` (the class in words) and one `probability_<class>` column
//! per class (regression: `prediction` only); with explanations, `base` and
//! one `contribution_<field>` column per field. A row that fails validation
//! is reported with its line number and left out, unless the run is strict.

use std::io::{Read, Write};

use crate::model::{Model, Prediction, Scratch};
use crate::schema::validate::{ColumnError, ColumnMap};
use crate::schema::{Lang, RowErrors};

/// At most this many failed rows are kept with their messages (all are counted).
pub const KEEP_ERRORS: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    pub explain: bool,
    /// Stop at the first bad row instead of skipping it.
    pub strict: bool,
    /// The language of the `label` column.
    pub lang: Lang,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchSummary {
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub predicted: u64,
    /// Rows predicted per class (index into the schema's classes); one entry,
    /// all rows, for a regressor.
    pub per_class: Vec<u64>,
    pub failed: u64,
    /// The first failures, in file order.
    pub errors: Vec<RowFailure>,
    /// Input columns the model does not use (kept in the output).
    pub unused_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("the file has no header line; the first line must name the columns")]
    NoHeader,
    #[error("the header cannot be read: {0}")]
    Header(String),
    #[error(transparent)]
    Columns(#[from] ColumnError),
    #[error(
        "the input already has a column named {0:?}, which the output adds; rename that column"
    )]
    Clash(String),
    #[error("line {line}: {message} (stopped because the run is strict)")]
    Strict { line: u64, message: String },
    #[error("line {line}: the file cannot be read as CSV: {message}")]
    Csv { line: u64, message: String },
    #[error("cannot write the output: {0}")]
    Write(String),
}

/// Progress of a run: bytes of input read and rows done so far.
#[derive(Debug, Clone, Copy)]
pub struct BatchProgress {
    pub bytes: u64,
    pub rows: u64,
}

/// Scores every record of `input` into `output`. `on_failure` sees each bad
/// row as it happens; `on_progress` is called every few thousand rows.
pub fn score_csv(
    model: &Model,
    input: impl Read,
    output: impl Write,
    options: &BatchOptions,
    on_failure: &mut dyn FnMut(&RowFailure),
    on_progress: &mut dyn FnMut(BatchProgress),
) -> Result<BatchSummary, BatchError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let mut writer = csv::Writer::from_writer(output);
    let mut header = csv::ByteRecord::new();
    match reader.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(BatchError::NoHeader),
        Err(e) => return Err(BatchError::Header(e.to_string())),
    }
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let schema = &model.schema;
    let columns = ColumnMap::new(schema, names.iter().map(String::as_str))?;
    let added = output_columns(model, options.explain);
    if let Some(clash) = added.iter().find(|a| names.contains(a)) {
        return Err(BatchError::Clash(clash.clone()));
    }
    let write_err = |e: csv::Error| BatchError::Write(e.to_string());
    let mut out = header.clone();
    for a in &added {
        out.push_field(a.as_bytes());
    }
    writer.write_byte_record(&out).map_err(write_err)?;

    let mut summary = BatchSummary {
        unused_columns: columns.unused.iter().map(|(_, n)| n.clone()).collect(),
        ..Default::default()
    };
    let mut record = csv::ByteRecord::new();
    let mut scratch = Scratch::default();
    let mut number = ryu::Buffer::new();
    let width = names.len();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(summary.rows + 2, |p| p.line());
                return Err(BatchError::Csv {
                    line,
                    message: e.to_string(),
                });
            }
        }
        summary.rows += 1;
        let line = record.position().map_or(summary.rows + 1, |p| p.line());
        let result = score_record(model, &columns, &record, width, options, &mut scratch);
        match result {
            Ok(answer) => {
                out.clear();
                for f in record.iter() {
                    out.push_field(f);
                }
                // A short record gets empty cells so every output row has every column.
                for _ in record.len()..width {
                    out.push_field(b"");
                }
                let class = match answer.prediction {
                    Prediction::Class { index, .. } => index,
                    Prediction::Value(_) => 0,
                };
                if summary.per_class.len() <= class {
                    summary.per_class.resize(class + 1, 0);
                }
                summary.per_class[class] += 1;
                answer.push_fields(model, options.lang, &mut out, &mut number);
                writer.write_byte_record(&out).map_err(write_err)?;
                summary.predicted += 1;
            }
            Err(message) => {
                if options.strict {
                    return Err(BatchError::Strict { line, message });
                }
                let failure = RowFailure { line, message };
                on_failure(&failure);
                summary.failed += 1;
                if summary.errors.len() < KEEP_ERRORS {
                    summary.errors.push(failure);
                }
            }
        }
        if summary.rows.is_multiple_of(4096) {
            on_progress(BatchProgress {
                bytes: reader.position().byte(),
                rows: summary.rows,
            });
        }
    }
    writer
        .flush()
        .map_err(|e| BatchError::Write(e.to_string()))?;
    on_progress(BatchProgress {
        bytes: reader.position().byte(),
        rows: summary.rows,
    });
    Ok(summary)
}

/// The names of the columns the output adds.
pub fn output_columns(model: &Model, explain: bool) -> Vec<String> {
    let mut cols = vec!["prediction".to_string()];
    let classes = model.schema.classes();
    if !classes.is_empty() {
        cols.push("label".into());
        cols.extend(classes.iter().map(|c| format!("probability_{}", c.value)));
    }
    if explain {
        cols.push("base".into());
        cols.extend(
            model
                .schema
                .fields
                .iter()
                .map(|f| format!("contribution_{}", f.name)),
        );
    }
    cols
}

struct Answer {
    prediction: Prediction,
    explanation: Option<(f64, Vec<f64>)>,
}

fn score_record(
    model: &Model,
    columns: &ColumnMap,
    record: &csv::ByteRecord,
    width: usize,
    options: &BatchOptions,
    scratch: &mut Scratch,
) -> Result<Answer, String> {
    if record.len() > width {
        return Err(format!(
            "the row has {} cells but the header names {width} columns",
            record.len()
        ));
    }
    let mut bad_utf8 = None;
    let cell = |i: usize| record.get(i).and_then(|b| std::str::from_utf8(b).ok());
    for (i, b) in record.iter().enumerate() {
        if std::str::from_utf8(b).is_err() {
            bad_utf8 = Some(i);
            break;
        }
    }
    if let Some(i) = bad_utf8 {
        return Err(format!("cell {} is not valid UTF-8 text", i + 1));
    }
    let row = columns
        .parse_strings(&model.schema, cell)
        .map_err(|e: RowErrors| e.to_string())?;
    if options.explain {
        let (prediction, e) = model.explain(&row);
        Ok(Answer {
            prediction,
            explanation: Some((e.base, e.contributions)),
        })
    } else {
        Ok(Answer {
            prediction: model.predict_with(&row, scratch),
            explanation: None,
        })
    }
}

impl Answer {
    fn push_fields(
        &self,
        model: &Model,
        lang: Lang,
        out: &mut csv::ByteRecord,
        number: &mut ryu::Buffer,
    ) {
        match &self.prediction {
            Prediction::Class {
                index,
                probabilities,
            } => {
                let class = &model.schema.classes()[*index];
                out.push_field(class.value.as_bytes());
                out.push_field(class.label.get(lang).as_bytes());
                for p in probabilities {
                    out.push_field(number.format(*p).as_bytes());
                }
            }
            Prediction::Value(v) => out.push_field(number.format(*v).as_bytes()),
        }
        if let Some((base, contributions)) = &self.explanation {
            out.push_field(number.format(*base).as_bytes());
            for c in contributions {
                out.push_field(number.format(*c).as_bytes());
            }
        }
    }
}
