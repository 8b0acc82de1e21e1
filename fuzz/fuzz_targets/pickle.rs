//! The pickle reader on arbitrary bytes: it must return, never panic, and
//! stay within its limits (the small ones below make limit paths reachable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lifeboat::import::pickle::{Limits, load};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_alloc_bytes: 64 << 20,
        max_depth: 64,
        max_memo: 10_000,
        ..Limits::default()
    };
    let _ = load(data, limits);
});
