//! The pickle interpreter: opcodes in, a value tree out, nothing executed.
//!
//! It follows CPython's `Unpickler` (Lib/pickle.py) opcode by opcode, except
//! where CPython would call something: `REDUCE`, `NEWOBJ`, `NEWOBJ_EX`,
//! `INST`, `OBJ` and `BUILD` record an inert [`Object`] instead. A few pure
//! data constructors that old protocols need (`set`, `bytes`,
//! `_codecs.encode`) and numpy's array and dtype constructors are evaluated
//! as data. joblib's `NumpyArrayWrapper` is followed, as joblib's
//! `NumpyUnpickler.load_build` does, by the array's raw bytes, which are read
//! here (those constructions live in `construct`). Not for: deciding what a
//! scikit-learn object means.

use std::collections::HashMap;

mod construct;

use super::allow;
use super::error::PickleError;
use super::limits::Limits;
use super::value::{Global, Node, NodeId, Object, Pickle};
use crate::quote::quoted;

/// The decoded values of one load, with the memory they take.
struct Arena {
    nodes: Vec<Node>,
    used: usize,
    limits: Limits,
}

impl Arena {
    fn charge(&mut self, bytes: usize, offset: u64) -> Result<(), PickleError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limits.max_alloc_bytes {
            return Err(PickleError::Limit {
                what: "memory for decoded values",
                limit: self.limits.max_alloc_bytes,
                offset,
            });
        }
        Ok(())
    }

    fn push(&mut self, node: Node, payload: usize, offset: u64) -> Result<NodeId, PickleError> {
        self.charge(std::mem::size_of::<Node>() + payload, offset)?;
        let id = u32::try_from(self.nodes.len()).map_err(|_| PickleError::Limit {
            what: "number of values",
            limit: u32::MAX as usize,
            offset,
        })?;
        self.nodes.push(node);
        Ok(NodeId(id))
    }

    fn get(&self, id: NodeId) -> &Node {
        self.nodes.get(id.0 as usize).unwrap_or(&Node::None)
    }

    fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.get_mut(id.0 as usize)
    }
}

/// Reads one pickle from `input` (joblib payloads included).
pub fn load(input: &[u8], limits: Limits) -> Result<Pickle, PickleError> {
    if input.len() > limits.max_input_bytes {
        return Err(PickleError::Limit {
            what: "input size in bytes",
            limit: limits.max_input_bytes,
            offset: 0,
        });
    }
    let mut arena = Arena {
        nodes: Vec::new(),
        used: 0,
        limits,
    };
    let mut machine = Machine::new(input, 0, &mut arena, 0);
    let root = machine.run()?;
    Ok(Pickle {
        nodes: arena.nodes,
        root,
    })
}

struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    /// Where the current opcode started, for errors.
    at: u64,
    arena: &'a mut Arena,
    stack: Vec<NodeId>,
    /// Stack lengths at each open `MARK`.
    marks: Vec<usize>,
    memo: HashMap<u32, NodeId>,
    /// How many pickles this one is nested in (joblib object arrays).
    nesting: usize,
}

type R<T> = Result<T, PickleError>;

impl<'a> Machine<'a> {
    fn new(input: &'a [u8], pos: usize, arena: &'a mut Arena, nesting: usize) -> Machine<'a> {
        Machine {
            input,
            pos,
            at: pos as u64,
            arena,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            nesting,
        }
    }

    fn malformed<T>(&self, why: impl Into<String>) -> R<T> {
        Err(PickleError::Malformed {
            offset: self.at,
            why: why.into(),
        })
    }

    fn limits(&self) -> Limits {
        self.arena.limits
    }

    // ---- reading the input ----

    fn take(&mut self, n: usize, what: &'static str) -> R<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.input.len());
        let Some(end) = end else {
            return Err(PickleError::Truncated {
                offset: self.at,
                what,
            });
        };
        let slice = &self.input[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self, what: &'static str) -> R<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn le_u16(&mut self, what: &'static str) -> R<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn le_u32(&mut self, what: &'static str) -> R<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn le_u64(&mut self, what: &'static str) -> R<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A length prefix, checked against the limit and the remaining input
    /// before anything is allocated.
    fn length(&mut self, n: u64, what: &'static str) -> R<usize> {
        let max = self.limits().max_value_bytes;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > max {
            return Err(PickleError::Limit {
                what: "size of one string or bytes value",
                limit: max,
                offset: self.at,
            });
        }
        if n > self.input.len().saturating_sub(self.pos) {
            return Err(PickleError::Truncated {
                offset: self.at,
                what,
            });
        }
        Ok(n)
    }

    /// A text line (protocol 0 arguments), without its newline.
    fn line(&mut self, what: &'static str) -> R<&'a str> {
        let rest = &self.input[self.pos.min(self.input.len())..];
        let Some(end) = rest.iter().take(4096).position(|b| *b == b'\n') else {
            return Err(PickleError::Truncated {
                offset: self.at,
                what,
            });
        };
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end]).or_else(|_| self.malformed(format!("{what} is not text")))
    }

    // ---- the stack ----

    /// Pushes onto the stack. Every push is charged, so `DUP`/`GET` loops
    /// cannot grow the stack past the memory limit.
    fn push(&mut self, id: NodeId) -> R<()> {
        self.arena.charge(std::mem::size_of::<NodeId>(), self.at)?;
        self.stack.push(id);
        Ok(())
    }

    fn new_node(&mut self, node: Node, payload: usize) -> R<NodeId> {
        let at = self.at;
        self.arena.push(node, payload, at)
    }

    fn push_new(&mut self, node: Node, payload: usize) -> R<()> {
        let id = self.new_node(node, payload)?;
        self.push(id)
    }

    fn pop(&mut self) -> R<NodeId> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.malformed("an opcode needs a value but the stack is empty");
        }
        self.stack
            .pop()
            .map_or_else(|| self.malformed("empty stack"), Ok)
    }

    fn top(&self) -> R<NodeId> {
        let floor = self.marks.last().copied().unwrap_or(0);
        match self.stack.last() {
            Some(id) if self.stack.len() > floor => Ok(*id),
            _ => self.malformed("an opcode needs a value but the stack is empty"),
        }
    }

    fn pop_mark(&mut self) -> R<Vec<NodeId>> {
        let Some(mark) = self.marks.pop() else {
            return self.malformed("an opcode needs a MARK but none is open");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn memo_put(&mut self, index: u32) -> R<()> {
        let top = self.top()?;
        if self.memo.len() >= self.limits().max_memo && !self.memo.contains_key(&index) {
            return Err(PickleError::Limit {
                what: "memo entries",
                limit: self.limits().max_memo,
                offset: self.at,
            });
        }
        self.arena.charge(16, self.at)?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn memo_get(&mut self, index: u32) -> R<()> {
        match self.memo.get(&index) {
            Some(id) => {
                let id = *id;
                self.push(id)
            }
            None => self.malformed(format!("memo entry {index} is read before it is written")),
        }
    }

    fn global(&mut self, module: &str, name: &str) -> R<()> {
        let global = self.check_global(module, name)?;
        self.push_new(Node::Global(global), module.len() + name.len())
    }

    fn check_global(&self, module: &str, name: &str) -> R<Global> {
        match allow::check(module, name) {
            Some((module, known)) => Ok(Global {
                module,
                name: name.to_string(),
                known,
            }),
            None => Err(PickleError::Forbidden {
                module: module.to_string(),
                name: name.to_string(),
                offset: self.at,
                allowed: allow::summary(),
            }),
        }
    }

    // ---- the interpreter loop ----

    fn run(&mut self) -> R<NodeId> {
        loop {
            self.at = self.pos as u64;
            let Some(&op) = self.input.get(self.pos) else {
                return Err(PickleError::Truncated {
                    offset: self.at,
                    what: "the STOP opcode",
                });
            };
            self.pos += 1;
            if op == b'.' {
                // STOP
                if !self.marks.is_empty() {
                    return self.malformed("STOP while a MARK is still open");
                }
                return self.pop();
            }
            self.step(op)?;
        }
    }

    fn step(&mut self, op: u8) -> R<()> {
        match op {
            0x80 => {
                // PROTO
                let v = self.byte("the protocol number")?;
                if v > 5 {
                    return Err(PickleError::Unsupported {
                        what: format!("pickle protocol {v}"),
                        offset: self.at,
                        hint: "lifeboat reads protocols 2 to 5; re-save with protocol 5",
                    });
                }
            }
            0x95 => {
                // FRAME: a length prefix for buffering; the bytes are read as they come.
                let n = self.le_u64("the frame length")?;
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > self.input.len().saturating_sub(self.pos) {
                    return Err(PickleError::Truncated {
                        offset: self.at,
                        what: "a frame",
                    });
                }
            }
            b'(' => {
                if self.marks.len() >= self.limits().max_depth {
                    return Err(PickleError::Limit {
                        what: "nesting depth",
                        limit: self.limits().max_depth,
                        offset: self.at,
                    });
                }
                self.marks.push(self.stack.len());
            }
            b'0' => {
                // POP: the top value, or the mark if nothing is above it.
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() > floor {
                    self.stack.pop();
                } else {
                    self.pop_mark()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let top = self.top()?;
                self.push(top)?;
            }
            // Constants and numbers.
            b'N' => self.push_new(Node::None, 0)?,
            0x88 => self.push_new(Node::Bool(true), 0)?,
            0x89 => self.push_new(Node::Bool(false), 0)?,
            b'J' => {
                let v = self.le_u32("BININT")? as i32;
                self.push_new(Node::Int(i64::from(v)), 0)?;
            }
            b'K' => {
                let v = self.byte("BININT1")?;
                self.push_new(Node::Int(i64::from(v)), 0)?;
            }
            b'M' => {
                let v = self.le_u16("BININT2")?;
                self.push_new(Node::Int(i64::from(v)), 0)?;
            }
            0x8a | 0x8b => {
                let n = if op == 0x8a {
                    u64::from(self.byte("LONG1")?)
                } else {
                    u64::from(self.le_u32("LONG4")?)
                };
                let n = self.length(n, "a long integer")?;
                let bytes = self.take(n, "a long integer")?;
                self.push_new(long_from_bytes(bytes), n)?;
            }
            b'G' => {
                let b = self.take(8, "BINFLOAT")?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                self.push_new(Node::Float(f64::from_be_bytes(a)), 0)?;
            }
            b'I' => {
                let line = self.line("INT")?;
                let node = match line {
                    "00" => Node::Bool(false),
                    "01" => Node::Bool(true),
                    _ => match line.parse::<i64>() {
                        Ok(v) => Node::Int(v),
                        Err(_) => {
                            return self
                                .malformed(format!("INT {} is not an integer", quoted(line)));
                        }
                    },
                };
                self.push_new(node, 0)?;
            }
            b'L' => {
                let line = self.line("LONG")?;
                match line.trim_end_matches('L').parse::<i64>() {
                    Ok(v) => self.push_new(Node::Int(v), 0)?,
                    Err(_) => {
                        return self
                            .malformed(format!("LONG {} is not a 64-bit integer", quoted(line)));
                    }
                }
            }
            b'F' => {
                let line = self.line("FLOAT")?;
                match line.parse::<f64>() {
                    Ok(v) => self.push_new(Node::Float(v), 0)?,
                    Err(_) => {
                        return self.malformed(format!("FLOAT {} is not a number", quoted(line)));
                    }
                }
            }
            // Text and bytes.
            b'X' | 0x8c | 0x8d => {
                let n = match op {
                    b'X' => u64::from(self.le_u32("BINUNICODE")?),
                    0x8c => u64::from(self.byte("SHORT_BINUNICODE")?),
                    _ => self.le_u64("BINUNICODE8")?,
                };
                let n = self.length(n, "a string")?;
                let bytes = self.take(n, "a string")?;
                let Ok(text) = std::str::from_utf8(bytes) else {
                    return self.malformed("a string is not valid UTF-8");
                };
                self.push_new(Node::Str(text.to_string()), n)?;
            }
            b'B' | b'C' | 0x8e | 0x96 | b'T' | b'U' => {
                // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, and Python 2
                // strings (BINSTRING, SHORT_BINSTRING), read as bytes.
                let n = match op {
                    b'B' | b'T' => u64::from(self.le_u32("BINBYTES")?),
                    b'C' | b'U' => u64::from(self.byte("SHORT_BINBYTES")?),
                    _ => self.le_u64("BINBYTES8")?,
                };
                let n = self.length(n, "a bytes value")?;
                let bytes = self.take(n, "a bytes value")?.to_vec();
                self.push_new(Node::Bytes(bytes), n)?;
            }
            b'S' | b'V' => {
                return Err(PickleError::Unsupported {
                    what: "a protocol 0 text string".into(),
                    offset: self.at,
                    hint: "lifeboat reads pickle protocols 2 to 5; re-save the model with protocol 2 or later",
                });
            }
            // Containers.
            b')' => self.push_new(Node::Tuple(Vec::new()), 0)?,
            b']' => self.push_new(Node::List(Vec::new()), 0)?,
            b'}' => self.push_new(Node::Dict(Vec::new()), 0)?,
            0x8f => self.push_new(Node::Set(Vec::new()), 0)?,
            b't' => {
                let items = self.pop_mark()?;
                let n = items.len() * 4;
                self.push_new(Node::Tuple(items), n)?;
            }
            0x85..=0x87 => {
                let k = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(k);
                for _ in 0..k {
                    items.push(self.pop()?);
                }
                items.reverse();
                self.push_new(Node::Tuple(items), k * 4)?;
            }
            b'l' => {
                let items = self.pop_mark()?;
                let n = items.len() * 4;
                self.push_new(Node::List(items), n)?;
            }
            b'd' => {
                let items = self.pop_mark()?;
                let pairs = self.pairs(items)?;
                let n = pairs.len() * 8;
                self.push_new(Node::Dict(pairs), n)?;
            }
            0x91 => {
                let items = self.pop_mark()?;
                let n = items.len() * 4;
                self.push_new(Node::Set(items), n)?;
            }
            b'a' => {
                let item = self.pop()?;
                let target = self.top()?;
                self.extend_list(target, vec![item])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.extend_list(target, items)?;
            }
            b's' => {
                let value = self.pop()?;
                let key = self.pop()?;
                let target = self.top()?;
                self.extend_dict(target, vec![(key, value)])?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                let pairs = self.pairs(items)?;
                let target = self.top()?;
                self.extend_dict(target, pairs)?;
            }
            0x90 => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.arena.charge(items.len() * 4, self.at)?;
                match self.arena.get_mut(target) {
                    Some(Node::Set(set)) => set.extend(items),
                    _ => return self.malformed("ADDITEMS on something that is not a set"),
                }
            }
            // The memo.
            b'q' => {
                let i = self.byte("BINPUT")?;
                self.memo_put(u32::from(i))?;
            }
            b'r' => {
                let i = self.le_u32("LONG_BINPUT")?;
                self.memo_put(i)?;
            }
            0x94 => {
                let i = u32::try_from(self.memo.len()).unwrap_or(u32::MAX);
                self.memo_put(i)?;
            }
            b'p' => {
                let line = self.line("PUT")?;
                match line.parse::<u32>() {
                    Ok(i) => self.memo_put(i)?,
                    Err(_) => {
                        return self.malformed(format!("PUT {} is not an index", quoted(line)));
                    }
                }
            }
            b'h' => {
                let i = self.byte("BINGET")?;
                self.memo_get(u32::from(i))?;
            }
            b'j' => {
                let i = self.le_u32("LONG_BINGET")?;
                self.memo_get(i)?;
            }
            b'g' => {
                let line = self.line("GET")?;
                match line.parse::<u32>() {
                    Ok(i) => self.memo_get(i)?,
                    Err(_) => {
                        return self.malformed(format!("GET {} is not an index", quoted(line)));
                    }
                }
            }
            // Globals and objects.
            b'c' => {
                let module = self.line("the GLOBAL module name")?;
                let name = self.line("the GLOBAL name")?;
                self.global(module, name)?;
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Node::Str(module), Node::Str(name)) =
                    (self.arena.get(module), self.arena.get(name))
                else {
                    return self.malformed("STACK_GLOBAL needs two strings");
                };
                let (module, name) = (module.clone(), name.clone());
                self.global(&module, &name)?;
            }
            b'i' => {
                // INST: an old-style call `module.name(*args)`.
                let module = self.line("the INST module name")?;
                let name = self.line("the INST name")?;
                let class = self.check_global(module, name)?;
                let args = self.pop_mark()?;
                self.make_object(class, args, None)?;
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return self.malformed("OBJ needs a class");
                }
                let class = items.remove(0);
                let class = self.class_of(class, "OBJ")?;
                self.make_object(class, items, None)?;
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.reduce(callable, args)?;
            }
            0x81 => {
                let args = self.pop()?;
                let class = self.pop()?;
                let class = self.class_of(class, "NEWOBJ")?;
                let args = self.tuple_items(args, "NEWOBJ")?;
                self.make_object(class, args, None)?;
            }
            0x92 => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let class = self.pop()?;
                let class = self.class_of(class, "NEWOBJ_EX")?;
                let args = self.tuple_items(args, "NEWOBJ_EX")?;
                self.make_object(class, args, Some(kwargs))?;
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?;
                self.build(target, state)?;
            }
            b'P' | b'Q' => {
                return Err(PickleError::Unsupported {
                    what: "a persistent id (PERSID/BINPERSID)".into(),
                    offset: self.at,
                    hint: "it refers to an object outside the file; save the model with plain pickle.dump or joblib.dump",
                });
            }
            0x82..=0x84 => {
                return Err(PickleError::Unsupported {
                    what: "an extension code (EXT1/EXT2/EXT4)".into(),
                    offset: self.at,
                    hint: "extension codes name globals through a registry lifeboat does not have; save without copyreg.add_extension",
                });
            }
            0x97 | 0x98 => {
                return Err(PickleError::Unsupported {
                    what: "an out-of-band buffer (NEXT_BUFFER/READONLY_BUFFER)".into(),
                    offset: self.at,
                    hint: "the array data is not in the file; save with pickle.dump(obj, f, protocol=5) without buffer_callback",
                });
            }
            _ => {
                return Err(PickleError::UnknownOpcode {
                    opcode: op,
                    offset: self.at,
                });
            }
        }
        Ok(())
    }

    fn pairs(&self, items: Vec<NodeId>) -> R<Vec<(NodeId, NodeId)>> {
        if !items.len().is_multiple_of(2) {
            return self.malformed("a dict needs key/value pairs but got an odd number of items");
        }
        Ok(items.chunks_exact(2).map(|p| (p[0], p[1])).collect())
    }

    fn extend_list(&mut self, target: NodeId, items: Vec<NodeId>) -> R<()> {
        self.arena.charge(items.len() * 4, self.at)?;
        match self.arena.get_mut(target) {
            Some(Node::List(list)) => list.extend(items),
            Some(Node::Object(obj)) => obj.list_items.extend(items),
            _ => return self.malformed("APPEND on something that is not a list"),
        }
        Ok(())
    }

    fn extend_dict(&mut self, target: NodeId, pairs: Vec<(NodeId, NodeId)>) -> R<()> {
        self.arena.charge(pairs.len() * 8, self.at)?;
        // Keys that are strings replace an earlier equal key, as in a dict.
        let key_texts: Vec<Option<String>> = pairs
            .iter()
            .map(|(k, _)| match self.arena.get(*k) {
                Node::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let existing: Vec<Option<String>> = match self.arena.get(target) {
            Node::Dict(d) => d
                .iter()
                .map(|(k, _)| match self.arena.get(*k) {
                    Node::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        match self.arena.get_mut(target) {
            Some(Node::Dict(dict)) => {
                let mut existing = existing;
                for ((k, v), text) in pairs.into_iter().zip(key_texts) {
                    let same = text
                        .as_ref()
                        .and_then(|t| existing.iter().position(|e| e.as_ref() == Some(t)));
                    match same {
                        Some(i) => {
                            if let Some(slot) = dict.get_mut(i) {
                                *slot = (k, v);
                            }
                        }
                        None => {
                            dict.push((k, v));
                            existing.push(text);
                        }
                    }
                }
            }
            Some(Node::Object(obj)) => obj.dict_items.extend(pairs),
            _ => return self.malformed("SETITEM on something that is not a dict"),
        }
        Ok(())
    }

    fn class_of(&self, id: NodeId, opcode: &str) -> R<Global> {
        match self.arena.get(id) {
            Node::Global(g) => Ok(g.clone()),
            other => self.malformed(format!("{opcode} needs a class but got {}", other.kind())),
        }
    }

    fn tuple_items(&self, id: NodeId, opcode: &str) -> R<Vec<NodeId>> {
        match self.arena.get(id) {
            Node::Tuple(items) => Ok(items.clone()),
            other => self.malformed(format!(
                "{opcode} needs a tuple of arguments but got {}",
                other.kind()
            )),
        }
    }

    fn make_object(&mut self, class: Global, args: Vec<NodeId>, kwargs: Option<NodeId>) -> R<()> {
        let payload = args.len() * 4 + class.module.len() + class.name.len();
        let object = Object {
            class,
            args,
            kwargs,
            state: None,
            list_items: Vec::new(),
            dict_items: Vec::new(),
            offset: self.at,
        };
        self.push_new(Node::Object(Box::new(object)), payload)
    }
}

/// A Python int from little-endian two's complement bytes (LONG1/LONG4).
fn long_from_bytes(bytes: &[u8]) -> Node {
    if bytes.is_empty() {
        return Node::Int(0);
    }
    if bytes.len() <= 8 {
        let negative = bytes[bytes.len() - 1] & 0x80 != 0;
        let mut buf = if negative { [0xFF; 8] } else { [0; 8] };
        buf[..bytes.len()].copy_from_slice(bytes);
        Node::Int(i64::from_le_bytes(buf))
    } else {
        Node::BigInt(bytes.to_vec())
    }
}
