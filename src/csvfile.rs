//! What every reader of a CSV file shares (`lifeboat predict` and `/batch`
//! through [`crate::batch`], `lifeboat train` and `lifeboat schema` through
//! [`TableReader`]): the quoting rules of the parser, followed byte by byte
//! so that a quote that never closes is reported instead of swallowing the
//! rest of the file into one cell (and no record is read past 16 MB, so that
//! a quote left open early in a large file is reported before the rest of
//! the file is in memory); the checks on a header (an empty file, a
//! name given twice, hints when the columns do not match) and on a row (one
//! cell per column, UTF-8 text); and their messages, so that every command
//! says the same thing about the same file.
//!
//! The settings are csv's defaults, as every reader here uses them: comma,
//! double quotes, a doubled quote inside quotes, CR, LF or CRLF ending a
//! record, blank lines skipped, a UTF-8 byte-order mark at the start skipped.
//! A file separated by semicolons, with decimal commas, reaches them recoded
//! into the comma file it stands for ([`crate::spreadsheet`]).

use crate::quote::quoted;
use crate::spreadsheet::{CsvInput, Separator};
use std::io::{self, Read};

/// The UTF-8 byte-order mark, which the parser skips at the start of a file.
pub(crate) const BOM: &[u8] = b"\xef\xbb\xbf";

/// The longest record read, in MB. A longer one is refused rather than held:
/// a quote that never closes early in a large file would otherwise take the
/// rest of the file into memory as one cell before it could be reported.
const MOST_RECORD_MB: u64 = 16;
pub(crate) const MOST_RECORD_BYTES: u64 = MOST_RECORD_MB << 20;

/// A file that cannot be read as a table, as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error(
        "the file is empty; its first line must name the columns, separated by commas (or semicolons), and each line after it is one row"
    )]
    Empty,
    #[error(
        "line {line}: a quote (\") opens a cell that never closes, so the rest of the file would be read as one cell; end the quoted cell with a quote, and write a quote inside a quoted cell as two (\"\")"
    )]
    UnclosedQuote { line: u64 },
    #[error(
        "line {line}: a quote (\") opens a cell that is still open {} MB later, so it most likely never closes (no row is read past {} MB); end the quoted cell with a quote, and write a quote inside a quoted cell as two (\"\")",
        MOST_RECORD_MB,
        MOST_RECORD_MB
    )]
    QuoteTooLong { line: u64 },
    #[error(
        "line {line}: a row runs on for more than {} MB without a line end (no row is read past {} MB); end each row with a line feed (LF or CRLF): one row per line",
        MOST_RECORD_MB,
        MOST_RECORD_MB
    )]
    RowTooLong { line: u64 },
    #[error(
        "the header names {} twice (columns {first} and {second}); give every column its own name",
        quoted(.name)
    )]
    DuplicateColumn {
        name: String,
        /// Both counted from 1.
        first: usize,
        second: usize,
    },
    #[error("the header's column {column} is not valid UTF-8 text; save the file as UTF-8")]
    HeaderNotUtf8 { column: usize },
    #[error(
        "the file looks like UTF-16 text (as Excel's \"Unicode Text\" saves it), not UTF-8; save it as \"CSV UTF-8 (comma delimited)\", or convert it (iconv -f UTF-16 -t UTF-8)"
    )]
    Utf16,
    #[error("line {line}: the file cannot be read: {message}")]
    Read { line: u64, message: String },
}

/// Why a row of a readable file cannot be used: it has another number of
/// cells than the header names columns, or a cell that is not UTF-8 text.
/// `width` is the number of columns in the header.
pub fn check_record(record: &csv::ByteRecord, width: usize) -> Result<(), String> {
    let cells = record.len();
    if cells != width {
        let fix = if cells > width {
            "a cell with a comma in it must be in double quotes"
        } else {
            "an empty value still needs its comma"
        };
        // A quote left open takes the lines after it into its cell, up to the next quote.
        let lines = record.iter().any(|cell| cell.contains(&b'\n'));
        let quote = if lines {
            "; a quoted cell runs over several lines, so a quote may be missing"
        } else {
            ""
        };
        return Err(format!(
            "the row has {cells} cells but the header names {width} columns; {fix}{quote}"
        ));
    }
    match record.iter().position(|b| std::str::from_utf8(b).is_err()) {
        Some(i) => Err(format!("cell {} is not valid UTF-8 text", i + 1)),
        None => Ok(()),
    }
}

/// Refuses a header record that looks like UTF-16 text (what Excel's
/// "Unicode Text" and some Windows tools save): it starts with a UTF-16
/// byte-order mark, or every other byte of ASCII names is zero. Read as
/// UTF-8, no column would match and the message would not say why.
pub(crate) fn refuse_utf16(record: &csv::ByteRecord) -> Result<(), TableError> {
    let mark = record
        .get(0)
        .is_some_and(|first| first.starts_with(b"\xff\xfe") || first.starts_with(b"\xfe\xff"));
    if mark || record.iter().any(|cell| cell.contains(&0)) {
        return Err(TableError::Utf16);
    }
    Ok(())
}

/// The first name the header gives twice (names compared without the spaces
/// around them; unnamed columns are not compared).
pub fn check_header<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), TableError> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, name) in names.into_iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(name, i) {
            return Err(TableError::DuplicateColumn {
                name: name.to_string(),
                first: first + 1,
                second: i + 1,
            });
        }
    }
    Ok(())
}

/// Hints for a header that lacks the columns `wanted`: that it looks
/// separated by another character than a comma, and the columns that are
/// `wanted` names in another case.
pub fn header_hints<'a>(
    header: impl IntoIterator<Item = &'a str> + Clone,
    wanted: &[String],
) -> Vec<String> {
    let mut hints = Vec::new();
    let separators = [(';', "';'"), ('\t', "a tab"), ('|', "'|'")];
    if let Some((_, name)) = separators
        .iter()
        .find(|(c, _)| header.clone().into_iter().any(|h| h.contains(*c)))
    {
        hints.push(format!(
            "the header looks separated by {name}; lifeboat reads files separated by commas, \
             or by semicolons when the first line has no comma"
        ));
    }
    for want in wanted {
        let other_case = header.clone().into_iter().map(str::trim).find(|h| {
            let h = h.trim_start_matches('\u{feff}');
            h != want && h.to_lowercase() == want.to_lowercase()
        });
        if let Some(found) = other_case {
            hints.push(format!(
                "the header has {}: did you mean {}? (names are case-sensitive)",
                quoted(found),
                quoted(want)
            ));
        }
    }
    hints
}

/// Where the parser is, byte by byte, for finding where records end and
/// whether a quote is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Between records (also after CR of a CRLF).
    RecordStart,
    /// After a comma.
    FieldStart,
    /// In a field that did not begin with a quote (quotes in it are text).
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// Inside quotes, just after a quote: a closing one, or the first of two.
    QuoteInQuoted,
}

pub(crate) fn is_terminator(byte: u8) -> bool {
    byte == b'\n' || byte == b'\r'
}

impl Scan {
    /// The state after `byte`, and whether the parser returns a record on it.
    pub(crate) fn next(self, byte: u8) -> (Scan, bool) {
        use Scan::*;
        match (self, byte) {
            (Quoted, b'"') => (QuoteInQuoted, false),
            (Quoted, _) => (Quoted, false),
            (QuoteInQuoted, b'"') => (Quoted, false),
            // A blank line is skipped, not a record.
            (RecordStart, b) if is_terminator(b) => (RecordStart, false),
            (_, b) if is_terminator(b) => (RecordStart, true),
            (_, b',') => (FieldStart, false),
            // A quote opens a quoted field only as the field's first byte.
            (RecordStart | FieldStart, b'"') => (Quoted, false),
            _ => (Unquoted, false),
        }
    }
}

/// Follows the parser through input that starts between records, to tell,
/// when the input ends, whether a quote is still open and where it opened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quotes {
    state: Scan,
    /// Bytes seen.
    seen: u64,
    /// Line feeds seen.
    newlines: u64,
    /// The offset of the first byte of the last record begun, and the line
    /// feeds before it.
    record_start: u64,
    record_newlines: u64,
    /// The last quote that opened a field: its offset, and the line feeds
    /// before it.
    opened: (u64, u64),
}

/// A quote still open where the input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenQuote {
    /// The offset of the first byte of the record it is in.
    pub record_start: u64,
    /// Line feeds before the quote, from the start of the input.
    pub newlines: u64,
}

impl Default for Quotes {
    fn default() -> Self {
        Quotes {
            state: Scan::RecordStart,
            seen: 0,
            newlines: 0,
            record_start: 0,
            record_newlines: 0,
            opened: (0, 0),
        }
    }
}

impl Quotes {
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.feed_noting_records(bytes, |_| {});
    }

    /// [`Quotes::feed`], calling `record_begins` with the line (counted from
    /// 1) of the first byte of each record.
    fn feed_noting_records(&mut self, bytes: &[u8], mut record_begins: impl FnMut(u64)) {
        for &byte in bytes {
            let before = self.state;
            let (after, _) = before.next(byte);
            if after == Scan::Quoted && matches!(before, Scan::RecordStart | Scan::FieldStart) {
                self.opened = (self.seen, self.newlines);
            }
            if before == Scan::RecordStart && after != Scan::RecordStart {
                self.record_start = self.seen;
                self.record_newlines = self.newlines;
                record_begins(self.newlines + 1);
            }
            self.newlines += u64::from(byte == b'\n');
            self.seen += 1;
            self.state = after;
        }
    }

    /// The quote still open if the input ends here.
    pub(crate) fn open(&self) -> Option<OpenQuote> {
        (self.state == Scan::Quoted).then_some(OpenQuote {
            record_start: self.record_start,
            newlines: self.opened.1,
        })
    }

    /// The record being read, if it has run on for more than `most` bytes.
    pub(crate) fn overlong(&self, most: u64) -> Option<Overlong> {
        if self.state == Scan::RecordStart || self.seen - self.record_start <= most {
            return None;
        }
        Some(if self.state == Scan::Quoted {
            Overlong {
                newlines: self.opened.1,
                quote: true,
            }
        } else {
            Overlong {
                newlines: self.record_newlines,
                quote: false,
            }
        })
    }
}

/// A record that runs on past the longest one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overlong {
    /// Line feeds before the quote still open in it, if one is, or else
    /// before its start.
    pub newlines: u64,
    pub quote: bool,
}

impl Overlong {
    /// The error, with the lines counted from `first_line`, the line of the
    /// first byte the scan saw.
    pub(crate) fn error(self, first_line: u64) -> TableError {
        let line = first_line + self.newlines;
        if self.quote {
            TableError::QuoteTooLong { line }
        } else {
            TableError::RowTooLong { line }
        }
    }
}

/// The line (counted from 1) of the quote that `bytes`, a whole file or what
/// starts between records, leaves open at its end; a leading byte-order mark
/// is skipped as the parser skips it.
pub fn unclosed_quote_line(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut quotes = Quotes::default();
    quotes.feed(bytes);
    quotes.open().map(|open| open.newlines + 1)
}

/// Passes bytes through to the csv reader and follows its quotes.
struct Watch<R> {
    inner: R,
    quotes: Quotes,
    started: bool,
    ended: bool,
    /// The lines the records read ahead begin on, first to last. csv's own
    /// record position is where the previous record ended: at the CR of a
    /// CRLF, before any blank lines, so a line early in a Windows file.
    record_lines: std::collections::VecDeque<u64>,
    /// The longest record read, in bytes, and the record that ran past it.
    most_record: u64,
    overlong: Option<Overlong>,
}

impl<R: Read> Read for Watch<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        let mut bytes = &out[..n];
        if n == 0 && !out.is_empty() {
            self.ended = true;
        }
        if !self.started && n > 0 {
            self.started = true;
            // csv-core skips a mark at the start of its first read, if that
            // read has all three bytes; its first read is this one.
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        let lines = &mut self.record_lines;
        self.quotes
            .feed_noting_records(bytes, |line| lines.push_back(line));
        if let Some(overlong) = self.quotes.overlong(self.most_record) {
            // Stop the parser before it holds more of the record.
            self.overlong = Some(overlong);
            return Err(io::Error::other("the row is too long"));
        }
        Ok(n)
    }
}

/// A CSV file read row by row, with the checks every command makes: the
/// header is read and checked when the reader is made, and each row comes
/// with its line, or with why it cannot be used.
pub struct TableReader<R> {
    reader: csv::Reader<Watch<CsvInput<R>>>,
    header: Vec<String>,
    record: csv::ByteRecord,
}

/// One row of a [`TableReader`].
pub enum TableRow<'a> {
    /// A row with one UTF-8 cell per column.
    Cells(Cells<'a>),
    /// A row that cannot be used, and why (its line counted from 1).
    Rejected { line: u64, reason: String },
}

/// The cells of a row that passed [`check_record`].
#[derive(Clone, Copy)]
pub struct Cells<'a> {
    /// The line the row starts on (the header is line 1, or later after
    /// blank lines or line ends in quoted cells).
    pub line: u64,
    record: &'a csv::ByteRecord,
}

impl<'a> Cells<'a> {
    /// Column `i`'s cell.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.record.get(i).and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let record = self.record;
        record
            .iter()
            .map(|b| std::str::from_utf8(b).unwrap_or_default())
    }
}

impl<R: Read> TableReader<R> {
    /// Reads the header: refused if the file is empty, not UTF-8, names a
    /// column twice, or opens a quote it never closes.
    pub fn new(input: R) -> Result<Self, TableError> {
        Self::with_most_record(input, MOST_RECORD_BYTES)
    }

    /// [`TableReader::new`] refusing records longer than `most_record` bytes.
    fn with_most_record(input: R, most_record: u64) -> Result<Self, TableError> {
        let input = CsvInput::new(input).map_err(|e| TableError::Read {
            line: 1,
            message: e.to_string(),
        })?;
        let watch = Watch {
            inner: input,
            quotes: Quotes::default(),
            started: false,
            ended: false,
            record_lines: std::collections::VecDeque::new(),
            most_record,
            overlong: None,
        };
        let reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(watch);
        let mut table = TableReader {
            reader,
            header: Vec::new(),
            record: csv::ByteRecord::new(),
        };
        if !table.read()? {
            return Err(TableError::Empty);
        }
        table.reader.get_mut().record_lines.pop_front();
        refuse_utf16(&table.record)?;
        let mut header = Vec::with_capacity(table.record.len());
        for (i, cell) in table.record.iter().enumerate() {
            let name = std::str::from_utf8(cell)
                .map_err(|_| TableError::HeaderNotUtf8 { column: i + 1 })?;
            header.push(name.trim_start_matches('\u{feff}').to_string());
        }
        check_header(header.iter().map(String::as_str))?;
        table.header = header;
        Ok(table)
    }

    /// What separates the file's cells (a file of semicolons is read with
    /// decimal commas, as the comma file it stands for).
    pub fn separator(&self) -> Separator {
        self.reader.get_ref().inner.separator()
    }

    /// Whether a byte read so far was not UTF-8, and so was read as
    /// Windows-1252.
    pub fn windows1252(&self) -> bool {
        self.reader.get_ref().inner.windows1252()
    }

    /// The column names, as the header gives them.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next row, `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<TableRow<'_>>, TableError> {
        if !self.read()? {
            return Ok(None);
        }
        let csv_line = self.record.position().map_or(0, |p| p.line());
        let line = self
            .reader
            .get_mut()
            .record_lines
            .pop_front()
            .unwrap_or(csv_line);
        Ok(Some(match check_record(&self.record, self.header.len()) {
            Ok(()) => TableRow::Cells(Cells {
                line,
                record: &self.record,
            }),
            Err(reason) => TableRow::Rejected { line, reason },
        }))
    }

    /// Reads the next record; an error if it is the one a quote that never
    /// closes ran to the end of the file, or one too long to read.
    fn read(&mut self) -> Result<bool, TableError> {
        let read = self.reader.read_byte_record(&mut self.record);
        if let Some(overlong) = self.reader.get_ref().overlong {
            return Err(overlong.error(1));
        }
        let read = read.map_err(|e| TableError::Read {
            line: self.reader.position().line(),
            message: match e.into_kind() {
                csv::ErrorKind::Io(e) => e.to_string(),
                other => format!("{other:?}"),
            },
        })?;
        let watch = self.reader.get_ref();
        if watch.ended
            && let Some(open) = watch.quotes.open()
        {
            return Err(TableError::UnclosedQuote {
                line: open.newlines + 1,
            });
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn records(bytes: &[u8]) -> usize {
        csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(bytes)
            .byte_records()
            .count()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// The input ends inside quotes exactly when more lines after it
        /// would not make another record.
        #[test]
        fn an_open_quote_is_the_parsers(bytes in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n')],
            0..40,
        )) {
            let mut ended = bytes.clone();
            ended.push(b'\n');
            let mut more = ended.clone();
            more.extend_from_slice(b"z\n");
            let inside = records(&ended) == records(&more);
            prop_assert_eq!(unclosed_quote_line(&bytes).is_some(), inside);
        }
    }

    #[test]
    fn an_open_quote_is_found_on_its_line() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"a,b\n1,2\n", None),
            (b"a,b\n1,\"oops\n3,4\n5,6\n", Some(2)),
            (b"a,b\n1,\"two\nlines\"\n3,\"x\"\"\ny\n", Some(4)),
            (b"a,b\n1,\"closed\"", None),
            (b"a,b\n1,un\"quoted\n", None),
            (b"\xef\xbb\xbf\"a,b\n1,2\n", Some(1)),
            (b"\r\n\r\n\"a", Some(3)),
        ];
        for (bytes, line) in cases {
            let text = String::from_utf8_lossy(bytes);
            assert_eq!(unclosed_quote_line(bytes), *line, "{text:?}");
        }
    }

    /// Every row of `bytes` as the reader gives it: cells or why not.
    /// A row's line and cells, or the message it is rejected with.
    type RowRead = Result<Vec<String>, String>;

    fn table(bytes: &[u8]) -> Result<(Vec<String>, Vec<RowRead>), String> {
        let mut reader = TableReader::new(bytes).map_err(|e| e.to_string())?;
        let header = reader.header().to_vec();
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
            rows.push(match row {
                TableRow::Cells(cells) => Ok(std::iter::once(cells.line.to_string())
                    .chain(cells.iter().map(String::from))
                    .collect()),
                TableRow::Rejected { line, reason } => Err(format!("line {line}: {reason}")),
            });
        }
        Ok((header, rows))
    }

    #[test]
    fn rows_are_on_the_line_they_begin_on_whatever_the_line_ends() {
        let lines = |bytes: &[u8]| -> Vec<String> {
            let (_, rows) = table(bytes).unwrap();
            rows.into_iter()
                .map(|r| match r {
                    Ok(cells) => cells[0].clone(),
                    Err(message) => message.split(':').next().unwrap().to_string(),
                })
                .collect()
        };
        // Windows line ends, a blank line, a quoted cell over two lines.
        let crlf = b"a,b\r\n1,2\r\n\r\n3,4\r\n\"x\r\ny\",5\r\n6\r\n7,8\r\n";
        assert_eq!(lines(crlf), ["2", "4", "5", "line 7", "8"]);
        let lf = b"a,b\n1,2\n\n\n3,4\n6\n7,8";
        assert_eq!(lines(lf), ["2", "5", "line 6", "7"]);
        let cr = b"a,b\r1,2\r3,4\n5,6";
        // Line feeds are what count lines: a bare CR ends a record, not a line.
        assert_eq!(lines(cr), ["1", "1", "2"]);
    }

    #[test]
    fn rows_of_the_wrong_width_are_rejected_with_their_line() {
        let (header, rows) =
            table(b"\xef\xbb\xbfa,b,c\n1,2,3\n4,5\n6,7,8,9\n\"x\ny\",\xff,z\n10,11,12").unwrap();
        assert_eq!(header, ["a", "b", "c"]);
        assert_eq!(
            rows[0],
            Ok(vec!["2".into(), "1".into(), "2".into(), "3".into()])
        );
        assert_eq!(
            rows[1],
            Err(
                "line 3: the row has 2 cells but the header names 3 columns; \
                 an empty value still needs its comma"
                    .into()
            )
        );
        assert_eq!(
            rows[2],
            Err(
                "line 4: the row has 4 cells but the header names 3 columns; \
                 a cell with a comma in it must be in double quotes"
                    .into()
            )
        );
        // A byte that is not UTF-8 is read as Windows-1252.
        assert_eq!(
            rows[3],
            Ok(vec!["5".into(), "x\ny".into(), "ÿ".into(), "z".into()])
        );
        assert_eq!(rows[4].as_ref().unwrap()[0], "7");
        assert_eq!(rows.len(), 5);
        // A quote that closes only on a later row's quote makes one long row.
        let (_, rows) = table(b"a,b,c\n1,2,\"oops\n3,4,5\n6,\"7\",8\n").unwrap();
        assert_eq!(
            rows,
            [Err(
                "line 2: the row has 4 cells but the header names 3 columns; \
                  a cell with a comma in it must be in double quotes; \
                  a quoted cell runs over several lines, so a quote may be missing"
                    .to_string()
            )]
        );
    }

    #[test]
    fn a_quote_that_never_closes_stops_the_file_at_its_line() {
        let csv = b"a,b\n1,2\n3,\"oops\n4,5\n6,7\n";
        let mut reader = TableReader::new(&csv[..]).unwrap();
        assert!(matches!(reader.next_row(), Ok(Some(TableRow::Cells(_)))));
        let err = reader.next_row().err().unwrap();
        assert_eq!(err, TableError::UnclosedQuote { line: 3 });
        assert!(
            err.to_string()
                .starts_with("line 3: a quote (\") opens a cell that never closes"),
            "{err}"
        );
        // Also in the header, and with reads of one byte at a time.
        let err = TableReader::new(&b"a,\"b\n1,2\n"[..]).err().unwrap();
        assert_eq!(err, TableError::UnclosedQuote { line: 1 });
        let slow = io::BufReader::with_capacity(1, &csv[..]);
        let mut reader = TableReader::new(slow).unwrap();
        reader.next_row().unwrap();
        assert_eq!(
            reader.next_row().err(),
            Some(TableError::UnclosedQuote { line: 3 })
        );
    }

    #[test]
    fn a_row_longer_than_any_read_is_refused_where_it_starts() {
        /// Hands out a few bytes at a time, as a large file is read a buffer at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = out.len().min(self.0.len()).min(3);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        fn first_error(csv: &[u8]) -> TableError {
            let mut reader = match TableReader::with_most_record(Trickle(csv), 64) {
                Ok(reader) => reader,
                Err(e) => return e,
            };
            loop {
                match reader.next_row() {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("no error in {}", String::from_utf8_lossy(csv)),
                    Err(e) => return e,
                }
            }
        }
        let long = "x".repeat(100);
        let quote = format!("a,b\n1,2\n\n3,\"{long}\n{long}\n4,5\n");
        assert_eq!(
            first_error(quote.as_bytes()),
            TableError::QuoteTooLong { line: 4 }
        );
        let quote_later = format!("a,b\n1,2\n3,\"x\ny\"{long}\n");
        assert_eq!(
            first_error(quote_later.as_bytes()),
            TableError::RowTooLong { line: 3 }
        );
        let header = format!("a,\"{long}\n");
        assert_eq!(
            first_error(header.as_bytes()),
            TableError::QuoteTooLong { line: 1 }
        );
        let err = TableError::QuoteTooLong { line: 4 }.to_string();
        assert!(
            err.starts_with("line 4: a quote (\") opens a cell that is still open 16 MB later"),
            "{err}"
        );
        // Up to the limit, rows are read.
        let fits = format!("a,b\n1,\"{}\"\n", "x".repeat(56));
        let mut reader = TableReader::with_most_record(fits.as_bytes(), 64).unwrap();
        assert!(matches!(reader.next_row(), Ok(Some(TableRow::Cells(_)))));
        assert!(matches!(reader.next_row(), Ok(None)));
    }

    #[test]
    fn utf16_files_are_named_as_such() {
        let text = "a,b\n1,2\n";
        let le: Vec<u8> = "\u{feff}a,b\n1,2\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for bytes in [le, be] {
            assert_eq!(TableReader::new(&bytes[..]).err(), Some(TableError::Utf16));
        }
        assert!(TableReader::new(text.as_bytes()).is_ok());
        // Windows-1252 is not UTF-16: it is read.
        let table = TableReader::new(&b"a,caf\xe9\n1,2\n"[..]).unwrap();
        assert_eq!(table.header(), ["a", "café"]);
        assert!(table.windows1252());
        assert!(!TableReader::new(text.as_bytes()).unwrap().windows1252());
    }

    #[test]
    fn headers_that_cannot_be_used_are_refused() {
        assert_eq!(table(b"").unwrap_err(), TableError::Empty.to_string());
        assert_eq!(table(b"\n\r\n").unwrap_err(), TableError::Empty.to_string());
        assert!(table(b"a,b").unwrap().1.is_empty());
        assert_eq!(
            table(b"Id,Sex,Age, Sex\n").unwrap_err(),
            "the header names \"Sex\" twice (columns 2 and 4); give every column its own name"
        );
        // Unnamed columns are no names.
        assert!(table(b",a,,b\n1,2,3,4\n").is_ok());
        assert_eq!(table(b"a,\xffb\n").unwrap().0, ["a", "ÿb"]);
    }

    #[test]
    fn hints_for_headers_that_do_not_match() {
        let wanted = ["Pclass".to_string(), "Sex".to_string()];
        assert_eq!(
            header_hints(["Pclass;Sex;Age"], &wanted),
            [
                "the header looks separated by ';'; lifeboat reads files separated by commas, \
             or by semicolons when the first line has no comma"
            ]
        );
        assert_eq!(
            header_hints(["Pclass\tSex"], &wanted)[0],
            "the header looks separated by a tab; lifeboat reads files separated by commas, \
             or by semicolons when the first line has no comma"
        );
        assert_eq!(
            header_hints(["pclass", "Sex", " SEX "], &wanted),
            [
                "the header has \"pclass\": did you mean \"Pclass\"? (names are case-sensitive)",
                "the header has \"SEX\": did you mean \"Sex\"? (names are case-sensitive)",
            ]
        );
        assert!(header_hints(["Age", "Fare"], &wanted).is_empty());
    }
}
