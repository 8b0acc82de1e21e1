//! A scoring thread's side of a run: a block of whole records in, parsed,
//! scored and formatted as CSV bytes out.

use std::io::{self, Read};

use super::{CHUNK, Chunk, Scorer, State};

/// A block of input records, sent to a scoring thread, and what scoring it
/// gave, sent back; reused, so that a run allocates only as many as are in
/// flight at once.
#[derive(Default)]
pub(super) struct Block {
    /// Whole records, as cut by [`super::blocks::Blocks`].
    pub input: Vec<u8>,
    /// The block runs to the end of the input (its last record may have no
    /// terminator).
    pub last: bool,
    /// The input's byte position after the block.
    pub end: u64,
    /// The rows that were predicted, as CSV.
    pub output: Vec<u8>,
    /// Records read.
    pub rows: u64,
    /// Line feeds in the block: the next block starts that many lines later.
    pub lines: u64,
    /// Rows predicted per class (index into the schema's classes).
    pub per_class: Vec<u64>,
    /// Rows that failed, in order; in a strict run, only the first.
    pub failures: Vec<Failure>,
    /// A record that could not be read or written; from bytes in memory, not
    /// expected, but reported rather than lost.
    pub error: Option<BlockError>,
}

pub(super) struct Failure {
    /// The row's index in the block.
    pub row: u64,
    /// Its line, counted from the block's first line (0).
    pub line: u64,
    pub message: String,
    /// In a strict run, the length of the output before the row (what is
    /// written before stopping).
    pub output_len: usize,
}

pub(super) enum BlockError {
    /// `line` counted from the block's first line (0).
    Read {
        line: u64,
        message: String,
    },
    Write(String),
}

impl Block {
    fn clear_results(&mut self) {
        self.output.clear();
        self.rows = 0;
        self.lines = 0;
        self.per_class.clear();
        self.failures.clear();
        self.error = None;
    }
}

/// Parses, scores and formats blocks, one after another.
pub(super) struct Worker<'a> {
    scorer: &'a Scorer<'a>,
    /// Reads every block this worker is given as one stream. Each block
    /// starts where a parser of the whole file has just returned a record,
    /// the same state this reader is in after the previous block, so records
    /// and line counts come out as in one pass over the file.
    reader: csv::Reader<BlockSource>,
    chunk: Chunk,
    state: State,
}

impl<'a> Worker<'a> {
    pub(super) fn new(scorer: &'a Scorer<'a>) -> Self {
        let reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(BlockSource::default());
        Worker {
            scorer,
            reader,
            chunk: Chunk::default(),
            state: State::default(),
        }
    }

    /// Parses, validates, predicts and formats every record of `block`.
    pub(super) fn score(&mut self, block: &mut Block) {
        block.clear_results();
        let source = self.reader.get_mut();
        std::mem::swap(&mut source.bytes, &mut block.input);
        source.read = 0;
        let start = self.reader.position().clone();
        let mut writer = csv::Writer::from_writer(std::mem::take(&mut block.output));
        // After a strict run's first failure, records are only read on, so
        // the reader ends the block where the next one starts.
        let mut stopped = false;
        loop {
            self.read_chunk(&start, block);
            if self.chunk.len == 0 {
                break;
            }
            if !stopped {
                self.scorer.score(&mut self.chunk, &mut self.state);
                stopped = self.write_chunk(block, &mut writer);
            }
            if block.error.is_some() {
                break;
            }
        }
        block.lines = self.reader.position().line().saturating_sub(start.line());
        block.output = match writer.into_inner() {
            Ok(output) => output,
            Err(e) => {
                block.error = Some(BlockError::Write(e.to_string()));
                Vec::new()
            }
        };
        std::mem::swap(&mut self.reader.get_mut().bytes, &mut block.input);
    }

    /// Reads up to `CHUNK` records of the block into the chunk (none once it
    /// is all read).
    fn read_chunk(&mut self, start: &csv::Position, block: &mut Block) {
        let chunk = &mut self.chunk;
        chunk.len = 0;
        chunk.lines.clear();
        let len = self.reader.get_ref().bytes.len() as u64;
        while chunk.len < CHUNK {
            // A block other than the last ends just after a record: reading
            // on would take its end for the end of the input.
            let read = self.reader.position().byte().saturating_sub(start.byte());
            if !block.last && read >= len {
                break;
            }
            if chunk.records.len() == chunk.len {
                chunk.records.push(csv::ByteRecord::new());
            }
            let record = &mut chunk.records[chunk.len];
            match self.reader.read_byte_record(record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = self.reader.position().line().saturating_sub(start.line());
                    let message = e.to_string();
                    block.error = Some(BlockError::Read { line, message });
                    break;
                }
            }
            let line = match record.position() {
                Some(p) => {
                    let at = p.byte().saturating_sub(start.byte());
                    let bytes = &self.reader.get_ref().bytes;
                    let skipped = bytes.get(at as usize..).unwrap_or_default();
                    p.line().saturating_sub(start.line()) + line_ends_before_record(skipped)
                }
                None => 0,
            };
            chunk.lines.push(line);
            chunk.len += 1;
        }
    }

    /// Writes the chunk's predicted rows and notes its failures; true once a
    /// strict run has met its first failure, or writing failed.
    fn write_chunk(&mut self, block: &mut Block, writer: &mut csv::Writer<Vec<u8>>) -> bool {
        let strict = self.scorer.options.strict;
        let chunk = &mut self.chunk;
        for (i, result) in chunk.results.iter_mut().enumerate() {
            match result {
                Ok(class) => {
                    if block.per_class.len() <= *class {
                        block.per_class.resize(*class + 1, 0);
                    }
                    block.per_class[*class] += 1;
                    if let Err(e) = writer.write_byte_record(&chunk.out[i]) {
                        block.error = Some(BlockError::Write(e.to_string()));
                        return true;
                    }
                }
                Err(message) => {
                    let output_len = if strict {
                        if let Err(e) = writer.flush() {
                            block.error = Some(BlockError::Write(e.to_string()));
                            return true;
                        }
                        writer.get_ref().len()
                    } else {
                        0
                    };
                    block.failures.push(Failure {
                        row: block.rows,
                        line: chunk.lines[i],
                        message: std::mem::take(message),
                        output_len,
                    });
                    if strict {
                        return true;
                    }
                }
            }
            block.rows += 1;
        }
        false
    }
}

/// The block a worker's reader is parsing.
#[derive(Default)]
struct BlockSource {
    bytes: Vec<u8>,
    /// Bytes handed to the reader.
    read: usize,
    /// The reader has had its first byte.
    started: bool,
}

/// The line feeds between where csv says a record starts and its first byte.
/// csv puts the start just after the previous record, which ends at the CR
/// of a CRLF and before any blank lines: without these, a row of a Windows
/// file would be reported a line early.
fn line_ends_before_record(from: &[u8]) -> u64 {
    let ends = from
        .iter()
        .take_while(|&&b| crate::csvfile::is_terminator(b));
    ends.filter(|&&b| b == b'\n').count() as u64
}

impl Read for BlockSource {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let rest = self.bytes.get(self.read..).unwrap_or_default();
        let mut n = rest.len().min(out.len());
        if !self.started && n > 0 {
            // csv-core skips a byte-order mark at the start of its first read
            // if that read has three bytes or more. The file's own mark went
            // with the header; a record that starts with one keeps it, as in
            // one pass over the file, so the first read is of one byte.
            n = 1;
            self.started = true;
        }
        out[..n].copy_from_slice(&rest[..n]);
        self.read += n;
        Ok(n)
    }
}
