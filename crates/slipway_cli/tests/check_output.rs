//! How `check`, `rules`, `explain` and `generate --dry-run` behave at the edges of
//! their output: a reader that goes away (`| head -1`), notes in every format, and
//! a `--profile` that names nothing.

mod support;

use std::process::{Command, Stdio};
use support::{copy_tree, root};

/// Runs slipway with a stdout whose reader is already closed, as in
/// `slipway rules | head -1` once `head` has exited.
fn with_closed_stdout(args: &[&str], cwd: &std::path::Path) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn slipway(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .current_dir(root())
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
fn a_closed_stdout_ends_every_long_output_quietly() {
    let planted = root().join("fixtures/check/planted");
    let planted = planted.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root().join("examples/shop"), work.path());
    for (args, code) in [
        (vec!["rules"], 0),
        (vec!["rules", "--format", "json"], 0),
        (vec!["explain", "K8S015"], 0),
        (vec!["schema"], 0),
        // `check` keeps its verdict: the planted tree has findings.
        (vec!["check", planted], 1),
        (vec!["check", planted, "--format", "sarif"], 1),
    ] {
        let (got, stderr) = with_closed_stdout(&args, &root());
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(got, code, "{args:?}: {stderr}");
    }
    let (got, stderr) = with_closed_stdout(&["generate", "--dry-run"], work.path());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(got, 0, "{stderr}");
    assert!(
        !work.path().join("infrastructure").exists(),
        "a dry run writes nothing"
    );
}

#[test]
fn notes_reach_every_output_format() {
    let gcp = root().join("fixtures/check/precision/terraform-gcp");
    let gcp = gcp.to_str().unwrap();
    let note = "no rule covers google_*: 14 resources not checked beyond the secret scan";
    let (code, stdout, stderr) = slipway(&["check", gcp]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("note: {note}")), "{stderr}");
    let (_, json, _) = slipway(&["check", gcp, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["notes"], serde_json::json!([note]));
    let (_, sarif, _) = slipway(&["check", gcp, "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"],
        note
    );
    let (_, gh, _) = slipway(&["check", gcp, "--format", "github"]);
    assert_eq!(gh, format!("::notice title=slipway check::{note}\n"));
}

#[test]
fn an_unknown_policy_profile_is_refused_with_the_valid_names() {
    let clean = root().join("fixtures/check/CMP005/clean");
    let (code, stdout, stderr) =
        slipway(&["check", clean.to_str().unwrap(), "--profile", "production"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains(
            "unknown policy profile `production` (did you mean `production-guardrails`?)"
        ) && stderr.contains("the built-in ones are default, production-guardrails"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "nothing is checked: {stdout}");
}
