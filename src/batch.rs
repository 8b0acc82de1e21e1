//! Scoring a CSV file, streaming: records are read, scored and written a
//! chunk of 1024 at a time, with a few chunks in flight, so memory stays flat
//! on a file of any size. Tree ensembles score a chunk tree by tree
//! ([`predict_rows`]); large inputs are scored on every core, and written in
//! file order. Shared by `lifeboat predict` and the web app's /batch page.
//!
//! The output holds every input column unchanged, then `prediction` (the class
//! value), `label` (the class in words) and one `probability_<class>` column
//! per class (regression: `prediction` only); with explanations, `base` and
//! one `contribution_<field>` column per field. A row that fails validation
//! is reported with its line number and left out, unless the run is strict.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc;

use crate::model::{Estimator, Model, Prediction, Scratch};
use crate::schema::validate::{ColumnError, ColumnMap};
use crate::schema::{Lang, Row, RowErrors};

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
///
/// Large inputs are scored on every core (see [`score_csv_threads`]).
pub fn score_csv(
    model: &Model,
    input: impl Read,
    output: impl Write,
    options: &BatchOptions,
    on_failure: &mut dyn FnMut(&RowFailure),
    on_progress: &mut dyn FnMut(BatchProgress),
) -> Result<BatchSummary, BatchError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    score_csv_threads(
        model,
        input,
        output,
        options,
        threads,
        on_failure,
        on_progress,
    )
}

/// Records read, scored and written together.
const CHUNK: usize = 1024;

/// [`score_csv`] on at most `threads` scoring threads. The calling thread
/// reads and writes; with more than one thread and more than one chunk of
/// rows, the rows are validated, predicted and formatted on `threads` others,
/// a few chunks at a time, and written back in file order. The output, the
/// summary and the order of `on_failure` calls are the same for any `threads`.
pub fn score_csv_threads(
    model: &Model,
    input: impl Read,
    output: impl Write,
    options: &BatchOptions,
    threads: usize,
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
    let mut out = header.clone();
    for a in &added {
        out.push_field(a.as_bytes());
    }
    writer.write_byte_record(&out).map_err(write_err)?;

    let mut run = Run {
        reader,
        writer,
        read: 0,
        read_error: None,
        summary: BatchSummary {
            unused_columns: columns.unused.iter().map(|(_, n)| n.clone()).collect(),
            ..Default::default()
        },
        options,
        on_failure,
        on_progress,
    };
    let scorer = Scorer {
        model,
        columns: &columns,
        width: names.len(),
        options,
    };
    let mut first = Chunk::default();
    run.read_chunk(&mut first);
    if threads <= 1 || first.len < CHUNK {
        // One thread, or a small input: score here.
        let mut state = State::default();
        let mut chunk = first;
        while chunk.len > 0 {
            scorer.score(&mut chunk, &mut state);
            run.write_chunk(&chunk)?;
            run.read_chunk(&mut chunk);
        }
    } else {
        std::thread::scope(|s| run.parallel(s, &scorer, first, threads))?;
    }
    run.finish()
}

fn write_err(e: csv::Error) -> BatchError {
    BatchError::Write(e.to_string())
}

/// A chunk of records, and then their answers; reused, so that a run
/// allocates only as many as are in flight at once.
#[derive(Default)]
struct Chunk {
    records: Vec<csv::ByteRecord>,
    len: usize,
    lines: Vec<u64>,
    /// Per record: the predicted class, or why the row failed.
    results: Vec<Result<usize, String>>,
    /// Per record: the output record (when it succeeded).
    out: Vec<csv::ByteRecord>,
    /// The input's byte position after the chunk.
    bytes: u64,
}

/// The reading and writing side of a run.
struct Run<'a, R: Read, W: Write> {
    reader: csv::Reader<R>,
    writer: csv::Writer<W>,
    /// Data records read.
    read: u64,
    /// A record that could not be read: reported once every record before it is written.
    read_error: Option<BatchError>,
    summary: BatchSummary,
    options: &'a BatchOptions,
    on_failure: &'a mut dyn FnMut(&RowFailure),
    on_progress: &'a mut dyn FnMut(BatchProgress),
}

impl<R: Read, W: Write> Run<'_, R, W> {
    /// Reads up to `CHUNK` records into `chunk` (none after the end or an error).
    fn read_chunk(&mut self, chunk: &mut Chunk) {
        chunk.len = 0;
        chunk.lines.clear();
        while chunk.len < CHUNK && self.read_error.is_none() {
            if chunk.records.len() == chunk.len {
                chunk.records.push(csv::ByteRecord::new());
            }
            let record = &mut chunk.records[chunk.len];
            match self.reader.read_byte_record(record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = e.position().map_or(self.read + 2, |p| p.line());
                    self.read_error = Some(BatchError::Csv {
                        line,
                        message: e.to_string(),
                    });
                    break;
                }
            }
            self.read += 1;
            chunk
                .lines
                .push(record.position().map_or(self.read + 1, |p| p.line()));
            chunk.len += 1;
        }
        chunk.bytes = self.reader.position().byte();
    }

    /// Writes a scored chunk and counts it, in file order.
    fn write_chunk(&mut self, chunk: &Chunk) -> Result<(), BatchError> {
        let summary = &mut self.summary;
        for i in 0..chunk.len {
            summary.rows += 1;
            match &chunk.results[i] {
                Ok(class) => {
                    if summary.per_class.len() <= *class {
                        summary.per_class.resize(class + 1, 0);
                    }
                    summary.per_class[*class] += 1;
                    self.writer
                        .write_byte_record(&chunk.out[i])
                        .map_err(write_err)?;
                    summary.predicted += 1;
                }
                Err(message) => {
                    let line = chunk.lines[i];
                    if self.options.strict {
                        return Err(BatchError::Strict {
                            line,
                            message: message.clone(),
                        });
                    }
                    let failure = RowFailure {
                        line,
                        message: message.clone(),
                    };
                    (self.on_failure)(&failure);
                    summary.failed += 1;
                    if summary.errors.len() < KEEP_ERRORS {
                        summary.errors.push(failure);
                    }
                }
            }
            if summary.rows.is_multiple_of(4096) {
                (self.on_progress)(BatchProgress {
                    bytes: chunk.bytes,
                    rows: summary.rows,
                });
            }
        }
        Ok(())
    }

    /// Scores on `threads` threads: chunk k goes to thread k mod `threads` and
    /// comes back from it, so results are written in the order they were read.
    /// At most two chunks per thread are in flight, so memory stays flat.
    fn parallel<'s>(
        &mut self,
        s: &'s std::thread::Scope<'s, '_>,
        scorer: &'s Scorer<'s>,
        first: Chunk,
        threads: usize,
    ) -> Result<(), BatchError> {
        let mut jobs = Vec::with_capacity(threads);
        let mut done = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = mpsc::sync_channel::<Chunk>(2);
            let (done_tx, done_rx) = mpsc::sync_channel::<Chunk>(2);
            s.spawn(move || {
                let mut state = State::default();
                for mut chunk in job_rx {
                    scorer.score(&mut chunk, &mut state);
                    if done_tx.send(chunk).is_err() {
                        break;
                    }
                }
            });
            jobs.push(job_tx);
            done.push(done_rx);
        }
        let mut in_flight = VecDeque::with_capacity(2 * threads);
        let mut spare = Vec::with_capacity(2 * threads);
        let mut chunk = Some(first);
        let mut next = 0;
        loop {
            while in_flight.len() < 2 * threads {
                let c = match chunk.take() {
                    Some(c) => c,
                    None => {
                        let mut c = spare.pop().unwrap_or_default();
                        self.read_chunk(&mut c);
                        c
                    }
                };
                if c.len == 0 {
                    spare.push(c);
                    break;
                }
                let to = next % threads;
                next += 1;
                jobs[to].send(c).expect("a scoring thread stopped early");
                in_flight.push_back(to);
            }
            let Some(from) = in_flight.pop_front() else {
                return Ok(());
            };
            let chunk = done[from].recv().expect("a scoring thread stopped early");
            self.write_chunk(&chunk)?;
            spare.push(chunk);
        }
    }

    fn finish(mut self) -> Result<BatchSummary, BatchError> {
        if let Some(e) = self.read_error.take() {
            return Err(e);
        }
        self.writer
            .flush()
            .map_err(|e| BatchError::Write(e.to_string()))?;
        (self.on_progress)(BatchProgress {
            bytes: self.reader.position().byte(),
            rows: self.summary.rows,
        });
        Ok(self.summary)
    }
}

/// What scoring a chunk needs; shared by the scoring threads.
struct Scorer<'a> {
    model: &'a Model,
    columns: &'a ColumnMap,
    width: usize,
    options: &'a BatchOptions,
}

/// A scoring thread's buffers.
#[derive(Default)]
struct State {
    rows: Vec<Row>,
    /// The record each row came from.
    which: Vec<usize>,
    features: Vec<f64>,
    raw: Vec<f64>,
    number: ryu::Buffer,
}

impl Scorer<'_> {
    /// Validates, predicts and formats every record of `chunk`.
    fn score(&self, chunk: &mut Chunk, state: &mut State) {
        let model = self.model;
        chunk.results.clear();
        state.rows.clear();
        state.which.clear();
        for (i, record) in chunk.records[..chunk.len].iter().enumerate() {
            match parse_record(model, self.columns, record, self.width) {
                Ok(row) => {
                    state.rows.push(row);
                    state.which.push(i);
                    chunk.results.push(Ok(0));
                }
                Err(message) => chunk.results.push(Err(message)),
            }
        }
        let answers: Vec<Answer> = if self.options.explain {
            state
                .rows
                .iter()
                .map(|row| {
                    let (prediction, e) = model.explain(row);
                    Answer {
                        prediction,
                        explanation: Some((e.base, e.contributions)),
                    }
                })
                .collect()
        } else {
            predict_rows(model, &state.rows, &mut state.features, &mut state.raw)
                .into_iter()
                .map(|prediction| Answer {
                    prediction,
                    explanation: None,
                })
                .collect()
        };
        if chunk.out.len() < chunk.len {
            chunk.out.resize(chunk.len, csv::ByteRecord::new());
        }
        for (answer, &i) in answers.iter().zip(&state.which) {
            let (record, out) = (&chunk.records[i], &mut chunk.out[i]);
            out.clear();
            for f in record.iter() {
                out.push_field(f);
            }
            // A short record gets empty cells so every output row has every column.
            for _ in record.len()..self.width {
                out.push_field(b"");
            }
            answer.push_fields(model, self.options.lang, out, &mut state.number);
            chunk.results[i] = Ok(match answer.prediction {
                Prediction::Class { index, .. } => index,
                Prediction::Value(_) => 0,
            });
        }
    }
}

/// [`Model::predict_with`] of many rows, the same answers: features row by
/// row, then the estimator on all rows at once (tree ensembles go tree by
/// tree over blocks of rows), then the link row by row.
pub fn predict_rows(
    model: &Model,
    rows: &[Row],
    features: &mut Vec<f64>,
    raw: &mut Vec<f64>,
) -> Vec<Prediction> {
    let (nf, no) = (model.preprocessor.n_features(), model.estimator.n_outputs());
    let Estimator::Trees(trees) = &model.estimator else {
        let mut scratch = Scratch::default();
        return rows
            .iter()
            .map(|row| model.predict_with(row, &mut scratch))
            .collect();
    };
    if nf == 0 || no == 0 {
        return rows.iter().map(|row| model.predict(row)).collect();
    }
    features.clear();
    features.resize(rows.len() * nf, 0.0);
    raw.clear();
    raw.resize(rows.len() * no, 0.0);
    for (row, x) in rows.iter().zip(features.chunks_mut(nf)) {
        model.preprocessor.transform(row, x);
    }
    trees.raw_batch(features, raw);
    raw.chunks(no).map(|r| model.finish(r)).collect()
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

fn parse_record(
    model: &Model,
    columns: &ColumnMap,
    record: &csv::ByteRecord,
    width: usize,
) -> Result<Row, String> {
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
    columns
        .parse_strings(&model.schema, cell)
        .map_err(|e: RowErrors| e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` passengers, every 97th row bad (an unknown class, a stray cell).
    fn passengers(n: usize) -> String {
        let mut csv = String::from("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n");
        for i in 0..n {
            let age = if i % 11 == 0 {
                String::new()
            } else {
                format!("{}", (i * 7919) % 160 / 2)
            };
            let pclass = if i % 97 == 5 {
                "9"
            } else {
                ["1", "2", "3"][i % 3]
            };
            let extra = if i % 97 == 50 { ",x" } else { "" };
            csv.push_str(&format!(
                "{pclass},{},{age},{},{},{},{}{extra}\n",
                ["male", "female"][i % 2],
                i % 5,
                i % 4,
                (i * 31) % 30_000 / 100,
                ["S", "C", "Q"][i % 3],
            ));
        }
        csv
    }

    fn run(
        model: &Model,
        csv: &str,
        threads: usize,
        options: &BatchOptions,
    ) -> (Vec<u8>, Result<BatchSummary, String>, Vec<u64>) {
        let mut out = Vec::new();
        let mut failed = Vec::new();
        let summary = score_csv_threads(
            model,
            csv.as_bytes(),
            &mut out,
            options,
            threads,
            &mut |f| failed.push(f.line),
            &mut |_| {},
        )
        .map_err(|e| e.to_string());
        (out, summary, failed)
    }

    #[test]
    fn threads_and_blocks_give_the_answers_of_one_row_at_a_time() {
        for (name, _) in crate::builtin::BUILTINS {
            let model = crate::builtin::load(name).unwrap().model;
            let csv = passengers(3 * CHUNK + 123);
            let one = run(&model, &csv, 1, &BatchOptions::default());
            let summary = one.1.as_ref().unwrap();
            assert_eq!(summary.rows, 3 * CHUNK as u64 + 123);
            assert!(summary.failed > 0 && summary.predicted > 0);
            for threads in [2, 3] {
                assert_eq!(run(&model, &csv, threads, &BatchOptions::default()), one);
            }
            // Each written answer is Model::predict's.
            let mut lines = one.0.split(|b| *b == b'\n').skip(1);
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(csv.as_bytes());
            let header = reader.headers().unwrap().clone();
            let columns = ColumnMap::new(&model.schema, header.iter()).unwrap();
            for record in reader.byte_records() {
                let record = record.unwrap();
                let Ok(row) = parse_record(&model, &columns, &record, header.len()) else {
                    continue;
                };
                let written = String::from_utf8(lines.next().unwrap().to_vec()).unwrap();
                let Prediction::Class { probabilities, .. } = model.predict(&row) else {
                    panic!("a classifier")
                };
                let last = written.rsplit(',').next().unwrap();
                assert_eq!(
                    last.parse::<f64>().unwrap(),
                    probabilities[1],
                    "{name}: {written}"
                );
            }
            // Strict runs stop at the same first bad row.
            let strict = BatchOptions {
                strict: true,
                ..Default::default()
            };
            let one = run(&model, &csv, 1, &strict);
            assert!(
                one.1.as_ref().unwrap_err().contains("line 7:"),
                "{:?}",
                one.1
            );
            assert_eq!(run(&model, &csv, 2, &strict), one);
        }
    }

    #[test]
    fn explanations_are_the_same_on_several_threads() {
        let model = crate::builtin::load("titanic-gbdt").unwrap().model;
        let csv = passengers(CHUNK + 40);
        let explain = BatchOptions {
            explain: true,
            ..Default::default()
        };
        assert_eq!(
            run(&model, &csv, 2, &explain),
            run(&model, &csv, 1, &explain)
        );
    }
}
