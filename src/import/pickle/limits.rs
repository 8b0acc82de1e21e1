//! Limits that keep a hostile pickle from exhausting the machine. Every
//! opcode consumes input and does work proportional to what it pops, so time
//! is bounded by the input size; these bound memory and nesting.

/// Resource limits for one load. The defaults fit models far larger than a
/// 500-tree forest while refusing files built to exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest pickle stream read (after decompression).
    pub max_input_bytes: usize,
    /// Bytes the decoded values may take in all (nodes, strings, array data).
    pub max_alloc_bytes: usize,
    /// The deepest nesting of `MARK`s (containers being built inside each other).
    pub max_depth: usize,
    /// The most memo entries.
    pub max_memo: usize,
    /// The longest single string, bytes object or big integer.
    pub max_value_bytes: usize,
    /// How deep joblib object arrays may nest pickles inside the pickle.
    pub max_nested_pickles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 1 << 30,
            max_alloc_bytes: 2 << 30,
            max_depth: 256,
            max_memo: 1 << 22,
            max_value_bytes: 1 << 30,
            max_nested_pickles: 8,
        }
    }
}
