//! `slipway check` as users run it, and dogfooding: everything `slipway generate`
//! produces for the fixtures, the importers' fixtures and `examples/` passes
//! `--profile production-guardrails` with zero findings.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{copy_tree, root};

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

/// Generates one project into `work/<name>`; returns its output folder.
fn generated(work: &Path, name: &str, input: &Path, input_file: &str, extra: &[&str]) -> PathBuf {
    let dir = work.join(name);
    copy_tree(input, &dir);
    let mut args = vec!["generate", input_file];
    args.extend_from_slice(extra);
    let (code, _, stderr) = slipway(&args, &dir);
    assert_eq!(code, 0, "{name}: {stderr}");
    dir.join("infrastructure")
}

/// A finding the input itself causes and `generate` already reported: compose-multi's
/// `web` is built from the user's own Dockerfile with no healthcheck (GEN002 says so;
/// slipway cannot invent the endpoint).
fn input_gap(out: &Path, f: &serde_json::Value) -> bool {
    out.to_string_lossy().contains("import-compose-multi")
        && f["rule_id"] == "CMP004"
        && f["message"].as_str().is_some_and(|m| m.contains("`web`"))
}

#[test]
fn generated_output_passes_production_guardrails() {
    let work = tempfile::tempdir().unwrap();
    let mut outs = vec![generated(
        work.path(),
        "shop",
        &root().join("examples/shop"),
        "slipway.yaml",
        &[],
    )];
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/generate"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for c in cases {
        let name = c.file_name().unwrap().to_string_lossy().into_owned();
        outs.push(generated(work.path(), &name, &c, "slipway.yaml", &[]));
    }
    let mut langs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/detect"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    langs.sort();
    for l in langs {
        let name = format!("lang-{}", l.file_name().unwrap().to_string_lossy());
        let dir = work.path().join(&name);
        copy_tree(&l, &dir.join("app"));
        std::fs::write(dir.join("slipway.yaml"), "name: fixture\nservices:\n  app:\n    path: ./app\n    depends_on: [db]\nresources:\n  db: { type: postgres }\ntargets: [docker, compose, scripts, kubernetes]\n").unwrap();
        let (code, _, stderr) = slipway(&["generate"], &dir);
        assert_eq!(code, 0, "{name}: {stderr}");
        outs.push(dir.join("infrastructure"));
    }
    // Imported projects too (their environments come from the importer: staging
    // with two replicas once lacked the PodDisruptionBudget prod had).
    for (case, input) in [
        ("compose-multi", "compose.yaml"),
        ("score", "score.yaml"),
        ("level10", "level-10.manifest.yaml"),
    ] {
        let c = root().join("fixtures/import").join(case);
        if c.join(input).is_file() {
            outs.push(generated(
                work.path(),
                &format!("import-{case}"),
                &c,
                input,
                &[],
            ));
        }
    }
    for out in &outs {
        let (code, stdout, stderr) = slipway(
            &[
                "check",
                out.to_str().unwrap(),
                "--profile",
                "production-guardrails",
                "--format",
                "json",
            ],
            work.path(),
        );
        let v: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("{}: {stdout}{stderr}", out.display()));
        assert!(
            v["files_checked"].as_u64().unwrap() >= 15,
            "{}",
            out.display()
        );
        let findings: Vec<&serde_json::Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !input_gap(out, f))
            .collect();
        assert!(
            findings.is_empty(),
            "{}: a generated file fails a check (a generator bug): {findings:?}",
            out.display()
        );
        let expected = i32::from(findings.len() < v["findings"].as_array().unwrap().len());
        assert_eq!(code, expected, "{}", out.display());
    }
}

#[test]
fn exit_codes_formats_explain_and_rules() {
    let fixtures = root().join("fixtures/check");
    let fires = fixtures.join("CMP005/fires");
    let (code, stdout, _) = slipway(&["check", fires.to_str().unwrap()], &root());
    assert_eq!(code, 1);
    assert!(
        stdout.contains("warning[CMP005]: image `postgres` has no tag"),
        "{stdout}"
    );
    assert!(
        stdout.contains(" --> compose.yaml:"),
        "paths are relative to the path given: {stdout}"
    );
    let (code, _, _) = slipway(
        &["check", fires.to_str().unwrap(), "--fail-on", "error"],
        &root(),
    );
    assert_eq!(code, 0, "warnings do not fail with --fail-on error");
    let (code, _, _) = slipway(
        &[
            "check",
            fires.to_str().unwrap(),
            "--profile",
            "production-guardrails",
            "--fail-on",
            "error",
        ],
        &root(),
    );
    assert_eq!(code, 1, "production-guardrails makes CMP005 an error");
    let (code, _, _) = slipway(
        &["check", fixtures.join("CMP005/clean").to_str().unwrap()],
        &root(),
    );
    assert_eq!(code, 0);
    let (code, _, stderr) = slipway(&["check", "no/such/path"], &root());
    assert_eq!(code, 2, "{stderr}");
    let (_, sarif, _) = slipway(
        &["check", fires.to_str().unwrap(), "--format", "sarif"],
        &root(),
    );
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "CMP005");
    let (_, gh, _) = slipway(
        &["check", fires.to_str().unwrap(), "--format", "github"],
        &root(),
    );
    assert!(gh.starts_with("::warning file=compose.yaml,line="), "{gh}");
    let (code, doc, _) = slipway(&["explain", "K8S015"], &root());
    assert_eq!(code, 0);
    assert!(
        doc.starts_with(
            "K8S015 references-resolve (error, preview, error under production-guardrails)"
        ) && doc.contains("## Fix"),
        "{doc}"
    );
    let (code, _, stderr) = slipway(&["explain", "NOPE001"], &root());
    assert_eq!(code, 2);
    assert!(stderr.contains("no rule `NOPE001`"));
    let (_, rules, _) = slipway(&["rules", "--format", "json"], &root());
    let v: serde_json::Value = serde_json::from_str(&rules).unwrap();
    assert!(v["rules"].as_array().unwrap().len() >= 37);
}

#[test]
fn user_profiles_filter_paths_ignore_rules_and_report_stale_ignores() {
    let work = tempfile::tempdir().unwrap();
    let profile = work.path().join("profile.yaml");
    std::fs::write(
        &profile,
        "extends: production-guardrails\nrules: { SH001: off }\nexclude: [\"k8s/**\"]\nignore:\n  - { rule: DKR009, paths: [\"docker/api/*\"], reason: \"legacy image, replaced next quarter\" }\n  - { rule: K8S004, reason: \"nothing matches this one\" }\n",
    )
    .unwrap();
    let planted = root().join("fixtures/check/planted");
    let (code, stdout, stderr) = slipway(
        &[
            "check",
            planted.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "--format",
            "json",
        ],
        work.path(),
    );
    assert_eq!(code, 1, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let has = |pred: &dyn Fn(&serde_json::Value) -> bool| findings.iter().any(pred);
    assert!(
        !has(&|f| f["file"].as_str().unwrap().starts_with("k8s/")),
        "excluded paths are not checked"
    );
    assert!(
        !has(&|f| f["rule_id"] == "SH001"),
        "rules switched off do not run"
    );
    assert!(
        !has(&|f| f["rule_id"] == "DKR009" && f["file"] == "docker/api/Dockerfile"),
        "ignored by the profile"
    );
    assert!(
        has(&|f| f["rule_id"] == "DKR001" && f["severity"] == "error"),
        "extends production-guardrails"
    );
    assert!(
        has(&|f| f["rule_id"] == "POL001" && f["message"].as_str().unwrap().contains("K8S004")),
        "a stale profile suppression is reported"
    );
    std::fs::write(&profile, "extends: prod\nrules: { NOPE001: off }\n").unwrap();
    let (code, _, stderr) = slipway(
        &[
            "check",
            planted.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
        ],
        work.path(),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown profile `prod`")
            && stderr.contains("unknown rule `NOPE001`")
            && stderr.contains("profile.yaml:1:"),
        "{stderr}"
    );
}
