//! The planted tree (`fixtures/check/planted/`): slipway finds every planted problem
//! at the file, line and rule `planted.yaml` lists. The peers' side of the comparison
//! is `scripts/peer-agreement.py`, written to `docs/peer-agreement.md`.

use slipway_checks::{check, Profile};
use slipway_diagnostics::SourceFile;
use slipway_import::yaml::{self, Budget, Node};
use std::path::PathBuf;

#[test]
fn every_planted_problem_is_found() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/check/planted");
    let list = SourceFile::new(
        "planted.yaml",
        std::fs::read_to_string(dir.join("planted.yaml")).unwrap(),
    );
    let docs = yaml::parse(&list, Budget::default()).unwrap();
    let planted = docs[0].as_seq().unwrap();
    assert!(planted.len() >= 30);
    let report = check(&[dir], &Profile::default_profile());
    let found: Vec<(String, usize, String)> = report
        .findings
        .iter()
        .map(|f| {
            let src = report.sources.get(f.file.as_deref().unwrap_or("")).unwrap();
            (
                f.file.clone().unwrap_or_default(),
                src.line_col(f.span.unwrap().start).0,
                f.rule_id.clone(),
            )
        })
        .collect();
    let mut missed = Vec::new();
    for p in planted {
        let get = |k: &str| p.get(k).and_then(Node::as_scalar).unwrap_or("").to_string();
        let want = (
            get("file"),
            get("line").parse::<usize>().unwrap(),
            get("rule"),
        );
        if !found.contains(&want) {
            missed.push(format!("{} {want:?} ({})", get("id"), get("what")));
        }
    }
    assert!(
        missed.is_empty(),
        "missed planted problems:\n{}",
        missed.join("\n")
    );
}
