//! Check precision on real-world shapes (issue 11). Each case under
//! `fixtures/check/precision/<case>/` is something `check` once got wrong on a real
//! tree: a false positive, a file skipped without a word, a silent "0 findings".
//! The true positives planted next to them must still be found.

use slipway_checks::tree::Monitoring;
use slipway_checks::{check, check_with, CheckReport, Profile};
use std::path::{Path, PathBuf};

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/check/precision")
        .join(name)
}

fn run(name: &str) -> CheckReport {
    let r = check(&[case(name)], &Profile::default_profile());
    assert!(r.problems.is_empty(), "{name}: {:?}", r.problems);
    r
}

/// `(file, line)` of every finding of `rule`.
fn at(r: &CheckReport, rule: &str) -> Vec<(String, usize)> {
    r.findings
        .iter()
        .filter(|f| f.rule_id == rule)
        .map(|f| {
            let file = f.file.clone().unwrap_or_default();
            let line = r
                .sources
                .get(&file)
                .unwrap()
                .line_col(f.span.unwrap().start)
                .0;
            (file, line)
        })
        .collect()
}

#[test]
fn sec002_leaves_istio_api_versions_names_and_secret_names_alone() {
    let r = run("sec002-istio");
    assert_eq!(
        at(&r, "SEC002"),
        vec![("settings.yaml".to_string(), 9)],
        "only the planted webhook secret: {:#?}",
        r.findings
    );
}

#[test]
fn sec002_leaves_workload_identity_paths_and_input_defaults_alone() {
    let r = run("sec002-workflow");
    assert_eq!(
        at(&r, "SEC002"),
        vec![(".github/workflows/deploy.yml".to_string(), 33)],
        "only the planted token: {:#?}",
        r.findings
    );
}

/// Over the real compose files in the shared corpus (68 files: images, commands,
/// healthchecks, URLs, build contexts), SEC002 on its own (the structured rules
/// switched off, so nothing hides it) fires only on keys whose name says they hold
/// a secret.
#[test]
fn sec002_on_the_compose_corpus_fires_only_on_secret_named_keys() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let roots: Vec<PathBuf> = ["awesome-compose", "compose-go"]
        .iter()
        .map(|d| corpus.join(d))
        .filter(|d| d.is_dir())
        .collect();
    if roots.is_empty() {
        eprintln!("skipped: ../shared/corpus is not beside this checkout");
        return;
    }
    let only_sec002 = slipway_diagnostics::SourceFile::new(
        "profile.yaml",
        format!(
            "rules: {{ {} }}\n",
            slipway_checks::rules::RULES
                .iter()
                .map(|r| r.meta().id)
                .filter(|id| *id != "SEC002")
                .map(|id| format!("{id}: off"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let profile = Profile::load(&only_sec002).unwrap();
    let r = check(&roots, &profile);
    assert!(r.files_checked >= 60, "{}", r.files_checked);
    for f in &r.findings {
        let file = f.file.as_deref().unwrap();
        let src = r.sources.get(file).unwrap();
        let line = src
            .lines
            .line_text(&src.text, src.line_col(f.span.unwrap().start).0);
        let key = line
            .trim_start()
            .trim_start_matches("- ")
            .split([':', '='])
            .next()
            .unwrap()
            .trim();
        assert!(
            slipway_checks::rules::secrets::is_secret_name(key),
            "{file}: {line}"
        );
    }
}

#[test]
fn k8s015_knows_what_kustomize_generators_create() {
    let r = run("k8s015-kustomize");
    let missing: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "K8S015")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        missing,
        vec!["Deployment/web: ConfigMap `web-confg` does not exist"],
        "generated ConfigMaps exist; the typo still does not"
    );
}

#[test]
fn monitoring_configs_are_recognised_by_content() {
    let r = run("monitoring-by-content");
    assert_eq!(r.files_checked, 2, "{:?}", r.sources);
    let tree = slipway_checks::Tree::load(&[case("monitoring-by-content")]);
    let names = |m| {
        tree.monitoring(m)
            .map(|(f, _)| f.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(Monitoring::Prometheus),
        vec!["monitoring/prometheus-config.yaml"]
    );
    assert_eq!(
        names(Monitoring::Alertmanager),
        vec!["monitoring/alerting.yaml"]
    );
}

#[test]
fn terraform_that_no_rule_covers_says_so() {
    let r = run("terraform-gcp");
    assert_eq!(
        r.notes,
        vec!["no rule covers google_*: 14 resources not checked beyond the secret scan"],
        "one note for the provider; `random_password` is a local helper"
    );
    let json = slipway_checks::report::report_json(&r);
    assert_eq!(json["notes"][0], r.notes[0].as_str());
    let sarif = slipway_checks::report::report_sarif(&r);
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"],
        r.notes[0].as_str()
    );
    assert!(slipway_checks::report::report_github(&r)
        .starts_with("::notice title=slipway check::no rule covers google_*: 14 resources"));
    // AWS resources are covered: no note.
    let aws = check(
        &[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/check/TF001/fires")],
        &Profile::default_profile(),
    );
    assert_eq!(aws.notes, Vec::<String>::new());
}

/// Two folders with a `..` symlink once made `check` run forever; one made a file be
/// checked once per path to it. Now the loops are not followed (and said so), and
/// a folder reached through a symlink is checked once.
#[cfg(unix)]
#[test]
fn symlink_loops_finish_and_each_file_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let manifest = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/check/K8S015/fires/deployment.yaml"),
    )
    .unwrap();
    for d in ["app", "tools"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
        std::os::unix::fs::symlink("..", root.join(d).join("parent")).unwrap();
    }
    std::fs::write(root.join("app/deployment.yaml"), &manifest).unwrap();
    std::os::unix::fs::symlink("app", root.join("current")).unwrap();
    let r = check(&[root.to_path_buf()], &Profile::default_profile());
    assert_eq!(r.files_checked, 1);
    let files: std::collections::BTreeSet<_> =
        r.findings.iter().filter_map(|f| f.file.clone()).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        vec!["app/deployment.yaml"]
    );
    let mut keys: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.span))
        .collect();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "no finding twice");
    // Each loop is named once per path that reaches it (`current/` is `app/`).
    assert_eq!(
        r.notes,
        vec![
            "app/parent is a symlink back to . (a loop); not followed",
            "current/parent is a symlink back to . (a loop); not followed",
            "tools/parent is a symlink back to . (a loop); not followed",
        ]
    );
}

/// `--deep` builds each kustomization: the base's own findings are not repeated as
/// K8S021, and what the prod overlay's patch adds is reported in the patch.
#[test]
#[ignore = "needs kubectl"]
fn deep_reports_only_what_an_overlay_adds_in_its_source() {
    let r = check_with(&[case("k8s021-overlay")], &Profile::default_profile(), true);
    let k8s021: Vec<(String, usize, &str)> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "K8S021")
        .map(|f| {
            let file = f.file.clone().unwrap();
            let line = r
                .sources
                .get(&file)
                .unwrap()
                .line_col(f.span.unwrap().start)
                .0;
            (file, line, f.message.as_str())
        })
        .collect();
    assert_eq!(
        k8s021,
        vec![(
            "overlays/prod/writable-root.yaml".to_string(),
            10,
            "`overlays/prod` renders a K8S007 finding: container `api` of Deployment/api has a writable root filesystem"
        )],
        "{:#?}",
        r.findings
    );
    assert!(
        Path::new(&r.findings[0].file.clone().unwrap()).starts_with("base"),
        "the base's own findings stay where they are"
    );
}
