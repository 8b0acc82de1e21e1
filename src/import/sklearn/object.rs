//! A typed view of one scikit-learn object in the pickle tree: its class
//! and its attributes (the `__dict__` that `BUILD` restored), read with
//! errors that name the class and the attribute.
//!
//! Not for: what an attribute means; each class's file decides that.

use crate::import::pickle::numpy::{Array, Kind};
use crate::import::pickle::{Node, NodeId, Object, Pickle};
use crate::quote::quoted;

use super::SklearnError;

/// One object and the pickle it lives in.
#[derive(Clone, Copy)]
pub struct Obj<'p> {
    pub pickle: &'p Pickle,
    pub object: &'p Object,
}

impl<'p> Obj<'p> {
    /// The object at `id`, or an error saying what was found instead.
    /// `within`: the class holding it, or `None` for the file itself.
    pub fn at(
        pickle: &'p Pickle,
        id: NodeId,
        within: Option<&str>,
    ) -> Result<Obj<'p>, SklearnError> {
        match pickle.node(id) {
            Node::Object(object) => Ok(Obj { pickle, object }),
            other => Err(SklearnError::NotAnObject {
                what: within.map_or("the file".to_string(), |c| format!("a part of the {c}")),
                found: other.kind().to_string(),
            }),
        }
    }

    pub fn class(&self) -> &'p str {
        &self.object.class.name
    }

    fn state(&self) -> Option<NodeId> {
        self.object.state
    }

    fn error(&self, attribute: &str, why: impl Into<String>) -> SklearnError {
        SklearnError::Shape {
            class: self.class().to_string(),
            attribute: attribute.to_string(),
            why: why.into(),
        }
    }

    /// An attribute, if the object has it. Cython classes such as `Tree`
    /// keep a dict as their state too.
    pub fn get(&self, name: &str) -> Option<NodeId> {
        let state = self.state()?;
        match self.pickle.node(state) {
            Node::Dict(_) => self.pickle.dict_get(state, name),
            // (dict, slots) states, as `copyreg` writes for classes with slots.
            Node::Tuple(items) => items.iter().find_map(|d| self.pickle.dict_get(*d, name)),
            _ => None,
        }
    }

    pub fn node(&self, name: &str) -> Result<&'p Node, SklearnError> {
        let id = self.get(name).ok_or_else(|| {
            self.error(
                name,
                "is missing; was the model fitted before it was saved?",
            )
        })?;
        Ok(self.pickle.node(id))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the attribute is absent or `None`.
    pub fn is_none(&self, name: &str) -> bool {
        self.get(name)
            .is_none_or(|id| matches!(self.pickle.node(id), Node::None))
    }

    pub fn child(&self, name: &str) -> Result<Obj<'p>, SklearnError> {
        let id = self.get(name).ok_or_else(|| {
            self.error(
                name,
                "is missing; was the model fitted before it was saved?",
            )
        })?;
        Obj::at(self.pickle, id, Some(self.class())).map_err(|_| {
            self.error(
                name,
                format!("should be an object, found {}", self.pickle.node(id).kind()),
            )
        })
    }

    pub fn string(&self, name: &str) -> Result<&'p str, SklearnError> {
        match self.node(name)? {
            Node::Str(s) => Ok(s),
            other => Err(self.error(name, format!("should be a string, found {}", other.kind()))),
        }
    }

    pub fn opt_string(&self, name: &str) -> Option<&'p str> {
        self.get(name).and_then(|id| self.pickle.str(id))
    }

    pub fn number(&self, name: &str) -> Result<f64, SklearnError> {
        let node = self.node(name)?;
        number(node)
            .ok_or_else(|| self.error(name, format!("should be a number, found {}", node.kind())))
    }

    pub fn int(&self, name: &str) -> Result<i64, SklearnError> {
        match self.node(name)? {
            Node::Int(i) => Ok(*i),
            Node::Bool(b) => Ok(i64::from(*b)),
            other => Err(self.error(
                name,
                format!("should be an integer, found {}", other.kind()),
            )),
        }
    }

    pub fn bool(&self, name: &str) -> Result<bool, SklearnError> {
        match self.node(name)? {
            Node::Bool(b) => Ok(*b),
            Node::Int(i) => Ok(*i != 0),
            other => Err(self.error(
                name,
                format!("should be True or False, found {}", other.kind()),
            )),
        }
    }

    pub fn array(&self, name: &str) -> Result<&'p Array, SklearnError> {
        match self.node(name)? {
            Node::Array(a) => Ok(a),
            other => Err(self.error(
                name,
                format!("should be a numpy array, found {}", other.kind()),
            )),
        }
    }

    /// A numeric array (or a plain number, or a list of numbers) as `f64`s.
    pub fn f64s(&self, name: &str) -> Result<Vec<f64>, SklearnError> {
        let id = self.get(name).ok_or_else(|| {
            self.error(
                name,
                "is missing; was the model fitted before it was saved?",
            )
        })?;
        f64s(self.pickle, id).ok_or_else(|| {
            self.error(
                name,
                format!("should hold numbers, found {}", self.pickle.node(id).kind()),
            )
        })
    }

    /// The items of a list or tuple attribute.
    pub fn items(&self, name: &str) -> Result<&'p [NodeId], SklearnError> {
        let id = self.get(name).ok_or_else(|| {
            self.error(
                name,
                "is missing; was the model fitted before it was saved?",
            )
        })?;
        self.pickle.items(id).ok_or_else(|| {
            self.error(
                name,
                format!("should be a list, found {}", self.pickle.node(id).kind()),
            )
        })
    }

    /// An error about this object's attribute.
    pub fn bad(&self, attribute: &str, why: impl Into<String>) -> SklearnError {
        self.error(attribute, why)
    }

    /// Plain settings (`get_params`-like): public, non-fitted attributes with
    /// simple values, as `(name, value)` text pairs.
    pub fn params(&self) -> Vec<(String, String)> {
        let Some(state) = self.state() else {
            return Vec::new();
        };
        let Node::Dict(pairs) = self.pickle.node(state) else {
            return Vec::new();
        };
        pairs
            .iter()
            .filter_map(|(k, v)| {
                let key = self.pickle.str(*k)?;
                if key.starts_with('_') || key.ends_with('_') {
                    return None;
                }
                let value = match self.pickle.node(*v) {
                    Node::None => "None".to_string(),
                    Node::Bool(b) => if *b { "True" } else { "False" }.to_string(),
                    Node::Int(i) => i.to_string(),
                    Node::Float(f) => format!("{f}"),
                    Node::Str(s) if s.len() <= 64 => quoted(s).to_string(),
                    _ => return None,
                };
                Some((key.to_string(), value))
            })
            .collect()
    }
}

/// A node as a number, if it is one.
pub fn number(node: &Node) -> Option<f64> {
    match node {
        Node::Float(f) => Some(*f),
        Node::Int(i) => Some(*i as f64),
        Node::Bool(b) => Some(f64::from(u8::from(*b))),
        Node::Array(a) if a.len() == 1 => a.to_f64().and_then(|v| v.first().copied()),
        _ => None,
    }
}

/// Numbers from a numeric array, a number, or a list/tuple/object array of numbers.
pub fn f64s(pickle: &Pickle, id: NodeId) -> Option<Vec<f64>> {
    match pickle.node(id) {
        Node::Array(a) if a.dtype.kind == Kind::Object => a
            .objects()?
            .into_iter()
            .map(|i| number(pickle.node(i)))
            .collect(),
        Node::Array(a) => a.to_f64(),
        Node::Tuple(items) | Node::List(items) => {
            items.iter().map(|i| number(pickle.node(*i))).collect()
        }
        other => number(other).map(|v| vec![v]),
    }
}
