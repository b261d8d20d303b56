//! Golden tests for the importers: each case under `fixtures/import/` is generated
//! from its compose, Score or level-10 input; the snapshot holds the diagnostics and
//! every generated file. Secret values in the inputs must appear in no output.

use slipway_engine::{generate, GenerateOptions};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn run(case: &str, main: &str, extra: &[&str]) -> (slipway_engine::GenerateReport, String) {
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root().join("fixtures/import").join(case), work.path());
    let opts = GenerateOptions {
        spec: work.path().join(main),
        extra_inputs: extra.iter().map(|e| work.path().join(e)).collect(),
        ..Default::default()
    };
    let report = generate(&opts).unwrap();
    let mut text = String::new();
    for d in &report.diagnostics {
        let _ = writeln!(
            text,
            "{} {}: {}",
            d.severity.as_str(),
            d.rule_id,
            d.message
                .replace(&work.path().to_string_lossy().into_owned(), "<work>")
        );
    }
    for c in &report.changes {
        let body = std::fs::read_to_string(report.out_dir.join(&c.path)).unwrap();
        let _ = write!(text, "=== {} ===\n{body}", c.path);
    }
    (report, text)
}

#[test]
fn compose_with_override_env_and_profiles() {
    let (report, text) = run("compose-multi", "compose.yaml", &[]);
    assert!(!report.has_errors(), "{text}");
    assert!(!text.contains("not-in-any-output"), "a secret value leaked");
    assert!(
        text.contains("image: \"example/storefront-api:2.3.1\""),
        "interpolated from .env"
    );
    assert!(text.contains("LOG_LEVEL: debug"), "override file merged");
    assert!(
        !text.contains("  adminer:") && text.contains("SPEC110"),
        "profile `debug` is off by default"
    );
    insta::assert_snapshot!("import__compose-multi", text);
}

#[test]
fn score_workloads() {
    let (report, text) = run("score", "score.yaml", &["worker.score.yaml"]);
    assert!(!report.has_errors(), "{text}");
    assert!(
        text.contains("secretKeyRef"),
        "secret outputs become Secret references"
    );
    insta::assert_snapshot!("import__score", text);
}

#[test]
fn level10_manifest_traces_back_to_item_ids() {
    let (report, text) = run("level10", "level-10.manifest.yaml", &[]);
    assert!(!report.has_errors(), "{text}");
    let manifest = text
        .split("=== level-11.manifest.yaml ===")
        .nth(1)
        .unwrap_or_default();
    assert!(
        manifest.contains("level10: \"level-10.bootstrap.api\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("level10: \"level-10.data.store\""),
        "{manifest}"
    );
    assert!(text
        .contains("info L10005: item `level-10.docs.readme` (kind `document`) is not deployable"));
    insta::assert_snapshot!("import__level10", text);
}

#[test]
fn target_restricts_what_is_emitted() {
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root().join("fixtures/import/compose-multi"), work.path());
    let opts = GenerateOptions {
        spec: work.path().join("compose.yaml"),
        targets: vec!["kubernetes".into()],
        ..Default::default()
    };
    let report = generate(&opts).unwrap();
    assert!(
        report
            .changes
            .iter()
            .all(|c| c.path.starts_with("kubernetes/") || c.path == "level-11.manifest.yaml"),
        "{:?}",
        report.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
    );
    let bad = generate(&GenerateOptions {
        targets: vec!["kubernetse".into()],
        ..opts
    })
    .unwrap();
    let d = bad
        .diagnostics
        .iter()
        .find(|d| d.message.contains("kubernetse"))
        .unwrap();
    assert_eq!(d.help.as_deref(), Some("did you mean `kubernetes`?"));
}
