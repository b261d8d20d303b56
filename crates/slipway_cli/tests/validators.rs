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
        for env in ["dev", "prod"] {
            let overlay = format!("docker-compose.{env}.yaml");
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
    for o in &outs {
        let Ok(envs) = std::fs::read_dir(o.join("kubernetes/overlays")) else {
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
            let (ok, text) = check(
                Command::new("kubernetes-validate")
                    .args(["--strict", "--quiet", "-k", K8S_VERSION])
                    .arg(&file),
            );
            if !ok {
                failures.push(format!(
                    "kubernetes-validate --strict {}:\n{text}",
                    env.display()
                ));
            }
        }
    }
    assert!(overlays >= 30, "only {overlays} overlays rendered");
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
