//! `extends` and `include` on the reference implementation's own test data
//! (`../shared/corpus/compose-go`, read from disk as a user's project would be): what
//! Compose loads, slipway loads with the same meaning; what Compose refuses, slipway
//! refuses at a file:line. Skipped, with a message, where the corpus is absent.

use slipway_diagnostics::SourceFile;
use slipway_import::compose::{import_compose, ComposeOptions, ComposeOutcome};
use slipway_model::{App, ServiceSource, VolumeKind};
use std::path::PathBuf;
use std::sync::Arc;

fn testdata() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/compose-go/loader/testdata");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (a user's clone has no ../shared)",
            dir.display()
        );
        None
    }
}

fn load(rel: &str) -> Option<ComposeOutcome> {
    let path = testdata()?.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let file = Arc::new(SourceFile::new(path.to_string_lossy().into_owned(), text));
    Some(import_compose(
        &[file],
        &ComposeOptions {
            default_name: "testdata".into(),
            ..ComposeOptions::default()
        },
    ))
}

fn app(out: ComposeOutcome) -> App {
    let shown: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.rule_id, d.message))
        .collect();
    out.app.unwrap_or_else(|| panic!("refused: {shown:#?}"))
}

fn image(app: &App, svc: &str) -> String {
    match &app.services[svc].source {
        ServiceSource::Image { image } => image.clone(),
        other => panic!("{svc}: {other:?}"),
    }
}

fn context(app: &App, svc: &str) -> String {
    match &app.services[svc].source {
        ServiceSource::Dockerfile { context, .. } => context.clone(),
        other => panic!("{svc}: {other:?}"),
    }
}

#[test]
fn extends_another_file_reads_its_env_file_beside_it() {
    let Some(out) = load("compose-test-extends.yaml") else {
        return;
    };
    let app = app(out);
    let svc = &app.services["importer"];
    assert_eq!(image(&app, "importer"), "nginx");
    // `./extra.env` is relative to the extended file (subdir/), as the file says.
    assert_eq!(svc.env["SOURCE"], "extends");
    assert_eq!(
        (
            svc.volumes[0].kind,
            svc.volumes[0].source.as_str(),
            svc.volumes[0].target.as_str()
        ),
        (VolumeKind::Bind, "/opt/data", "/var/lib/mysql")
    );
    assert!(svc.trace.file.ends_with("compose-test-extends.yaml"));
}

#[test]
fn extends_chains_through_folders() {
    let Some(out) = load("extends/withdir/compose.yaml") else {
        return;
    };
    assert_eq!(image(&app(out), "test"), "hello-world");
    let Some(out) = load("extends/nested.yaml") else {
        return;
    };
    assert_eq!(context(&app(out), "with-build"), ".");
}

#[test]
fn reset_drops_what_the_base_set() {
    let Some(out) = load("extends/reset.yaml") else {
        return;
    };
    let app = app(out);
    assert_eq!(
        app.services["init"].command.as_deref(),
        Some(&["sleep".to_string(), "infinity".into()][..])
    );
    assert_eq!(app.services["base"].command, None);
    assert_eq!(image(&app, "base"), "alpine:latest");
}

#[test]
fn include_loads_with_paths_relative_to_the_included_project() {
    let Some(out) = load("include/compose.yaml") else {
        return;
    };
    let included = app(out);
    assert_eq!(context(&included, "included"), ".");
    assert_eq!(included.services["included"].volumes[0].target, "/mnt");

    let Some(out) = load("compose-include.yaml") else {
        return;
    };
    let both = app(out);
    assert_eq!(image(&both, "imported"), "nginx");
    assert_eq!(both.services["imported"].env["SOURCE"], "extends");
    assert_eq!(both.services["bar"].env["FOO"], "BAR");

    // include + extends: the built context is the included file's folder.
    let Some(out) = load("combined/compose.yaml") else {
        return;
    };
    assert_eq!(context(&app(out), "service"), "./dir");

    // `project_directory` moves where the included file's paths point.
    let Some(out) = load("include/project-directory.yaml") else {
        return;
    };
    let shown: Vec<String> = out.diagnostics.iter().map(|d| d.message.clone()).collect();
    let project = out.app.unwrap_or_else(|| panic!("{shown:#?}"));
    let svc = &project.services["service"];
    assert_eq!(
        svc.volumes[0].source,
        "../subdir/compose-test-extends-imported.yaml"
    );
    assert_eq!(svc.env["SOURCE"], "extends");
    assert!(
        shown.iter().any(|m| m.contains("dockerfile_inline")),
        "{shown:#?}"
    );
}

#[test]
fn an_include_cycle_is_refused_at_its_line() {
    let Some(out) = load("compose-include-cycle.yaml") else {
        return;
    };
    assert!(out.app.is_none());
    let d = out
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "SPEC121")
        .expect("a located refusal");
    assert!(d.message.contains("include cycle"), "{}", d.message);
    assert!(d
        .file
        .as_deref()
        .unwrap()
        .ends_with("compose-include-cycle.yaml"));
    let span = d.span.unwrap();
    let text =
        std::fs::read_to_string(testdata().unwrap().join("compose-include-cycle.yaml")).unwrap();
    assert_eq!(&text[span.start..span.end], "compose-include-cycle.yaml");
}

#[test]
fn extends_of_a_file_with_other_problems_keeps_the_good_services() {
    // base.yaml has services without image or build (Compose loads them only as bases);
    // they are refused at their line, and what extends works is still read.
    let Some(out) = load("extends/base.yaml") else {
        return;
    };
    let shown: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.rule_id, d.message))
        .collect();
    assert!(
        shown
            .iter()
            .any(|m| m.contains("`with-port` has neither `image` nor `build`")),
        "{shown:#?}"
    );
    assert!(
        !shown
            .iter()
            .any(|m| m.contains("`another`") && m.contains("neither")),
        "{shown:#?}"
    );
}
