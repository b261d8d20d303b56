//! What `generate` promises beyond the files themselves: byte-identical reruns,
//! hand edits kept unless forced, dry runs that write nothing, nothing written on
//! bad input, stale files removed.

use slipway_engine::{generate, FileStatus, GenerateOptions};
use std::path::{Path, PathBuf};

const SPEC: &str = "name: demo\nservices:\n  api:\n    path: ./api\n    port: 8000\n    health: /health\n    depends_on: [db]\nresources:\n  db: { type: postgres }\n";

fn project(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join("api");
    std::fs::create_dir_all(&api).unwrap();
    std::fs::write(
        api.join("requirements.txt"),
        "fastapi==0.115.6\nuvicorn==0.34.0\n",
    )
    .unwrap();
    std::fs::write(
        api.join("main.py"),
        "from fastapi import FastAPI\napp = FastAPI()\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("slipway.yaml"), spec).unwrap();
    dir
}

fn opts(dir: &Path) -> GenerateOptions {
    GenerateOptions {
        spec: dir.join("slipway.yaml"),
        ..Default::default()
    }
}

fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn generating_twice_is_byte_identical() {
    let dir = project(SPEC);
    let first = generate(&opts(dir.path())).unwrap();
    assert!(first
        .changes
        .iter()
        .all(|c| c.status == FileStatus::Written));
    let before = tree(&first.out_dir);
    let second = generate(&opts(dir.path())).unwrap();
    assert!(
        second
            .changes
            .iter()
            .all(|c| c.status == FileStatus::Unchanged),
        "{:?}",
        second.changes
    );
    assert_eq!(before, tree(&second.out_dir));
    // A second project at another absolute path produces the same bytes.
    let other = project(SPEC);
    let third = generate(&opts(other.path())).unwrap();
    assert_eq!(before, tree(&third.out_dir));
}

#[test]
fn hand_edits_are_kept_unless_forced() {
    let dir = project(SPEC);
    let report = generate(&opts(dir.path())).unwrap();
    let dockerfile = report.out_dir.join("docker/api/Dockerfile");
    let edited = format!(
        "{}# my tweak\n",
        std::fs::read_to_string(&dockerfile).unwrap()
    );
    std::fs::write(&dockerfile, &edited).unwrap();
    // Change the spec so the Dockerfile would change too.
    std::fs::write(
        dir.path().join("slipway.yaml"),
        SPEC.replace("port: 8000", "port: 9000"),
    )
    .unwrap();
    let kept = generate(&opts(dir.path())).unwrap();
    let status = |r: &slipway_engine::GenerateReport, p: &str| {
        r.changes.iter().find(|c| c.path == p).unwrap().status
    };
    assert_eq!(
        status(&kept, "docker/api/Dockerfile"),
        FileStatus::KeptEdited
    );
    assert_eq!(
        status(&kept, "compose/docker-compose.yaml"),
        FileStatus::Changed
    );
    assert!(kept
        .diagnostics
        .iter()
        .any(|d| d.rule_id == "GEN003" && d.message.contains("docker/api/Dockerfile")));
    assert_eq!(std::fs::read_to_string(&dockerfile).unwrap(), edited);
    // Still kept on the next run: the manifest records what slipway wrote, not the edit.
    let again = generate(&opts(dir.path())).unwrap();
    assert_eq!(
        status(&again, "docker/api/Dockerfile"),
        FileStatus::KeptEdited
    );
    let forced = generate(&GenerateOptions {
        force: true,
        ..opts(dir.path())
    })
    .unwrap();
    assert_eq!(
        status(&forced, "docker/api/Dockerfile"),
        FileStatus::Overwritten
    );
    assert!(std::fs::read_to_string(&dockerfile)
        .unwrap()
        .contains("--port\",\"9000"));
}

#[test]
fn dry_run_writes_nothing_and_shows_a_diff() {
    let dir = project(SPEC);
    let report = generate(&GenerateOptions {
        dry_run: true,
        ..opts(dir.path())
    })
    .unwrap();
    assert!(!report.out_dir.exists());
    let diff = report.diff.unwrap();
    assert!(
        diff.contains("--- /dev/null\n+++ b/docker/api/Dockerfile"),
        "{diff}"
    );
    generate(&opts(dir.path())).unwrap();
    std::fs::write(
        dir.path().join("slipway.yaml"),
        SPEC.replace("port: 8000", "port: 9000"),
    )
    .unwrap();
    let before = tree(&report.out_dir);
    let second = generate(&GenerateOptions {
        dry_run: true,
        ..opts(dir.path())
    })
    .unwrap();
    assert_eq!(before, tree(&report.out_dir));
    let diff = second.diff.unwrap();
    assert!(
        diff.contains("-      PORT: \"8000\"\n+      PORT: \"9000\""),
        "{diff}"
    );
}

#[test]
fn bad_input_writes_nothing() {
    let dir =
        project("name: demo\nservices:\n  api:\n    path: ./api\n    depends_on: [missing]\n");
    let report = generate(&opts(dir.path())).unwrap();
    assert!(report.has_errors());
    assert!(report.changes.is_empty());
    assert!(!dir.path().join("infrastructure").exists());
}

#[test]
fn removed_services_lose_their_files() {
    let dir = project(
        &format!("{SPEC}  cache: {{ type: redis }}\n")
            .replace("depends_on: [db]", "depends_on: [db, cache]"),
    );
    let two =
        "name: demo\nservices:\n  api:\n    path: ./api\n  web:\n    path: ./api\n    port: 9000\n";
    std::fs::write(dir.path().join("slipway.yaml"), two).unwrap();
    let first = generate(&opts(dir.path())).unwrap();
    assert!(first.out_dir.join("docker/web/Dockerfile").exists());
    std::fs::write(
        dir.path().join("slipway.yaml"),
        "name: demo\nservices:\n  api:\n    path: ./api\n",
    )
    .unwrap();
    let second = generate(&opts(dir.path())).unwrap();
    assert!(second
        .changes
        .iter()
        .any(|c| c.path == "docker/web/Dockerfile" && c.status == FileStatus::Removed));
    assert!(!second.out_dir.join("docker/web/Dockerfile").exists());
}

#[test]
fn missing_or_unknown_source_folders_are_errors() {
    let dir = project("name: demo\nservices:\n  api:\n    path: ./nope\n  web:\n    path: ./\n");
    std::fs::remove_file(dir.path().join("api/requirements.txt")).ok();
    let report = generate(&opts(dir.path())).unwrap();
    let msgs: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("folder `./nope` does not exist")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("no supported language found in `./`")),
        "{msgs:?}"
    );
}

#[test]
fn pinned_digests_are_required_when_asked() {
    let dir = project(&format!("{SPEC}pin_digests: true\n"));
    let report = generate(&opts(dir.path())).unwrap();
    let msgs: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule_id == "SPEC013")
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("`python:3.12-slim-bookworm`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("`postgres:16-bookworm`")),
        "{msgs:?}"
    );
    assert!(report.changes.is_empty());
}

#[test]
fn image_map_rewrites_base_images() {
    let dir = project(SPEC);
    let o = GenerateOptions {
        image_map: vec![(
            "python:3.12-slim-bookworm".into(),
            "mirror.local/python:3.12".into(),
        )],
        ..opts(dir.path())
    };
    let report = generate(&o).unwrap();
    let dockerfile = std::fs::read_to_string(report.out_dir.join("docker/api/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("FROM mirror.local/python:3.12 AS base"),
        "{dockerfile}"
    );
    assert!(!dockerfile.contains("FROM python:"));
}

#[test]
fn template_overrides_are_used_and_checked() {
    let dir = project(SPEC);
    let tpl = dir.path().join("tpl/compose");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("gitignore.j2"),
        "# ours\nsecrets/\n.env\n*.local\n",
    )
    .unwrap();
    let report = generate(&GenerateOptions {
        templates: Some(dir.path().join("tpl")),
        ..opts(dir.path())
    })
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(report.out_dir.join("compose/.gitignore")).unwrap(),
        "# ours\nsecrets/\n.env\n*.local\n"
    );
    // A broken override: a YAML template rendering invalid YAML is refused, nothing written.
    std::fs::write(tpl.join("docker-compose.yaml.j2"), "services: [\n").unwrap();
    let other = project(SPEC);
    let bad = generate(&GenerateOptions {
        templates: Some(dir.path().join("tpl")),
        ..opts(other.path())
    })
    .unwrap();
    let d = bad
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "TPL002")
        .expect("TPL002");
    assert!(
        d.message.contains("compose/docker-compose.yaml.j2"),
        "{}",
        d.message
    );
    assert!(!other.path().join("infrastructure").exists());
}

/// Every declared environment gets its compose override and `start.sh` accepts it:
/// a staging deploy never runs on the base file alone.
#[test]
fn every_declared_environment_gets_its_override() {
    let spec = SPEC.replace(
        "name: demo\n",
        "name: demo\nenvironments: [dev, staging, qa, prod]\n",
    );
    let dir = project(&spec);
    let report = generate(&GenerateOptions {
        environment: Some("staging".into()),
        ..opts(dir.path())
    })
    .unwrap();
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    let compose = dir.path().join("infrastructure/compose");
    for env in ["dev", "staging", "qa", "prod"] {
        let text = std::fs::read_to_string(compose.join(format!("docker-compose.{env}.yaml")))
            .unwrap_or_else(|_| panic!("no override for {env}"));
        assert!(text.contains(&format!("`{env}` override")), "{text}");
    }
    let staging = std::fs::read_to_string(compose.join("docker-compose.staging.yaml")).unwrap();
    assert!(staging.contains("APP_ENV: staging") && staging.contains("restart: unless-stopped"));
    let start =
        std::fs::read_to_string(dir.path().join("infrastructure/scripts/start.sh")).unwrap();
    assert!(start.contains("env=\"${1:-staging}\""), "{start}");
    assert!(start.contains("dev|staging|qa|prod) ;;"), "{start}");
}
