//! joblib containers: a pickle stream, optionally compressed as a whole
//! (zlib is joblib's default for `compress=N`; gzip, bz2, xz and lzma on
//! request), with raw numpy payloads inline (read by `pickle`).
//!
//! This module only recognizes the container by its first bytes, as joblib's
//! `_detect_compressor` does, and decompresses it within a size limit.
//! Crates, all pure Rust: `flate2` on its default `miniz_oxide` backend (zlib,
//! gzip; the rust-lang maintained deflate crate), `bzip2` on its default
//! `libbz2-rs-sys` backend (a Rust port of libbzip2 by the Trifecta Tech
//! Foundation), and `lzma-rs` (xz and legacy .lzma streams; no C liblzma).

use std::io::Read;

/// How the bytes of a file are packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A plain pickle stream (also what an uncompressed `joblib.dump` writes).
    Plain,
    Zlib,
    Gzip,
    Bz2,
    Xz,
    Lzma,
    Lz4,
    /// joblib before 0.10 (`ZF` prefix): a different layout.
    OldJoblib,
}

impl Container {
    /// Recognizes the container from its first bytes (joblib's prefixes).
    pub fn detect(bytes: &[u8]) -> Option<Container> {
        let starts = |p: &[u8]| bytes.starts_with(p);
        Some(if starts(b"\x80") {
            Container::Plain
        } else if starts(b"ZF") {
            Container::OldJoblib
        } else if starts(b"\x78") {
            Container::Zlib
        } else if starts(b"\x1f\x8b") {
            Container::Gzip
        } else if starts(b"BZh") {
            Container::Bz2
        } else if starts(b"\xfd7zXZ\x00") {
            Container::Xz
        } else if starts(b"\x5d\x00\x00") {
            Container::Lzma
        } else if starts(b"\x04\x22\x4d\x18") {
            Container::Lz4
        } else {
            return None;
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Container::Plain => "plain",
            Container::Zlib => "zlib",
            Container::Gzip => "gzip",
            Container::Bz2 => "bz2",
            Container::Xz => "xz",
            Container::Lzma => "lzma",
            Container::Lz4 => "lz4",
            Container::OldJoblib => "joblib < 0.10",
        }
    }
}

/// Why a container could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(
        "the file is {0}-compressed, which lifeboat cannot read; re-save it with joblib.dump(model, path, compress=3) (zlib) or without compression"
    )]
    Unsupported(&'static str),
    #[error(
        "the file was written by joblib before 0.10, whose layout lifeboat does not read; load it in Python and save it again with a current joblib"
    )]
    OldJoblib,
    #[error("the {0} data is damaged and cannot be decompressed: {1}")]
    Damaged(&'static str, String),
    #[error("the {0} data decompresses to more than {1} bytes; it is refused to protect memory")]
    TooLarge(&'static str, usize),
}

/// The pickle stream inside `bytes`, decompressed if the container is compressed.
pub fn unpack(bytes: &[u8], container: Container, max: usize) -> Result<Vec<u8>, ContainerError> {
    let name = container.name();
    let mut out = Vec::new();
    let limit = max as u64 + 1;
    let result = match container {
        Container::Plain => {
            out.extend_from_slice(bytes);
            Ok(())
        }
        Container::Zlib => flate2::read::ZlibDecoder::new(bytes)
            .take(limit)
            .read_to_end(&mut out)
            .map(drop),
        Container::Gzip => flate2::read::MultiGzDecoder::new(bytes)
            .take(limit)
            .read_to_end(&mut out)
            .map(drop),
        Container::Bz2 => bzip2::read::MultiBzDecoder::new(bytes)
            .take(limit)
            .read_to_end(&mut out)
            .map(drop),
        Container::Xz | Container::Lzma => {
            let mut input = std::io::BufReader::new(bytes);
            let mut sink = LimitedWriter { out: &mut out, max };
            let r = if container == Container::Xz {
                lzma_rs::xz_decompress(&mut input, &mut sink)
            } else {
                lzma_rs::lzma_decompress(&mut input, &mut sink)
            };
            r.map_err(|e| std::io::Error::other(e.to_string()))
        }
        Container::Lz4 => return Err(ContainerError::Unsupported("lz4")),
        Container::OldJoblib => return Err(ContainerError::OldJoblib),
    };
    if out.len() > max {
        return Err(ContainerError::TooLarge(name, max));
    }
    result.map_err(|e| ContainerError::Damaged(name, e.to_string()))?;
    Ok(out)
}

/// A writer that refuses to grow past `max` bytes (lzma-rs writes to a sink).
struct LimitedWriter<'a> {
    out: &'a mut Vec<u8>,
    max: usize,
}

impl std::io::Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.max {
            // Keep one byte past the limit so the caller reports "too large".
            self.out.push(0);
            self.out.resize(self.max + 1, 0);
            return Err(std::io::Error::other("decompressed size limit reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_and_inflates_zlib_within_the_limit() {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[0x80; 10_000]).unwrap();
        let packed = enc.finish().unwrap();
        assert_eq!(Container::detect(&packed), Some(Container::Zlib));
        assert_eq!(
            unpack(&packed, Container::Zlib, 20_000).unwrap().len(),
            10_000
        );
        assert!(matches!(
            unpack(&packed, Container::Zlib, 100),
            Err(ContainerError::TooLarge("zlib", 100))
        ));
        assert!(matches!(
            unpack(&packed[..packed.len() / 2], Container::Zlib, 20_000),
            Err(ContainerError::Damaged(..))
        ));
    }

    #[test]
    fn unsupported_containers_say_how_to_resave() {
        let e = unpack(b"\x04\x22\x4d\x18", Container::Lz4, 10).unwrap_err();
        assert!(e.to_string().contains("compress=3"), "{e}");
        assert_eq!(Container::detect(b"hello"), None);
    }
}
