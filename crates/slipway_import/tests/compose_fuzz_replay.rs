//! The `.env` parser's and the compose project loader's fuzz corpora
//! (`fuzz/corpus/dotenv_parser`, `fuzz/corpus/compose_project`), replayed as ordinary
//! tests with the targets' own checks: no panic, every span inside its file, and a
//! refused project always says why.

use slipway_diagnostics::{SourceFile, Span};
use slipway_import::compose::{import_compose, parse_dotenv, ComposeOptions, FileAccess};
use std::path::PathBuf;
use std::sync::Arc;

fn corpus(target: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let p = e.ok()?.path();
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            Some((p.file_name()?.to_string_lossy().into_owned(), text))
        })
        .collect();
    out.sort();
    out
}

fn inside(text: &str, s: Span) -> bool {
    s.start <= s.end
        && s.end <= text.len()
        && text.is_char_boundary(s.start)
        && text.is_char_boundary(s.end)
}

#[test]
fn dotenv_corpus_replays() {
    let cases = corpus("dotenv_parser");
    assert!(cases.len() >= 10);
    let with = |k: &str| k.len().is_multiple_of(2).then(|| format!("v-{k}"));
    for (name, text) in &cases {
        for outer in [&(|_: &str| None) as &dyn Fn(&str) -> Option<String>, &with] {
            let parsed = parse_dotenv(text, outer);
            for e in &parsed.entries {
                assert!(
                    inside(text, e.key_span) && inside(text, e.value_span),
                    "{name}: {e:?}"
                );
            }
            for (s, m) in &parsed.errors {
                assert!(inside(text, *s), "{name}: {m}");
            }
        }
    }
}

#[test]
fn compose_project_corpus_replays() {
    let cases = corpus("compose_project");
    assert!(cases.len() >= 10);
    for (name, text) in &cases {
        let (main, access) = FileAccess::bundle(text);
        let files = vec![Arc::new(SourceFile::new("compose.yaml", main.as_str()))];
        let opts = ComposeOptions {
            default_name: "fuzz".into(),
            access,
            ..ComposeOptions::default()
        };
        let out = import_compose(&files, &opts);
        for d in out.diagnostics.iter() {
            let (Some(span), Some(file)) = (d.span, d.file.as_deref()) else {
                continue;
            };
            let text = if file == "compose.yaml" {
                main.as_str()
            } else {
                out.sources
                    .iter()
                    .find(|s| s.name == file)
                    .map_or("", |s| s.text.as_str())
            };
            assert!(inside(text, span), "{name}: {file} {span:?} {}", d.message);
        }
        assert!(out.app.is_some() || out.diagnostics.has_errors(), "{name}");
    }
}
