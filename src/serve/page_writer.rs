//! The result page and the form with errors, written out in Rust.
//!
//! These two are the only HTML pages rendered per request (the others depend
//! only on the language and are rendered once, see `ui::PageCache`). Through
//! minijinja a result page took about 220 k of the request's 312 k
//! instructions: the template VM spends about 800 instructions on each
//! `{{ f.id }}`. This module writes the same bytes that `base.html` with
//! `result.html` or `index.html` and `_form.html` give, from text escaped
//! once at startup, so a request only escapes what it brought.
//!
//! The templates stay the source. The test
//! `written_pages_match_the_templates` renders both ways (every built-in
//! model, a schema with markup in its texts, both languages, with and
//! without `?lang=`, results and errors) and fails on the first differing
//! byte, so an edit to one of the four templates must be made here too.
//! When `--templates` overrides any of them, or with `--dev`, pages go
//! through minijinja ([`PAGE_TEMPLATES`]).

use super::i18n;
use super::view::{Answer, FormErrors, FormField, KeptValues};
use crate::schema::Lang;

/// The templates this module stands in for.
pub const PAGE_TEMPLATES: [&str; 4] = ["base.html", "index.html", "result.html", "_form.html"];

/// What the pages show about the model, as the templates get it in `model`.
#[derive(serde::Serialize)]
pub struct ModelText<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub version: &'a str,
    pub target: &'a str,
}

/// Everything of the two pages that depends only on the language, escaped.
pub struct PageWriter {
    /// Without and with `?lang=` in links and the form's action.
    chrome: [Chrome; 2],
    fields: Vec<FieldHtml>,
    title: String,
    description: String,
    target: String,
    words: Words,
    /// `t.why_intro`, unescaped: its placeholders are filled per answer.
    why_intro: &'static str,
    /// The same cut at its placeholders, the text between them escaped.
    why_intro_parts: Vec<IntroPart>,
}

/// A piece of `t.why_intro`: escaped text, or where a placeholder goes.
enum IntroPart {
    Text(String),
    Target,
    Units,
}

/// `intro` cut at `{target}` and `{units}`.
fn intro_parts(intro: &str) -> Vec<IntroPart> {
    let mut parts = Vec::new();
    let mut rest = intro;
    while let Some(at) = rest.find('{') {
        let (part, tail) = if rest[at..].starts_with("{target}") {
            (IntroPart::Target, &rest[at + "{target}".len()..])
        } else if rest[at..].starts_with("{units}") {
            (IntroPart::Units, &rest[at + "{units}".len()..])
        } else {
            parts.push(IntroPart::Text(escape(&rest[..=at])));
            rest = &rest[at + 1..];
            continue;
        };
        parts.push(IntroPart::Text(escape(&rest[..at])));
        parts.push(part);
        rest = tail;
    }
    parts.push(IntroPart::Text(escape(rest)));
    parts
}

/// base.html around the page's title and content, and the form's own
/// opening and end (its action and reset link carry `?lang=`).
struct Chrome {
    /// Up to and with `<title>`.
    head: String,
    /// From the end of the title to the opening of `<main>`.
    header: String,
    /// From the end of `<main>` to the end.
    footer: String,
    form_open: String,
    form_close: String,
}

/// One field of `_form.html`, escaped.
struct FieldHtml {
    /// The field's name as submitted (to find its value and error).
    key: String,
    id: String,
    name: String,
    /// The field's label, escaped (for the table of values entered).
    label: String,
    /// The whole `<label>` line.
    label_line: String,
    select: bool,
    required: bool,
    options: Vec<OptionHtml>,
    /// Trusted markup made from numbers (`f.attrs|safe`).
    attrs: String,
    unit: String,
    help: String,
}

struct OptionHtml {
    value: String,
    /// `<option value="…"`, to be followed by ` selected` or not.
    open: String,
    /// `>label</option>`.
    close: String,
}

/// The pages' own words (`t.…`) that these two pages use, escaped.
struct Words {
    errors_heading: String,
    errors_intro: String,
    intro: String,
    result_heading: String,
    probability_lower: String,
    probabilities: String,
    why: String,
    entered: String,
    try_change: String,
    field: String,
    value: String,
}

/// The request's side of a page: its values, and its answer or errors.
pub struct FormPage<'a> {
    /// Whether the visitor chose the language with `?lang=`.
    pub explicit: bool,
    /// Kept values, one per field ([`super::view::kept_values`]).
    pub values: &'a KeptValues<'a>,
    pub outcome: Result<&'a Answer<'a>, &'a FormErrors>,
}

impl PageWriter {
    pub fn new(lang: Lang, model: &ModelText, fields: &[FormField]) -> PageWriter {
        let t = |key| escape(i18n::get(key, lang));
        let words = Words {
            errors_heading: t("errors_heading"),
            errors_intro: t("errors_intro"),
            intro: t("intro"),
            result_heading: t("result_heading"),
            probability_lower: escape(&i18n::get("probability", lang).to_lowercase()),
            probabilities: t("probabilities"),
            why: t("why"),
            entered: t("entered"),
            try_change: t("try_change"),
            field: t("field"),
            value: t("value"),
        };
        let fields = fields
            .iter()
            .map(|f| FieldHtml::new(f, &t("required"), &t("optional")))
            .collect();
        PageWriter {
            chrome: [
                Chrome::new(lang, model, false),
                Chrome::new(lang, model, true),
            ],
            fields,
            title: escape(model.title),
            description: escape(model.description),
            target: escape(model.target),
            words,
            why_intro: i18n::get("why_intro", lang),
            why_intro_parts: intro_parts(i18n::get("why_intro", lang)),
        }
    }

    /// The whole page: `result.html` for an answer, `index.html` for errors.
    pub fn write(&self, page: &FormPage) -> String {
        let chrome = &self.chrome[page.explicit as usize];
        let w = &self.words;
        let mut out = String::with_capacity(8192);
        out.push_str(&chrome.head);
        if let Ok(answer) = page.outcome {
            push_escaped(&mut out, &answer.label);
            out.push_str(" — ");
        }
        out.push_str(&self.title);
        out.push_str(&chrome.header);
        match page.outcome {
            Ok(answer) => {
                self.write_answer(&mut out, answer);
                out.push_str("<section class=\"card again\">\n  <h2>");
                out.push_str(&w.try_change);
                out.push_str("</h2>\n");
                self.write_form(&mut out, chrome, page.values, None);
                out.push_str("</section>\n");
            }
            Err(errors) => {
                out.push_str("<section class=\"intro\">\n  <h1>");
                out.push_str(&self.title);
                out.push_str("</h1>\n");
                if !self.description.is_empty() {
                    out.push_str("<p class=\"lead\">");
                    out.push_str(&self.description);
                    out.push_str("</p>");
                }
                out.push_str("  <p>");
                out.push_str(&w.intro);
                out.push_str("</p>\n</section>\n<section class=\"card\">\n");
                self.write_form(&mut out, chrome, page.values, Some(errors));
                out.push_str("</section>\n");
            }
        }
        out.push_str(&chrome.footer);
        out
    }

    /// result.html's sections before the form.
    fn write_answer(&self, out: &mut String, answer: &Answer) {
        let w = &self.words;
        out.push_str("<section class=\"result card class-");
        out.push_str(itoa::Buffer::new().format(answer.index));
        out.push_str("\">\n  <p class=\"eyebrow\">");
        out.push_str(&w.result_heading);
        out.push_str(" · ");
        out.push_str(&self.target);
        out.push_str("</p>\n  <h1 class=\"verdict\">");
        push_escaped(out, &answer.label);
        out.push_str("</h1>\n");
        if !answer.probability.is_empty() {
            out.push_str("  <p class=\"probability\"><span class=\"big\">");
            push_escaped(out, &answer.probability);
            out.push_str("</span> ");
            out.push_str(&w.probability_lower);
            out.push_str("</p>\n  <h2 class=\"small\">");
            out.push_str(&w.probabilities);
            out.push_str("</h2>\n  ");
            out.push_str(&answer.probabilities_svg);
            out.push('\n');
        }
        out.push_str("</section>\n<section class=\"card why\">\n  <h2>");
        out.push_str(&w.why);
        out.push_str("</h2>\n  <p>");
        self.write_why_intro(out, answer);
        out.push_str("</p>\n  ");
        out.push_str(&answer.chart_svg);
        out.push_str("\n</section>\n<section class=\"card entered\">\n  <h2>");
        out.push_str(&w.entered);
        out.push_str("</h2>\n  <table>\n    <thead><tr><th scope=\"col\">");
        out.push_str(&w.field);
        out.push_str("</th><th scope=\"col\">");
        out.push_str(&w.value);
        out.push_str("</th></tr></thead>\n    <tbody>\n");
        for e in &answer.entered {
            out.push_str("<tr><th scope=\"row\">");
            match self.fields.get(e.field) {
                Some(field) => out.push_str(&field.label),
                None => push_escaped(out, e.label),
            }
            out.push_str("</th><td>");
            push_escaped(out, &e.value);
            out.push_str("</td></tr>");
        }
        out.push_str("    </tbody>\n  </table>\n</section>\n");
    }

    /// What the template writes with `t.why_intro|replace("{target}", …)|replace("{units}", …)`.
    fn write_why_intro(&self, out: &mut String, answer: &Answer) {
        // The second `replace` would also act on a target that says
        // "{units}"; only the replacing itself gets that right. (Looking for
        // a `{` first: a substring search costs hundreds of instructions.)
        if answer.explained.contains('{') && answer.explained.contains("{units}") {
            let intro = self
                .why_intro
                .replace("{target}", answer.explained)
                .replace("{units}", answer.units);
            push_escaped(out, &intro);
            return;
        }
        for part in &self.why_intro_parts {
            match part {
                IntroPart::Text(text) => out.push_str(text),
                IntroPart::Target => push_escaped(out, answer.explained),
                IntroPart::Units => push_escaped(out, answer.units),
            }
        }
    }

    /// `_form.html`; `errors` on the form shown again after a failed submit.
    fn write_form(
        &self,
        out: &mut String,
        chrome: &Chrome,
        values: &KeptValues<'_>,
        errors: Option<&FormErrors>,
    ) {
        let w = &self.words;
        out.push_str(&chrome.form_open);
        if let Some(errors) = errors.filter(|e| e.count > 0) {
            out.push_str("  <div class=\"alert\" role=\"alert\">\n    <h2>");
            out.push_str(&w.errors_heading);
            out.push_str("</h2>\n    <p>");
            out.push_str(&w.errors_intro);
            out.push_str("</p>\n");
            if !errors.form_error.is_empty() {
                out.push_str("<p class=\"error\">");
                push_escaped(out, &errors.form_error);
                out.push_str("</p>");
            }
            out.push_str("  </div>\n");
        }
        out.push_str("  <div class=\"fields\">\n");
        // `fields` were made from the same list as the kept values.
        for (i, f) in self.fields.iter().enumerate() {
            let value = values.get(i);
            let err = errors
                .and_then(|e| e.by_field.get(&f.key))
                .map_or("", String::as_str);
            f.write(out, value, err);
        }
        out.push_str(&chrome.form_close);
    }
}

impl FieldHtml {
    fn new(f: &FormField, required: &str, optional: &str) -> FieldHtml {
        let id = escape(&f.id);
        let label = escape(&f.label);
        let mut label_line = format!("      <label for=\"{id}\">{label}");
        if f.required {
            label_line.push_str(&format!(
                " <abbr class=\"req\" title=\"{required}\">*</abbr>"
            ));
        } else {
            label_line.push_str(&format!(" <span class=\"opt\">({optional})</span>"));
        }
        label_line.push_str("</label>\n");
        let options = f
            .options
            .iter()
            .map(|o| OptionHtml {
                value: o.value.clone(),
                open: format!("<option value=\"{}\"", escape(&o.value)),
                close: format!(">{}</option>", escape(&o.label)),
            })
            .collect();
        FieldHtml {
            key: f.name.clone(),
            id,
            name: escape(&f.name),
            label,
            label_line,
            select: f.control == "select",
            required: f.required,
            options,
            attrs: f.attrs.clone(),
            unit: escape(&f.unit),
            help: escape(&f.help),
        }
    }

    fn write(&self, out: &mut String, value: &str, err: &str) {
        out.push_str("    <div class=\"field");
        if !err.is_empty() {
            out.push_str(" invalid");
        }
        out.push_str("\">\n");
        out.push_str(&self.label_line);
        if self.select {
            out.push_str("      <select id=\"");
            out.push_str(&self.id);
            out.push_str("\" name=\"");
            out.push_str(&self.name);
            out.push('"');
            if self.required {
                out.push_str(" required");
            }
            self.write_described_by(out, err);
            out.push_str(">\n");
            for o in &self.options {
                out.push_str(&o.open);
                if o.value == value {
                    out.push_str(" selected");
                }
                out.push_str(&o.close);
            }
            out.push_str("      </select>\n");
        } else {
            out.push_str("      <div class=\"number\">\n        <input type=\"number\" id=\"");
            out.push_str(&self.id);
            out.push_str("\" name=\"");
            out.push_str(&self.name);
            out.push_str("\" value=\"");
            push_escaped(out, value);
            out.push_str("\" inputmode=\"decimal\"");
            out.push_str(&self.attrs);
            self.write_described_by(out, err);
            out.push_str(">\n");
            if !self.unit.is_empty() {
                out.push_str("<span class=\"unit\">");
                out.push_str(&self.unit);
                out.push_str("</span>");
            }
            out.push_str("      </div>\n");
        }
        if !self.help.is_empty() {
            out.push_str("<p class=\"help\" id=\"");
            out.push_str(&self.id);
            out.push_str("-help\">");
            out.push_str(&self.help);
            out.push_str("</p>");
        }
        if !err.is_empty() {
            out.push_str("<p class=\"error\" id=\"");
            out.push_str(&self.id);
            out.push_str("-err\">");
            push_escaped(out, err);
            out.push_str("</p>");
        }
        out.push_str("    </div>\n");
    }

    /// `aria-invalid` and `aria-describedby`, pointing at the error and help.
    fn write_described_by(&self, out: &mut String, err: &str) {
        let help = !self.help.is_empty();
        if !err.is_empty() {
            out.push_str(" aria-invalid=\"true\" aria-describedby=\"");
            out.push_str(&self.id);
            out.push_str("-err");
            if help {
                out.push(' ');
                out.push_str(&self.id);
                out.push_str("-help");
            }
            out.push('"');
        } else if help {
            out.push_str(" aria-describedby=\"");
            out.push_str(&self.id);
            out.push_str("-help\"");
        }
    }
}

impl Chrome {
    fn new(lang: Lang, model: &ModelText, explicit: bool) -> Chrome {
        let t = |key| escape(i18n::get(key, lang));
        let code = lang.code();
        let other = match lang {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
        .code();
        let query = if explicit {
            escape(&format!("?lang={code}"))
        } else {
            String::new()
        };
        let title = escape(model.title);
        let head = format!(
            "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
        );
        let header = format!(
            " · lifeboat</title>\n\
             <link rel=\"stylesheet\" href=\"/static/css/style.css\">\n\
             <link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n\
             </head>\n<body>\n<a class=\"skip\" href=\"#main\">{skip}</a>\n\
             <header class=\"site\">\n  <div class=\"wrap bar\">\n    \
             <a class=\"brand\" href=\"/{query}\"><img src=\"/static/favicon.svg\" alt=\"\" width=\"28\" height=\"28\"> <span>{title}</span></a>\n    \
             <nav aria-label=\"{menu}\">\n      \
             <a href=\"/{query}\" aria-current=\"page\">{predict}</a>\n      \
             <a href=\"/model{query}\">{card}</a>\n      \
             <a href=\"/batch{query}\">{batch}</a>\n      \
             <a href=\"/docs{query}\">{docs}</a>\n      \
             <a class=\"lang\" href=\"?lang={other}\" hreflang=\"{other}\" lang=\"{other}\">{switch}</a>\n    \
             </nav>\n  </div>\n</header>\n<main id=\"main\" class=\"wrap\">\n",
            skip = t("skip"),
            menu = t("menu"),
            predict = t("nav_predict"),
            card = t("nav_model"),
            batch = t("nav_batch"),
            docs = t("nav_docs"),
            switch = t("switch_to"),
        );
        let footer = format!(
            "</main>\n<footer class=\"site\">\n  <div class=\"wrap\">{footer} {version} · {name} <code>{model_version}</code></div>\n</footer>\n</body>\n</html>",
            footer = t("footer"),
            version = escape(env!("CARGO_PKG_VERSION")),
            name = escape(model.name),
            model_version = escape(model.version),
        );
        let form_open =
            format!("<form method=\"post\" action=\"/predict{query}\" class=\"predict\">\n");
        let form_close = format!(
            "  </div>\n  <div class=\"actions\">\n    <button type=\"submit\">{submit}</button>\n    \
             <a class=\"secondary\" href=\"/{query}\">{reset}</a>\n  </div>\n</form>",
            submit = t("submit"),
            reset = t("reset"),
        );
        Chrome {
            head,
            header,
            footer,
            form_open,
            form_close,
        }
    }
}

/// Escapes as minijinja's HTML auto-escaping does (also `/`), so both ways
/// give the same bytes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// [`escape`] onto the end of `out`. Also used for the SVG charts
/// (`view::Chart::svg`), so every page escapes one way.
pub fn push_escaped(out: &mut String, s: &str) {
    // Most texts (labels, numbers) need no escaping at all: skip eight bytes
    // at a time while none of them does, then go byte by byte.
    let bytes = s.as_bytes();
    let mut clean = 0;
    while let Some(word) = bytes.get(clean..clean + 8) {
        if needs_escape(u64::from_le_bytes(word.try_into().expect("eight bytes"))) {
            break;
        }
        clean += 8;
    }
    // The last bytes (under eight), padded with zeros, which need no
    // escaping: a short clean text, like a chart's number, is one check and
    // one copy instead of a loop over its bytes.
    let rest = &bytes[clean..];
    if rest.len() < 8 {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        if !needs_escape(u64::from_le_bytes(word)) {
            out.push_str(s);
            return;
        }
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate().skip(clean) {
        let entity = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            b'/' => "&#x2f;",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Whether any of the eight bytes in `word` is one that [`push_escaped`]
/// replaces. `(x - 0x01…01) & !x & 0x80…80` is non-zero exactly when a byte of
/// `x` is zero, and a byte of `word ^ c…c` is zero where `word` has `c`.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has = |c: u8| {
        let x = word ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    (has(b'<') | has(b'>') | has(b'&') | has(b'"') | has(b'\'') | has(b'/')) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_byte_wherever_it_is() {
        // The slow, obvious escaper, to hold the fast one to.
        let reference = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#x27;")
                .replace('/', "&#x2f;")
        };
        let plain = "Passengers aboard — ñ 0123456789 (x), [y]; z = 1 % ~";
        for special in ['<', '>', '&', '"', '\'', '/'] {
            for at in 0..=plain.len() {
                if !plain.is_char_boundary(at) {
                    continue;
                }
                let mut text = plain.to_string();
                text.insert(at, special);
                assert_eq!(escape(&text), reference(&text), "{special} at {at}");
            }
        }
        for len in 0..20 {
            let text = "ab".repeat(len);
            assert_eq!(escape(&text), text);
        }
        // Short texts and short tails, which are checked as one padded word.
        for len in 0..17 {
            for special in ['<', '>', '&', '"', '\'', '/'] {
                let base = "−1".repeat(len);
                for at in (0..=base.len()).filter(|&at| base.is_char_boundary(at)) {
                    let mut text = base.clone();
                    text.insert(at, special);
                    assert_eq!(escape(&text), reference(&text), "{text:?}");
                }
            }
        }
        assert_eq!(escape("<>&\"'/<>&\"'/"), reference("<>&\"'/<>&\"'/"));
    }

    #[test]
    fn escapes_as_minijinja_does() {
        let text = "a<b>&\"c'/d — é";
        let env = minijinja::Environment::new();
        let expected = env
            .template_from_named_str("x.html", "{{ s }}")
            .unwrap()
            .render(minijinja::context! { s => text })
            .unwrap();
        assert_eq!(escape(text), expected);
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape(""), "");
    }
}
