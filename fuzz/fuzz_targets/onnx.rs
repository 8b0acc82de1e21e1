//! The ONNX import (protobuf decoding, graph checks, our compatibility ops,
//! tract's parser and optimizer, the reference rows) on arbitrary bytes:
//! errors are fine, panics are not. Seed it with the fixtures:
//! `cargo fuzz run -s none onnx ../tests/fixtures/onnx`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lifeboat::import::from_bytes(data, "fuzz.onnx", None);
});
