//! lifeboat's own JSON API: `POST /api/v1/predict` (one object or an array of
//! them), `GET /api/v1/model` (the model card) and `GET /openapi.json`.
//! Errors are `application/problem+json` with one entry per field problem.
//!
//! The body is parsed straight into `(name, value)` pairs per row (no map of
//! the whole document), then validated by the schema.

use std::borrow::Cow;
use std::fmt;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::error::{self, ApiError, Problem, Problems};
use super::{AppState, Routes, i18n};
use crate::model::{Explanation, Prediction};
use crate::quote::quoted;
use crate::schema::validate::JsonRef;
use crate::schema::{Lang, Row, Schema};

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/predict", post(predict_json))
        .route("/api/v1/model", get(model_json))
        .route("/openapi.json", get(openapi_json))
}

/// A boolean query parameter: absent is false; `true/false/1/0` accepted
/// (and a bare `?explain`). Every endpoint that takes a flag reads it here,
/// so they accept and refuse the same values with the same message.
pub fn query_flag(query: Option<&str>, name: &str) -> Result<bool, ApiError> {
    let Some(q) = query else { return Ok(false) };
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        if k == name {
            return flag_value(name, &v);
        }
    }
    Ok(false)
}

/// The value of the flag `name`, as [`query_flag`] reads it.
pub fn flag_value(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(ApiError::BadRequest(format!(
            "the query parameter {name} is {}; use true or false",
            quoted(&error::cap(other))
        ))),
    }
}

/// `/api/v1/predict`: labels and messages are in the language `?lang=` or
/// `Accept-Language` asks for, so every answer says it varies with the header.
async fn predict_json(state: State<AppState>, request: Request) -> Response {
    let mut response = predict_answer(state, request).await.into_response();
    response
        .headers_mut()
        .insert(header::VARY, super::ui::VARY_LANGUAGE);
    response
}

async fn predict_answer(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Problem> {
    let (parts, body) = request.into_parts();
    error::is_json(&parts.headers)?;
    error::check_encoding(&parts.headers)?;
    let query = parts.uri.query();
    let explain = query_flag(query, "explain")?;
    // Pages fall back from a language they do not have; a program is told.
    if let Some(Err(other)) = i18n::query_lang(query) {
        return Err(ApiError::BadRequest(format!(
            "the query parameter lang is {}; use en or es (or leave it out: then Accept-Language, else en)",
            quoted(&error::cap(other))
        ))
        .into());
    }
    let (lang, _) = i18n::negotiate(query, &parts.headers);
    let body = error::read_body(body, state.config.body_limit).await?;
    let input: Input<'_> =
        serde_json::from_slice(&body).map_err(|e| error::json_error(&e, &body))?;
    let (rows, many) = input.validate(&state.model().schema, lang)?;
    let answers: Vec<Answer> = rows
        .iter()
        .map(|row| Answer::new(&state, row, explain, lang))
        .collect();
    let mut bytes = Vec::with_capacity(160 * answers.len());
    if many {
        bytes.push(b'[');
    }
    for (i, answer) in answers.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        state.answer_json.write(&mut bytes, answer, lang)?;
    }
    if many {
        bytes.push(b']');
    }
    Ok(json(bytes))
}

/// Writes answers as `serde_json` would, with the parts that depend only on
/// the class and language serialized once at startup: a prediction is then a
/// few copies and number formats, not a walk of the whole answer.
pub struct AnswerJson {
    /// `{"class":"1","label":"Passenger survives","probability":`, by
    /// language ([`Lang::ALL`] order) and class.
    heads: Vec<Vec<Vec<u8>>>,
    /// `"1":`, by class.
    keys: Vec<Vec<u8>>,
}

impl AnswerJson {
    pub fn new(schema: &Schema) -> AnswerJson {
        #[derive(Serialize)]
        struct Head<'a> {
            class: &'a str,
            label: &'a str,
        }
        let head = |class: &crate::schema::Class, lang: Lang| {
            let mut bytes = serde_json::to_vec(&Head {
                class: &class.value,
                label: class.label.get(lang),
            })
            .unwrap_or_default();
            bytes.pop(); // the closing brace
            bytes.extend_from_slice(b",\"probability\":");
            bytes
        };
        let classes = schema.classes();
        AnswerJson {
            heads: Lang::ALL
                .iter()
                .map(|&lang| classes.iter().map(|c| head(c, lang)).collect())
                .collect(),
            keys: classes
                .iter()
                .map(|c| {
                    let mut key = serde_json::to_vec(&c.value).unwrap_or_default();
                    key.push(b':');
                    key
                })
                .collect(),
        }
    }

    /// Appends one answer's JSON to `out`.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        answer: &Answer<'_>,
        lang: Lang,
    ) -> Result<(), ApiError> {
        let lang_index = Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0);
        let prepared = match answer {
            Answer::Class {
                index,
                probability,
                probabilities,
                explanation: None,
                ..
            } => self
                .heads
                .get(lang_index)
                .and_then(|heads| heads.get(*index))
                .filter(|_| self.keys.len() == probabilities.values.len())
                .map(|head| (head, probability, probabilities)),
            _ => None,
        };
        let Some((head, probability, probabilities)) = prepared else {
            // Explanations and regression answers take the general path.
            return serde_json::to_writer(&mut *out, answer)
                .map_err(|e| ApiError::Internal(e.to_string()));
        };
        out.extend_from_slice(head);
        write_number(out, *probability);
        out.extend_from_slice(b",\"probabilities\":{");
        for (i, (key, p)) in self.keys.iter().zip(&probabilities.values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            write_number(out, *p);
        }
        out.extend_from_slice(b"}}");
        Ok(())
    }
}

/// A number as `serde_json` writes it (`null` when not finite).
fn write_number(out: &mut Vec<u8>, x: f64) {
    let _ = serde_json::to_writer(&mut *out, &x);
}

/// A 200 answer with a JSON body.
pub(super) fn json(bytes: impl Into<axum::body::Body>) -> Response {
    let mut r = bytes.into().into_response();
    // Room for the headers every answer gets (length, id, security), at once.
    r.headers_mut().reserve(8);
    r.headers_mut().insert(header::CONTENT_TYPE, JSON);
    r
}

/// A constant, so `from_static` checks its bytes once, in the compiler.
pub(super) const JSON: HeaderValue = HeaderValue::from_static("application/json");

async fn model_json(State(state): State<AppState>) -> Response {
    json(state.card_json.clone())
}

async fn openapi_json(State(state): State<AppState>) -> Response {
    json(state.openapi.json.clone())
}

/// The request body: one object, or an array of objects. Keys and strings
/// borrow from the body where they can (no escapes), so a row costs no
/// allocation per value.
pub enum Input<'de> {
    One(Pairs<'de>),
    Many(Vec<Pairs<'de>>),
}

/// One JSON object as `(key, value)` pairs, in document order.
pub struct Pairs<'de>(pub Vec<(Cow<'de, str>, Scalar<'de>)>);

/// One value of a row: a scalar, or the fact that it was an array or object
/// (which validation reports; their contents are skipped unread).
pub enum Scalar<'de> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl Scalar<'_> {
    fn as_ref(&self) -> JsonRef<'_> {
        match self {
            Scalar::Null => JsonRef::Null,
            Scalar::Bool(b) => JsonRef::Bool(*b),
            Scalar::Number(n) => JsonRef::Number(n),
            Scalar::Str(s) => JsonRef::Str(s),
            Scalar::Array => JsonRef::Array,
            Scalar::Object => JsonRef::Object,
        }
    }
}

/// An object key, borrowed from the body unless it has escapes (serde's own
/// `Cow<str>` always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Number(n.into()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Scalar<'de>, E> {
                serde_json::Number::from_f64(n)
                    .map(Scalar::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Array)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Object)
            }
        }
        d.deserialize_any(V)
    }
}

impl Input<'_> {
    /// Every row, or every problem of every row (up to a limit).
    pub fn validate(&self, schema: &Schema, lang: Lang) -> Result<(Vec<Row>, bool), ApiError> {
        let (rows, many): (Vec<&Pairs<'_>>, bool) = match self {
            Input::One(p) => (vec![p], false),
            Input::Many(ps) => (ps.iter().collect(), true),
        };
        let mut problems = Problems::default();
        let mut out = Vec::with_capacity(rows.len());
        for (i, pairs) in rows.into_iter().enumerate() {
            let parsed =
                schema.parse_json_refs(pairs.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
            match parsed {
                Ok(row) => out.push(row),
                Err(errors) => problems.add(&errors, many.then_some(i), lang),
            }
        }
        problems.into_result()?;
        Ok((out, many))
    }
}

impl<'de> Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object with one value per field")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<'de>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((Key(k), v)) = map.next_entry::<Key<'de>, Scalar<'de>>()? {
                    pairs.push((k, v));
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Input<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Input<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object (one row) or an array of objects (many rows)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Input<'de>, A::Error> {
                Pairs::deserialize(de::value::MapAccessDeserializer::new(map)).map(Input::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Input<'de>, A::Error> {
                let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(1024));
                while let Some(p) = seq.next_element::<Pairs>()? {
                    rows.push(p);
                }
                if rows.is_empty() {
                    return Err(de::Error::custom(
                        "the array is empty; send at least one object",
                    ));
                }
                Ok(Input::Many(rows))
            }
        }
        d.deserialize_any(V)
    }
}

/// One answer of `/api/v1/predict`.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Answer<'a> {
    Class {
        /// The class's position in the model's classes (not sent).
        #[serde(skip)]
        index: usize,
        class: &'a str,
        label: &'a str,
        probability: f64,
        probabilities: Probabilities<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        explanation: Option<ExplanationOut<'a>>,
    },
    Value {
        value: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        explanation: Option<ExplanationOut<'a>>,
    },
}

/// `{"0": 0.2, "1": 0.8}`, keyed by class value in the model's order.
pub struct Probabilities<'a> {
    classes: &'a [crate::schema::Class],
    values: Vec<f64>,
}

impl Serialize for Probabilities<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (c, p) in self.classes.iter().zip(&self.values) {
            map.serialize_entry(&c.value, p)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
pub struct ExplanationOut<'a> {
    /// The class (value) the contributions are about.
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<&'a str>,
    units: &'static str,
    base: f64,
    score: f64,
    contributions: Contributions<'a>,
}

pub struct Contributions<'a> {
    schema: &'a Schema,
    values: Vec<f64>,
}

impl Serialize for Contributions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (f, c) in self.schema.fields.iter().zip(&self.values) {
            map.serialize_entry(&f.name, c)?;
        }
        map.end()
    }
}

impl<'a> Answer<'a> {
    pub fn new(state: &'a AppState, row: &Row, explain: bool, lang: Lang) -> Answer<'a> {
        let (prediction, explanation) = if explain {
            let (p, e) = state.explain(row);
            (p, Some(e))
        } else {
            (state.predict(row), None)
        };
        let schema = &state.model().schema;
        let explanation = explanation.map(|e| explanation_out(state, &prediction, e));
        match prediction {
            Prediction::Class {
                index,
                probabilities,
            } => {
                let classes = schema.classes();
                Answer::Class {
                    index,
                    class: &classes[index].value,
                    label: classes[index].label.get(lang),
                    probability: probabilities[index],
                    probabilities: Probabilities {
                        classes,
                        values: probabilities,
                    },
                    explanation,
                }
            }
            Prediction::Value(value) => Answer::Value { value, explanation },
        }
    }
}

fn explanation_out<'a>(state: &'a AppState, p: &Prediction, e: Explanation) -> ExplanationOut<'a> {
    let schema = &state.model().schema;
    let class = match p {
        Prediction::Class { .. } => {
            // Binary logistic models explain the log-odds of the second class.
            let classes = schema.classes();
            let i = if classes.len() == 2 { 1 } else { e.output };
            classes.get(i).map(|c| c.value.as_str())
        }
        Prediction::Value(_) => None,
    };
    ExplanationOut {
        class,
        units: e.units.describe(),
        base: e.base,
        score: e.score,
        contributions: Contributions {
            schema,
            values: e.contributions,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prepared writer must give exactly the bytes serde gives, for every
    /// class, language and awkward probability.
    #[test]
    fn prepared_answers_are_byte_identical_to_serde() {
        let loaded = crate::builtin::titanic().unwrap();
        let schema = &loaded.model.schema;
        let writer = AnswerJson::new(schema);
        let classes = schema.classes();
        for lang in Lang::ALL {
            for index in 0..classes.len() {
                for p in [0.0, 1e-300, 0.1 + 0.2, 0.5, 1.0 - 1e-16, 1.0, f64::NAN] {
                    let values = vec![1.0 - p, p];
                    let answer = Answer::Class {
                        index,
                        class: &classes[index].value,
                        label: classes[index].label.get(lang),
                        probability: values[index],
                        probabilities: Probabilities {
                            classes,
                            values: values.clone(),
                        },
                        explanation: None,
                    };
                    let mut fast = Vec::new();
                    writer.write(&mut fast, &answer, lang).unwrap();
                    assert_eq!(
                        String::from_utf8(fast).unwrap(),
                        serde_json::to_string(&answer).unwrap()
                    );
                }
            }
        }
    }
}
