//! What the templates are given: plain serializable data built from the
//! schema, a prediction or the model report. Everything that depends only on
//! the language (the form's fields, the model card) is built once at startup
//! per language; a request adds only its own values, errors and answer.
//!
//! Charts are laid out here (coordinates of SVG bars), so templates only
//! draw them; no template does arithmetic.

use std::borrow::Cow;
use std::collections::BTreeMap;

use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;

use super::decimal::{push_coordinate as coordinate, push_fixed, round1};
use super::i18n;
use super::page_writer::{ModelText, PageWriter, escape, push_escaped};
use super::vars::Vars;
use crate::model::file::Loaded;
use crate::model::report::Origin;
use crate::model::{Explanation, Prediction};
use crate::schema::{Field, FieldKind, Lang, RowErrors, Schema};

/// Values kept from a submitted form are cut to this length when shown again.
const MAX_VALUE_LEN: usize = 100;

pub struct Views {
    en: LangViews,
    es: LangViews,
}

impl Views {
    pub fn new(loaded: &Loaded, dev: bool) -> Views {
        Views {
            en: LangViews::new(loaded, Lang::En, dev),
            es: LangViews::new(loaded, Lang::Es, dev),
        }
    }

    pub fn get(&self, lang: Lang) -> &LangViews {
        match lang {
            Lang::En => &self.en,
            Lang::Es => &self.es,
        }
    }
}

/// Page data in one language.
pub struct LangViews {
    pub lang: Lang,
    /// `t`, `lang`, `model`… : what every page gets; `[implicit, explicit]`
    /// language choice (explicit keeps `?lang=` in links and form actions).
    base: [Vars; 2],
    pub fields: Value,
    /// The form's starting values (each field's default), and no errors.
    pub defaults: Value,
    pub no_errors: Value,
    pub card: Value,
    field_list: Vec<FormField>,
    /// The result page and the form with errors, without the template engine.
    pub writer: PageWriter,
    /// The charts' labels, for [`answer`].
    pub bar_labels: BarLabels,
}

/// One form control, from one schema field.
#[derive(Debug, Clone, Serialize)]
pub struct FormField {
    pub name: String,
    /// The HTML id: unique and safe whatever the column name is.
    pub id: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    /// `select` or `number`.
    pub control: &'static str,
    pub min: Option<String>,
    pub max: Option<String>,
    pub step: String,
    pub unit: String,
    /// `min`, `max`, `step` and `required` of a number input, as attributes
    /// (made here from numbers only, so safe to insert unescaped).
    pub attrs: String,
    pub options: Vec<Choice>,
    pub default: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl LangViews {
    fn new(loaded: &Loaded, lang: Lang, dev: bool) -> LangViews {
        let schema = &loaded.model.schema;
        let t = i18n::strings(lang);
        let other = match lang {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        };
        let model = ModelText {
            name: &schema.name,
            title: schema.title.get(lang),
            description: schema.description.get(lang),
            version: loaded.version(),
            target: schema.target.label.get(lang),
        };
        let base = |explicit: bool| {
            let q = if explicit {
                format!("?lang={}", lang.code())
            } else {
                String::new()
            };
            Vars::new()
                .with("lang", lang.code())
                .with("other_lang", other.code())
                .with("lang_query", q)
                .with("t", Vars::deep(Value::from(Serde(&t))))
                .with("model", Vars::deep(Value::from(Serde(&model))))
                .with("dev", dev)
                .with("version", env!("CARGO_PKG_VERSION"))
                .with("form_error", "")
                .with("error_count", 0)
        };
        let field_list: Vec<FormField> = schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| form_field(i, f, lang))
            .collect();
        let defaults: BTreeMap<String, String> = field_list
            .iter()
            .map(|f| (f.name.clone(), f.default.clone()))
            .collect();
        LangViews {
            lang,
            base: [base(false), base(true)],
            fields: Vars::deep(Value::from(Serde(&field_list))),
            defaults: Vars::from_pairs(defaults).into_value(),
            no_errors: Vars::from_pairs(field_list.iter().map(|f| (f.name.clone(), String::new())))
                .into_value(),
            card: Vars::deep(Value::from(Serde(&card(loaded, lang)))),
            writer: PageWriter::new(lang, &model, &field_list),
            bar_labels: BarLabels::new(schema, lang),
            field_list,
        }
    }

    /// What every page gets; add the page's own variables with [`Vars::with`].
    pub fn base(&self, explicit: bool) -> Vars {
        self.base[explicit as usize].clone()
    }

    pub fn form_fields(&self) -> &[FormField] {
        &self.field_list
    }
}

fn num(v: f64) -> String {
    let mut text = String::new();
    push_num(&mut text, v);
    text
}

/// `v` as `format!("{v}")` writes it (minus zero as `0`), onto the end of
/// `out`.
fn push_num(out: &mut String, v: f64) {
    use std::fmt::Write;
    // A whole number survives the trip through i64 (and needs no libm `trunc`).
    if v.abs() < 1e15 && (v as i64) as f64 == v {
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else {
        let _ = write!(out, "{v}");
    }
}

/// [`push_num`] for people to read: with the language's decimal point
/// (`7.25` in English, `7,25` in Spanish), as percentages are written.
/// Not for HTML attributes, which take `.` in every language.
fn push_local_num(out: &mut String, v: f64, lang: Lang) {
    let start = out.len();
    push_num(out, v);
    let point = decimal_point(lang);
    if point != '.'
        && let Some(at) = out[start..].find('.')
    {
        out.replace_range(start + at..start + at + 1, point.encode_utf8(&mut [0; 4]));
    }
}

fn local_num(v: f64, lang: Lang) -> String {
    let mut text = String::new();
    push_local_num(&mut text, v, lang);
    text
}

fn html_id(i: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!("f{i}-{clean}")
}

fn form_field(i: usize, f: &Field, lang: Lang) -> FormField {
    let t = |k| i18n::get(k, lang).to_string();
    let mut options = Vec::new();
    let (control, min, max, step, unit) = match &f.kind {
        FieldKind::Number(s) | FieldKind::Integer(s) => {
            let integer = matches!(f.kind, FieldKind::Integer(_));
            let step = match (s.step, integer) {
                (Some(st), _) => num(st),
                (None, true) => "1".into(),
                (None, false) => "any".into(),
            };
            (
                "number",
                s.min.map(num),
                s.max.map(num),
                step,
                s.unit
                    .as_ref()
                    .map(|u| u.get(lang).to_string())
                    .unwrap_or_default(),
            )
        }
        FieldKind::Category(s) => {
            if f.optional {
                options.push(Choice {
                    value: String::new(),
                    label: t("unknown"),
                });
            } else if f.default.is_none() {
                options.push(Choice {
                    value: String::new(),
                    label: t("choose"),
                });
            }
            options.extend(s.values.iter().map(|c| Choice {
                value: c.value.clone(),
                label: c.label.get(lang).to_string(),
            }));
            ("select", None, None, String::new(), String::new())
        }
        FieldKind::Boolean => {
            if f.optional || f.default.is_none() {
                options.push(Choice {
                    value: String::new(),
                    label: t(if f.optional { "unknown" } else { "choose" }),
                });
            }
            options.push(Choice {
                value: "true".into(),
                label: t("yes"),
            });
            options.push(Choice {
                value: "false".into(),
                label: t("no"),
            });
            ("select", None, None, String::new(), String::new())
        }
    };
    let default = match (&f.kind, &f.default) {
        // A boolean default may be written "yes" or "1"; the select uses true/false.
        (FieldKind::Boolean, Some(d)) => match crate::schema::validate::parse_str(f, d) {
            Ok(crate::schema::Cell::Number(1.0)) => "true".into(),
            Ok(crate::schema::Cell::Number(_)) => "false".into(),
            _ => String::new(),
        },
        (_, d) => d.clone().unwrap_or_default(),
    };
    let mut attrs = String::new();
    if control == "number" {
        if let Some(v) = &min {
            attrs.push_str(&format!(" min=\"{v}\""));
        }
        if let Some(v) = &max {
            attrs.push_str(&format!(" max=\"{v}\""));
        }
        attrs.push_str(&format!(" step=\"{step}\""));
        if !f.optional {
            attrs.push_str(" required");
        }
    }
    FormField {
        name: f.name.clone(),
        id: html_id(i, &f.name),
        label: f.label.get(lang).to_string(),
        help: f.help.get(lang).to_string(),
        required: !f.optional,
        control,
        min,
        max,
        step,
        unit,
        attrs,
        options,
        default,
    }
}

/// Form values as submitted, cut for display: one per form field, in the
/// form's order (a page writes them field by field, without looking names
/// up), borrowed from the submitted form.
#[derive(Debug, Clone, Default)]
pub struct KeptValues<'a>(Vec<&'a str>);

impl KeptValues<'_> {
    /// The value of the `i`th form field, `""` if none was sent.
    pub fn get(&self, i: usize) -> &str {
        self.0.get(i).copied().unwrap_or("")
    }

    /// The values keyed by field name, as the templates get them.
    pub fn by_name(&self, fields: &[FormField]) -> BTreeMap<String, String> {
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), self.get(i).to_string()))
            .collect()
    }
}

/// The values of `pairs` that name a form field, cut for display.
pub fn kept_values<'a>(
    fields: &[FormField],
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> KeptValues<'a> {
    let mut values = vec![""; fields.len()];
    for (k, v) in pairs {
        if let Some(i) = fields.iter().position(|f| f.name == k) {
            values[i] = if v.len() <= MAX_VALUE_LEN {
                v
            } else {
                // The first MAX_VALUE_LEN characters.
                v.char_indices()
                    .nth(MAX_VALUE_LEN)
                    .map_or(v, |(end, _)| &v[..end])
            };
        }
    }
    KeptValues(values)
}

/// What the form shows after a failed submit.
pub struct FormErrors {
    /// A message (or `""`) for every field, keyed by field name.
    pub by_field: BTreeMap<String, String>,
    /// Problems with names the form does not have.
    pub form_error: String,
    pub count: usize,
}

/// Field errors keyed by field name (the first per field), in `lang`.
pub fn field_errors(schema: &Schema, errors: &RowErrors, lang: Lang) -> FormErrors {
    let mut by_field: BTreeMap<String, String> = schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), String::new()))
        .collect();
    let mut others = Vec::new();
    for e in &errors.0 {
        match by_field.get_mut(&e.field) {
            Some(slot) if slot.is_empty() => *slot = e.describe(lang),
            Some(_) => {}
            None => others.push(format!(
                "{}: {}",
                crate::quote::name(&super::error::cap(&e.field)),
                e.describe(lang)
            )),
        }
    }
    FormErrors {
        by_field,
        form_error: others.join("; "),
        count: errors.0.len(),
    }
}

/// The answer, laid out for result.html. Texts that the model already has
/// (its labels) are borrowed from it.
#[derive(Debug, Clone, Serialize)]
pub struct Answer<'a> {
    /// The class value (or the formatted value for regression).
    pub class: Cow<'a, str>,
    pub label: Cow<'a, str>,
    /// The predicted class's probability, "83.2 %"; empty for regression.
    pub probability: String,
    /// Position of the predicted class, for styling (`class-0`, `class-1`).
    pub index: usize,
    /// SVG: a bar per class (empty for regression).
    pub probabilities_svg: String,
    /// SVG: a bar per field, its contribution.
    pub chart_svg: String,
    /// The class the contributions are about.
    pub explained: &'a str,
    pub units: &'a str,
    pub entered: Vec<Entered<'a>>,
}

/// A field of the answer's table of values entered.
#[derive(Debug, Clone, Serialize)]
pub struct Entered<'a> {
    /// The field's position in the schema (and the form).
    #[serde(skip)]
    pub field: usize,
    pub label: &'a str,
    /// The value in words: a category's label, a number with its unit.
    pub value: Cow<'a, str>,
}

/// One horizontal bar of an SVG chart, with its coordinates.
#[derive(Debug, Clone, Serialize)]
pub struct Bar<'a> {
    /// HTML: cut and escaped ([`bar_label`]).
    pub label: &'a str,
    /// The value as shown: a number formatted here (`+0.27`, `83.2 %`),
    /// so written into the SVG as it is.
    pub text: String,
    pub x: f64,
    pub width: f64,
    pub y: f64,
    pub text_x: f64,
    pub anchor: &'static str,
    pub positive: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart<'a> {
    pub width: f64,
    pub height: f64,
    pub zero: f64,
    pub label_x: f64,
    pub bars: Vec<Bar<'a>>,
}

const ROW: f64 = 30.0;
const CHART_W: f64 = 640.0;
/// Room for labels of about 32 characters at the chart's font size.
const LABEL_W: f64 = 240.0;
/// Longer labels are cut with an ellipsis.
const MAX_LABEL: usize = 32;

/// A bar's label as the chart shows it: cut to [`MAX_LABEL`] characters
/// (the last an ellipsis) and escaped.
pub fn bar_label(label: &str) -> String {
    if label.len() > MAX_LABEL && label.chars().count() > MAX_LABEL {
        let cut: String = label.chars().take(MAX_LABEL - 1).collect();
        let mut html = escape(&cut);
        html.push('…');
        html
    } else {
        escape(label)
    }
}

/// The model's labels as the result page's charts show them ([`bar_label`]),
/// made once per language rather than for every answer.
#[derive(Debug)]
pub struct BarLabels {
    fields: Vec<String>,
    classes: Vec<String>,
}

impl BarLabels {
    pub fn new(schema: &Schema, lang: Lang) -> BarLabels {
        BarLabels {
            fields: schema
                .fields
                .iter()
                .map(|f| bar_label(f.label.get(lang)))
                .collect(),
            classes: schema
                .classes()
                .iter()
                .map(|c| bar_label(c.label.get(lang)))
                .collect(),
        }
    }
}

/// A chart of signed values around a zero line (contributions). Labels are
/// HTML ([`bar_label`]).
pub fn signed_chart<'a>(items: &[(&'a str, f64)], decimals: usize, lang: Lang) -> Chart<'a> {
    let zero = LABEL_W + (CHART_W - LABEL_W) / 2.0;
    let room = (CHART_W - LABEL_W) / 2.0 - 60.0;
    let max = items.iter().map(|(_, v)| v.abs()).fold(0.0, f64::max);
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let width = if max > 0.0 { v.abs() / max * room } else { 0.0 };
            let positive = *v >= 0.0;
            let x = if positive { zero } else { zero - width };
            let (text_x, anchor) = if positive {
                (zero + width + 4.0, "start")
            } else {
                (zero - width - 4.0, "end")
            };
            let mut text = String::with_capacity(8);
            text.push_str(if positive { "+" } else { "−" });
            push_fixed(&mut text, v.abs(), decimals, decimal_point(lang));
            Bar {
                label,
                text,
                x: round1(x),
                width: round1(width.max(if *v != 0.0 { 1.0 } else { 0.0 })),
                y: i as f64 * ROW + 6.0,
                text_x: round1(text_x),
                anchor,
                positive,
            }
        })
        .collect();
    Chart {
        width: CHART_W,
        height: items.len() as f64 * ROW + 8.0,
        zero,
        label_x: LABEL_W - 8.0,
        bars,
    }
}

/// A chart of non-negative values from a left axis (importance,
/// probabilities). Labels are HTML ([`bar_label`]).
pub fn plain_chart(items: Vec<(&str, f64, String)>) -> Chart<'_> {
    let room = CHART_W - LABEL_W - 80.0;
    let max = items.iter().map(|(_, v, _)| *v).fold(0.0, f64::max);
    let height = items.len() as f64 * ROW + 8.0;
    let bars = items
        .into_iter()
        .enumerate()
        .map(|(i, (label, v, text))| {
            let width = if max > 0.0 { v / max * room } else { 0.0 };
            Bar {
                label,
                text,
                x: LABEL_W,
                width: round1(width),
                y: i as f64 * ROW + 6.0,
                text_x: round1(LABEL_W + width + 4.0),
                anchor: "start",
                positive: true,
            }
        })
        .collect();
    Chart {
        width: CHART_W,
        height,
        zero: LABEL_W,
        label_x: LABEL_W - 8.0,
        bars,
    }
}

impl Chart<'_> {
    /// The chart as inline SVG (presentation attributes and CSS classes only:
    /// no inline style, so the CSP needs no exception). Built here rather than
    /// in a template because it is on the result page's hot path: a template
    /// loop costs tens of microseconds for what this does in one or two.
    pub fn svg(&self, label: &str) -> String {
        let labels: usize = self.bars.iter().map(|b| b.label.len()).sum();
        let mut out = String::with_capacity(300 + self.bars.len() * 280 + labels);
        // Written once, copied per bar: the zero line's x, where positive
        // bars start, and the labels' x.
        let mut zero = String::with_capacity(8);
        coordinate(&mut zero, self.zero);
        let mut label_x = String::with_capacity(8);
        coordinate(&mut label_x, self.label_x);
        out.push_str("<svg class=\"chart\" viewBox=\"0 0 ");
        coordinate(&mut out, self.width);
        out.push(' ');
        coordinate(&mut out, self.height);
        out.push_str("\" role=\"img\" aria-label=\"");
        push_escaped(&mut out, label);
        out.push_str("\" preserveAspectRatio=\"xMinYMin meet\"><line class=\"axis\" x1=\"");
        out.push_str(&zero);
        out.push_str("\" x2=\"");
        out.push_str(&zero);
        out.push_str("\" y1=\"0\" y2=\"");
        coordinate(&mut out, self.height);
        out.push_str("\"></line>");
        for b in &self.bars {
            out.push_str("<text class=\"label\" x=\"");
            out.push_str(&label_x);
            out.push_str("\" y=\"");
            // A bar's label and value share a y.
            coordinate(&mut out, b.y + 15.0);
            out.push_str("\" text-anchor=\"end\">");
            out.push_str(b.label);
            out.push_str(if b.positive {
                "</text><rect class=\"pos\" x=\""
            } else {
                "</text><rect class=\"neg\" x=\""
            });
            if b.x == self.zero {
                out.push_str(&zero);
            } else {
                coordinate(&mut out, b.x);
            }
            out.push_str("\" y=\"");
            coordinate(&mut out, b.y);
            out.push_str("\" width=\"");
            coordinate(&mut out, b.width);
            out.push_str("\" height=\"20\" rx=\"3\"></rect><text class=\"value\" x=\"");
            coordinate(&mut out, b.text_x);
            out.push_str("\" y=\"");
            coordinate(&mut out, b.y + 15.0);
            out.push_str("\" text-anchor=\"");
            out.push_str(b.anchor);
            out.push_str("\">");
            // A number this module wrote (`+0.27`, `83.2 %`): nothing to escape.
            debug_assert!(escape(&b.text) == b.text, "{}", b.text);
            out.push_str(&b.text);
            out.push_str("</text>");
        }
        out.push_str("</svg>");
        out
    }
}

/// A probability as a percentage with one decimal, `83.2 %` (`83,2 %` in Spanish).
pub fn percent(p: f64, lang: Lang) -> String {
    let mut s = String::with_capacity(8);
    push_fixed(&mut s, p * 100.0, 1, decimal_point(lang));
    s.push_str(" %");
    s
}

fn decimal_point(lang: Lang) -> char {
    match lang {
        Lang::En => '.',
        Lang::Es => ',',
    }
}

/// Lays out a prediction and its explanation for people.
pub fn answer<'a>(
    loaded: &'a Loaded,
    labels: &'a BarLabels,
    row: &crate::schema::Row,
    prediction: &Prediction,
    explanation: &Explanation,
    lang: Lang,
) -> Answer<'a> {
    let model = &loaded.model;
    let schema = &model.schema;
    let classes = schema.classes();
    let (class, label, probability, index, probabilities) = match prediction {
        Prediction::Class {
            index,
            probabilities,
        } => {
            let items: Vec<(&str, f64, String)> = labels
                .classes
                .iter()
                .zip(probabilities)
                .map(|(label, p)| (label.as_str(), *p, percent(*p, lang)))
                .collect();
            let probability = items.get(*index).map(|i| i.2.clone()).unwrap_or_default();
            (
                Cow::Borrowed(classes[*index].value.as_str()),
                Cow::Borrowed(classes[*index].label.get(lang)),
                probability,
                *index,
                plain_chart(items).svg(i18n::get("probabilities", lang)),
            )
        }
        Prediction::Value(v) => (
            Cow::Owned(format!("{v:.4}")),
            Cow::Owned(format!("{v:.4}")),
            String::new(),
            0,
            String::new(),
        ),
    };
    let mut items: Vec<(&str, f64)> = labels
        .fields
        .iter()
        .zip(&explanation.contributions)
        .map(|(label, c)| (label.as_str(), *c))
        .collect();
    items.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let explained = match (prediction, classes.get(explanation.output)) {
        (Prediction::Class { probabilities, .. }, _) if probabilities.len() == 2 => {
            classes[1].label.get(lang)
        }
        (Prediction::Class { index, .. }, _) => classes[*index].label.get(lang),
        (Prediction::Value(_), _) => schema.target.label.get(lang),
    };
    Answer {
        class,
        label,
        probability,
        index,
        probabilities_svg: probabilities,
        chart_svg: signed_chart(&items, 2, lang).svg(i18n::get("why", lang)),
        explained,
        units: units(explanation.units, lang),
        entered: entered(schema, row, lang),
    }
}

pub fn units(u: crate::model::Units, lang: Lang) -> &'static str {
    use crate::model::Units::*;
    match (u, lang) {
        (LogOdds, Lang::En) => "log-odds",
        (LogOdds, Lang::Es) => "log-odds (logaritmo de la razón de probabilidades)",
        (Logit, Lang::En) => "logits",
        (Logit, Lang::Es) => "logits",
        (Probability, Lang::En) => "probability",
        (Probability, Lang::Es) => "probabilidad",
        (Value, Lang::En) => "units of the prediction",
        (Value, Lang::Es) => "unidades de la predicción",
    }
}

/// The validated row in words: category labels, numbers with units.
fn entered<'a>(schema: &'a Schema, row: &crate::schema::Row, lang: Lang) -> Vec<Entered<'a>> {
    use crate::schema::Cell;
    schema
        .fields
        .iter()
        .zip(&row.cells)
        .enumerate()
        .map(|(i, (f, cell))| {
            let value = match (cell, &f.kind) {
                (Cell::Missing | Cell::Unseen, _) => Cow::Borrowed(i18n::get("unknown", lang)),
                (Cell::Category(i), FieldKind::Category(s)) => s
                    .values
                    .get(*i as usize)
                    .map_or(Cow::Borrowed(""), |c| Cow::Borrowed(c.label.get(lang))),
                (Cell::Number(v), FieldKind::Boolean) => {
                    Cow::Borrowed(i18n::get(if *v == 1.0 { "yes" } else { "no" }, lang))
                }
                (Cell::Number(v), FieldKind::Number(s) | FieldKind::Integer(s)) => {
                    let unit = s.unit.as_ref().map(|u| u.get(lang)).unwrap_or("");
                    let mut text = String::with_capacity(24 + unit.len());
                    push_local_num(&mut text, *v, lang);
                    if !unit.is_empty() {
                        text.push(' ');
                        text.push_str(unit);
                    }
                    Cow::Owned(text)
                }
                (c, _) => Cow::Owned(format!("{c:?}")),
            };
            Entered {
                field: i,
                label: f.label.get(lang),
                value,
            }
        })
        .collect()
}

/// The model card page's data.
#[derive(Debug, Serialize)]
pub struct Card {
    pub learner: String,
    pub family: String,
    pub settings: String,
    pub created: String,
    pub lifeboat_version: String,
    pub sha256: String,
    pub provenance: Vec<Choice>,
    pub classes: Vec<Choice>,
    pub cv: Option<CvView>,
    /// SVG: mean absolute contribution per field.
    pub importance_svg: Option<String>,
    pub units: String,
    pub inputs: Vec<InputRow>,
}

#[derive(Debug, Serialize)]
pub struct CvView {
    pub folds: u32,
    pub rows: Vec<CvRow>,
    pub confusion_labels: Vec<String>,
    pub confusion: Vec<Vec<u64>>,
}

#[derive(Debug, Serialize)]
pub struct CvRow {
    pub chosen: bool,
    pub learner: String,
    pub accuracy: String,
    pub roc_auc: String,
    pub log_loss: String,
}

#[derive(Debug, Serialize)]
pub struct InputRow {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub accepts: String,
    pub required: bool,
    pub default: String,
}

fn card(loaded: &Loaded, lang: Lang) -> Card {
    let model = &loaded.model;
    let schema = &model.schema;
    let report = &model.report;
    let t = |k| i18n::get(k, lang);
    let provenance = match &report.origin {
        Origin::Trained {
            data_file,
            data_sha256,
            rows,
            skipped_rows,
            seed,
        } => vec![Choice {
            label: t("trained_on").into(),
            value: format!(
                "{data_file} (sha256 {}…): {rows} {}, {skipped_rows} {}, {} {seed}",
                &data_sha256[..data_sha256.len().min(12)],
                t("rows_used"),
                t("rows_skipped"),
                t("seed")
            ),
        }],
        Origin::Imported {
            format,
            file_name,
            file_sha256,
            producer,
        } => vec![Choice {
            label: t("imported_from").into(),
            value: format!(
                "{file_name} ({format}{}; sha256 {}…)",
                producer
                    .as_ref()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default(),
                &file_sha256[..file_sha256.len().min(12)]
            ),
        }],
    };
    let cv = report.cross_validation.as_ref().map(|cv| {
        let chosen = cv.results.get(cv.chosen as usize);
        CvView {
            folds: cv.folds,
            rows: cv
                .results
                .iter()
                .enumerate()
                .map(|(i, r)| CvRow {
                    chosen: i as u32 == cv.chosen,
                    learner: r.learner.clone(),
                    accuracy: format!("{:.3} ± {:.3}", r.metrics.accuracy, r.metrics.accuracy_std),
                    roc_auc: r.metrics.roc_auc.map_or("–".into(), |a| format!("{a:.3}")),
                    log_loss: format!("{:.4}", r.metrics.log_loss),
                })
                .collect(),
            confusion_labels: schema
                .classes()
                .iter()
                .map(|c| c.label.get(lang).to_string())
                .collect(),
            confusion: chosen
                .map(|r| r.metrics.confusion.clone())
                .unwrap_or_default(),
        }
    });
    let importance = (!report.field_importance.is_empty()).then(|| {
        let labels = BarLabels::new(schema, lang);
        let mut items: Vec<(&str, f64, String)> = labels
            .fields
            .iter()
            .zip(&report.field_importance)
            .map(|(label, v)| {
                let text = format!("{v:.3}");
                let text = if lang == Lang::Es {
                    text.replace('.', ",")
                } else {
                    text
                };
                (label.as_str(), *v, text)
            })
            .collect();
        items.sort_by(|a, b| b.1.total_cmp(&a.1));
        plain_chart(items).svg(t("importance"))
    });
    let inputs = schema
        .fields
        .iter()
        .map(|f| {
            let (kind, accepts) = match &f.kind {
                FieldKind::Number(s) | FieldKind::Integer(s) => {
                    let kind = if matches!(f.kind, FieldKind::Integer(_)) {
                        "kind_integer"
                    } else {
                        "kind_number"
                    };
                    let unit = s
                        .unit
                        .as_ref()
                        .map(|u| format!(" {}", u.get(lang)))
                        .unwrap_or_default();
                    let range = match (s.min, s.max) {
                        (Some(a), Some(b)) => {
                            format!("{} – {}{unit}", local_num(a, lang), local_num(b, lang))
                        }
                        (Some(a), None) => format!("≥ {}{unit}", local_num(a, lang)),
                        (None, Some(b)) => format!("≤ {}{unit}", local_num(b, lang)),
                        (None, None) => t("any").to_string(),
                    };
                    (t(kind), range)
                }
                FieldKind::Category(s) => (
                    t("kind_category"),
                    s.values
                        .iter()
                        .map(|c| {
                            let l = c.label.get(lang);
                            if l == c.value {
                                c.value.clone()
                            } else {
                                format!("{} ({l})", c.value)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                FieldKind::Boolean => (t("kind_boolean"), "true, false".into()),
            };
            InputRow {
                name: f.name.clone(),
                label: f.label.get(lang).to_string(),
                kind: kind.to_string(),
                accepts,
                required: !f.optional,
                default: f.default.clone().unwrap_or_default(),
            }
        })
        .collect();
    Card {
        learner: report.learner.clone(),
        family: model.estimator.family().to_string(),
        settings: report
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        created: report.created.clone(),
        lifeboat_version: report.lifeboat_version.clone(),
        sha256: loaded.sha256.clone(),
        provenance,
        classes: schema
            .classes()
            .iter()
            .map(|c| Choice {
                value: c.value.clone(),
                label: c.label.get(lang).to_string(),
            })
            .collect(),
        cv,
        importance_svg: importance,
        units: units(model.units(), lang).to_string(),
        inputs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entered_numbers_use_the_language_s_decimal_point() {
        let loaded = crate::builtin::load("titanic").unwrap();
        let schema = &loaded.model.schema;
        let pairs = [
            ("Pclass", "3"),
            ("Sex", "female"),
            ("Age", "22.5"),
            ("SibSp", "1"),
            ("Parch", "0"),
            ("Fare", "7.25"),
            ("Embarked", "S"),
        ];
        let row = schema.parse_strings(pairs).unwrap();
        let value = |lang: Lang, field: &str| {
            let at = schema.fields.iter().position(|f| f.name == field).unwrap();
            entered(schema, &row, lang)[at].value.to_string()
        };
        assert_eq!(value(Lang::En, "Age"), "22.5 years");
        assert_eq!(value(Lang::Es, "Age"), "22,5 años");
        assert_eq!(value(Lang::Es, "Fare"), "7,25 £");
        assert_eq!(value(Lang::Es, "SibSp"), "1");
        let mut s = String::from("x");
        push_local_num(&mut s, -1234.5, Lang::Es);
        assert_eq!(s, "x-1234,5");
        assert_eq!(local_num(1e-7, Lang::Es), "0,0000001");
        assert_eq!(local_num(600.0, Lang::Es), "600");
    }

    #[test]
    fn signed_chart_geometry() {
        let c = signed_chart(&[("a", 2.0), ("b", -1.0)], 2, Lang::En);
        assert_eq!(c.bars[0].x, c.zero);
        assert!(c.bars[0].width > c.bars[1].width);
        assert_eq!(c.bars[1].x + c.bars[1].width, c.zero);
        assert_eq!(c.bars[1].text, "−1.00");
        assert_eq!(c.bars[1].anchor, "end");
        assert!(
            c.bars
                .iter()
                .all(|b| b.x >= LABEL_W && b.x + b.width <= CHART_W)
        );
    }

    #[test]
    fn svg_escapes_labels() {
        let svg = signed_chart(&[(&bar_label("<b>\"x\""), 1.0)], 1, Lang::Es).svg("a & b");
        assert!(svg.contains(">+1,0</text>"), "{svg}");
        let long = signed_chart(&[(&bar_label(&"x".repeat(50)), 1.0)], 1, Lang::En).svg("");
        assert!(
            long.contains(&format!(">{}…</text>", "x".repeat(31))),
            "{long}"
        );
        assert!(svg.contains("aria-label=\"a &amp; b\""), "{svg}");
        assert!(svg.contains(">&lt;b&gt;&quot;x&quot;</text>"), "{svg}");
        assert!(!svg.contains("style="));
    }

    #[test]
    fn kept_values_are_cut_to_a_hundred_characters() {
        let loaded = crate::builtin::titanic().unwrap();
        let fields: Vec<FormField> = loaded
            .model
            .schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| form_field(i, f, Lang::En))
            .collect();
        let long = "é".repeat(150);
        let kept = kept_values(
            &fields,
            [("Age", long.as_str()), ("Nope", "1"), ("Fare", "7.25")],
        );
        let age = fields.iter().position(|f| f.name == "Age").unwrap();
        let fare = fields.iter().position(|f| f.name == "Fare").unwrap();
        assert_eq!(kept.get(age), "é".repeat(100));
        assert_eq!(kept.get(fare), "7.25");
        let sent = [age, fare];
        assert!(
            (0..fields.len())
                .filter(|i| !sent.contains(i))
                .all(|i| kept.get(i).is_empty())
        );
        assert_eq!(kept.get(fields.len()), "");
    }

    #[test]
    fn ids_are_safe() {
        assert_eq!(html_id(3, "a b\"<"), "f3-a-b--");
    }

    #[test]
    fn percent_uses_a_decimal_comma_in_spanish() {
        assert_eq!(percent(0.8312, Lang::En), "83.1 %");
        assert_eq!(percent(0.8312, Lang::Es), "83,1 %");
    }
}
