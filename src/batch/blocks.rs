//! The input cut into blocks of whole records, so that the scoring threads can
//! parse them: the calling thread only reads bytes and finds where a record
//! ends.
//!
//! A block is cut just after a byte at which the CSV parser (csv-core, with
//! the settings batch uses: comma, double quotes, a doubled quote inside
//! quotes, CR, LF or CRLF ending a record, blank lines skipped) returns a
//! record. From such a point a parser behaves exactly as the one that read
//! everything before it, line numbers included, so parsing block by block
//! gives the records, and the positions, of one pass over the file.

use std::io::{self, Read};

use super::BatchError;
use crate::csvfile::{BOM, MOST_RECORD_BYTES, Overlong, Quotes, Scan, is_terminator};

/// Bytes asked of the input at most at once.
const READ_STEP: usize = 64 << 10;

/// The end of the first record of `bytes` (which start between records), if
/// its terminator is in `bytes`.
pub(super) fn first_record_end(bytes: &[u8]) -> Option<usize> {
    let mut state = Scan::RecordStart;
    for (i, &byte) in bytes.iter().enumerate() {
        let (next, ends) = state.next(byte);
        if ends {
            return Some(i + 1);
        }
        state = next;
    }
    None
}

/// The end of the last record of `bytes` (which start between records) whose
/// terminator is in `bytes`, if any.
pub(super) fn last_record_end(bytes: &[u8]) -> Option<usize> {
    if bytes.contains(&b'"') {
        last_record_end_scanning(bytes)
    } else {
        last_record_end_unquoted(bytes)
    }
}

/// [`last_record_end`] by following the parser through every byte.
fn last_record_end_scanning(bytes: &[u8]) -> Option<usize> {
    let mut state = Scan::RecordStart;
    let mut end = None;
    for (i, &byte) in bytes.iter().enumerate() {
        let (next, ends) = state.next(byte);
        if ends {
            end = Some(i + 1);
        }
        state = next;
    }
    end
}

/// [`last_record_end`] without quotes, from the end: the last run of CR and
/// LF bytes ends a record at its first byte, if any text comes before it.
fn last_record_end_unquoted(bytes: &[u8]) -> Option<usize> {
    let last = bytes.iter().rposition(|&b| is_terminator(b))?;
    let text = bytes[..last].iter().rposition(|&b| !is_terminator(b))?;
    Some(text + 2)
}

/// Reads the input and hands it out in blocks of whole records.
pub(super) struct Blocks<R> {
    input: R,
    /// The size of a block (more when one record is longer).
    size: usize,
    /// Bytes read after the last cut: the start of the next block.
    carry: Vec<u8>,
    /// The input's byte offset of `carry`'s first byte.
    offset: u64,
    /// The input ended or failed: nothing more is read.
    ended: bool,
    /// Why reading failed, kept for when every record before is written.
    error: Option<io::Error>,
    /// The input ended inside quotes: the line feeds from the end of the
    /// blocks handed out (the start of the record the quote is in) to the
    /// quote. That record is not handed out.
    unclosed: Option<u64>,
    /// The longest record read, in bytes, and the record that ran on past
    /// it (its line feeds counted from the end of the blocks handed out).
    most_record: u64,
    overlong: Option<Overlong>,
}

impl<R: Read> Blocks<R> {
    pub(super) fn new(input: R, size: usize) -> Self {
        Blocks {
            input,
            size: size.max(1),
            carry: Vec::new(),
            offset: 0,
            ended: false,
            error: None,
            unclosed: None,
            most_record: MOST_RECORD_BYTES,
            overlong: None,
        }
    }

    /// [`Blocks::new`] refusing records longer than `most_record` bytes.
    #[cfg(test)]
    fn with_most_record(input: R, size: usize, most_record: u64) -> Self {
        Blocks {
            most_record,
            ..Blocks::new(input, size)
        }
    }

    /// The bytes up to the end of the header record: a byte-order mark and
    /// blank lines before it included, all of the input if it has no line end.
    pub(super) fn header(&mut self) -> Result<Vec<u8>, BatchError> {
        let mut bytes = std::mem::take(&mut self.carry);
        let mut want = self.size;
        loop {
            self.fill(&mut bytes, want);
            let skip = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
            let end = match first_record_end(&bytes[skip..]) {
                Some(end) => skip + end,
                None if self.ended => match self.error.take() {
                    Some(e) => return Err(BatchError::Header(csv::Error::from(e).to_string())),
                    None => bytes.len(),
                },
                None => {
                    if let Some(overlong) = self.runs_on(&bytes[skip..]) {
                        return Err(overlong.error(1).into());
                    }
                    want = self.grown(bytes.len(), want);
                    continue;
                }
            };
            self.carry = bytes.split_off(end);
            self.offset = end as u64;
            return Ok(bytes);
        }
    }

    /// Fills `block` with the next block of whole records, and says whether
    /// it runs to the end of the input (its last record may then have no
    /// terminator). `None` when no record is left, or when reading failed
    /// (see [`Blocks::take_error`]); the partial record before a failure is
    /// dropped, as the parser drops it.
    pub(super) fn next(&mut self, block: &mut Vec<u8>) -> Option<bool> {
        block.clear();
        std::mem::swap(block, &mut self.carry);
        let mut want = self.size;
        loop {
            self.fill(block, want);
            if self.ended && self.error.is_none() {
                self.cut_open_quote(block);
                self.offset += block.len() as u64;
                return (!block.is_empty()).then_some(true);
            }
            if let Some(end) = last_record_end(block) {
                self.carry.extend_from_slice(&block[end..]);
                block.truncate(end);
                self.offset += end as u64;
                return Some(false);
            }
            if self.ended {
                block.clear();
                return None;
            }
            // One record longer than a block: read on until it ends, or until
            // it is longer than any record read.
            if let Some(overlong) = self.runs_on(block) {
                self.overlong = Some(overlong);
                self.ended = true;
                block.clear();
                return None;
            }
            want = self.grown(block.len(), want);
        }
    }

    /// The record `bytes` (which start between records and hold no record
    /// end) begin, if it runs on past the longest record read.
    fn runs_on(&self, bytes: &[u8]) -> Option<Overlong> {
        if bytes.len() as u64 <= self.most_record {
            return None;
        }
        let mut quotes = Quotes::default();
        quotes.feed(bytes);
        quotes.overlong(self.most_record)
    }

    /// How much to read for a record not yet ended in `len` bytes: twice as
    /// much, but no more than one byte past the longest record read, until
    /// blank lines before it are past that.
    fn grown(&self, len: usize, want: usize) -> usize {
        let twice = len.max(want).saturating_mul(2);
        let most = usize::try_from(self.most_record).unwrap_or(usize::MAX);
        if len <= most && twice > most {
            most + 1
        } else {
            twice
        }
    }

    /// Leaves out of the last block the record a quote that never closes
    /// runs on to the end of the input in, and notes where the quote is.
    fn cut_open_quote(&mut self, block: &mut Vec<u8>) {
        if !block.contains(&b'"') {
            return;
        }
        let mut quotes = Quotes::default();
        quotes.feed(block);
        if let Some(open) = quotes.open() {
            let start = open.record_start as usize;
            let before = block[..start].iter().filter(|&&b| b == b'\n').count() as u64;
            self.unclosed = Some(open.newlines - before);
            block.truncate(start);
        }
    }

    /// If the input ended inside quotes: the line feeds from the end of the
    /// blocks handed out to the quote that never closes.
    pub(super) fn unclosed(&self) -> Option<u64> {
        self.unclosed
    }

    /// If a record ran on past the longest record read: where it is, its
    /// line feeds counted from the end of the blocks handed out.
    pub(super) fn overlong(&self) -> Option<Overlong> {
        self.overlong
    }

    /// Sets the size of the next blocks.
    pub(super) fn resize(&mut self, size: usize) {
        self.size = size.max(1);
    }

    /// The input's byte offset after the blocks handed out so far.
    /// The reader the blocks are cut from.
    pub(super) fn input(&self) -> &R {
        &self.input
    }

    pub(super) fn position(&self) -> u64 {
        self.offset
    }

    /// Why reading the input failed, if it did.
    pub(super) fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Reads until `bytes` holds `want` bytes, or the input ends or fails.
    fn fill(&mut self, bytes: &mut Vec<u8>, want: usize) {
        let mut filled = bytes.len();
        while !self.ended && filled < want {
            if filled == bytes.len() {
                // Room for a step at a time: `want` may be far beyond the input.
                bytes.resize(filled + (want - filled).min(READ_STEP), 0);
            }
            match self.input.read(&mut bytes[filled..]) {
                Ok(0) => self.ended = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e);
                    self.ended = true;
                }
            }
        }
        bytes.truncate(filled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csvfile::TableError;
    use proptest::prelude::*;

    /// Where a csv reader (batch's settings) returns records that ended on a
    /// terminator in `bytes`: with one more text byte after the input, a
    /// record that ended only because the input did is no longer one.
    fn record_ends(bytes: &[u8]) -> Vec<usize> {
        let mut more = bytes.to_vec();
        more.push(b'z');
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(&more[..]);
        let mut record = csv::ByteRecord::new();
        let mut ends = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let end = reader.position().byte() as usize;
            if end <= bytes.len() {
                ends.push(end);
            }
        }
        ends
    }

    fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n')],
            0..40,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn record_ends_are_the_parsers(bytes in csv_bytes()) {
            let ends = record_ends(&bytes);
            prop_assert_eq!(first_record_end(&bytes), ends.first().copied());
            prop_assert_eq!(last_record_end(&bytes), ends.last().copied());
            prop_assert_eq!(last_record_end_scanning(&bytes), ends.last().copied());
        }
    }

    #[test]
    fn record_ends_by_hand() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"", None),
            (b"a", None),
            (b"\n\r\n", None),
            (b"a\n", Some(2)),
            (b"a\r\n", Some(2)),
            (b"a\nb\n\n\nc", Some(4)),
            (b"\"a\nb\"", None),
            (b"\"a\nb\"\n", Some(6)),
            (b"\"a\"\"\n\"\n", Some(7)),
            (b"a\"b\nc", Some(4)),
            (b"\"a\"b\"\nc", Some(6)),
            (b",\n", Some(2)),
        ];
        for (bytes, end) in cases {
            let text = String::from_utf8_lossy(bytes);
            assert_eq!(last_record_end(bytes), *end, "{text:?}");
            assert_eq!(last_record_end_scanning(bytes), *end, "{text:?}");
        }
    }

    /// A reader that returns `bytes` a few at a time, then fails.
    struct Failing<'a> {
        bytes: &'a [u8],
    }

    impl Read for Failing<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.bytes.is_empty() {
                return Err(io::Error::other("the disk is on fire"));
            }
            let n = out.len().min(self.bytes.len()).min(3);
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn all_blocks<R: Read>(blocks: &mut Blocks<R>) -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        let mut block = Vec::new();
        while let Some(last) = blocks.next(&mut block) {
            out.push((block.clone(), last));
        }
        out
    }

    #[test]
    fn blocks_put_back_together_are_the_input() {
        let input = b"\xef\xbb\xbf\"h\n1\",h2\r\n\r\na,\"x\"\"\ny\"\r\nb,c\n\"q\"\n\nlast";
        for size in 1..input.len() + 2 {
            let mut blocks = Blocks::new(&input[..], size);
            let mut joined = blocks.header().unwrap();
            assert_eq!(joined, b"\xef\xbb\xbf\"h\n1\",h2\r");
            let all = all_blocks(&mut blocks);
            for (i, (block, last)) in all.iter().enumerate() {
                assert_eq!(*last, i + 1 == all.len(), "size {size}");
                if !last {
                    assert_eq!(last_record_end(block), Some(block.len()));
                }
                joined.extend_from_slice(block);
            }
            assert_eq!(joined, input, "size {size}");
            assert_eq!(blocks.position(), input.len() as u64);
            assert!(blocks.take_error().is_none());
        }
    }

    #[test]
    fn a_failed_read_drops_the_partial_record_and_keeps_the_error() {
        let input = b"h\na\nb\"\nc,\"d\ne";
        for size in 1..input.len() + 2 {
            let mut blocks = Blocks::new(Failing { bytes: input }, size);
            let mut joined = blocks.header().unwrap();
            for (block, last) in all_blocks(&mut blocks) {
                assert!(!last);
                joined.extend_from_slice(&block);
            }
            assert_eq!(joined, b"h\na\nb\"\n", "size {size}");
            let error = blocks.take_error().unwrap();
            assert_eq!(error.to_string(), "the disk is on fire");
        }
        let mut blocks = Blocks::new(Failing { bytes: b"h1,\"h\n" }, 4);
        assert!(blocks.header().is_err());
    }

    #[test]
    fn a_quote_left_open_is_cut_from_the_last_block() {
        let input = b"h\na\n\"b\nc\"\n\r\nd,\"x\ny\",\"e\nf\ng";
        for size in 1..input.len() + 2 {
            let mut blocks = Blocks::new(&input[..], size);
            let mut joined = blocks.header().unwrap();
            for (block, _) in all_blocks(&mut blocks) {
                joined.extend_from_slice(&block);
            }
            assert_eq!(joined, b"h\na\n\"b\nc\"\n\r\n", "size {size}");
            // The record starts at d; its open quote is a line further.
            assert_eq!(blocks.unclosed(), Some(1), "size {size}");
            assert_eq!(blocks.position(), joined.len() as u64);
        }
        let closed = b"h\na,\"b\nc\"";
        let mut blocks = Blocks::new(&closed[..], 4);
        blocks.header().unwrap();
        let rest: Vec<u8> = all_blocks(&mut blocks)
            .into_iter()
            .flat_map(|(block, _)| block)
            .collect();
        assert_eq!(rest, b"a,\"b\nc\"");
        assert_eq!(blocks.unclosed(), None);
    }

    #[test]
    fn a_record_longer_than_any_read_stops_the_blocks() {
        // The quote on line 5 never closes; the record holding it starts on line 4.
        let mut input = b"h\na\n\nb,\"c\nd\",\"e\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 40));
        input.extend_from_slice(b"\nd\n");
        // Blocks up to the longest record: a block that reads to the end of
        // the input finds the quote left open there instead (tested above).
        for size in 1..=12 {
            let mut blocks = Blocks::with_most_record(&input[..], size, 12);
            let mut joined = blocks.header().unwrap();
            for (block, last) in all_blocks(&mut blocks) {
                assert!(!last);
                joined.extend_from_slice(&block);
            }
            assert_eq!(joined, b"h\na\n", "size {size}");
            let overlong = blocks.overlong().unwrap();
            assert_eq!(
                (overlong.newlines, overlong.quote),
                (2, true),
                "size {size}"
            );
            assert_eq!(blocks.unclosed(), None);
        }
        // Without a quote: the record's own line, after the blank lines.
        let mut input = b"h\na\n\r\n\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 40));
        let mut blocks = Blocks::with_most_record(&input[..], 4, 12);
        blocks.header().unwrap();
        all_blocks(&mut blocks);
        let overlong = blocks.overlong().unwrap();
        assert_eq!((overlong.newlines, overlong.quote), (2, false));
        // Blank lines are not a record: many of them before a short record are read.
        let mut input = b"h\n".to_vec();
        input.extend(std::iter::repeat_n(b'\n', 40));
        input.extend_from_slice(b"short\n");
        let mut blocks = Blocks::with_most_record(&input[..], 4, 12);
        blocks.header().unwrap();
        let rest: Vec<u8> = all_blocks(&mut blocks)
            .into_iter()
            .flat_map(|(b, _)| b)
            .collect();
        assert!(rest.ends_with(b"short\n"));
        assert_eq!(blocks.overlong(), None);
        // The longest record read is read, up to its end or the file's.
        let input = b"h\n\"0123456789\"\n0123456789ab";
        let mut blocks = Blocks::with_most_record(&input[..], 2, 12);
        blocks.header().unwrap();
        assert_eq!(all_blocks(&mut blocks).len(), 2);
        assert_eq!(blocks.overlong(), None);
    }

    #[test]
    fn a_header_longer_than_any_record_read_is_refused() {
        let mut input = b"\xef\xbb\xbf\n\"h".to_vec();
        input.extend(std::iter::repeat_n(b'\n', 40));
        let err = Blocks::with_most_record(&input[..], 4, 12)
            .header()
            .unwrap_err();
        assert!(
            matches!(err, BatchError::Table(TableError::QuoteTooLong { line: 2 })),
            "{err:?}"
        );
        let input = [b'h'; 40];
        let err = Blocks::with_most_record(&input[..], 4, 12)
            .header()
            .unwrap_err();
        assert!(
            matches!(err, BatchError::Table(TableError::RowTooLong { line: 1 })),
            "{err:?}"
        );
    }

    #[test]
    fn a_header_without_a_line_end_is_all_of_the_input() {
        let mut blocks = Blocks::new(&b"a,b"[..], 1);
        assert_eq!(blocks.header().unwrap(), b"a,b");
        assert_eq!(blocks.next(&mut Vec::new()), None);
        let mut blocks = Blocks::new(&b""[..], 1);
        assert_eq!(blocks.header().unwrap(), b"");
    }
}
