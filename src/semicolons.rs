//! CSV files as spreadsheets save them where the decimal mark is a comma
//! (Excel or LibreOffice set to Spanish, French, German…): cells separated
//! by semicolons, numbers written `14,23`.
//!
//! Every reader in lifeboat takes commas. A file whose first line is
//! separated by semicolons, with no comma outside quotes, is recoded as it
//! is read into the comma-separated file it stands for: `;` becomes `,`,
//! `14,23` becomes `14.23` (`1.065,5` becomes `1065.5`), and a cell with a
//! comma in its text is quoted. Scored output goes back the other way
//! ([`CsvOutput`]), so that the spreadsheet opens it as it saved the
//! input.
//!
//! Recoding goes a cell at a time and never holds more than [`SHORT_CELL`]
//! bytes: a longer cell is no number, so it streams through (quoted, if it
//! was not), and a quote left open reaches the readers' own checks as it
//! would have. Line ends are untouched, so every line number stays the
//! file's own.

use std::io::{self, Read, Write};

/// What separates the cells of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Separator {
    #[default]
    Comma,
    /// Semicolons, with numbers that may have a decimal comma.
    Semicolon,
}

/// What the commands say of a file they read as separated by semicolons.
pub const READ_NOTE: &str = "the file is separated by semicolons, so numbers are read with a \
     decimal comma (14,23) as well as a decimal point";

/// The most bytes of the first line read to tell the separator.
const SNIFF_BYTES: usize = 64 << 10;

/// The longest cell that can be a number to recode; longer cells stream.
const SHORT_CELL: usize = 64;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The separator the first line of `bytes` uses: semicolons when it has
/// one outside quotes and no comma, else commas.
pub fn separator_of(bytes: &[u8]) -> Separator {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &byte in bytes.strip_prefix(BOM).unwrap_or(bytes) {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > 0 && commas == 0 {
        Separator::Semicolon
    } else {
        Separator::Comma
    }
}

/// `bytes`, a whole file in memory, as the readers take it: as it is, or
/// recoded into commas if it is separated by semicolons.
pub fn comma_separated(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if separator_of(bytes) == Separator::Comma {
        return bytes.into();
    }
    let (bom, rest) = match bytes.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => (&bytes[..0], bytes),
    };
    let mut out = bom.to_vec();
    let mut recode = Recode::new(READING);
    recode.feed(rest, &mut out);
    recode.finish(&mut out);
    out.into()
}

/// A CSV input as the readers take it: comma-separated, recoded if the file
/// is separated by semicolons.
pub struct CsvInput<R> {
    inner: R,
    separator: Separator,
    /// Bytes read to tell the separator, not yet handed on (as they are, or
    /// recoded into `out`).
    peeked: Vec<u8>,
    /// Recoded bytes not yet handed on, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    recode: Recode,
    /// Raw bytes read from `inner`, to recode.
    raw: Vec<u8>,
    ended: bool,
}

impl<R: Read> CsvInput<R> {
    /// Reads the start of `input` (up to the first line end, at most 64 KiB)
    /// to tell its separator.
    pub fn new(mut input: R) -> io::Result<Self> {
        let mut peeked = Vec::new();
        let mut chunk = [0u8; 4096];
        while peeked.len() < SNIFF_BYTES {
            let n = match input.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            peeked.extend_from_slice(&chunk[..n]);
            if first_line_ends(&peeked) {
                break;
            }
        }
        let separator = separator_of(&peeked);
        let mut csv = CsvInput {
            inner: input,
            separator,
            peeked: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            recode: Recode::new(READING),
            raw: Vec::new(),
            ended: false,
        };
        match separator {
            Separator::Comma => csv.peeked = peeked,
            Separator::Semicolon => {
                // The mark is the file's, not the first cell's.
                let rest = match peeked.strip_prefix(BOM) {
                    Some(rest) => {
                        csv.out.extend_from_slice(BOM);
                        rest
                    }
                    None => &peeked,
                };
                csv.recode.feed(rest, &mut csv.out);
            }
        }
        Ok(csv)
    }

    pub fn separator(&self) -> Separator {
        self.separator
    }
}

/// Whether a line end outside quotes is in `bytes`.
fn first_line_ends(bytes: &[u8]) -> bool {
    let mut quoted = false;
    for &byte in bytes {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => return true,
            _ => {}
        }
    }
    false
}

impl<R: Read> Read for CsvInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.separator == Separator::Comma {
            if !self.peeked.is_empty() {
                let n = buf.len().min(self.peeked.len());
                buf[..n].copy_from_slice(&self.peeked[..n]);
                self.peeked.drain(..n);
                return Ok(n);
            }
            return self.inner.read(buf);
        }
        loop {
            if self.out_pos < self.out.len() {
                let pending = &self.out[self.out_pos..];
                let n = buf.len().min(pending.len());
                buf[..n].copy_from_slice(&pending[..n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.ended || buf.is_empty() {
                return Ok(0);
            }
            self.out.clear();
            self.out_pos = 0;
            self.raw.resize(buf.len().clamp(4096, 256 << 10), 0);
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                self.ended = true;
                self.recode.finish(&mut self.out);
            } else {
                self.recode.feed(&self.raw[..n], &mut self.out);
            }
        }
    }
}

/// A CSV output in the separator of its input: comma-separated output is
/// written as it is, or as semicolon-separated with decimal commas. Output
/// only ever ends after a line end, so no cell waits in it when the writing
/// is over.
pub struct CsvOutput<W> {
    inner: W,
    /// `None` for commas.
    recode: Option<Recode>,
    out: Vec<u8>,
}

impl<W: Write> CsvOutput<W> {
    pub fn new(inner: W, separator: Separator) -> Self {
        CsvOutput {
            inner,
            recode: (separator == Separator::Semicolon).then(|| Recode::new(WRITING)),
            out: Vec::new(),
        }
    }
}

impl<W: Write> Write for CsvOutput<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(recode) = &mut self.recode else {
            return self.inner.write(buf);
        };
        self.out.clear();
        recode.feed(buf, &mut self.out);
        self.inner.write_all(&self.out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Which way a [`Recode`] goes: the separator and decimal mark it reads,
/// and the ones it writes.
#[derive(Debug, Clone, Copy)]
struct Direction {
    from: u8,
    to: u8,
    from_mark: u8,
    to_mark: u8,
    /// Whether `1.065,5` (digits grouped by the other mark) is a number.
    grouped: bool,
}

const READING: Direction = Direction {
    from: b';',
    to: b',',
    from_mark: b',',
    to_mark: b'.',
    grouped: true,
};

const WRITING: Direction = Direction {
    from: b',',
    to: b';',
    from_mark: b'.',
    to_mark: b',',
    grouped: false,
};

/// Where the recoder is in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    CellStart,
    /// In a cell that did not begin with a quote, or after a closing one.
    Unquoted,
    Quoted,
    /// Inside quotes, just after a quote: a closing one or the first of two.
    QuoteInQuoted,
}

/// What happens to the bytes of a cell longer than [`SHORT_CELL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Long {
    /// Still short: its bytes are held in `cell`.
    No,
    /// A quoted cell, which is a quoted cell in either separator.
    AsItIs,
    /// An unquoted cell, quoted in case it holds the new separator.
    Quoting,
}

#[derive(Debug)]
struct Recode {
    direction: Direction,
    place: Place,
    cell: Vec<u8>,
    long: Long,
}

impl Recode {
    fn new(direction: Direction) -> Recode {
        Recode {
            direction,
            place: Place::CellStart,
            cell: Vec::with_capacity(SHORT_CELL),
            long: Long::No,
        }
    }

    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        out.reserve(bytes.len() + bytes.len() / 8);
        for &byte in bytes {
            self.byte(byte, out);
        }
    }

    /// The input has ended: the last cell, if the last line had no end.
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.end_cell(out);
        self.place = Place::CellStart;
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        let d = self.direction;
        let ends_cell =
            self.place != Place::Quoted && (byte == d.from || byte == b'\n' || byte == b'\r');
        if ends_cell {
            self.end_cell(out);
            out.push(if byte == d.from { d.to } else { byte });
            self.place = Place::CellStart;
            return;
        }
        self.place = match (self.place, byte) {
            (Place::CellStart, b'"') | (Place::QuoteInQuoted, b'"') => Place::Quoted,
            (Place::Quoted, b'"') => Place::QuoteInQuoted,
            (Place::Quoted, _) => Place::Quoted,
            _ => Place::Unquoted,
        };
        match self.long {
            Long::No if self.cell.len() < SHORT_CELL => self.cell.push(byte),
            Long::No => {
                self.long = if self.cell[0] == b'"' {
                    out.extend_from_slice(&self.cell);
                    Long::AsItIs
                } else {
                    out.push(b'"');
                    push_doubling_quotes(&self.cell, out);
                    Long::Quoting
                };
                self.cell.clear();
                self.byte_of_long_cell(byte, out);
            }
            _ => self.byte_of_long_cell(byte, out),
        }
    }

    fn byte_of_long_cell(&self, byte: u8, out: &mut Vec<u8>) {
        if self.long == Long::Quoting && byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }

    fn end_cell(&mut self, out: &mut Vec<u8>) {
        match self.long {
            Long::AsItIs => {}
            Long::Quoting => out.push(b'"'),
            Long::No => self.write_short_cell(out),
        }
        self.long = Long::No;
        self.cell.clear();
    }

    fn write_short_cell(&self, out: &mut Vec<u8>) {
        let raw = &self.cell[..];
        let d = self.direction;
        let text = match raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) {
            // A quoted number has no quote inside.
            Some(inside) if !inside.contains(&b'"') => inside,
            _ => raw,
        };
        if recode_number(text, d, out) {
            return;
        }
        if raw.first() != Some(&b'"') && raw.contains(&d.to) {
            out.push(b'"');
            push_doubling_quotes(raw, out);
            out.push(b'"');
        } else {
            out.extend_from_slice(raw);
        }
    }
}

fn push_doubling_quotes(bytes: &[u8], out: &mut Vec<u8>) {
    for &byte in bytes {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
}

/// Writes `text` with the other decimal mark if it is a number with a
/// decimal mark (`-14,23`, `,5`, `1,5E-3`, and reading, `1.065,5`); false,
/// writing nothing, if it is not.
fn recode_number(text: &[u8], d: Direction, out: &mut Vec<u8>) -> bool {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let (sign, unsigned) = match text.first() {
        Some(b'+' | b'-') => text.split_at(1),
        _ => (&text[..0], text),
    };
    let (mantissa, exponent) = match unsigned.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => unsigned.split_at(at),
        None => (unsigned, &unsigned[..0]),
    };
    if let Some(e) = exponent.get(1..) {
        let e = e.strip_prefix(b"+").or(e.strip_prefix(b"-")).unwrap_or(e);
        if !digits(e) {
            return false;
        }
    }
    let Some(mark) = mantissa.iter().position(|&b| b == d.from_mark) else {
        return false;
    };
    let (whole, fraction) = (&mantissa[..mark], &mantissa[mark + 1..]);
    if !digits(fraction) {
        return false;
    }
    let grouped = d.grouped && whole.contains(&d.to_mark);
    if grouped {
        let mut groups = whole.split(|&b| b == d.to_mark);
        let first = groups.next().unwrap_or_default();
        if !digits(first) || first.len() > 3 || !groups.all(|g| g.len() == 3 && digits(g)) {
            return false;
        }
    } else if !whole.is_empty() && !digits(whole) {
        return false;
    }
    out.extend_from_slice(sign);
    out.extend(whole.iter().filter(|&&b| b != d.to_mark));
    out.push(d.to_mark);
    out.extend_from_slice(fraction);
    out.extend_from_slice(exponent);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(bytes: &[u8], chunk: usize) -> (Separator, Vec<u8>) {
        /// Hands over at most `chunk` bytes a read, as a pipe may.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut input = CsvInput::new(Trickle(bytes, chunk)).unwrap();
        let mut out = Vec::new();
        input.read_to_end(&mut out).unwrap();
        (input.separator(), out)
    }

    fn recoded(bytes: &str) -> String {
        let (separator, out) = read_all(bytes.as_bytes(), 1 << 20);
        assert_eq!(separator, Separator::Semicolon, "{bytes:?}");
        String::from_utf8(out).unwrap()
    }

    fn written(bytes: &str) -> String {
        let mut writer = CsvOutput::new(Vec::new(), Separator::Semicolon);
        writer.write_all(bytes.as_bytes()).unwrap();
        String::from_utf8(writer.inner).unwrap()
    }

    #[test]
    fn the_separator_is_told_by_the_first_line() {
        assert_eq!(separator_of(b"a;b;c\n1,5;2;3\n"), Separator::Semicolon);
        assert_eq!(separator_of(b"\xEF\xBB\xBFa;b\r\n"), Separator::Semicolon);
        assert_eq!(separator_of(b"\"x, y\";b\n"), Separator::Semicolon);
        assert_eq!(separator_of(b"a,b;c\n"), Separator::Comma);
        assert_eq!(separator_of(b"a,b\n1;2;3\n"), Separator::Comma);
        assert_eq!(separator_of(b"\"a;b\",c\n"), Separator::Comma);
        assert_eq!(separator_of(b"a\n;;\n"), Separator::Comma);
        assert_eq!(separator_of(b""), Separator::Comma);
    }

    #[test]
    fn a_semicolon_file_reads_as_the_comma_file_it_stands_for() {
        assert_eq!(
            recoded("Age;Fare;Name\n22;7,25;Braund, Mr. Owen\n-0,5;1.065,50;\"A; B\"\n"),
            "Age,Fare,Name\n22,7.25,\"Braund, Mr. Owen\"\n-0.5,1065.50,\"A; B\"\n"
        );
        // Numbers with points, exponents, a bare fraction, a quoted number.
        assert_eq!(
            recoded("a;b;c;d;e\r\n7.25;1,5E-3;,5;\"3,25\";1,5e+2\r\n"),
            "a,b,c,d,e\r\n7.25,1.5E-3,.5,3.25,1.5e+2\r\n"
        );
        // Not numbers: kept, and quoted where they hold a comma.
        assert_eq!(
            recoded("a;b;c;d;e;f\n1,2,3;5,;1.00,5;12.34.56,7;x,5;,\n"),
            "a,b,c,d,e,f\n\"1,2,3\",\"5,\",\"1.00,5\",\"12.34.56,7\",\"x,5\",\",\"\n"
        );
        // Quotes in text stay text; empty cells and blank lines stay.
        assert_eq!(
            recoded("a;b\n\n;\nsay \"hi\", ok;\"q \"\"x\"\", y\"\n"),
            "a,b\n\n,\n\"say \"\"hi\"\", ok\",\"q \"\"x\"\", y\"\n"
        );
        // A mark at the start; the last line without an end.
        assert_eq!(
            recoded("\u{feff}\"Age, years\";b\n1,5;2"),
            "\u{feff}\"Age, years\",b\n1.5,2"
        );
    }

    #[test]
    fn long_cells_stream_through_and_an_open_quote_stays_open() {
        let long = "x".repeat(200);
        assert_eq!(
            recoded(&format!("a;b\n{long}, y;1,5\n")),
            format!("a,b\n\"{long}, y\",1.5\n")
        );
        let quoted = format!("\"{long}\"\"; z\"");
        assert_eq!(
            recoded(&format!("a;b\n{quoted};1\n")),
            format!("a,b\n{quoted},1\n")
        );
        let unquoted_quote = format!("{long}\"q\"");
        assert_eq!(
            recoded(&format!("a;b\n{unquoted_quote};1\n")),
            format!("a,b\n\"{long}\"\"q\"\"\",1\n")
        );
        // An open quote runs to the end as it is, lines and all.
        assert_eq!(
            recoded(&format!("a;b\n1;\"open\n{long};2,5\n")),
            format!("a,b\n1,\"open\n{long};2,5\n")
        );
    }

    #[test]
    fn output_goes_back_with_semicolons_and_decimal_commas() {
        assert_eq!(
            written("Age,Name,prediction,probability_1\n22,\"Braund, Mr. Owen\",0,0.0834\n"),
            "Age;Name;prediction;probability_1\n22;\"Braund, Mr. Owen\";0;0,0834\n"
        );
        assert_eq!(
            written("a,b,c\r\n1.065,x;y,1.5e-7\r\n"),
            "a;b;c\r\n1,065;\"x;y\";1,5e-7\r\n"
        );
        // Written in pieces, cut anywhere, the same.
        let whole = "a,b\n0.25,\"q, \"\"r\"\"\"\n";
        for cut in 0..whole.len() {
            let mut writer = CsvOutput::new(Vec::new(), Separator::Semicolon);
            writer.write_all(&whole.as_bytes()[..cut]).unwrap();
            writer.write_all(&whole.as_bytes()[cut..]).unwrap();
            assert_eq!(String::from_utf8(writer.inner).unwrap(), written(whole));
        }
    }

    #[test]
    fn a_file_in_memory_is_recoded_as_a_read_one() {
        for file in ["\u{feff}a;b\n1,5;\"x, y\"\n2;3", "a,b\n1;2\n", ""] {
            let (_, read) = read_all(file.as_bytes(), 3);
            assert_eq!(comma_separated(file.as_bytes()), read);
        }
    }

    #[test]
    fn a_comma_file_is_handed_on_as_it_is() {
        let file = b"a,b\n1;2,\"3;4\"\n".repeat(1000);
        for chunk in [1, 7, 4096] {
            assert_eq!(read_all(&file, chunk), (Separator::Comma, file.clone()));
        }
    }

    /// Cells the csv parser reads from the recoded file, from the semicolon
    /// file read with `;` as its delimiter, with decimal commas made points.
    fn cells_both_ways(file: &[u8], chunk: usize) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
        let parse = |bytes: &[u8], delimiter: u8| -> Vec<Vec<String>> {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(bytes)
                .byte_records()
                .map(|r| {
                    r.unwrap()
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect()
                })
                .collect()
        };
        let direct = parse(file, b';')
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| {
                        let mut out = Vec::new();
                        if recode_number(cell.as_bytes(), READING, &mut out) {
                            String::from_utf8(out).unwrap()
                        } else {
                            cell
                        }
                    })
                    .collect()
            })
            .collect();
        let (_, recoded) = read_all(file, chunk);
        (parse(&recoded, b','), direct)
    }

    proptest! {
        #[test]
        fn recoding_keeps_every_cell(
            cells in proptest::collection::vec(
                prop_oneof![
                    Just("1,5".to_string()), Just("-0,25".to_string()),
                    Just("a, b".to_string()), Just("\"q; r\"".to_string()),
                    Just("\"x \"\"y\"\", z\"".to_string()), Just(String::new()),
                    Just("7.5".to_string()), Just("x".repeat(70) + ","),
                    Just("\"".to_string() + &"y,".repeat(40) + "\""),
                    "[a-z0-9,. ]{0,8}",
                ],
                1..40,
            ),
            width in 1usize..5,
            chunk in 1usize..64,
        ) {
            let mut file = String::from("h1;h2;h3;h4;h5\n");
            for (i, cell) in cells.iter().enumerate() {
                file.push_str(cell);
                file.push(if (i + 1) % width == 0 { '\n' } else { ';' });
            }
            let (recoded, direct) = cells_both_ways(file.as_bytes(), chunk);
            prop_assert_eq!(recoded, direct);
        }
    }
}
