//! ONNX files to a [`Model`] whose estimator is the graph itself
//! ([`OnnxEstimator`], run by tract under the cargo feature `onnx`).
//!
//! What the importer works out from the graph:
//! - the answer: the tensor before `ZipMap` (or the one float output), and the
//!   classes from the classifier's `classlabels_*` attributes (none: a regressor);
//! - the schema, one field per input column: a single `[n, k]` float tensor
//!   gives fields `x0 .. x{k-1}`; named `[n, 1]` inputs give fields of those
//!   names; string inputs become category fields whose values are the
//!   categories of the `OneHotEncoder`/`LabelEncoder` nodes that read them
//!   (open when those encoders ignore unknown values), and which may be missing
//!   when a string imputer reads them (its marker, usually "", stands for
//!   missing); an integer input that only an erroring `OneHotEncoder` reads is
//!   a closed category field of its values;
//! - which numeric fields may be missing: those whose NaN reaches only
//!   Imputers and tree ensembles (followed through the routing operators),
//!   and for which the graph then gives a finite answer (tried once);
//! - the explanation baseline ([`crate::model::onnx::default_baseline`]).
//!
//! A user's schema (`--schema`) may rename (by position for a bare tensor,
//! else by name), label, add ranges and present numeric codes as categories;
//! every mismatch with the graph is named. The graph is built and the
//! reference rows are run here, so an unsupported operator or a graph that
//! does not compute stops the import, not a later request.
//!
//! Files: [`convert`] (the whole import, feature `onnx`), `encoders` (what
//! the graph's encoders say about each input), `user_schema` (a user's
//! `--schema` against the graph). Detection works in every build.

#[cfg(feature = "onnx")]
mod convert;
#[cfg(feature = "onnx")]
mod encoders;
#[cfg(feature = "onnx")]
mod user_schema;

use crate::model::{Model, ModelError};
use crate::schema::Schema;

/// Why an ONNX file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum OnnxImportError {
    #[error("{}", crate::model::onnx::NO_ONNX)]
    NotBuilt,
    #[cfg(feature = "onnx")]
    #[error(transparent)]
    Engine(#[from] crate::onnx::OnnxError),
    #[error("{0}")]
    Graph(String),
    #[error("the given schema does not fit the graph: {0}")]
    Schema(String),
    #[error("the converted model is not consistent: {0}")]
    Model(ModelError),
}

// By hand rather than `#[from]`, which would also make it the error's source:
// the message already includes it, and `{:#}` would print it twice.
impl From<ModelError> for OnnxImportError {
    fn from(e: ModelError) -> Self {
        OnnxImportError::Model(e)
    }
}

/// Whether `bytes` look like a protobuf `ModelProto`: an `ir_version` varint
/// first (every ONNX writer puts it there), then well-formed fields that
/// ModelProto has. A pickle starts with 0x80 or a printable opcode, never 0x08.
pub fn looks_like_onnx(bytes: &[u8]) -> bool {
    let mut at = 0;
    let mut fields = 0;
    while at < bytes.len() && fields < 16 {
        let Some((key, next)) = varint(bytes, at) else {
            return false;
        };
        let (number, wire) = (key >> 3, key & 7);
        if fields == 0 && (number != 1 || wire != 0) {
            return false;
        }
        at = next;
        match (number, wire) {
            (1 | 5, 0) => {
                let Some((value, next)) = varint(bytes, at) else {
                    return false;
                };
                if number == 1 && !(1..=100).contains(&value) {
                    return false;
                }
                at = next;
            }
            (2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25, 2) => {
                let Some((len, next)) = varint(bytes, at) else {
                    return false;
                };
                let Some(end) = usize::try_from(len).ok().and_then(|l| next.checked_add(l)) else {
                    return false;
                };
                if end > bytes.len() {
                    // A truncated file still looks like ONNX; reading it says what is wrong.
                    return fields > 0;
                }
                at = end;
            }
            _ => return false,
        }
        fields += 1;
    }
    fields > 0
}

fn varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(at)?;
        at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

/// Where the file came from, for the report.
pub struct Source {
    pub file_name: String,
    pub file_sha256: String,
}

/// Converts an ONNX file.
#[cfg(feature = "onnx")]
pub fn import(
    bytes: &[u8],
    source: Source,
    user: Option<Schema>,
) -> Result<Model, OnnxImportError> {
    convert::import(bytes, source, user)
}

/// Converts an ONNX file: not in a build without the `onnx` feature. A file
/// only named .onnx is said to be something else, so nobody rebuilds for it.
#[cfg(not(feature = "onnx"))]
pub fn import(bytes: &[u8], _: Source, _: Option<Schema>) -> Result<Model, OnnxImportError> {
    if !looks_like_onnx(bytes) {
        return Err(OnnxImportError::Graph(
            "this is not an ONNX model: it does not start as an ONNX file (a protobuf ModelProto) does; \
             export the model again, e.g. with skl2onnx"
                .into(),
        ));
    }
    Err(OnnxImportError::NotBuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_tells_onnx_from_pickles() {
        // ir_version 8, producer "skl2onnx", then the graph field.
        let mut onnx = vec![0x08, 0x08, 0x12, 0x08];
        onnx.extend_from_slice(b"skl2onnx");
        onnx.extend_from_slice(&[0x3a, 0x02, 0x0a, 0x00]);
        assert!(looks_like_onnx(&onnx));
        // Truncated inside the graph: still ONNX (reading it says what is wrong).
        assert!(looks_like_onnx(&onnx[..onnx.len() - 1]));
        assert!(!looks_like_onnx(b"\x80\x04\x95\x08\x00"));
        assert!(!looks_like_onnx(b"(dp0\nS'a'\n"));
        assert!(!looks_like_onnx(b""));
        assert!(!looks_like_onnx(&[0x08, 0x00]));
        assert!(!looks_like_onnx(&[0x08, 0x08, 0x7a, 0x01]));
    }

    #[test]
    fn onnx_files_are_detected_by_content_and_by_name() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/onnx/pipe_lr.zipmap.onnx"
        ))
        .unwrap();
        assert_eq!(
            crate::import::detect(&bytes, "model.bin"),
            Some(crate::import::Format::Onnx)
        );
        assert_eq!(
            crate::import::detect(b"", "model.onnx"),
            Some(crate::import::Format::Onnx)
        );
    }

    #[cfg(not(feature = "onnx"))]
    #[test]
    fn without_the_feature_the_error_says_how_to_get_it() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/onnx/pipe_lr.zipmap.onnx"
        ))
        .unwrap();
        let err = crate::import::from_bytes(&bytes, "pipe_lr.zipmap.onnx", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--features onnx"), "{err}");
    }
}
