//! A string someone gave (a value, a column or field name, a query
//! parameter) quoted for a message, as JSON writes a string: `"22,5"`,
//! `"a\"b"`, `"\u202e"`. Rust's `{:?}` writes `\u{202e}`, which nobody
//! types; this is what people and JSON clients know.
//!
//! Characters that would change how a message reads, or hide what was
//! sent, stay escaped: control characters, bidirectional overrides and
//! isolates (a raw U+202E would turn the rest of the line around), and
//! invisible formatting and space characters. Everything else is shown as
//! typed. Not for cutting long input: callers cap what they echo first.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// `s` in double quotes, with JSON's escapes (see the module).
pub fn quoted(s: &str) -> Quoted<'_> {
    Quoted(s)
}

/// Several strings, each quoted, separated by `, `: `"Sex", "Age"`.
pub fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}", quoted(item));
    }
    out
}

/// A name put in a message without quotes (`Age: is required`): as given
/// when every character shows as itself, else [`quoted`], so that a name
/// with a control or bidirectional character cannot hide in the message.
pub fn name(s: &str) -> Cow<'_, str> {
    if s.chars().any(|c| hidden(c) || c == '"' || c == '\\') {
        Cow::Owned(quoted(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// Several names separated by `, ` (`PassengerId, Survived, Age`), each as
/// [`name`] shows it; a name a reader could not tell apart in the list (one
/// with a comma, an empty one, or one with a space at either end) is
/// [`quoted`] as well.
pub fn name_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let blurred = item.is_empty()
            || item.contains(',')
            || item.starts_with(char::is_whitespace)
            || item.ends_with(char::is_whitespace);
        if blurred {
            let _ = write!(out, "{}", quoted(item));
        } else {
            out.push_str(&name(item));
        }
    }
    out
}

/// The [`Display`](fmt::Display) of [`quoted`].
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        let mut plain = 0;
        for (i, c) in self.0.char_indices() {
            let escape = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                c if hidden(c) => None,
                _ => continue,
            };
            f.write_str(&self.0[plain..i])?;
            plain = i + c.len_utf8();
            match escape {
                Some(e) => f.write_str(e)?,
                // As JSON escapes a character: beyond U+FFFF, a surrogate pair.
                None => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        write!(f, "\\u{unit:04x}")?;
                    }
                }
            }
        }
        f.write_str(&self.0[plain..])?;
        f.write_char('"')
    }
}

/// Characters shown as `\uXXXX`: controls (Cc), format characters (Cf:
/// bidirectional controls, zero-width characters, the byte-order mark, tags),
/// line and paragraph separators, and spaces other than the plain space.
fn hidden(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{a0}'
            | '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{1680}'
            | '\u{180e}'
            | '\u{2000}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}'
            | '\u{205f}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{3000}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> String {
        quoted(s).to_string()
    }

    #[test]
    fn text_is_shown_as_typed() {
        assert_eq!(q("abc"), r#""abc""#);
        assert_eq!(q(""), r#""""#);
        assert_eq!(q("22,5"), r#""22,5""#);
        assert_eq!(
            q("año ¿qué? 日本 😀 e\u{301}"),
            "\"año ¿qué? 日本 😀 e\u{301}\""
        );
        assert_eq!(q("it's"), r#""it's""#);
    }

    #[test]
    fn escapes_are_jsons() {
        assert_eq!(q("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(q("a\nb\r\t\u{8}\u{c}"), r#""a\nb\r\t\b\f""#);
        assert_eq!(
            q("\u{0}\u{1f}\u{7f}\u{85}"),
            r#""\u0000\u001f\u007f\u0085""#
        );
        // Every escaped string reads back, as JSON, to what was sent.
        for s in ["a\"b\\c\n", "\u{202e}abc", "x\u{e0041}y", "\u{0}\u{feff}"] {
            let back: String = serde_json::from_str(&q(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn invisible_and_bidirectional_characters_stay_escaped() {
        assert_eq!(q("abc\u{202e}gpj.exe"), r#""abc\u202egpj.exe""#);
        assert_eq!(q("\u{2066}\u{2069}\u{200f}"), r#""\u2066\u2069\u200f""#);
        assert_eq!(q("a\u{200b}b\u{a0}c\u{feff}"), r#""a\u200bb\u00a0c\ufeff""#);
        assert_eq!(q("\u{2028}"), r#""\u2028""#);
        // A tag character, beyond U+FFFF: a surrogate pair, as JSON writes it.
        assert_eq!(q("\u{e0041}"), r#""\udb40\udc41""#);
    }

    #[test]
    fn names_are_quoted_only_when_something_would_not_show() {
        assert!(matches!(name("Age"), Cow::Borrowed("Age")));
        assert_eq!(name("Año de nacimiento"), "Año de nacimiento");
        assert_eq!(name("Ag\u{202e}e"), r#""Ag\u202ee""#);
        assert_eq!(name("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn lists_are_quoted_one_by_one() {
        assert_eq!(quoted_list(["Sex", "Age"]), r#""Sex", "Age""#);
        assert_eq!(quoted_list([]), "");
    }

    #[test]
    fn name_lists_quote_only_names_that_would_blur() {
        assert_eq!(name_list(["Sex", "Age", "Año"]), "Sex, Age, Año");
        assert_eq!(
            name_list(["a, b", "", " x", "y ", "z\u{202e}"]),
            r#""a, b", "", " x", "y ", "z\u202e""#
        );
        assert_eq!(name_list([]), "");
    }
}
