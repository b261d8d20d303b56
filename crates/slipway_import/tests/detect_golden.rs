//! Golden tests: every folder under `fixtures/detect/` -> its build plan as JSON.

use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/detect")
}

#[test]
fn every_detect_fixture_matches_its_snapshot() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "fixtures missing: {cases:?}");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let plan = slipway_import::detect::detect_folder(&case)
            .unwrap_or_else(|| panic!("{name}: nothing detected"));
        let json = serde_json::to_string_pretty(&plan).unwrap();
        insta::assert_snapshot!(format!("detect__{name}"), json);
    }
}

#[test]
fn discover_finds_every_service_of_the_example() {
    let shop = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop");
    let found = slipway_import::detect::discover(&shop);
    let names: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|d| (d.name.as_str(), d.path.as_str(), d.plan.language.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![("api", "api", "python"), ("web", "web", "node")]
    );
}

#[test]
fn nothing_is_detected_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    assert!(slipway_import::detect::detect_folder(dir.path()).is_none());
    assert!(slipway_import::detect::discover(dir.path()).is_empty());
}

#[test]
fn the_published_schema_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/slipway.schema.json");
    let want = slipway_import::spec::spec_schema();
    if std::env::var_os("SLIPWAY_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "schemas/slipway.schema.json is stale: run `SLIPWAY_UPDATE_SCHEMA=1 cargo test -p slipway_import` (or `slipway schema > schemas/slipway.schema.json`)");
}
