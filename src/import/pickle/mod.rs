//! A pickle reader that never executes: bytes in, a faithful value tree out.
//!
//! Python's `pickle.load` runs whatever callables the file names; this reader
//! instead interprets the opcodes (protocols 2 to 5, plus joblib's inline
//! array payloads) into [`Pickle`] data. A global is only a `(module, name)`
//! pair, checked against [`allow`] the moment it is read; calls become inert
//! [`Object`]s. Memory, nesting and sizes are bounded by [`Limits`].
//!
//! Not for: knowing what a scikit-learn object means (`import::sklearn`), or
//! opening compressed joblib containers (`import::joblib`).

pub mod allow;
mod error;
mod limits;
mod machine;
pub mod numpy;
mod value;

pub use error::PickleError;
pub use limits::Limits;
pub use value::{Global, Node, NodeId, Object, Pickle};

/// Reads a pickle (or an uncompressed joblib stream) held in memory.
pub fn load(bytes: &[u8], limits: Limits) -> Result<Pickle, PickleError> {
    machine::load(bytes, limits)
}

#[cfg(test)]
mod tests;
