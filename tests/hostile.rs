//! Hostile and damaged files. Each fixture in `tests/fixtures/hostile/` runs
//! a payload when Python unpickles it (its generator,
//! `scripts/make_hostile_fixtures.py`, checks that the payload creates a
//! marker file). lifeboat must refuse each, naming the global and its byte
//! offset, and the marker must not appear. Truncated and bit-flipped copies
//! of every fixture must be refused cleanly, or (for a flip inside a number)
//! give a model that passes its own checks; random bytes never panic.

use std::path::{Path, PathBuf};

use lifeboat::import::pickle::PickleError;
use lifeboat::import::{ImportError, from_bytes};
use proptest::prelude::*;
use serde_json::Value;

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

#[test]
fn hostile_pickles_are_refused_and_nothing_runs() {
    let dir = fixtures("hostile");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let cases = index.as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let global = case["global"].as_str().unwrap();
        let marker = Path::new(case["marker"].as_str().unwrap());
        // A marker left by someone else would make the check below meaningless.
        let _ = std::fs::remove_file(marker);
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let err = from_bytes(&bytes, file, None).expect_err(file);
        match &err {
            ImportError::Pickle {
                source:
                    PickleError::Forbidden {
                        module,
                        name,
                        offset,
                        ..
                    },
                ..
            } => {
                assert_eq!(format!("{module}.{name}"), global, "{file}");
                assert!(
                    *offset > 0 || file.contains("opcode"),
                    "{file}: offset {offset}"
                );
            }
            other => panic!("{file}: expected a forbidden global, got: {other}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(global) && message.contains("at byte"),
            "{file}: {message}"
        );
        if file.ends_with(".zlib.joblib") {
            assert!(message.contains("zlib-decompressed contents"), "{message}");
        }
        assert!(
            !marker.exists(),
            "{file}: the payload ran: {} exists",
            marker.display()
        );
    }
}

#[test]
fn partial_is_refused_around_anything_but_check_array() {
    // functools.partial(numpy.dtype): partial is allowed only as
    // HistGradientBoosting writes it, around sklearn's check_array. The
    // error points at the REDUCE that would call it.
    let bytes = b"\x80\x04cfunctools\npartial\ncnumpy\ndtype\n\x85R.";
    let err = from_bytes(bytes, "p.pkl", None).unwrap_err().to_string();
    assert!(
        err.contains("functools.partial") && err.contains("at byte 35"),
        "{err}"
    );
}

/// Every fixture file, sklearn and hostile.
fn all_fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["sklearn", "hostile"] {
        for entry in std::fs::read_dir(fixtures(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path
                .extension()
                .is_some_and(|e| e == "pkl" || e == "joblib")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A small deterministic generator, so failures reproduce.
fn positions(seed: u64, len: usize, count: usize) -> Vec<usize> {
    let mut state = seed | 1;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % len as u64) as usize
        })
        .collect()
}

#[test]
fn truncated_copies_are_refused() {
    for path in all_fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut cuts: Vec<usize> = (0..bytes.len().min(24)).collect();
        cuts.extend(positions(bytes.len() as u64, bytes.len(), 12));
        for cut in cuts {
            let result = from_bytes(&bytes[..cut], &name, None);
            assert!(
                result.is_err(),
                "{name} cut at {cut} of {} was accepted",
                bytes.len()
            );
        }
    }
}

#[test]
fn bit_flipped_copies_are_refused_or_still_consistent() {
    let mut refused = 0;
    let mut accepted = 0;
    for path in all_fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (k, at) in positions(7 + bytes.len() as u64, bytes.len(), 12)
            .into_iter()
            .enumerate()
        {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1 << (k % 8);
            match from_bytes(&damaged, &name, None) {
                Err(_) => refused += 1,
                // A flip inside a float or a name can leave a valid model;
                // import checked it (shapes and reference rows) already.
                Ok(model) => {
                    model.check().unwrap();
                    accepted += 1;
                }
            }
        }
    }
    assert!(
        refused > 0 && refused + accepted > 1000,
        "{refused} refused, {accepted} accepted"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = from_bytes(&bytes, "random.pkl", None);
    }

    #[test]
    fn random_opcode_streams_never_panic(body in proptest::collection::vec(
        prop_oneof![
            // Opcodes and small arguments, so streams get deeper than random bytes do.
            Just(b'('), Just(b')'), Just(b']'), Just(b'}'), Just(b't'), Just(b'l'), Just(b'd'),
            Just(b'a'), Just(b'e'), Just(b's'), Just(b'u'), Just(b'b'), Just(b'R'), Just(0x81u8),
            Just(0x85), Just(0x86), Just(0x87), Just(0x94), Just(b'h'), Just(b'q'), Just(b'N'),
            Just(b'K'), Just(b'2'), Just(b'0'), Just(b'1'), Just(0x8c), Just(0x93), Just(0x8f), Just(0x90),
            any::<u8>(),
        ],
        0..300,
    )) {
        let mut bytes = vec![0x80, 4];
        bytes.extend(body);
        bytes.push(b'.');
        let _ = from_bytes(&bytes, "random.pkl", None);
    }
}

#[test]
fn a_pipeline_that_contains_itself_is_refused() {
    // Pipeline(steps=[("p", <this pipeline>)]), built with the memo.
    let bytes = b"\x80\x04\x8c\x10sklearn.pipeline\x8c\x08Pipeline\x93)\x81\x94}\x8c\x05steps](\x8c\x01ph\x00\x86es\x62.";
    let err = from_bytes(bytes, "cycle.pkl", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nests more than 32 levels"), "{err}");
}
