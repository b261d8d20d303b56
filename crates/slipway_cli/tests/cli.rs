//! The `slipway` binary as users run it: output, exit codes, nothing written on error.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn slipway(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_specs_are_reported_with_positions_and_nothing_is_written() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/errors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 7);
    for case in cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("infra");
        let rel = format!("fixtures/errors/{name}.yaml");
        let (code, stdout, stderr) = slipway(
            &["generate", &rel, "--out", target.to_str().unwrap()],
            &root(),
        );
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(!target.exists(), "{name}: wrote files");
        assert!(stderr.contains(&format!("--> {rel}:")), "{name}: {stderr}");
        insta::assert_snapshot!(format!("errors__{name}"), stderr);
    }
}

#[test]
fn json_errors_carry_line_and_column() {
    let (code, stdout, _) = slipway(
        &[
            "generate",
            "fixtures/errors/unknown-key.yaml",
            "--format",
            "json",
            "--dry-run",
        ],
        &root(),
    );
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["ok"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["rule_id"], "SPEC002");
    assert_eq!(d["line"], 6);
    assert_eq!(d["column"], 5);
    assert_eq!(d["end_column"], 14);
    assert_eq!(d["help"], "did you mean `depends_on`?");
}

#[test]
fn generate_then_regenerate_reports_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    // The manifests and the entry files: detection checks that what it runs exists.
    let shop = root().join("examples/shop");
    for f in [
        "slipway.yaml",
        "api/requirements.txt",
        "api/.python-version",
        "api/app/__init__.py",
        "api/app/main.py",
        "web/package.json",
        "web/package-lock.json",
        "web/server.js",
    ] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(shop.join(f), to).unwrap();
    }
    let (code, stdout, stderr) = slipway(&["generate"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("generated infrastructure (build "),
        "{stdout}"
    );
    assert!(
        stdout.contains("  written     docker/api/Dockerfile\n"),
        "{stdout}"
    );
    let (code, stdout, _) = slipway(&["generate", "--format", "json"], dir.path());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "unchanged"),
        "{stdout}"
    );
    let (code, _, stderr) = slipway(&["generate", "--env", "prdo"], dir.path());
    assert_eq!(code, 2);
    assert!(
        stderr.contains("environment `prdo` is not declared")
            && stderr.contains("did you mean `prod`?"),
        "{stderr}"
    );
    let (code, _, stderr) = slipway(&["generate", "--image-map", "nonsense"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("is not FROM=TO"), "{stderr}");
}

#[test]
fn init_writes_a_spec_that_generates_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join("api");
    std::fs::create_dir_all(&api).unwrap();
    std::fs::write(
        api.join("requirements.txt"),
        "flask==3.1.0\ngunicorn==23.0.0\n",
    )
    .unwrap();
    std::fs::write(
        api.join("app.py"),
        "from flask import Flask\napp = Flask(__name__)\n",
    )
    .unwrap();
    let (code, stdout, stderr) = slipway(&["init"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("api"), "{stdout}");
    let spec = std::fs::read_to_string(dir.path().join("slipway.yaml")).unwrap();
    assert!(
        spec.contains("    path: ./api\n") && spec.contains("health: /health  # guessed"),
        "{spec}"
    );
    let (code, _, stderr) = slipway(&["init"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists; pass --force"), "{stderr}");
    let (code, _, _) = slipway(&["init", "--force"], dir.path());
    assert_eq!(code, 0);
    let (code, _, stderr) = slipway(&["generate"], dir.path());
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn detect_reports_guesses_in_json() {
    let (code, stdout, _) = slipway(
        &[
            "detect",
            "fixtures/detect/node-yarn-next",
            "--format",
            "json",
        ],
        &root(),
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let plan = &v["services"][0]["plan"];
    assert_eq!(plan["package_manager"], "yarn");
    // Next's port is its own default (3000), not a guess.
    assert_eq!(
        plan["guessed"],
        serde_json::json!(["version", "health_path"])
    );
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = slipway(&["detect", empty.path().to_str().unwrap()], &root());
    assert_eq!(code, 2);
    assert!(stderr.contains("no service found"), "{stderr}");
}

/// `--color auto` follows NO_COLOR and CLICOLOR_FORCE as defined: piped output is
/// plain, CLICOLOR_FORCE colours it, a non-empty NO_COLOR wins, an empty one does not
/// count as set.
#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let run = |env: &[(&str, &str)]| -> bool {
        let mut c = Command::new(env!("CARGO_BIN_EXE_slipway"));
        c.args(["check", "fixtures/check/planted"])
            .current_dir(root())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let all = [out.stdout, out.stderr].concat();
        all.contains(&0x1b)
    };
    assert!(!run(&[]), "piped output is plain");
    assert!(
        run(&[("CLICOLOR_FORCE", "1")]),
        "CLICOLOR_FORCE colours a pipe"
    );
    assert!(
        run(&[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]),
        "an empty NO_COLOR is not set"
    );
    assert!(
        !run(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]),
        "a non-empty NO_COLOR wins"
    );
    assert!(!run(&[("CLICOLOR", "0")]), "CLICOLOR=0 is plain");
}

/// `slipway completions SHELL` prints a script the shell accepts, naming the
/// subcommands.
#[test]
fn completions_generate_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, stderr) = slipway(&["completions", shell], &root());
        assert_eq!(code, 0, "{shell}: {stderr}");
        for sub in ["generate", "check", "deploy", "serve"] {
            assert!(script.contains(sub), "{shell} completions lack `{sub}`");
        }
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("slipway.bash");
            std::fs::write(&file, &script).unwrap();
            let ok = Command::new("bash").arg("-n").arg(&file).status().unwrap();
            assert!(ok.success(), "bash -n refuses the completion script");
        }
    }
    let (code, _, stderr) = slipway(&["completions", "tcsh"], &root());
    assert_eq!(code, 2, "{stderr}");
}
