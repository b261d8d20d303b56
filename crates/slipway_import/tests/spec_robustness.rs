//! The spec reader on hostile input: the fuzz corpus replayed, and systematic
//! mutations of real specs (every truncation, and insertions of YAML syntax at every
//! position). None may panic, and every span must point inside the input.

use slipway_diagnostics::SourceFile;
use slipway_import::spec::parse_spec;
use std::path::PathBuf;

fn check(text: &str) {
    let outcome = parse_spec(&SourceFile::new("t.yaml", text));
    for d in outcome.diagnostics.iter() {
        if let Some(s) = d.span {
            assert!(
                s.start <= s.end && s.end <= text.len(),
                "{s:?} outside {} bytes: {text:?}",
                text.len()
            );
            assert!(
                text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                "{s:?} splits a character: {text:?}"
            );
        }
    }
    // Either a model or at least one error, never neither.
    assert!(
        outcome.app.is_some() || outcome.diagnostics.has_errors(),
        "{text:?}"
    );
}

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/spec_parser");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| String::from_utf8(std::fs::read(f).unwrap()).ok())
        .collect()
}

#[test]
fn fuzz_corpus_replays_without_panics() {
    let corpus = corpus();
    assert!(corpus.len() >= 10);
    for text in &corpus {
        check(text);
    }
}

#[test]
fn truncations_and_insertions_never_panic() {
    const INSERTS: &[&str] = &[
        ":", "- ", "{", "}", "[", "]", "\"", "'", "&a ", "*a", "\n  ", "é", "\t", "#", "? ", "|\n",
        "!!str ", "~",
    ];
    for text in corpus().iter().take(6) {
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for &i in &cuts {
            check(&text[..i]);
        }
        for &i in cuts.iter().step_by(3) {
            for ins in INSERTS {
                check(&format!("{}{ins}{}", &text[..i], &text[i..]));
            }
        }
    }
}

#[test]
fn deep_nesting_and_huge_inputs_are_refused_cleanly() {
    check(&"[".repeat(10_000));
    check(&format!(
        "name: x\nservices: {}{}\n",
        "{a: ".repeat(200),
        "}".repeat(200)
    ));
    let big = format!(
        "name: x\nservices:\n{}",
        "  s: { image: a/b:1 }\n".repeat(300_000)
    );
    let outcome = parse_spec(&SourceFile::new("big.yaml", big));
    assert!(outcome.diagnostics.iter().any(|d| d.rule_id == "SPEC014"));
}

fn corpus_of(target: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| String::from_utf8(std::fs::read(f).unwrap()).ok())
        .collect()
}

fn spans_inside(text: &str, diags: &slipway_diagnostics::Diagnostics) {
    for d in diags.iter() {
        if let Some(s) = d.span {
            assert!(
                s.start <= s.end
                    && s.end <= text.len()
                    && text.is_char_boundary(s.start)
                    && text.is_char_boundary(s.end),
                "{s:?}: {text:?}"
            );
        }
    }
}

#[test]
fn compose_and_score_fuzz_corpora_replay_without_panics() {
    use slipway_import::compose::{import_compose, ComposeOptions};
    use std::sync::Arc;
    let compose = corpus_of("compose_importer");
    assert!(compose.len() >= 40);
    for text in &compose {
        let files = vec![Arc::new(SourceFile::new("compose.yaml", text.as_str()))];
        let out = import_compose(
            &files,
            &ComposeOptions {
                default_name: "fuzz".into(),
                ..Default::default()
            },
        );
        spans_inside(text, &out.diagnostics);
        assert!(out.app.is_some() || out.diagnostics.has_errors());
    }
    let score = corpus_of("score_importer");
    assert!(score.len() >= 2);
    for text in &score {
        let out = slipway_import::score::import_score(&[Arc::new(SourceFile::new(
            "score.yaml",
            text.as_str(),
        ))]);
        spans_inside(text, &out.diagnostics);
        assert!(out.app.is_some() || out.diagnostics.has_errors());
    }
}

fn nodes_inside(n: &slipway_import::yaml::Node, text: &str) {
    use slipway_import::yaml::Value;
    let s = n.span;
    assert!(
        s.start <= s.end
            && s.end <= text.len()
            && text.is_char_boundary(s.start)
            && text.is_char_boundary(s.end),
        "{s:?}: {text:?}"
    );
    match &n.value {
        Value::Seq(items) => {
            for i in items {
                nodes_inside(i, text);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                nodes_inside(k, text);
                nodes_inside(v, text);
            }
        }
        Value::Scalar { .. } => {}
    }
}

/// The YAML span index's fuzz corpus: every node of every document lies inside the
/// text on character boundaries, and a second read gives the same tree.
#[test]
fn yaml_span_fuzz_corpus_replays() {
    use slipway_import::yaml::{parse, Budget};
    let texts = corpus_of("yaml_spans");
    assert!(texts.len() >= 40, "{}", texts.len());
    let mut parsed = 0;
    for text in &texts {
        let file = SourceFile::new("fuzz.yaml", text.as_str());
        let first = parse(&file, Budget::default());
        match &first {
            Ok(docs) => {
                parsed += 1;
                for d in docs {
                    nodes_inside(d, text);
                }
            }
            Err(d) => {
                if let Some(s) = d.span {
                    assert!(s.end <= text.len(), "{s:?}");
                }
            }
        }
        assert_eq!(first, parse(&file, Budget::default()));
    }
    assert!(parsed > 10, "only {parsed} of the corpus parse");
}
