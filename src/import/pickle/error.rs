//! Why a pickle could not be read. Every variant carries the byte offset of
//! the opcode at fault, so a report can point into the file.

/// A pickle that lifeboat will not read, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickleError {
    #[error(
        "the file names the Python global `{}` (at byte {offset}), which lifeboat does not allow: loading this file with Python would import or run it. Nothing was run. lifeboat reads only {allowed}; if this is a model you trust, re-save it with only supported scikit-learn objects",
        crate::quote::name(&format!("{}.{}", .module, .name))
    )]
    Forbidden {
        module: String,
        name: String,
        offset: u64,
        allowed: &'static str,
    },
    #[error("the pickle ends early at byte {offset} (truncated file?): {what} needs more bytes")]
    Truncated { offset: u64, what: &'static str },
    #[error(
        "byte {offset} holds 0x{opcode:02x}, which is not a pickle opcode; the file is damaged or not a pickle"
    )]
    UnknownOpcode { opcode: u8, offset: u64 },
    #[error("{what} (at byte {offset}) is not supported: {hint}")]
    Unsupported {
        what: String,
        offset: u64,
        hint: &'static str,
    },
    #[error("the pickle is malformed at byte {offset}: {why}")]
    Malformed { offset: u64, why: String },
    #[error(
        "the pickle exceeds the limit on {what} ({limit}) at byte {offset}; it is refused to protect memory"
    )]
    Limit {
        what: &'static str,
        limit: usize,
        offset: u64,
    },
    #[error("a numpy value at byte {offset} cannot be read: {why}")]
    Numpy { offset: u64, why: String },
}

impl PickleError {
    /// The byte offset the error points at.
    pub fn offset(&self) -> u64 {
        match self {
            PickleError::Forbidden { offset, .. }
            | PickleError::Truncated { offset, .. }
            | PickleError::UnknownOpcode { offset, .. }
            | PickleError::Unsupported { offset, .. }
            | PickleError::Malformed { offset, .. }
            | PickleError::Limit { offset, .. }
            | PickleError::Numpy { offset, .. } => *offset,
        }
    }
}
