//! Fuzz target: any bytes through the span-keeping YAML reader that every importer
//! and `slipway check` share. It must never panic; every node's span must lie inside
//! the text on character boundaries (also after the flow-indentation relaxation
//! re-indented it); merge keys (`<<`) are applied, so none is left in a mapping;
//! reading twice gives the same tree. Seeds cover anchors, merge keys and flow
//! collections closed at their key's indentation (`seed-merge-*`, `seed-flow-*`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_diagnostics::SourceFile;
use slipway_import::yaml::{parse, Budget, Node, Value};

fn walk(n: &Node, text: &str, depth: usize) {
    assert!(n.span.start <= n.span.end && n.span.end <= text.len(), "{:?} outside {} bytes", n.span, text.len());
    assert!(text.is_char_boundary(n.span.start) && text.is_char_boundary(n.span.end));
    assert!(depth < 10_000);
    match &n.value {
        Value::Seq(items) => items.iter().for_each(|i| walk(i, text, depth + 1)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            assert!(
                !matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<"),
                "merge key left unapplied at {:?}",
                k.span
            );
            walk(k, text, depth + 1);
            walk(v, text, depth + 1);
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("fuzz.yaml", text);
    let first = parse(&file, Budget::default());
    match &first {
        Ok(docs) => docs.iter().for_each(|d| walk(d, text, 0)),
        Err(d) => {
            if let Some(s) = d.span {
                assert!(s.start <= s.end && s.end <= text.len());
            }
        }
    }
    let again = parse(&file, Budget::default());
    assert_eq!(first.is_ok(), again.is_ok());
    if let (Ok(a), Ok(b)) = (&first, &again) {
        assert_eq!(a, b);
    }
});
