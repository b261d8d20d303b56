//! Golden tests for `generate`: every case under `fixtures/generate/`, the shop
//! example, and a Dockerfile for every detection fixture (one per language and
//! package manager). Snapshots hold every generated file.

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
        let name = e.file_name();
        if name == "infrastructure" || name == "node_modules" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// Generates `spec` into a fresh folder and returns every file as one text.
fn render(spec: &Path, image_map: Vec<(String, String)>) -> String {
    let out = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // Work on a copy so the output folder sits next to the spec, as for users.
    copy_tree(spec.parent().unwrap(), work.path());
    let opts = GenerateOptions {
        spec: work.path().join(spec.file_name().unwrap()),
        out: Some(work.path().join("infrastructure")),
        image_map,
        ..Default::default()
    };
    let report = generate(&opts).unwrap();
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
    let _ = out;
    let mut text = String::new();
    for c in &report.changes {
        let body = std::fs::read_to_string(report.out_dir.join(&c.path)).unwrap();
        let _ = write!(text, "=== {} ===\n{body}", c.path);
    }
    text
}

#[test]
fn generate_fixtures_match_their_snapshots() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/generate"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(
            format!("generate__{name}"),
            render(&case.join("slipway.yaml"), Vec::new())
        );
    }
}

#[test]
fn the_shop_example_matches_its_snapshot() {
    insta::assert_snapshot!(
        "generate__examples_shop",
        render(&root().join("examples/shop/slipway.yaml"), Vec::new())
    );
}

#[test]
fn every_language_gets_a_dockerfile() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/detect"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let work = tempfile::tempdir().unwrap();
        copy_tree(&case, &work.path().join("app"));
        std::fs::write(
            work.path().join("slipway.yaml"),
            "name: fixture\nservices:\n  app:\n    path: ./app\n",
        )
        .unwrap();
        let report = generate(&GenerateOptions {
            spec: work.path().join("slipway.yaml"),
            ..Default::default()
        })
        .unwrap();
        assert!(!report.has_errors(), "{name}: {:#?}", report.diagnostics);
        let dir = report.out_dir.join("docker/app");
        let text = format!(
            "=== Dockerfile ===\n{}=== Dockerfile.dockerignore ===\n{}",
            std::fs::read_to_string(dir.join("Dockerfile")).unwrap(),
            std::fs::read_to_string(dir.join("Dockerfile.dockerignore")).unwrap()
        );
        insta::assert_snapshot!(format!("dockerfile__{name}"), text);
    }
}
