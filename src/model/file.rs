//! The `.lifeboat` model file: one self-checking file per model.
//!
//! ```text
//! offset  size  content
//! 0       8     magic "LIFEBOAT"
//! 8       2     format version, little-endian (this build reads version 1)
//! 10      2     reserved, zero
//! 12      8     payload length N, little-endian
//! 20      N     payload: the Model, encoded with postcard (plain data, no code)
//! 20+N    32    SHA-256 of bytes 0..20+N
//! ```
//!
//! Loading checks, in order: magic, version, length, checksum, decoding, the
//! shapes of every part, and finally the reference rows. Decoding is a pure
//! data format: nothing in a file can make lifeboat run code.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use super::{Model, ModelError};

pub const MAGIC: &[u8; 8] = b"LIFEBOAT";
pub const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 20;
const CHECKSUM_LEN: usize = 32;
/// Larger files are refused before they are read into memory.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Why a model file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("could not read the model file: {0}")]
    Io(std::io::Error),
    #[error("this is not a lifeboat model file (it starts with {found}){}", hint.map(|h| format!("; {h}")).unwrap_or_default())]
    NotAModel {
        found: String,
        hint: Option<&'static str>,
    },
    #[error(
        "this model file has format version {found}, but this lifeboat reads version {FORMAT_VERSION}; {}",
        if *.found > FORMAT_VERSION { "upgrade lifeboat to load it" } else { "retrain or convert the model with this lifeboat" }
    )]
    UnsupportedVersion { found: u16 },
    #[error(
        "the model file is truncated: it should be {expected} bytes but is {found}; copy or download it again"
    )]
    Truncated { expected: u64, found: u64 },
    /// Cut off inside the header, before the length it records.
    #[error(
        "the model file is truncated: it ends after {0} bytes, inside its {HEADER_LEN}-byte header; copy or download it again"
    )]
    TruncatedHeader(u64),
    #[error(
        "the model file has {0} unexpected bytes after its end; it was damaged or concatenated"
    )]
    TrailingBytes(u64),
    #[error(
        "the model file is larger than {MAX_FILE_BYTES} bytes; it is refused to protect memory"
    )]
    TooLarge,
    #[error("the model file's checksum does not match its contents; the file is damaged")]
    Checksum,
    #[error("the model file's contents cannot be decoded ({0}); the file is damaged")]
    Decode(String),
    #[error("the model in the file is not consistent: {0}")]
    Invalid(ModelError),
    /// A sound file this build cannot run (an ONNX model without the `onnx` feature).
    #[error("{0}")]
    Unsupported(String),
}

// By hand rather than `#[from]`, which would also make it the error's source:
// the message already includes it, and `{:#}` would print it twice.
impl From<ModelError> for LoadError {
    fn from(e: ModelError) -> Self {
        LoadError::Invalid(e)
    }
}

impl From<std::io::Error> for LoadError {
    fn from(e: std::io::Error) -> Self {
        LoadError::Io(e)
    }
}

/// A loaded model and the digest of the file it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub model: Model,
    /// SHA-256 of the whole file, as hex: a version that changes with any change.
    pub sha256: String,
}

impl Loaded {
    /// A short version label: the first 12 hex digits of the file's digest.
    pub fn version(&self) -> &str {
        &self.sha256[..12]
    }
}

/// Encodes a model as a complete file.
pub fn to_bytes(model: &Model) -> Vec<u8> {
    // Encoding plain data into a Vec cannot fail.
    let payload = postcard::to_stdvec(model).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + CHECKSUM_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

pub fn write(model: &Model, mut to: impl Write) -> std::io::Result<()> {
    to.write_all(&to_bytes(model))?;
    to.flush()
}

/// Reads and checks a model file.
pub fn read(from: impl Read) -> Result<Loaded, LoadError> {
    let mut bytes = Vec::new();
    from.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge);
    }
    from_bytes(&bytes)
}

/// Decodes and checks a model file held in memory.
pub fn from_bytes(bytes: &[u8]) -> Result<Loaded, LoadError> {
    let payload = checked_payload(bytes)?;
    let model: Model =
        postcard::from_bytes(payload).map_err(|e| LoadError::Decode(e.to_string()))?;
    model.check().map_err(|e| match e {
        ModelError::Unsupported(why) => LoadError::Unsupported(why),
        e => LoadError::Invalid(e),
    })?;
    Ok(Loaded {
        model,
        sha256: hex(&Sha256::digest(bytes)),
    })
}

fn checked_payload(bytes: &[u8]) -> Result<&[u8], LoadError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(not_a_model(bytes));
    }
    if bytes.len() < HEADER_LEN {
        return Err(LoadError::TruncatedHeader(bytes.len() as u64));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(LoadError::UnsupportedVersion { found: version });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[12..20]);
    let payload_len = u64::from_le_bytes(len);
    let expected = (HEADER_LEN as u64 + CHECKSUM_LEN as u64).saturating_add(payload_len);
    let found = bytes.len() as u64;
    if found < expected {
        return Err(LoadError::Truncated { expected, found });
    }
    if found > expected {
        return Err(LoadError::TrailingBytes(found - expected));
    }
    let end = HEADER_LEN + payload_len as usize;
    if Sha256::digest(&bytes[..end]).as_slice() != &bytes[end..] {
        return Err(LoadError::Checksum);
    }
    Ok(&bytes[HEADER_LEN..end])
}

/// Names what a file looks like when it is not ours, so the error can say what to do.
fn not_a_model(bytes: &[u8]) -> LoadError {
    let head = &bytes[..bytes.len().min(8)];
    let found = if head.is_empty() {
        "nothing: the file is empty".to_string()
    } else {
        head.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let hint = match head {
        [0x80, 2..=5, ..] => Some(
            "it looks like a Python pickle: load it with a .pkl or .pickle name, or convert it with `lifeboat convert`",
        ),
        [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..]
        | [0x1f, 0x8b, ..]
        | [0x28, 0xb5, 0x2f, 0xfd, ..]
        | [0xfd, b'7', b'z', b'X', b'Z', ..] => {
            Some("it looks like a compressed joblib file: load it with a .joblib name")
        }
        [0x08, ..] => Some(
            "it may be an ONNX model: load it with --model or convert it with `lifeboat convert`",
        ),
        _ => None,
    };
    LoadError::NotAModel { found, hint }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::tiny_model;

    fn good() -> Vec<u8> {
        to_bytes(&tiny_model())
    }

    #[test]
    fn round_trip_is_byte_identical() {
        let loaded = from_bytes(&good()).unwrap();
        assert_eq!(to_bytes(&loaded.model), good());
    }

    #[test]
    fn wrong_magic() {
        let err = from_bytes(b"\x80\x04\x95 pickle...").unwrap_err();
        assert!(
            err.to_string().contains("looks like a Python pickle"),
            "{err}"
        );
        let err = from_bytes(b"").unwrap_err();
        assert!(err.to_string().contains("the file is empty"), "{err}");
    }

    #[test]
    fn unknown_version() {
        let mut b = good();
        b[8] = 9;
        let err = from_bytes(&b).unwrap_err();
        assert!(matches!(err, LoadError::UnsupportedVersion { found: 9 }));
        assert!(err.to_string().contains("upgrade lifeboat"));
    }

    #[test]
    fn every_truncation_is_rejected_cleanly() {
        let b = good();
        for len in (0..b.len()).step_by(97).chain([b.len() - 1, 19, 20, 21]) {
            let err = from_bytes(&b[..len]).unwrap_err();
            assert!(
                matches!(
                    err,
                    LoadError::Truncated { .. }
                        | LoadError::TruncatedHeader(_)
                        | LoadError::NotAModel { .. }
                ),
                "{len}: {err}"
            );
        }
        let mut long = good();
        long.push(0);
        assert!(matches!(
            from_bytes(&long),
            Err(LoadError::TrailingBytes(1))
        ));
    }

    #[test]
    fn flipped_bits_fail_the_checksum() {
        let b = good();
        for i in (20..b.len()).step_by(131) {
            let mut c = b.clone();
            c[i] ^= 0x10;
            assert!(
                matches!(from_bytes(&c), Err(LoadError::Checksum)),
                "byte {i}"
            );
        }
    }

    /// A file with a valid checksum but inconsistent parts (as a buggy writer
    /// could make) is caught by the shape checks, not by a panic.
    #[test]
    fn inconsistent_shapes_are_rejected() {
        let mut model = from_bytes(&good()).unwrap().model;
        model.preprocessor.columns.pop();
        let err = from_bytes(&to_bytes(&model)).unwrap_err();
        assert!(err.to_string().contains("not consistent"), "{err}");
    }

    #[test]
    fn a_changed_answer_fails_the_reference_rows() {
        let mut model = from_bytes(&good()).unwrap().model;
        match &mut model.estimator {
            crate::model::Estimator::Linear(m) => m.intercepts[0] += 0.5,
            crate::model::Estimator::Trees(t) => t.base_score[0] += 0.5,
            crate::model::Estimator::Onnx(_) => panic!("the tiny model is linear"),
        }
        let err = from_bytes(&to_bytes(&model)).unwrap_err();
        assert!(err.to_string().contains("reference row 0"), "{err}");
    }

    /// Re-signs a modified payload, as a buggy or hostile writer could.
    fn resign(payload: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        b.extend_from_slice(payload);
        let d = Sha256::digest(&b);
        b.extend_from_slice(&d);
        b
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any corruption of the payload that keeps a valid checksum is either
        /// caught by decoding and the checks, or still a consistent model: never a panic.
        #[test]
        fn corrupted_payloads_never_panic(
            tree_model: bool,
            edits in proptest::collection::vec((0usize..1_000_000, proptest::prelude::any::<u8>()), 1..6)
        ) {
            // A linear model and the built-in gradient boosting model.
            let good = if tree_model { crate::builtin::BUILTINS[2].1.to_vec() } else { good() };
            let mut payload = good[HEADER_LEN..good.len() - CHECKSUM_LEN].to_vec();
            for (at, byte) in edits {
                let i = at % payload.len();
                payload[i] = byte;
            }
            let _ = from_bytes(&resign(&payload));
        }
    }

    #[test]
    fn garbage_payload_with_a_good_checksum_is_a_decode_error() {
        let payload = vec![0xffu8; 64];
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        b.extend_from_slice(&payload);
        let d = Sha256::digest(&b);
        b.extend_from_slice(&d);
        assert!(matches!(from_bytes(&b), Err(LoadError::Decode(_))));
    }
}
