//! The tools users trust agree with what slipway generates (run by the full test
//! command, which installs them): hadolint finds no error in any Dockerfile,
//! shellcheck is clean on every script, and `docker-compose config -q` (and
//! `docker compose config -q` when Compose v2 is present) accepts base+dev and
//! base+prod for every fixture and the shop example.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{copy_tree, root};

/// Generates every fixture and the example into `work`; returns the output folders.
fn generate_all(work: &Path) -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = vec![root().join("examples/shop")];
    {
        let area = "fixtures/generate";
        let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join(area))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        cases.sort();
        specs.extend(cases);
    }
    let mut outs = Vec::new();
    for (i, dir) in specs.iter().enumerate() {
        let to = work.join(format!("case{i}"));
        copy_tree(dir, &to);
        outs.push(to);
    }
    let mut detect: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/detect"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    detect.sort();
    for (i, dir) in detect.iter().enumerate() {
        let to = work.join(format!("lang{i}"));
        copy_tree(dir, &to.join("app"));
        std::fs::write(to.join("slipway.yaml"), "name: fixture\nservices:\n  app:\n    path: ./app\nresources:\n  db: { type: postgres }\ntargets: [docker, compose, scripts, kubernetes]\n").unwrap();
        outs.push(to);
    }
    for dir in &outs {
        let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .arg("generate")
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    outs.into_iter().map(|d| d.join("infrastructure")).collect()
}

/// The importer fixtures and the 37 convertible awesome-compose samples, generated
/// to Kubernetes only; returns their `kubernetes/` folders.
fn import_and_corpus(work: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<(PathBuf, Vec<String>)> = vec![
        (
            root().join("fixtures/import/compose-multi/compose.yaml"),
            vec![],
        ),
        (
            root().join("fixtures/import/score/score.yaml"),
            vec![
                "-f".into(),
                root()
                    .join("fixtures/import/score/worker.score.yaml")
                    .to_string_lossy()
                    .into_owned(),
            ],
        ),
        (
            root().join("fixtures/import/level10/level-10.manifest.yaml"),
            vec![],
        ),
    ];
    let corpus = root().join("../shared/corpus/awesome-compose");
    let mut samples: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    samples.sort();
    for s in samples {
        if let Some(f) = ["compose.yaml", "compose.yml"]
            .iter()
            .map(|n| s.join(n))
            .find(|p| p.is_file())
        {
            runs.push((f, vec![]));
        }
    }
    let mut out = Vec::new();
    for (i, (input, extra)) in runs.iter().enumerate() {
        let dest = work.join(format!("import{i}"));
        let status = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .arg("generate")
            .arg(input)
            .args(extra)
            .args(["--target", "kubernetes", "--out"])
            .arg(&dest)
            .output()
            .unwrap();
        if status.status.success() {
            out.push(dest.join("kubernetes"));
        }
    }
    assert!(
        out.len() >= 40,
        "only {} of {} imports converted",
        out.len(),
        runs.len()
    );
    out
}

fn files(dir: &Path, pred: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, pred, out);
        } else if pred(&p) {
            out.push(p);
        }
    }
}

/// The Kubernetes API version generated objects are validated against.
const K8S_VERSION: &str = "1.31.0";

fn check(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run ({e}); run scripts/setup-test-env.sh"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
#[ignore = "needs hadolint, shellcheck, docker-compose, kubectl and kubernetes-validate"]
fn hadolint_shellcheck_and_compose_accept_every_generated_file() {
    let work = tempfile::tempdir().unwrap();
    let outs = generate_all(work.path());
    let mut failures = Vec::new();
    let mut dockerfiles = Vec::new();
    let mut scripts = Vec::new();
    for o in &outs {
        files(
            o,
            &|p| p.file_name().is_some_and(|n| n == "Dockerfile"),
            &mut dockerfiles,
        );
        files(
            o,
            &|p| p.extension().is_some_and(|e| e == "sh"),
            &mut scripts,
        );
    }
    assert!(dockerfiles.len() >= 14, "{dockerfiles:?}");
    for f in &dockerfiles {
        let (ok, text) = check(
            Command::new("hadolint")
                .args(["--no-color", "--failure-threshold", "warning"])
                .arg(f),
        );
        if !ok {
            failures.push(format!("hadolint {}:\n{text}", f.display()));
        }
    }
    for f in &scripts {
        let (ok, text) = check(Command::new("shellcheck").arg(f));
        if !ok {
            failures.push(format!("shellcheck {}:\n{text}", f.display()));
        }
    }
    let v2 = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    for o in &outs {
        let compose = o.join("compose");
        // One override per declared environment (`dev`, `prod`, `staging`, `production`...).
        let mut overrides: Vec<String> = std::fs::read_dir(&compose)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| {
                n.strip_prefix("docker-compose.")
                    .and_then(|rest| rest.strip_suffix("yaml"))
                    .is_some_and(|env| env.len() > 1)
            })
            .collect();
        overrides.sort();
        assert!(
            !overrides.is_empty(),
            "no override in {}",
            compose.display()
        );
        for overlay in overrides {
            let mut runs = vec![Command::new("docker-compose")];
            if v2 {
                let mut c = Command::new("docker");
                c.arg("compose");
                runs.push(c);
            }
            for mut c in runs {
                c.current_dir(&compose).args([
                    "-f",
                    "docker-compose.yaml",
                    "-f",
                    &overlay,
                    "config",
                    "-q",
                ]);
                let (ok, text) = check(&mut c);
                if !ok {
                    failures.push(format!("{c:?} in {}:\n{text}", compose.display()));
                }
            }
        }
    }
    let mut overlays = 0;
    let mut rendered_files = Vec::new();
    let mut k8s_roots: Vec<PathBuf> = outs.iter().map(|o| o.join("kubernetes")).collect();
    k8s_roots.extend(import_and_corpus(work.path()));
    for k in &k8s_roots {
        let Ok(envs) = std::fs::read_dir(k.join("overlays")) else {
            continue;
        };
        for env in envs {
            let env = env.unwrap().path();
            let (ok, rendered) = check(Command::new("kubectl").arg("kustomize").arg(&env));
            if !ok {
                failures.push(format!("kubectl kustomize {}:\n{rendered}", env.display()));
                continue;
            }
            overlays += 1;
            let file = work.path().join(format!("rendered-{overlays}.yaml"));
            std::fs::write(&file, &rendered).unwrap();
            rendered_files.push(file);
        }
    }
    // One validator process for every rendered overlay.
    let (ok, text) = check(
        Command::new("kubernetes-validate")
            .args(["--strict", "--quiet", "-k", K8S_VERSION])
            .args(&rendered_files),
    );
    if !ok {
        failures.push(format!("kubernetes-validate --strict:\n{text}"));
    }
    assert!(overlays >= 150, "only {overlays} overlays rendered");
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The SARIF of `slipway check` validates against the official SARIF 2.1.0 schema
/// (installed from Microsoft's npm package by the test setup).
#[test]
#[ignore = "needs the SARIF schema and python jsonschema (scripts/setup-test-env.sh)"]
fn sarif_output_validates_against_the_official_schema() {
    let venv = std::env::var("SLIPWAY_TOOLS_VENV").unwrap_or_else(|_| "/opt/slipway-tools".into());
    let schema = format!(
        "{venv}/node/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"
    );
    let work = tempfile::tempdir().unwrap();
    let sarif = work.path().join("out.sarif");
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["check", "--format", "sarif"])
        .arg(root().join("fixtures/check"))
        .output()
        .unwrap();
    std::fs::write(&sarif, &out.stdout).unwrap();
    let script = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\ndoc = json.load(open(sys.argv[2]))\nerrors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc))\nfor e in errors[:10]: print(e.message, list(e.path))\nassert doc['runs'][0]['results'], 'no results'\nsys.exit(1 if errors else 0)\n";
    let (ok, text) = check(
        Command::new(format!("{venv}/bin/python"))
            .arg("-c")
            .arg(script)
            .arg(&schema)
            .arg(&sarif),
    );
    assert!(ok, "SARIF does not validate:\n{text}");
}

/// `check --deep` folds in hadolint, shellcheck, compose config and kustomize:
/// their findings appear with the tool's name, and generated output stays clean.
#[test]
#[ignore = "needs hadolint, shellcheck, docker-compose and kubectl"]
fn deep_check_folds_in_the_real_tools() {
    let planted = root().join("fixtures/check/planted");
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["check", "--deep", "--format", "json"])
        .arg(&planted)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    assert!(
        ids.contains(&"hadolint:DL3007") && ids.contains(&"DKR001"),
        "{ids:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "every tool ran: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Generated output passes its own strictest check, rendered overlays included:
    // the shop example and an imported compose project (three environments).
    for (input, file) in [
        ("examples/shop", "slipway.yaml"),
        ("fixtures/import/compose-multi", "compose.yaml"),
    ] {
        let work = tempfile::tempdir().unwrap();
        copy_tree(&root().join(input), work.path());
        if input.ends_with("compose-multi") {
            // The fixture names a build folder it does not carry; a user's project
            // has it, and `docker compose config` checks that it is there.
            std::fs::create_dir_all(work.path().join("web")).unwrap();
            std::fs::write(
                work.path().join("web/Dockerfile"),
                "FROM slipway-local/node:18\n",
            )
            .unwrap();
        }
        let gen = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["generate", file])
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(
            gen.status.success(),
            "{}",
            String::from_utf8_lossy(&gen.stderr)
        );
        let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args([
                "check",
                "--deep",
                "--profile",
                "production-guardrails",
                "--format",
                "json",
            ])
            .arg(work.path().join("infrastructure"))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // compose-multi's `web` is the user's own Dockerfile without a healthcheck:
        // `generate` reports it (GEN002); slipway cannot invent the endpoint.
        let findings: Vec<&serde_json::Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                !(input.ends_with("compose-multi")
                    && f["rule_id"] == "CMP004"
                    && f["message"].as_str().is_some_and(|m| m.contains("`web`")))
            })
            .collect();
        assert!(
            findings.is_empty(),
            "deep findings on the output generated from {input}: {findings:?}"
        );
    }
}

/// `check --deep` runs promtool and amtool on monitoring files: the broken fixtures
/// get their findings (promtool's at the rule's line), the clean ones none.
#[test]
#[ignore = "needs promtool and amtool (prometheus, prometheus-alertmanager)"]
fn deep_check_runs_promtool_and_amtool() {
    let deep = |dir: &str| -> Vec<serde_json::Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["check", "--deep", "--format", "json"])
            .arg(root().join(dir))
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("not installed"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    let tool = |f: &[serde_json::Value], id: &str| -> Vec<serde_json::Value> {
        f.iter().filter(|x| x["rule_id"] == id).cloned().collect()
    };
    let fires = deep("fixtures/check/OBS001/fires");
    let prom = tool(&fires, "promtool:check");
    assert_eq!(prom.len(), 2, "{fires:#?}");
    let rules = prom
        .iter()
        .find(|x| x["file"].as_str().unwrap().ends_with("api.yml"))
        .expect("promtool rejects the rules file");
    assert_eq!(rules["line"], 11, "{rules:#?}");
    assert!(rules["message"]
        .as_str()
        .unwrap()
        .contains("unclosed left parenthesis"));
    assert!(prom.iter().any(|x| x["message"]
        .as_str()
        .unwrap()
        .contains("multiple scrape configs")));
    let am = tool(&deep("fixtures/check/OBS002/fires"), "amtool:check");
    assert_eq!(am.len(), 1, "{am:#?}");
    assert!(am[0]["message"].as_str().unwrap().contains("not unique"));
    for clean in ["fixtures/check/OBS001/clean", "fixtures/check/OBS002/clean"] {
        assert_eq!(deep(clean), Vec::<serde_json::Value>::new(), "{clean}");
    }
}

/// The `monitoring` target's bundle, for every generated case that has one: the
/// Prometheus config and rules pass promtool, the generated alert tests pass
/// `promtool test rules` (every alert fires on its failing series and stays quiet
/// on the healthy one), every recording and alert expression parses, and
/// Alertmanager's config passes amtool.
#[test]
#[ignore = "needs promtool and amtool (prometheus, prometheus-alertmanager)"]
fn promtool_and_amtool_accept_the_monitoring_bundle() {
    let work = tempfile::tempdir().unwrap();
    let bundles: Vec<PathBuf> = generate_all(work.path())
        .into_iter()
        .map(|o| o.join("monitoring"))
        .filter(|m| m.is_dir())
        .collect();
    assert!(
        !bundles.is_empty(),
        "no generated case has the monitoring target"
    );
    for m in &bundles {
        let prom = m.join("prometheus");
        let mut rules = Vec::new();
        files(
            &prom.join("rules"),
            &|p| p.extension().is_some_and(|e| e == "yml"),
            &mut rules,
        );
        let mut tests = Vec::new();
        files(
            &prom.join("tests"),
            &|p| p.extension().is_some_and(|e| e == "yml"),
            &mut tests,
        );
        assert!(!rules.is_empty() && !tests.is_empty(), "{}", m.display());
        let runs: Vec<(&str, Command)> = vec![
            ("promtool check config", {
                let mut c = Command::new("promtool");
                c.args(["check", "config"]).arg(prom.join("prometheus.yml"));
                c
            }),
            ("promtool check rules", {
                let mut c = Command::new("promtool");
                c.args(["check", "rules"]).args(&rules);
                c
            }),
            ("promtool test rules", {
                let mut c = Command::new("promtool");
                c.args(["test", "rules"])
                    .args(&tests)
                    .current_dir(prom.join("tests"));
                c
            }),
            ("amtool check-config", {
                let mut c = Command::new("amtool");
                c.arg("check-config")
                    .arg(m.join("alertmanager/alertmanager.yml"));
                c
            }),
        ];
        for (what, mut cmd) in runs {
            let (ok, out) = check(&mut cmd);
            assert!(ok, "{what} refuses {}:\n{out}", m.display());
        }
        let doc = std::fs::read_to_string(m.join("ALERTS.md")).unwrap();
        for r in &rules {
            let text = std::fs::read_to_string(r).unwrap();
            for line in text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("runbook_url: "))
            {
                let anchor = line.trim_matches('"').split_once('#').unwrap().1;
                assert!(
                    doc.lines().any(|l| l
                        .strip_prefix("## ")
                        .is_some_and(|h| h.to_ascii_lowercase() == anchor)),
                    "{}: runbook {line} has no section in ALERTS.md",
                    r.display()
                );
            }
        }
    }
}
