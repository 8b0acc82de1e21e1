//! What the opcodes that would call something (`REDUCE`, `BUILD`) make
//! instead: inert objects, plus the few constructors evaluated as data —
//! Python's `set`/`bytes`/`_codecs.encode` of old protocols, numpy's dtypes,
//! arrays and scalars, and joblib's array wrapper with its inline payload.

use super::Machine;
use super::R;
use crate::import::pickle::allow::{self, Known};
use crate::import::pickle::error::PickleError;
use crate::import::pickle::numpy::{Array, Data, Dtype, Kind, RecordField};
use crate::import::pickle::value::{Global, Node, NodeId, Object};
use crate::quote::quoted;

impl Machine<'_> {
    /// `REDUCE`: what `callable(*args)` would return, as data.
    pub(super) fn reduce(&mut self, callable: NodeId, args: NodeId) -> R<()> {
        let global = self.class_of(callable, "REDUCE")?;
        let args = self.tuple_items(args, "REDUCE")?;
        match global.known {
            Known::Set => {
                let items = match args.first().map(|a| self.arena.get(*a)) {
                    None => Vec::new(),
                    Some(Node::List(items) | Node::Tuple(items) | Node::Set(items)) => {
                        items.clone()
                    }
                    Some(other) => {
                        return self.malformed(format!("set() of {}", other.kind()));
                    }
                };
                let n = items.len() * 4;
                self.push_new(Node::Set(items), n)
            }
            Known::Bytes | Known::CodecsEncode => {
                let bytes = self.bytes_from_args(&args, &global)?;
                let n = bytes.len();
                self.push_new(Node::Bytes(bytes), n)
            }
            Known::NumpyScalar => self.numpy_scalar(&args),
            Known::NumpyFromBuffer => self.numpy_frombuffer(&args),
            Known::Partial => {
                // scikit-learn's HistGradientBoosting stores
                // `partial(check_array, ...)`; any other partial could call anything.
                let wraps_check_array = args
                    .first()
                    .is_some_and(|a| matches!(self.arena.get(*a), Node::Global(g) if g.known == Known::CheckArray));
                if !wraps_check_array {
                    return Err(PickleError::Forbidden {
                        module: "functools".into(),
                        name: "partial (around anything but sklearn.utils.validation.check_array)"
                            .into(),
                        offset: self.at,
                        allowed: allow::summary(),
                    });
                }
                self.make_object(global, args, None)
            }
            Known::CopyregReconstructor => {
                // `_reconstructor(cls, base, state)` makes a bare `cls` instance.
                let Some(class) = args.first() else {
                    return self.malformed("copyreg._reconstructor without a class");
                };
                let class = self.class_of(*class, "copyreg._reconstructor")?;
                self.make_object(class, Vec::new(), None)
            }
            Known::CheckArray => {
                self.malformed("check_array is stored, never called, in scikit-learn files")
            }
            Known::Sklearn
            | Known::NumpyType
            | Known::NumpyDtype
            | Known::NumpyReconstruct
            | Known::NumpyRandom
            | Known::Slice
            | Known::Object
            | Known::JoblibArrayWrapper => self.make_object(global, args, None),
        }
    }

    /// `bytes()`, `bytearray(b)`, `bytes(text, "latin-1")`, `_codecs.encode(text, "latin1")`.
    fn bytes_from_args(&self, args: &[NodeId], global: &Global) -> R<Vec<u8>> {
        match args
            .iter()
            .map(|a| self.arena.get(*a))
            .collect::<Vec<_>>()
            .as_slice()
        {
            [] => Ok(Vec::new()),
            [Node::Bytes(b)] => Ok(b.clone()),
            [Node::Str(text), Node::Str(encoding)]
                if matches!(encoding.as_str(), "latin1" | "latin-1" | "iso-8859-1") =>
            {
                text.chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                    .map_or_else(
                        || self.malformed("latin-1 text holds a character above U+00FF"),
                        Ok,
                    )
            }
            _ => self.malformed(format!("{global} with arguments lifeboat does not read")),
        }
    }

    fn numpy_scalar(&mut self, args: &[NodeId]) -> R<()> {
        let (Some(dtype), Some(value)) = (args.first(), args.get(1)) else {
            return self.malformed("numpy scalar() needs a dtype and a value");
        };
        let dtype = self.dtype_of(*dtype)?;
        if dtype.kind == Kind::Object {
            // An object scalar is the object itself.
            self.push(*value)?;
            return Ok(());
        }
        let Node::Bytes(bytes) = self.arena.get(*value) else {
            return self.numpy_error("numpy scalar() needs bytes");
        };
        let array = Array::new(dtype.clone(), Vec::new(), false, Data::Raw(bytes.clone()))
            .or_else(|why| self.numpy_error(why))?;
        let node = match dtype.kind {
            Kind::Bool => Node::Bool(array.to_f64().is_some_and(|v| v.first() == Some(&1.0))),
            Kind::Int | Kind::UInt => match array.to_i64().and_then(|v| v.first().copied()) {
                Some(v) => Node::Int(v),
                None => Node::Float(
                    array
                        .to_f64()
                        .and_then(|v| v.first().copied())
                        .unwrap_or(f64::NAN),
                ),
            },
            Kind::Float => Node::Float(
                array
                    .to_f64()
                    .and_then(|v| v.first().copied())
                    .unwrap_or(f64::NAN),
            ),
            Kind::Unicode | Kind::Bytes => Node::Str(
                array
                    .to_strings()
                    .and_then(|v| v.into_iter().next())
                    .unwrap_or_default(),
            ),
            Kind::Void | Kind::Object => Node::Array(Box::new(array)),
        };
        self.push_new(node, 8)
    }

    fn numpy_error<T>(&self, why: impl Into<String>) -> R<T> {
        Err(PickleError::Numpy {
            offset: self.at,
            why: why.into(),
        })
    }

    fn numpy_frombuffer(&mut self, args: &[NodeId]) -> R<()> {
        let [buffer, dtype, shape, order] = args else {
            return self.numpy_error("_frombuffer needs (buffer, dtype, shape, order)");
        };
        let dtype = self.dtype_of(*dtype)?;
        let shape = self.shape_of(*shape)?;
        let fortran = match self.arena.get(*order) {
            Node::Str(s) => s == "F",
            _ => return self.numpy_error("_frombuffer order must be 'C' or 'F'"),
        };
        let Some(Node::Bytes(bytes)) = self.arena.get_mut(*buffer) else {
            return self.numpy_error("_frombuffer needs bytes");
        };
        // The buffer node is not shared in numpy's pickles; take its bytes.
        let bytes = std::mem::take(bytes);
        let array = Array::new(dtype, shape, fortran, Data::Raw(bytes))
            .or_else(|why| self.numpy_error(why))?;
        self.push_new(Node::Array(Box::new(array)), 0)
    }

    fn shape_of(&self, id: NodeId) -> R<Vec<usize>> {
        let items = match self.arena.get(id) {
            Node::Tuple(items) | Node::List(items) => items,
            Node::Int(n) => {
                return usize::try_from(*n)
                    .map(|n| vec![n])
                    .or_else(|_| self.numpy_error("a negative dimension"));
            }
            other => {
                return self.numpy_error(format!(
                    "an array shape must be a tuple, not {}",
                    other.kind()
                ));
            }
        };
        if items.len() > 32 {
            return self.numpy_error("an array with more than 32 dimensions");
        }
        items
            .iter()
            .map(|i| match self.arena.get(*i) {
                Node::Int(n) => {
                    usize::try_from(*n).or_else(|_| self.numpy_error("a negative dimension"))
                }
                other => self.numpy_error(format!(
                    "an array dimension must be an int, not {}",
                    other.kind()
                )),
            })
            .collect()
    }

    /// The dtype a node stands for: a decoded dtype, or a `numpy.dtype(...)`
    /// object not yet given its state.
    fn dtype_of(&self, id: NodeId) -> R<Dtype> {
        match self.arena.get(id) {
            Node::Dtype(d) => Ok((**d).clone()),
            Node::Object(obj) if obj.class.known == Known::NumpyDtype => self.decode_dtype(obj),
            other => self.numpy_error(format!("expected a numpy dtype, got {}", other.kind())),
        }
    }

    /// numpy's `dtype(typestr, align, copy)` with `__setstate__(state)`.
    fn decode_dtype(&self, obj: &Object) -> R<Dtype> {
        let Some(Node::Str(typestr)) = obj.args.first().map(|a| self.arena.get(*a)) else {
            return self.numpy_error("numpy.dtype needs a type string");
        };
        let state: Vec<&Node> = match obj.state.map(|s| self.arena.get(s)) {
            Some(Node::Tuple(items)) => items.iter().map(|i| self.arena.get(*i)).collect(),
            None => Vec::new(),
            Some(other) => {
                return self.numpy_error(format!(
                    "a dtype state must be a tuple, not {}",
                    other.kind()
                ));
            }
        };
        // (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        let byteorder = match state.get(1) {
            Some(Node::Str(s)) => s.chars().next(),
            Some(Node::Bytes(b)) => b.first().map(|c| char::from(*c)),
            _ => None,
        };
        if let Some(sub) = state.get(2)
            && !matches!(sub, Node::None)
        {
            return self.numpy_error("dtypes with sub-arrays are not supported");
        }
        let elsize = match state.get(5) {
            Some(Node::Int(n)) => *n,
            _ => -1,
        };
        let mut dtype =
            Dtype::parse(typestr, byteorder, elsize).or_else(|why| self.numpy_error(why))?;
        if let (Some(Node::Tuple(names)), Some(fields_id)) = (state.get(3), obj.state) {
            let Node::Tuple(state_items) = self.arena.get(fields_id) else {
                return self.numpy_error("a dtype state must be a tuple");
            };
            let Some(fields) = state_items.get(4) else {
                return self.numpy_error("a structured dtype without fields");
            };
            for name in names {
                let Node::Str(name) = self.arena.get(*name) else {
                    return self.numpy_error("a record field name is not a string");
                };
                let Some(Node::Tuple(spec)) =
                    self.dict_value(*fields, name).map(|v| self.arena.get(v))
                else {
                    return self
                        .numpy_error(format!("the record field {} has no type", quoted(name)));
                };
                let (Some(field_dtype), Some(offset)) = (spec.first(), spec.get(1)) else {
                    return self.numpy_error(format!(
                        "the record field {} needs a type and an offset",
                        quoted(name)
                    ));
                };
                let Node::Int(offset) = self.arena.get(*offset) else {
                    return self
                        .numpy_error(format!("the record field {} has no offset", quoted(name)));
                };
                let field_dtype = match self.arena.get(*field_dtype) {
                    Node::Dtype(d) => (**d).clone(),
                    _ => {
                        return self.numpy_error(format!(
                            "the record field {} has no dtype",
                            quoted(name)
                        ));
                    }
                };
                if !field_dtype.fields.is_empty() {
                    return self.numpy_error("nested records are not supported");
                }
                dtype.fields.push(RecordField {
                    name: name.clone(),
                    dtype: field_dtype,
                    offset: usize::try_from(*offset)
                        .or_else(|_| self.numpy_error("a negative field offset"))?,
                });
            }
        }
        Ok(dtype)
    }

    fn dict_value(&self, dict: NodeId, key: &str) -> Option<NodeId> {
        match self.arena.get(dict) {
            Node::Dict(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(self.arena.get(*k), Node::Str(s) if s == key))
                .map(|(_, v)| *v),
            _ => None,
        }
    }

    /// `BUILD`: records the state; numpy dtypes and arrays become data here,
    /// and a joblib array wrapper is replaced by the array that follows it.
    pub(super) fn build(&mut self, target: NodeId, state: NodeId) -> R<()> {
        let known = match self.arena.get_mut(target) {
            Some(Node::Object(obj)) => {
                obj.state = Some(state);
                obj.class.known
            }
            Some(other) => {
                let kind = other.kind();
                return self.malformed(format!("BUILD on {kind}, which has no state"));
            }
            None => return self.malformed("BUILD on nothing"),
        };
        let decoded = match known {
            Known::NumpyDtype => {
                let Node::Object(obj) = self.arena.get(target) else {
                    return Ok(());
                };
                Node::Dtype(Box::new(self.decode_dtype(obj)?))
            }
            Known::NumpyReconstruct => Node::Array(Box::new(self.decode_array_state(state)?)),
            Known::JoblibArrayWrapper => {
                return self.joblib_payload(target, state);
            }
            _ => return Ok(()),
        };
        if let Some(slot) = self.arena.get_mut(target) {
            *slot = decoded;
        }
        Ok(())
    }

    /// numpy's `ndarray.__setstate__((version, shape, dtype, is_fortran, data))`.
    fn decode_array_state(&mut self, state: NodeId) -> R<Array> {
        let items = match self.arena.get(state) {
            Node::Tuple(items) => items.clone(),
            other => {
                return self.numpy_error(format!(
                    "an array state must be a tuple, not {}",
                    other.kind()
                ));
            }
        };
        let items = match items.len() {
            5 => &items[1..],
            4 => &items[..],
            n => return self.numpy_error(format!("an array state has {n} items, not 4 or 5")),
        };
        let shape = self.shape_of(items[0])?;
        let dtype = self.dtype_of(items[1])?;
        let fortran = matches!(self.arena.get(items[2]), Node::Bool(true) | Node::Int(1));
        let data = match self.arena.get(items[3]) {
            Node::Bytes(b) if dtype.kind != Kind::Object => Data::Raw(b.clone()),
            Node::List(items) if dtype.kind == Kind::Object => Data::Objects(items.clone()),
            other => {
                return self.numpy_error(format!(
                    "the data of a {:?} array cannot be {}",
                    dtype.kind,
                    other.kind()
                ));
            }
        };
        // The raw bytes now live twice (the bytes node and the array); count it.
        if let Data::Raw(b) = &data {
            self.arena.charge(b.len(), self.at)?;
        }
        Array::new(dtype, shape, fortran, data).or_else(|why| self.numpy_error(why))
    }

    /// joblib writes each array as a `NumpyArrayWrapper` whose `BUILD` is
    /// followed by the raw element bytes (after an alignment pad), or, for
    /// object arrays, by a complete pickle of the array.
    fn joblib_payload(&mut self, target: NodeId, state: NodeId) -> R<()> {
        let field = |name: &str| self.dict_value(state, name);
        let (Some(shape), Some(dtype)) = (field("shape"), field("dtype")) else {
            return self.malformed("a joblib array wrapper without shape or dtype");
        };
        let order = field("order");
        let alignment = field("numpy_array_alignment_bytes");
        let shape = self.shape_of(shape)?;
        let dtype = self.dtype_of(dtype)?;
        let fortran = order.is_some_and(|o| matches!(self.arena.get(o), Node::Str(s) if s == "F"));
        if dtype.kind == Kind::Object {
            if self.nesting >= self.limits().max_nested_pickles {
                return Err(PickleError::Limit {
                    what: "pickles nested in joblib object arrays",
                    limit: self.limits().max_nested_pickles,
                    offset: self.at,
                });
            }
            let start = self.pos;
            let mut inner = Machine::new(self.input, start, self.arena, self.nesting + 1);
            let array = inner.run()?;
            let end = inner.pos;
            self.pos = end;
            if !matches!(self.arena.get(array), Node::Array(a) if a.dtype.kind == Kind::Object) {
                return self.malformed("a joblib object array is not followed by an array");
            }
            if let Some(top) = self.stack.last_mut() {
                *top = array;
            }
            return Ok(());
        }
        if alignment.is_some_and(|a| !matches!(self.arena.get(a), Node::None)) {
            let pad = self.byte("the joblib alignment padding")?;
            self.take(usize::from(pad), "the joblib alignment padding")?;
        }
        let count = crate::import::pickle::numpy::element_count(&shape);
        let Some(n) = count.and_then(|c| c.checked_mul(dtype.itemsize)) else {
            return self.numpy_error(format!("the array shape {shape:?} is too large"));
        };
        let n = self.length(n as u64, "joblib array data")?;
        let bytes = self.take(n, "joblib array data")?.to_vec();
        self.arena.charge(n, self.at)?;
        let array = Array::new(dtype, shape, fortran, Data::Raw(bytes))
            .or_else(|why| self.numpy_error(why))?;
        if let Some(slot) = self.arena.get_mut(target) {
            *slot = Node::Array(Box::new(array));
        }
        Ok(())
    }
}
