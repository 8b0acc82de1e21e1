//! The whole import (container, pickle reader, scikit-learn mapping, model
//! checks) on arbitrary bytes: errors are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lifeboat::import::from_bytes(data, "fuzz.pkl", None);
});
