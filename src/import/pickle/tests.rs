//! Unit tests of the reader on hand-written opcode streams and on the
//! committed scikit-learn fixtures.

use super::*;
use crate::import::joblib::{Container, unpack};

fn load_default(bytes: &[u8]) -> Result<Pickle, PickleError> {
    load(bytes, Limits::default())
}

#[test]
fn reads_plain_values() {
    // protocol 4: {'a': [1, 2.5, 'x', None, True], 'b': (300, -1)}
    let bytes = b"\x80\x04}\x94(\x8c\x01a\x94](K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94N\x88e\x8c\x01b\x94M,\x01J\xff\xff\xff\xff\x86\x94u.";
    let p = load_default(bytes).unwrap();
    let a = p.dict_get(p.root, "a").unwrap();
    let items = p.items(a).unwrap();
    assert_eq!(p.node(items[0]), &Node::Int(1));
    assert_eq!(p.node(items[1]), &Node::Float(2.5));
    assert_eq!(p.str(items[2]), Some("x"));
    assert_eq!(p.node(items[3]), &Node::None);
    assert_eq!(p.node(items[4]), &Node::Bool(true));
    let b = p.items(p.dict_get(p.root, "b").unwrap()).unwrap().to_vec();
    assert_eq!(p.node(b[0]), &Node::Int(300));
    assert_eq!(p.node(b[1]), &Node::Int(-1));
}

#[test]
fn forbidden_globals_name_the_global_and_offset() {
    let bytes = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.";
    let e = load_default(bytes).unwrap_err();
    assert!(
        matches!(&e, PickleError::Forbidden { module, name, offset: 2, .. } if module == "posix" && name == "system"),
        "{e}"
    );
    assert!(e.to_string().contains("`posix.system` (at byte 2)"), "{e}");
    let stack_global = b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.";
    let e = load_default(stack_global).unwrap_err();
    assert!(e.to_string().contains("builtins.eval"), "{e}");
    assert_eq!(e.offset(), 18);
}

#[test]
fn out_of_band_buffers_persistent_ids_and_extensions_are_refused() {
    for (bytes, what) in [
        (&b"\x80\x05\x97."[..], "out-of-band"),
        (&b"\x80\x04N\x51."[..], "persistent id"),
        (&b"\x80\x04\x82\x01."[..], "extension code"),
        (&b"\x80\x07N."[..], "protocol 7"),
    ] {
        let e = load_default(bytes).unwrap_err();
        assert!(e.to_string().contains(what), "{e}");
    }
}

#[test]
fn limits_are_enforced() {
    let deep: Vec<u8> = std::iter::once(0x80)
        .chain(std::iter::once(4))
        .chain(std::iter::repeat_n(b'(', 1000))
        .collect();
    let e = load_default(&deep).unwrap_err();
    assert!(
        matches!(
            e,
            PickleError::Limit {
                what: "nesting depth",
                ..
            }
        ),
        "{e}"
    );

    // A 4 GiB string length in an 11-byte file: refused before allocating.
    let e = load_default(b"\x80\x04\x8d\xff\xff\xff\xff\x00\x00\x00\x00").unwrap_err();
    assert!(matches!(e, PickleError::Limit { .. }), "{e}");
    // A 255-byte string in a 5-byte file.
    let e = load_default(b"\x80\x04\x8c\xffab").unwrap_err();
    assert!(matches!(e, PickleError::Truncated { offset: 2, .. }), "{e}");
    let tight = Limits {
        max_value_bytes: 4,
        ..Limits::default()
    };
    let e = load(b"\x80\x04\x8c\x05hello.", tight).unwrap_err();
    assert!(matches!(e, PickleError::Limit { .. }), "{e}");

    // Many empty lists: memory is counted per value.
    let mut many = vec![0x80, 4, b'('];
    many.extend(std::iter::repeat_n(b']', 100_000));
    many.extend(b"l.");
    let small = Limits {
        max_alloc_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = load(&many, small).unwrap_err();
    assert!(
        matches!(
            e,
            PickleError::Limit {
                what: "memory for decoded values",
                ..
            }
        ),
        "{e}"
    );
    load(&many, Limits::default()).unwrap();

    // DUP makes no value but grows the stack: it is charged too.
    let mut dups = vec![0x80, 4, b'N'];
    dups.extend(std::iter::repeat_n(b'2', 400_000));
    dups.push(b'.');
    let e = load(&dups, small).unwrap_err();
    assert!(matches!(e, PickleError::Limit { .. }), "{e}");
}

#[test]
fn text_from_the_file_is_quoted_as_json_writes_it() {
    // A line of a text opcode echoed in a message: a bidirectional override
    // or a control character stays escaped, as `\u202e`, not Rust's `\u{202e}`.
    for (bytes, want) in [
        (
            "I1\u{202e}2\u{7}\n.",
            r#"INT "1\u202e2\u0007" is not an integer"#,
        ),
        ("F2.5\u{202e}\n.", r#"FLOAT "2.5\u202e" is not a number"#),
    ] {
        let e = load_default(bytes.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
        assert!(!e.contains("\\u{") && !e.contains('\u{202e}'), "{e}");
    }
}

#[test]
fn a_forbidden_global_with_hidden_characters_is_shown_escaped() {
    // A hostile file's global name is shown, but a bidirectional override
    // in it cannot turn the message around.
    let mut raw = b"\x80\x02c".to_vec();
    raw.extend_from_slice("os\u{202e}\nsystem\n.".as_bytes());
    let e = load_default(&raw).unwrap_err();
    assert!(matches!(e, PickleError::Forbidden { .. }), "{e}");
    let e = e.to_string();
    assert!(e.contains(r#"`"os\u202e.system"`"#), "{e}");
    assert!(!e.contains('\u{202e}'), "{e}");
}

#[test]
fn malformed_streams_are_errors() {
    for bytes in [
        &b""[..],
        b"\x80\x04",
        b"\x80\x04.",
        b"\x80\x04h\x05.",
        b"\x80\x04(.",
        b"\x80\x04Na.",
        b"\x80\x04N\x8c\x01aN\x8c\x01bs.",
        b"\x80\x04\xff",
        b"\x80\x04K\x01)R.",
    ] {
        assert!(load_default(bytes).is_err(), "{bytes:?}");
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sklearn")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_fixture(name: &str) -> Pickle {
    let bytes = fixture(name);
    let container = Container::detect(&bytes).unwrap();
    let stream = unpack(&bytes, container, 1 << 30).unwrap();
    load_default(&stream).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The tree nodes of the first estimator, found by walking to `tree_`.
fn tree_nodes(p: &Pickle, estimator: NodeId) -> &numpy::Array {
    let Node::Object(obj) = p.node(estimator) else {
        panic!("not an object")
    };
    let tree = p.dict_get(obj.state.unwrap(), "tree_").unwrap();
    let Node::Object(tree) = p.node(tree) else {
        panic!("no tree")
    };
    let nodes = p.dict_get(tree.state.unwrap(), "nodes").unwrap();
    let Node::Array(a) = p.node(nodes) else {
        panic!("nodes is {:?}", p.node(nodes))
    };
    a
}

#[test]
fn tree_records_read_alike_in_every_protocol_and_container() {
    let mut seen = Vec::new();
    for name in [
        "dtc_binary_array.p2.pkl",
        "dtc_binary_array.p4.pkl",
        "dtc_binary_array.p5.pkl",
        "dtc_binary_array.joblib",
        "dtc_binary_array.zlib.joblib",
    ] {
        let p = load_fixture(name);
        let nodes = tree_nodes(&p, p.root);
        assert_eq!(nodes.dtype.itemsize, 64, "{name}");
        let left = nodes.field_i64("left_child").unwrap();
        let threshold = nodes.field_f64("threshold").unwrap();
        let missing = nodes.field_f64("missing_go_to_left").unwrap();
        assert_eq!(left[0], 1, "{name}: children follow their parent");
        seen.push((left, threshold, missing));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn every_fixture_decodes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".pkl") || name.ends_with(".joblib") {
            let p = load_fixture(&name);
            assert!(matches!(p.node(p.root), Node::Object(_)), "{name}");
            n += 1;
        }
    }
    assert!(n > 100);
}
