//! Template variables that minijinja looks up quickly.
//!
//! A result page reads a few hundred variables (`t.submit`, `f.label`,
//! `values[f.name]`…). minijinja's own maps order their keys as `Value`s and
//! `context!{ ..base }` merges maps at every lookup, which made lookups about
//! a fifth of a result page's cost. [`Vars`] is a plain list of string keys,
//! scanned by length and first byte before whole keys are compared (a
//! binary search by key tags measured no faster here). Data built once
//! at startup is converted deeply with [`Vars::deep`]; per-request maps are
//! built as `Vars` directly.

use std::borrow::Cow;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ValueKind};

/// A map of string keys to values, in insertion order (which is the order
/// templates iterate them in).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    entries: Vec<(Cow<'static, str>, Value)>,
}

impl Vars {
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Sets `key`, replacing an earlier value of it.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Vars {
        self.set(Cow::Borrowed(key), value.into());
        self
    }

    pub fn set(&mut self, key: Cow<'static, str>, value: Value) {
        match self.position(&key) {
            Some(i) => self.entries[i].1 = value,
            None => self.push(key, value),
        }
    }

    fn push(&mut self, key: Cow<'static, str>, value: Value) {
        self.entries.push((key, value));
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Vars {
        let mut vars = Vars::new();
        for (k, v) in pairs {
            vars.push(Cow::Owned(k), Value::from(v));
        }
        vars
    }

    fn position(&self, key: &str) -> Option<usize> {
        // Lengths and first bytes rule out almost every other key without
        // a call to memcmp.
        let first = key.as_bytes().first();
        self.entries
            .iter()
            .position(|(k, _)| k.len() == key.len() && k.as_bytes().first() == first && k == key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }

    /// `value` with every map in it (at any depth, also inside lists)
    /// turned into `Vars`, keeping the map's order. For data built once.
    pub fn deep(value: Value) -> Value {
        match value.kind() {
            ValueKind::Map => {
                let Ok(keys) = value.try_iter() else {
                    return value;
                };
                let mut vars = Vars::new();
                for key in keys {
                    let Some(name) = key.as_str() else {
                        // Non-string keys stay in minijinja's own map.
                        return value;
                    };
                    let item = value.get_item(&key).unwrap_or_default();
                    vars.push(Cow::Owned(name.to_string()), Vars::deep(item));
                }
                vars.into_value()
            }
            ValueKind::Seq => match value.try_iter() {
                Ok(items) => Value::from(items.map(Vars::deep).collect::<Vec<_>>()),
                Err(_) => value,
            },
            _ => value,
        }
    }
}

impl Object for Vars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?).cloned()
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.entries
                .iter()
                .map(|(k, _)| Value::from(k.as_ref()))
                .collect(),
        )
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn render(source: &str, ctx: Value) -> String {
        let mut env = minijinja::Environment::new();
        env.add_template("t", source).unwrap();
        env.get_template("t").unwrap().render(ctx).unwrap()
    }

    #[test]
    fn templates_read_vars_as_they_read_maps() {
        let mut inner = BTreeMap::new();
        inner.insert("b", vec![1, 2]);
        inner.insert("a", vec![3]);
        let data = Vars::deep(Value::from(minijinja::value::Serde(&[&inner, &inner])));
        let ctx = Vars::new()
            .with("name", "x")
            .with("data", data)
            .with("name", "replaced")
            .with(
                "values",
                Vars::from_pairs([("Age".to_string(), "22".to_string())]).into_value(),
            )
            .into_value();
        let source = "{{ name }}|{{ data[0].a }}|{{ data[1]['b'][1] }}|{% for k, v in data[0]|items %}{{ k }}={{ v|length }},{% endfor %}|{{ values['Age'] }}|{{ values.Nope is undefined }}|{{ data[0]|length }}|{% if values %}t{% endif %}";
        assert_eq!(render(source, ctx), "replaced|[3]|2|a=1,b=2,|22|True|2|t");
    }

    #[test]
    fn lookups_compare_whole_keys() {
        let v = Vars::from_pairs([
            ("ab".into(), "1".into()),
            ("ac".into(), "2".into()),
            ("axc".into(), "3".into()),
            ("abc".into(), "4".into()),
        ]);
        assert_eq!(v.get("ac").and_then(|x| x.as_str()), Some("2"));
        assert_eq!(v.get("abc").and_then(|x| x.as_str()), Some("4"));
        assert!(v.get("a").is_none());
        assert!(v.get("ad").is_none());
        assert!(v.get("").is_none());
    }
}
