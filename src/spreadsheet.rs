//! CSV files as spreadsheets save them: in Windows-1252 rather than UTF-8
//! (Excel's "CSV (Comma delimited)" on Windows), and, where the decimal mark
//! is a comma (Excel or LibreOffice set to Spanish, French, German…), with
//! cells separated by semicolons and numbers written `14,23`.
//!
//! Every reader in lifeboat takes UTF-8 separated by commas, and
//! [`CsvInput`] hands them that:
//! - A byte that is not part of UTF-8 text is read as the Windows-1252
//!   character it is (`0xE1` is `á`), and the commands say so. Text in
//!   Windows-1252 is almost never also valid UTF-8 (that takes a letter such
//!   as `Ã` followed by a symbol such as `©`), so UTF-8 reads as it always
//!   did, and a file that mixes the two reads right in both parts.
//! - A file whose first line is separated by semicolons, with no comma
//!   outside quotes, is recoded into the comma-separated file it stands
//!   for: `;` becomes `,`, `14,23` becomes `14.23` (`1.065,5` becomes
//!   `1065.5`), and a cell with a comma in its text is quoted. Scored output
//!   goes back the other way ([`CsvOutput`]), so that the spreadsheet opens
//!   it as it saved the input.
//!
//! Recoding goes a cell at a time and never holds more than [`SHORT_CELL`]
//! bytes: a longer cell is no number, so it streams through (quoted, if it
//! was not), and a quote left open reaches the readers' own checks as it
//! would have. Line ends are untouched, so every line number stays the
//! file's own. A file in UTF-16 is handed on as it is, for the readers to
//! name.

use std::borrow::Cow;
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
pub const SEMICOLONS_NOTE: &str = "the file is separated by semicolons, so numbers are read with \
     a decimal comma (14,23) as well as a decimal point";

/// What the commands say of a file with bytes that are not UTF-8.
pub const WINDOWS_1252_NOTE: &str = "the file is not all UTF-8 text, so the bytes that are not \
     were read as Windows-1252 (as Excel's \"CSV (Comma delimited)\" saves text on Windows: \
     0xE1 is á)";

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

/// Whether `bytes`, the start of a file, look like UTF-16: a UTF-16 mark,
/// or a zero byte on the first line. Such a file is not decoded or
/// recoded, so that the readers can name it.
fn looks_utf16(bytes: &[u8]) -> bool {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || first_line.contains(&0)
}

/// `bytes`, a whole file in memory, as the readers take it (see the module
/// documentation): as it is, if it is UTF-8 separated by commas.
pub fn as_read(bytes: &[u8]) -> Cow<'_, [u8]> {
    let separator = separator_of(bytes);
    let utf16 = looks_utf16(bytes);
    if utf16 || (separator == Separator::Comma && std::str::from_utf8(bytes).is_ok()) {
        return bytes.into();
    }
    let mut decoder = Decoder::default();
    let mut text = Vec::with_capacity(bytes.len());
    decoder.decode(bytes, true, &mut text);
    if separator == Separator::Comma {
        return text.into();
    }
    let (bom, rest) = match text.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => (&text[..0], &text[..]),
    };
    let mut out = bom.to_vec();
    let mut recode = Recode::new(READING);
    recode.feed(rest, &mut out);
    recode.finish(&mut out);
    out.into()
}

/// A CSV input as the readers take it: UTF-8 separated by commas, decoded
/// and recoded as it is read if the file is not.
pub struct CsvInput<R> {
    inner: R,
    separator: Separator,
    /// `None` for a file that looks like UTF-16.
    decoder: Option<Decoder>,
    /// `None` for a file separated by commas.
    recode: Option<Recode>,
    /// Bytes read to tell the separator, not yet handed on.
    peeked: Vec<u8>,
    /// Decoded (and recoded) bytes not yet handed on, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    /// Raw bytes read from `inner`, and decoded ones, to recode.
    raw: Vec<u8>,
    text: Vec<u8>,
    /// Whether bytes were handed on: until then, the mark that may start a
    /// file of semicolons is passed on before the recoding starts.
    started: bool,
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
        let utf16 = looks_utf16(&peeked);
        let separator = if utf16 {
            Separator::Comma
        } else {
            separator_of(&peeked)
        };
        Ok(CsvInput {
            inner: input,
            separator,
            decoder: (!utf16).then(Decoder::default),
            recode: (separator == Separator::Semicolon).then(|| Recode::new(READING)),
            peeked,
            out: Vec::new(),
            out_pos: 0,
            raw: Vec::new(),
            text: Vec::new(),
            started: false,
            ended: false,
        })
    }

    pub fn separator(&self) -> Separator {
        self.separator
    }

    /// Whether a byte read so far was not UTF-8, and so was read as
    /// Windows-1252.
    pub fn windows1252(&self) -> bool {
        self.decoder.as_ref().is_some_and(|d| d.windows1252)
    }

    /// Reads, decodes and recodes the next bytes into `out`; false at the
    /// end of the input.
    fn fill(&mut self, want: usize) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        if self.ended {
            return Ok(false);
        }
        let last = if self.peeked.is_empty() {
            self.raw.resize(want.clamp(4096, 256 << 10), 0);
            let n = self.inner.read(&mut self.raw)?;
            self.raw.truncate(n);
            n == 0
        } else {
            self.raw = std::mem::take(&mut self.peeked);
            false
        };
        self.ended = last;
        let text: &[u8] = match &mut self.decoder {
            Some(decoder) => {
                self.text.clear();
                decoder.decode(&self.raw, last, &mut self.text);
                &self.text
            }
            None => &self.raw,
        };
        match &mut self.recode {
            Some(recode) => {
                let mut text = text;
                if !self.started {
                    // The mark is the file's, not the first cell's.
                    if let Some(rest) = text.strip_prefix(BOM) {
                        self.out.extend_from_slice(BOM);
                        text = rest;
                    }
                }
                recode.feed(text, &mut self.out);
                if last {
                    recode.finish(&mut self.out);
                }
            }
            None => self.out.extend_from_slice(text),
        }
        self.started = true;
        Ok(true)
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
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.out_pos < self.out.len() {
                let pending = &self.out[self.out_pos..];
                let n = buf.len().min(pending.len());
                buf[..n].copy_from_slice(&pending[..n]);
                self.out_pos += n;
                return Ok(n);
            }
            // UTF-8 with commas, the usual file, is read straight into `buf`.
            let plain = self.recode.is_none()
                && self.peeked.is_empty()
                && !self.ended
                && self.decoder.as_ref().is_none_or(|d| d.pending.is_empty());
            if plain {
                let n = self.inner.read(buf)?;
                let Some(decoder) = &mut self.decoder else {
                    return Ok(n);
                };
                match std::str::from_utf8(&buf[..n]) {
                    Ok(_) if n > 0 => return Ok(n),
                    _ => {
                        // Not UTF-8 (or the end): decode it through `out`.
                        self.out.clear();
                        self.out_pos = 0;
                        self.ended = n == 0;
                        decoder.decode(&buf[..n], n == 0, &mut self.out);
                        if self.out.is_empty() && n == 0 {
                            return Ok(0);
                        }
                        continue;
                    }
                }
            }
            if !self.fill(buf.len())? {
                return Ok(0);
            }
        }
    }
}

/// UTF-8 text, with every byte that is not part of it read as the
/// Windows-1252 character it is.
#[derive(Debug, Default)]
struct Decoder {
    /// The start of a UTF-8 character the last bytes cut off (at most 3).
    pending: Vec<u8>,
    /// Whether a byte was read as Windows-1252.
    windows1252: bool,
}

impl Decoder {
    /// Decodes `bytes` into `out`; `last`: no more bytes come, so a
    /// character cut off at the end is not UTF-8.
    fn decode(&mut self, bytes: &[u8], last: bool, out: &mut Vec<u8>) {
        let joined;
        let mut rest = if self.pending.is_empty() {
            bytes
        } else {
            self.pending.extend_from_slice(bytes);
            joined = std::mem::take(&mut self.pending);
            &joined[..]
        };
        out.reserve(rest.len());
        loop {
            match std::str::from_utf8(rest) {
                Ok(_) => {
                    out.extend_from_slice(rest);
                    return;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.extend_from_slice(valid);
                    if e.error_len().is_none() && !last {
                        // A character the next bytes may finish.
                        self.pending.extend_from_slice(after);
                        return;
                    }
                    let mut char_buf = [0u8; 4];
                    out.extend_from_slice(
                        windows1252(after[0]).encode_utf8(&mut char_buf).as_bytes(),
                    );
                    self.windows1252 = true;
                    rest = &after[1..];
                }
            }
        }
    }
}

/// The character a byte of 0x80 and up is in Windows-1252. The five bytes
/// it leaves undefined are read as the control characters of the same
/// number, as web browsers read them.
fn windows1252(byte: u8) -> char {
    const FROM_0X80: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => FROM_0X80[usize::from(byte - 0x80)],
        _ => char::from(byte),
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

    fn read_all(bytes: &[u8], chunk: usize) -> (Separator, Vec<u8>) {
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
    fn bytes_that_are_not_utf8_are_read_as_windows_1252() {
        // "Málaga;sí" as Excel saves it on Windows, and the same in UTF-8.
        let file = b"Ciudad;S\xed\n\x80 M\xe1laga \x93ok\x94;s\xed \x81\n";
        let text = "Ciudad,Sí\n€ Málaga “ok”,sí \u{81}\n";
        for chunk in [1, 2, 3, 4096] {
            let mut input = CsvInput::new(Trickle(file, chunk)).unwrap();
            let mut out = Vec::new();
            input.read_to_end(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), text);
            assert!(input.windows1252());
        }
        // UTF-8, whole or cut anywhere, is read as it is.
        let utf8 = "a,b\nMálaga,€ “ok” 😀\n".repeat(100);
        for chunk in [1, 2, 3, 5, 4096] {
            let mut input = CsvInput::new(Trickle(utf8.as_bytes(), chunk)).unwrap();
            let mut out = Vec::new();
            input.read_to_end(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), utf8);
            assert!(!input.windows1252());
        }
        // A character cut off by the end of the file is Windows-1252.
        let (_, out) = read_all(b"a\n\xc3", 1);
        assert_eq!(out, "a\nÃ".as_bytes());
        // UTF-16 is left for the readers to name.
        let utf16: Vec<u8> = "a;b\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(read_all(&utf16, 3), (Separator::Comma, utf16.clone()));
        assert_eq!(as_read(&utf16), utf16);
    }

    #[test]
    fn a_file_in_memory_is_recoded_as_a_read_one() {
        let files: [&[u8]; 5] = [
            "\u{feff}a;b\n1,5;\"x, y\"\n2;3".as_bytes(),
            b"a,b\n1;2\n",
            b"",
            b"a;b\nM\xe1laga;1,5\n",
            b"a,b\nM\xe1laga,1.5\n",
        ];
        for file in files {
            let (_, read) = read_all(file, 3);
            assert_eq!(as_read(file), read);
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
