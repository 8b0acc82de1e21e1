//! Scoring a CSV file, streaming: the input is read in blocks of whole
//! records (about 256 KiB, cut by [`blocks`]), which are parsed, scored and
//! formatted a chunk of 1024 records at a time, with a few blocks in flight,
//! so memory stays flat on a file of any size. Tree ensembles score a chunk
//! tree by tree ([`predict_rows`]); large inputs are scored on every core, and
//! written in file order. Shared by `lifeboat predict` and the web app's
//! /batch page.
//!
//! The output holds every input column unchanged, then `prediction` (the class
//! value), `label` (the class in words) and one `probability_<class>` column
//! per class (regression: `prediction` only); with explanations, `base` and
//! one `contribution_<field>` column per field. A row that fails validation
//! is reported with its line number and left out, unless the run is strict.
//! A file in Windows-1252, or separated by semicolons, is read as the UTF-8
//! comma file it stands for ([`crate::spreadsheet`]); a file of semicolons
//! is written back with semicolons and decimal commas.

mod blocks;
mod worker;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc;

use crate::csvfile::{self, TableError};
use crate::model::{Estimator, Model, Prediction, Scratch};
use crate::schema::validate::{ColumnError, ColumnMap};
use crate::schema::{Lang, Row, RowErrors};
use crate::spreadsheet::{CsvInput, CsvOutput, Separator};

use blocks::Blocks;
use worker::{Block, BlockError, Worker};

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
    /// What separated the input's cells, and so the output's.
    pub separator: Separator,
    /// Whether bytes of the input were not UTF-8, and so were read as
    /// Windows-1252 (the output is UTF-8).
    pub windows1252: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("the header cannot be read: {0}")]
    Header(String),
    #[error(transparent)]
    Columns(#[from] ColumnError),
    #[error(
        "the input already has a column named {}, which the output adds; rename that column",
        crate::quote::quoted(.0)
    )]
    Clash(String),
    #[error("line {line}: {message} (stopped because the run is strict)")]
    Strict { line: u64, message: String },
    #[error("line {line}: the file cannot be read as CSV: {message}")]
    Csv { line: u64, message: String },
    /// Writing the output failed; the `io::Error` is kept, so that a caller
    /// can tell a reader that went away (`BrokenPipe`) from a full disk.
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
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

/// Records scored together.
const CHUNK: usize = 1024;

/// Records in a block, about: enough that handing blocks around costs
/// little, few enough that the blocks in flight take little memory.
const BLOCK_ROWS: usize = 2 * CHUNK;

/// The bytes of the first block, and the bounds of later ones, which are
/// sized from the bytes per record seen so far.
const BLOCK_FIRST: usize = 32 << 10;
const BLOCK_MIN: usize = 16 << 10;
const BLOCK_MAX: usize = 1 << 20;

/// Rows between two progress reports.
const PROGRESS_EVERY: u64 = 4096;

/// [`score_csv`] on at most `threads` scoring threads. The calling thread
/// reads the input in blocks of whole records and writes the output; with
/// more than one thread and more than one block, the blocks are parsed,
/// validated, predicted and formatted on `threads` others, a few at a time,
/// and written back in file order. The output, the summary and the order of
/// `on_failure` calls are the same for any `threads`.
pub fn score_csv_threads(
    model: &Model,
    input: impl Read,
    output: impl Write,
    options: &BatchOptions,
    threads: usize,
    on_failure: &mut dyn FnMut(&RowFailure),
    on_progress: &mut dyn FnMut(BatchProgress),
) -> Result<BatchSummary, BatchError> {
    let callbacks = Callbacks {
        on_failure,
        on_progress,
    };
    score_in_blocks(model, input, output, options, threads, None, callbacks)
}

/// Where a run reports failed rows and progress.
struct Callbacks<'a> {
    on_failure: &'a mut dyn FnMut(&RowFailure),
    on_progress: &'a mut dyn FnMut(BatchProgress),
}

/// [`score_csv_threads`] with blocks of about `block_size` bytes, or by
/// default of about [`BLOCK_ROWS`] records (tests cut tiny ones, so records
/// straddle many block boundaries).
fn score_in_blocks<'a>(
    model: &Model,
    input: impl Read,
    output: impl Write,
    options: &'a BatchOptions,
    threads: usize,
    block_size: Option<usize>,
    callbacks: Callbacks<'a>,
) -> Result<BatchSummary, BatchError> {
    // A file as a spreadsheet saves it is read as the UTF-8 comma file it
    // stands for, and a file of semicolons written back as it came.
    let input = CsvInput::new(input).map_err(|e| BatchError::Header(e.to_string()))?;
    let separator = input.separator();
    let mut output = CsvOutput::new(output, separator);
    let mut blocks = Blocks::new(input, block_size.unwrap_or(BLOCK_FIRST));
    let header_bytes = blocks.header()?;
    if let Some(line) = csvfile::unclosed_quote_line(&header_bytes) {
        return Err(TableError::UnclosedQuote { line }.into());
    }
    let header = read_header(&header_bytes)?;
    csvfile::refuse_utf16(&header)?;
    // Names that are not UTF-8 can only be columns the model does not use.
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
    write_header(&mut output, &out)?;

    let mut run = Run {
        blocks,
        output,
        line: 1 + count_newlines(&header_bytes),
        sized: block_size.is_none(),
        read: (0, 0),
        summary: BatchSummary {
            unused_columns: columns.unused.iter().map(|(_, n)| n.clone()).collect(),
            separator,
            ..Default::default()
        },
        options,
        callbacks,
    };
    let scorer = Scorer {
        model,
        columns: &columns,
        width: names.len(),
        options,
    };
    match run.score_all(&scorer, threads) {
        Ok(()) => {
            let windows1252 = run.blocks.input().windows1252();
            run.finish().map(|summary| BatchSummary {
                windows1252,
                ..summary
            })
        }
        Err(e) => {
            // Rows written before the stop stay written, as a buffered writer's drop would leave them.
            let _ = run.output.flush();
            Err(e)
        }
    }
}

/// The header record, from the bytes [`Blocks::header`] gave.
fn read_header(bytes: &[u8]) -> Result<csv::ByteRecord, BatchError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut header = csv::ByteRecord::new();
    match reader.read_byte_record(&mut header) {
        Ok(true) => Ok(header),
        Ok(false) => Err(TableError::Empty.into()),
        Err(e) => Err(BatchError::Header(e.to_string())),
    }
}

/// Writes the output's header line, quoted as the scoring threads quote rows.
fn write_header(output: &mut impl Write, header: &csv::ByteRecord) -> Result<(), BatchError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_byte_record(header).map_err(write_err)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| BatchError::Write(e.into_error()))?;
    output.write_all(&bytes).map_err(io_write_err)
}

/// Line feeds in `bytes`: the lines they take up, as the CSV parser counts.
fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

fn write_err(e: csv::Error) -> BatchError {
    BatchError::Write(e.into())
}

fn io_write_err(e: std::io::Error) -> BatchError {
    BatchError::Write(e)
}

/// A chunk of records, and then their answers; reused, so that a thread
/// allocates only one.
#[derive(Default)]
struct Chunk {
    records: Vec<csv::ByteRecord>,
    len: usize,
    /// Per record: its line, counted from the block's first line (0).
    lines: Vec<u64>,
    /// Per record: the predicted class, or why the row failed.
    results: Vec<Result<usize, String>>,
    /// Per record: the output record (when it succeeded).
    out: Vec<csv::ByteRecord>,
}

/// The calling thread's side of a run: reading blocks, writing them back in
/// file order, and counting.
struct Run<'a, R: Read, W: Write> {
    blocks: Blocks<R>,
    output: W,
    /// The line the next block to be written starts on.
    line: u64,
    /// Blocks are sized from the records seen so far.
    sized: bool,
    /// Bytes and records written so far, to size blocks from.
    read: (u64, u64),
    summary: BatchSummary,
    options: &'a BatchOptions,
    callbacks: Callbacks<'a>,
}

impl<R: Read, W: Write> Run<'_, R, W> {
    /// Scores every block, here or on `threads` threads.
    fn score_all(&mut self, scorer: &Scorer<'_>, threads: usize) -> Result<(), BatchError> {
        let Some(first) = self.next_block(Block::default()) else {
            return Ok(());
        };
        if threads > 1 && !first.last {
            return std::thread::scope(|s| self.parallel(s, scorer, first, threads));
        }
        // One thread, or an input of one block: score here.
        let mut worker = Worker::new(scorer);
        let mut block = first;
        loop {
            worker.score(&mut block);
            self.write_block(&block)?;
            match self.next_block(block) {
                Some(next) => block = next,
                None => return Ok(()),
            }
        }
    }

    /// The next block of input, in `block`'s buffers; none at the end.
    fn next_block(&mut self, mut block: Block) -> Option<Block> {
        block.last = self.blocks.next(&mut block.input)?;
        block.end = self.blocks.position();
        Some(block)
    }

    /// Writes a scored block and counts it, in file order.
    fn write_block(&mut self, block: &Block) -> Result<(), BatchError> {
        let first_row = self.summary.rows;
        if self.options.strict
            && let Some(failure) = block.failures.first()
        {
            self.write(&block.output[..failure.output_len])?;
            self.count_rows(first_row + failure.row, block.end);
            return Err(BatchError::Strict {
                line: self.line + failure.line,
                message: failure.message.clone(),
            });
        }
        self.write(&block.output)?;
        for failure in &block.failures {
            self.count_rows(first_row + failure.row, block.end);
            let failure_here = RowFailure {
                line: self.line + failure.line,
                message: failure.message.clone(),
            };
            (self.callbacks.on_failure)(&failure_here);
            self.summary.failed += 1;
            if self.summary.errors.len() < KEEP_ERRORS {
                self.summary.errors.push(failure_here);
            }
            self.count_rows(first_row + failure.row + 1, block.end);
        }
        self.count_rows(first_row + block.rows, block.end);
        let summary = &mut self.summary;
        summary.predicted += block.rows - block.failures.len() as u64;
        if summary.per_class.len() < block.per_class.len() {
            summary.per_class.resize(block.per_class.len(), 0);
        }
        for (total, n) in summary.per_class.iter_mut().zip(&block.per_class) {
            *total += n;
        }
        let block_line = self.line;
        self.line += block.lines;
        self.size_blocks(block);
        match &block.error {
            None => Ok(()),
            Some(BlockError::Read { line, message }) => Err(BatchError::Csv {
                line: block_line + line,
                message: message.clone(),
            }),
            Some(BlockError::Write(message)) => {
                Err(BatchError::Write(std::io::Error::other(message.clone())))
            }
        }
    }

    /// Sizes the next blocks to hold about [`BLOCK_ROWS`] records.
    fn size_blocks(&mut self, block: &Block) {
        if !self.sized {
            return;
        }
        let (bytes, rows) = &mut self.read;
        *bytes += block.input.len() as u64;
        *rows += block.rows;
        if let Some(per_row) = bytes.checked_div(*rows) {
            let size = per_row.saturating_mul(BLOCK_ROWS as u64);
            self.blocks
                .resize(size.clamp(BLOCK_MIN as u64, BLOCK_MAX as u64) as usize);
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), BatchError> {
        self.output.write_all(bytes).map_err(io_write_err)
    }

    /// Counts rows up to `rows`, reporting progress every few thousand, with
    /// the input's position after the block they are in.
    fn count_rows(&mut self, rows: u64, bytes: u64) {
        let mut report = (self.summary.rows / PROGRESS_EVERY + 1) * PROGRESS_EVERY;
        while report <= rows {
            self.summary.rows = report;
            (self.callbacks.on_progress)(BatchProgress {
                bytes,
                rows: report,
            });
            report += PROGRESS_EVERY;
        }
        self.summary.rows = rows;
    }

    /// Scores on `threads` threads: block k goes to thread k mod `threads` and
    /// comes back from it, so results are written in the order they were read.
    /// At most two blocks per thread are in flight, so memory stays flat.
    fn parallel<'s>(
        &mut self,
        s: &'s std::thread::Scope<'s, '_>,
        scorer: &'s Scorer<'s>,
        first: Block,
        threads: usize,
    ) -> Result<(), BatchError> {
        let mut jobs = Vec::with_capacity(threads);
        let mut done = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = mpsc::sync_channel::<Block>(2);
            let (done_tx, done_rx) = mpsc::sync_channel::<Block>(2);
            s.spawn(move || {
                let mut worker = Worker::new(scorer);
                for mut block in job_rx {
                    worker.score(&mut block);
                    if done_tx.send(block).is_err() {
                        break;
                    }
                }
            });
            jobs.push(job_tx);
            done.push(done_rx);
        }
        let mut in_flight = VecDeque::with_capacity(2 * threads);
        let mut spare = Vec::with_capacity(2 * threads);
        let mut pending = Some(first);
        let mut next = 0;
        loop {
            while in_flight.len() < 2 * threads {
                let block = match pending.take() {
                    Some(b) => b,
                    None => match self.next_block(spare.pop().unwrap_or_default()) {
                        Some(b) => b,
                        None => break,
                    },
                };
                let to = next % threads;
                next += 1;
                jobs[to]
                    .send(block)
                    .expect("a scoring thread stopped early");
                in_flight.push_back(to);
            }
            let Some(from) = in_flight.pop_front() else {
                return Ok(());
            };
            let block = done[from].recv().expect("a scoring thread stopped early");
            self.write_block(&block)?;
            spare.push(block);
        }
    }

    fn finish(mut self) -> Result<BatchSummary, BatchError> {
        if let Some(e) = self.blocks.take_error() {
            let _ = self.output.flush();
            return Err(BatchError::Csv {
                line: self.summary.rows + 2,
                message: csv::Error::from(e).to_string(),
            });
        }
        if let Some(newlines) = self.blocks.unclosed() {
            let _ = self.output.flush();
            let line = self.line + newlines;
            return Err(TableError::UnclosedQuote { line }.into());
        }
        if let Some(overlong) = self.blocks.overlong() {
            let _ = self.output.flush();
            return Err(overlong.error(self.line).into());
        }
        self.output.flush().map_err(io_write_err)?;
        (self.callbacks.on_progress)(BatchProgress {
            bytes: self.blocks.position(),
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
    csvfile::check_record(record, width)?;
    let cell = |i: usize| record.get(i).and_then(|b| std::str::from_utf8(b).ok());
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

    /// What a run shows: the output, the summary or error, the lines of
    /// `on_failure` calls, and the progress reports (bytes, rows).
    type Seen = (
        Vec<u8>,
        Result<BatchSummary, String>,
        Vec<u64>,
        Vec<(u64, u64)>,
    );

    fn run_blocks(
        model: &Model,
        input: impl Read,
        threads: usize,
        block_size: usize,
        options: &BatchOptions,
    ) -> Seen {
        let mut out = Vec::new();
        let mut failed = Vec::new();
        let mut progress = Vec::new();
        let callbacks = Callbacks {
            on_failure: &mut |f| failed.push(f.line),
            on_progress: &mut |p| progress.push((p.bytes, p.rows)),
        };
        let summary = score_in_blocks(
            model,
            input,
            &mut out,
            options,
            threads,
            Some(block_size),
            callbacks,
        )
        .map_err(|e| e.to_string());
        (out, summary, failed, progress)
    }

    /// Everything but the progress reports, which follow the blocks.
    fn without_progress(seen: Seen) -> (Vec<u8>, Result<BatchSummary, String>, Vec<u64>) {
        (seen.0, seen.1, seen.2)
    }

    fn default_model() -> Model {
        crate::builtin::load(crate::builtin::BUILTINS[0].0)
            .unwrap()
            .model
    }

    /// A file that puts record boundaries where cutting could go wrong: a
    /// byte-order mark and a quoted name in the header, an unused column of
    /// quoted text with line ends, commas and doubled quotes (a row's first
    /// line says whether it is bad), CRLF and LF and CR line ends, blank
    /// lines, records starting with a byte-order mark, the first one among
    /// them (which must stay, so the row fails), quotes inside unquoted text, rows with too many cells,
    /// and a last record without a line end.
    fn awkward_csv() -> Vec<u8> {
        let mut csv =
            b"\xef\xbb\xbf\"Pclass\",Sex,Age,\"No\"\"te\nhere\",Fare,SibSp,Parch\n".to_vec();
        let notes = [
            "plain",
            "\"two\nlines\"",
            "\"with \"\"quotes\"\"\r\nand, a comma\"",
            "\"\"\"\"",
            "\"\n\n\"",
            "un\"quoted\"",
            "\"ends with a quote\"\"\"",
        ];
        for i in 0..60 {
            let pclass = match i % 13 {
                4 => "9",
                0 | 9 => "\u{feff}1",
                _ => ["1", "2", "3"][i % 3],
            };
            let extra = if i % 17 == 8 { ",x" } else { "" };
            let end = ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n"][i % 5];
            let note = notes[i % notes.len()];
            let row = format!(
                "{pclass},{},{},{note},{}.25,{},{}{extra}{end}",
                ["male", "female"][i % 2],
                i % 70,
                i * 3,
                i % 4,
                i % 3
            );
            csv.extend_from_slice(row.as_bytes());
        }
        csv.extend_from_slice(b"3,female,,\"last\nrow\",7.5,0,0");
        csv
    }

    /// The lines of the records a plain csv reader, over the whole file,
    /// finds bad (a Pclass other than 1, 2, 3, or an eighth cell): the lines
    /// they begin on, past the line ends csv counts into their position.
    fn bad_lines(csv: &[u8]) -> Vec<u64> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv);
        reader
            .byte_records()
            .map(Result::unwrap)
            .filter(|r| !matches!(&r[0], b"1" | b"2" | b"3") || r.len() > 7)
            .map(|r| {
                let p = r.position().unwrap();
                let ends = csv[p.byte() as usize..]
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n');
                p.line() + ends.filter(|&&b| b == b'\n').count() as u64
            })
            .collect()
    }

    #[test]
    fn blocks_cut_anywhere_give_the_output_of_one_pass() {
        let model = default_model();
        let csv = awkward_csv();
        let options = BatchOptions::default();
        let whole = run_blocks(&model, &csv[..], 1, usize::MAX, &options);
        let summary = whole.1.as_ref().unwrap();
        assert_eq!(summary.rows, 61);
        assert_eq!(whole.2, bad_lines(&csv));
        assert!(summary.failed >= 8, "{summary:?}");
        // The copied text comes out as it went in, quoted as before.
        let mut written = csv::Reader::from_reader(&whole.0[..]);
        let notes: Vec<String> = written
            .records()
            .map(|r| r.unwrap()[3].to_string())
            .collect();
        assert!(notes.contains(&"with \"quotes\"\r\nand, a comma".to_string()));
        assert_eq!(notes.last().unwrap(), "last\nrow");
        let block_sizes = (1..200).chain([csv.len() / 2, csv.len(), csv.len() + 1]);
        assert_blocks_and_threads_agree(&model, &csv, &options, block_sizes, whole);
    }

    /// Every block size with one to three threads writes what `whole` (one
    /// block, one thread) wrote, and ends the same way.
    fn assert_blocks_and_threads_agree(
        model: &Model,
        csv: &[u8],
        options: &BatchOptions,
        block_sizes: impl IntoIterator<Item = usize>,
        whole: Seen,
    ) {
        let whole = without_progress(whole);
        for block_size in block_sizes {
            for threads in [1, 2, 3] {
                let seen = run_blocks(model, csv, threads, block_size, options);
                assert_eq!(
                    without_progress(seen),
                    whole,
                    "block {block_size}, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn strict_runs_stop_at_the_same_row_and_write_the_rows_before_it() {
        let model = default_model();
        // Without the first row's byte-order mark, the first bad row is the fifth.
        let mut csv = awkward_csv();
        let bom = 3 + csv[3..]
            .windows(3)
            .position(|w| w == b"\xef\xbb\xbf")
            .unwrap();
        csv.drain(bom..bom + 3);
        let first_bad = bad_lines(&csv)[0];
        let strict = BatchOptions {
            strict: true,
            ..Default::default()
        };
        let whole = run_blocks(&model, &csv[..], 1, usize::MAX, &strict);
        let message = whole.1.as_ref().unwrap_err();
        assert!(
            message.starts_with(&format!("line {first_bad}: ")),
            "{message}"
        );
        // The rows before the bad one are written, and no more.
        let lenient = run_blocks(&model, &csv[..], 1, usize::MAX, &BatchOptions::default());
        assert!(lenient.0.starts_with(&whole.0));
        let written = csv::Reader::from_reader(&whole.0[..]).records().count();
        assert_eq!(written, 4);
        let block_sizes = [1, 2, 5, 30, 77, 1000];
        assert_blocks_and_threads_agree(&model, &csv, &strict, block_sizes, whole);
    }

    #[test]
    fn threads_give_the_same_bytes_and_progress_on_thousands_of_rows() {
        for (name, _) in crate::builtin::BUILTINS {
            let model = crate::builtin::load(name).unwrap().model;
            let csv = passengers(5000);
            let options = BatchOptions::default();
            let whole = run_blocks(&model, csv.as_bytes(), 1, usize::MAX, &options);
            assert_eq!(whole.1.as_ref().unwrap().rows, 5000);
            for block_size in [1000, 4096, 30_000] {
                let one = run_blocks(&model, csv.as_bytes(), 1, block_size, &options);
                assert_eq!((&one.0, &one.1, &one.2), (&whole.0, &whole.1, &whole.2));
                // A report every 4096 rows, then the end, with the bytes read.
                let rows: Vec<u64> = one.3.iter().map(|p| p.1).collect();
                assert_eq!(rows, [4096, 5000], "{name}");
                assert!(one.3.is_sorted(), "{:?}", one.3);
                assert_eq!(one.3.last().unwrap().0, csv.len() as u64);
                for threads in [2, 3] {
                    let seen = run_blocks(&model, csv.as_bytes(), threads, block_size, &options);
                    assert_eq!(seen, one, "{name}, block {block_size}, {threads} threads");
                }
            }
        }
    }

    /// Gives `bytes` a few at a time, then fails.
    struct Failing<'a> {
        bytes: &'a [u8],
    }

    impl Read for Failing<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.bytes.is_empty() {
                return Err(std::io::Error::other("the disk is on fire"));
            }
            let n = out.len().min(self.bytes.len()).min(100);
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_is_reported_after_every_whole_record_before_it() {
        let model = default_model();
        let csv = passengers(3000);
        // The input fails in the middle of a record.
        let cut = csv.len() / 2;
        let whole_records = csv[..cut].rfind('\n').unwrap() + 1;
        let expected = run_blocks(
            &model,
            &csv.as_bytes()[..whole_records],
            1,
            usize::MAX,
            &BatchOptions::default(),
        );
        let rows = expected.1.as_ref().unwrap().rows;
        let message = format!(
            "line {}: the file cannot be read as CSV: the disk is on fire",
            rows + 2
        );
        for block_size in [1, 1000, 8192, usize::MAX] {
            for threads in [1, 2] {
                let input = Failing {
                    bytes: &csv.as_bytes()[..cut],
                };
                let seen = run_blocks(&model, input, threads, block_size, &BatchOptions::default());
                assert_eq!(seen.0, expected.0, "block {block_size}, {threads} threads");
                assert_eq!(seen.1, Err(message.clone()));
                assert_eq!(seen.2, expected.2);
            }
        }
        // Before the header is whole, it is the header that cannot be read.
        let input = Failing {
            bytes: b"Pclass,Se",
        };
        let seen = run_blocks(&model, input, 1, 4, &BatchOptions::default());
        assert_eq!(
            seen.1,
            Err("the header cannot be read: the disk is on fire".into())
        );
    }

    /// A quote that never closes would make the rest of the file one cell:
    /// the rows before it are scored and written, then the run stops at the
    /// quote's line, whatever the blocks and threads.
    #[test]
    fn a_quote_that_never_closes_stops_the_run_at_its_line() {
        let model = default_model();
        let good = "1,female,29,0,0,80,S,plain\n";
        let mut csv = String::from("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked,Note\n");
        for _ in 0..40 {
            csv.push_str(good);
        }
        // Line 42 opens a quoted cell over two lines that closes; line 44 one that never does.
        csv.push_str("2,male,30,0,0,13,S,\"two\nlines\"\n3,\"female\",22,1,0,7.25,S,\"oops\n");
        csv.push_str(&good.repeat(3));
        let before = csv[..csv.rfind("3,\"female").unwrap()].to_string();
        let expected = run_blocks(
            &model,
            before.as_bytes(),
            1,
            usize::MAX,
            &BatchOptions::default(),
        );
        assert_eq!(expected.1.as_ref().unwrap().rows, 41);
        let message = "line 44: a quote (\") opens a cell that never closes";
        for options in [
            BatchOptions::default(),
            BatchOptions {
                strict: true,
                ..Default::default()
            },
        ] {
            for block_size in [1, 7, 100, 1000, usize::MAX] {
                for threads in [1, 2] {
                    let seen = run_blocks(&model, csv.as_bytes(), threads, block_size, &options);
                    let error = seen.1.unwrap_err();
                    assert!(error.starts_with(message), "{error}");
                    assert_eq!(seen.0, expected.0, "block {block_size}, {threads} threads");
                }
            }
        }
        // In the header, after a byte-order mark and a blank line.
        let seen = run_blocks(
            &model,
            &b"\xef\xbb\xbf\r\n\"Pclass,Sex\n1,male\n"[..],
            1,
            3,
            &BatchOptions::default(),
        );
        assert!(seen.1.unwrap_err().starts_with("line 2: a quote"));
        assert!(seen.0.is_empty());
    }

    /// An output that fails after `room` bytes, with `kind`.
    struct Closing {
        room: usize,
        kind: std::io::ErrorKind,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A caller tells a reader that went away from a full disk by the
    /// error's kind, so the write error keeps it, on any number of threads.
    #[test]
    fn a_write_error_keeps_its_kind() {
        let model = default_model();
        let csv = passengers(5000);
        for kind in [
            std::io::ErrorKind::BrokenPipe,
            std::io::ErrorKind::StorageFull,
        ] {
            for (room, threads) in [(0, 1), (100, 1), (100_000, 2)] {
                let err = score_csv_threads(
                    &model,
                    csv.as_bytes(),
                    Closing { room, kind },
                    &BatchOptions::default(),
                    threads,
                    &mut |_| {},
                    &mut |_| {},
                )
                .unwrap_err();
                match err {
                    BatchError::Write(e) => assert_eq!(e.kind(), kind),
                    other => panic!("{other}"),
                }
            }
        }
    }

    /// A row with fewer cells than the header is rejected as one with more
    /// is, and not scored with empty cells.
    #[test]
    fn rows_of_the_wrong_width_are_rejected() {
        let model = default_model();
        let csv = b"Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n\
                   1,female,29,0,0,80,S\n\
                   3,male,22,1,0\n\
                   3,male,22,1,0,7.25,S,x\n\
                   2,female,\xff,0,0,13,S\n";
        let (out, summary, failed, _) =
            run_blocks(&model, &csv[..], 1, usize::MAX, &BatchOptions::default());
        let summary = summary.unwrap();
        assert_eq!((summary.rows, summary.predicted, summary.failed), (4, 1, 3));
        assert_eq!(failed, [3, 4, 5]);
        let messages: Vec<&str> = summary.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "the row has 5 cells but the header names 7 columns; an empty value still needs its comma",
                "the row has 8 cells but the header names 7 columns; a cell with a comma in it must be in double quotes",
                "Age: \"ÿ\" is not a number; expected a number from 0 to 100",
            ]
        );
        assert!(summary.windows1252);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn headers_without_rows_and_files_without_headers() {
        let model = default_model();
        let options = BatchOptions::default();
        for block_size in [1, 3, usize::MAX] {
            let empty = run_blocks(&model, &b"\r\n\n"[..], 2, block_size, &options);
            assert_eq!(empty.1, Err(TableError::Empty.to_string()));
            let header_only = run_blocks(
                &model,
                &b"Pclass,Sex,SibSp,Parch"[..],
                2,
                block_size,
                &options,
            );
            assert_eq!(header_only.1.unwrap().rows, 0);
            assert_eq!(
                header_only.0,
                b"Pclass,Sex,SibSp,Parch,prediction,label,probability_0,probability_1\n"
            );
        }
    }
}
