//! The value tree a pickle describes, kept as data: numbers, strings,
//! containers, `(module, name)` globals and inert objects that record how
//! Python *would* have built them. Nothing here can run anything.
//!
//! Values live in one arena and refer to each other by [`NodeId`], because a
//! pickle may share one value in many places (its memo) and mutate it after
//! sharing (`BUILD`, `APPENDS`); an arena keeps that faithful without
//! reference counting. Not for: interpreting opcodes (see `machine`), or
//! knowing what a scikit-learn object means (see `import::sklearn`).

use super::allow::Known;
use super::numpy::{Array, Dtype};

/// An index into [`Pickle::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

/// A decoded pickle: every value it built, and the one it returns.
#[derive(Debug, Clone)]
pub struct Pickle {
    pub nodes: Vec<Node>,
    pub root: NodeId,
}

/// A global named by the pickle (`GLOBAL`, `STACK_GLOBAL`, `INST`): only a
/// name, checked against the allow-list when it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    pub module: String,
    pub name: String,
    pub known: Known,
}

impl std::fmt::Display for Global {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// What Python would have called, and with what, to make an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub class: Global,
    /// The positional arguments (`REDUCE`, `NEWOBJ`).
    pub args: Vec<NodeId>,
    /// Keyword arguments (`NEWOBJ_EX`).
    pub kwargs: Option<NodeId>,
    /// The `__setstate__` argument (`BUILD`), usually the attribute dict.
    pub state: Option<NodeId>,
    /// Items appended (`APPEND(S)` on a list subclass).
    pub list_items: Vec<NodeId>,
    /// Items set (`SETITEM(S)` on a dict subclass such as scikit-learn's `Bunch`).
    pub dict_items: Vec<(NodeId, NodeId)>,
    /// The byte offset of the opcode that made it, for error messages.
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too big for i64: little-endian two's complement bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    /// `bytes` or `bytearray`.
    Bytes(Vec<u8>),
    Tuple(Vec<NodeId>),
    List(Vec<NodeId>),
    Dict(Vec<(NodeId, NodeId)>),
    Set(Vec<NodeId>),
    Global(Global),
    Object(Box<Object>),
    Dtype(Box<Dtype>),
    Array(Box<Array>),
}

impl Node {
    /// A short description of the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::None => "None",
            Node::Bool(_) => "a bool",
            Node::Int(_) | Node::BigInt(_) => "an int",
            Node::Float(_) => "a float",
            Node::Str(_) => "a str",
            Node::Bytes(_) => "bytes",
            Node::Tuple(_) => "a tuple",
            Node::List(_) => "a list",
            Node::Dict(_) => "a dict",
            Node::Set(_) => "a set",
            Node::Global(_) => "a global",
            Node::Object(_) => "an object",
            Node::Dtype(_) => "a numpy dtype",
            Node::Array(_) => "a numpy array",
        }
    }
}

impl Pickle {
    /// The node `id` refers to. Ids come from this pickle, so they are in range;
    /// a foreign id reads as `None` rather than panicking.
    pub fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id.0 as usize).unwrap_or(&Node::None)
    }

    /// The items of a tuple or list.
    pub fn items(&self, id: NodeId) -> Option<&[NodeId]> {
        match self.node(id) {
            Node::Tuple(items) | Node::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn str(&self, id: NodeId) -> Option<&str> {
        match self.node(id) {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a string key in a dict node.
    pub fn dict_get(&self, dict: NodeId, key: &str) -> Option<NodeId> {
        match self.node(dict) {
            Node::Dict(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| self.str(*k) == Some(key))
                .map(|(_, v)| *v),
            _ => None,
        }
    }
}
