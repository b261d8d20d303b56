//! What `generate` says about detection: a service with no start command found and no
//! `command:` is an error at the service (nothing written); values detection guessed
//! and the spec leaves unset are named in a `GEN020` note and in the Dockerfile's
//! entry of the manifest; a guessed health path is handed to `deploy`'s preflight.

use slipway_diagnostics::Severity;
use slipway_engine::{generate, GenerateOptions, GenerateReport};

/// A project whose `web` service is the Node folder `files`, under `spec`.
fn run(spec: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, GenerateReport) {
    let dir = tempfile::tempdir().unwrap();
    for (p, t) in files {
        let p = dir.path().join("web").join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    }
    std::fs::write(dir.path().join("slipway.yaml"), spec).unwrap();
    let report = generate(&GenerateOptions {
        spec: dir.path().join("slipway.yaml"),
        ..Default::default()
    })
    .unwrap();
    (dir, report)
}

const BARE: &str = "name: demo\nservices:\n  web:\n    path: ./web\n";

#[test]
fn no_start_command_is_an_error_at_the_service_and_nothing_is_written() {
    let (dir, report) = run(BARE, &[("package.json", r#"{"main": "server.js"}"#)]);
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "SPEC020")
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.message.contains("no start command found in `./web`"),
        "{}",
        d.message
    );
    assert!(
        d.message
            .contains("`main` names server.js, which does not exist"),
        "{}",
        d.message
    );
    assert!(d.help.as_deref().unwrap_or_default().contains("command:"));
    assert!(d.span.is_some(), "located at the service");
    assert!(!dir.path().join("infrastructure").exists());
    // With `command:` the same folder generates.
    let spec = format!("{BARE}    command: [node, dist/server.js]\n    port: 3000\n");
    let (_, report) = run(&spec, &[("package.json", r#"{"main": "server.js"}"#)]);
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
}

#[test]
fn guessed_values_are_named_in_a_note_and_in_the_manifest() {
    let files = [
        (
            "package.json",
            r#"{"scripts": {"start": "node server.js"}}"#,
        ),
        ("package-lock.json", "{}"),
        (
            "server.js",
            "require('http').createServer().listen(process.env.PORT)",
        ),
    ];
    let (dir, report) = run(BARE, &files);
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
    let note = report
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "GEN020")
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    assert_eq!(note.severity, Severity::Info);
    assert!(
        note.message.contains("port 3000") && note.message.contains("health path /health"),
        "{}",
        note.message
    );
    assert!(note
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("`port:`, `health:`"));
    let manifest =
        std::fs::read_to_string(dir.path().join("infrastructure/level-11.manifest.yaml")).unwrap();
    assert!(
        manifest.contains("guessed: ") && manifest.contains("port 3000, health path /health"),
        "{manifest}"
    );
    assert_eq!(
        report.guessed_health.get("web"),
        Some(&("/health".to_string(), 3000))
    );

    // Values the spec sets are not guesses any more.
    let spec = format!("{BARE}    port: 3000\n    health: /\n");
    let (dir, report) = run(&spec, &files);
    let left: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule_id == "GEN020")
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        left.iter()
            .all(|m| !m.contains("port") && !m.contains("health")),
        "{left:?}"
    );
    assert!(report.guessed_health.is_empty());
    let manifest =
        std::fs::read_to_string(dir.path().join("infrastructure/level-11.manifest.yaml")).unwrap();
    assert!(!manifest.contains("port 3000, health path"), "{manifest}");
}

#[test]
fn init_marks_a_service_with_no_start_command() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("web")).unwrap();
    std::fs::write(
        dir.path().join("web/package.json"),
        r#"{"main": "server.js"}"#,
    )
    .unwrap();
    let report = slipway_engine::init(dir.path(), false).unwrap();
    assert!(
        report.text.contains("    # no start command found")
            && report.text.contains("    # command: [program, arguments]"),
        "{}",
        report.text
    );
}
