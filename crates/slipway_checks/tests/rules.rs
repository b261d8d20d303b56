//! A fixture per rule under `fixtures/check/<RULE>/`: `fires/` must produce the rule
//! (snapshotted), `clean/` must produce no finding at all. Every registered rule
//! has one.

use slipway_checks::{check, report, rules::RULES, Profile};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/check")
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_the_clean_one() {
    for rule in RULES {
        let id = rule.meta().id;
        let dir = fixtures().join(id);
        assert!(dir.is_dir(), "no fixture for {id}");
        // Rules that need an external tool are proven where the tool is installed.
        if dir.join("covered-by").is_file() {
            continue;
        }
        // A rule that needs settings (a budget, required labels) has a profile beside it.
        let profile = match std::fs::read_to_string(dir.join("profile.yaml")) {
            Ok(text) => {
                let name = dir.join("profile.yaml").to_string_lossy().into_owned();
                Profile::load(&slipway_diagnostics::SourceFile::new(name, text)).unwrap()
            }
            Err(_) => Profile::default_profile(),
        };
        let fires = check(&[dir.join("fires")], &profile);
        assert!(fires.problems.is_empty(), "{id}: {:?}", fires.problems);
        assert!(
            fires.findings.iter().any(|f| f.rule_id == id),
            "{id} did not fire: {:?}",
            fires.findings
        );
        let json = report::to_json(&fires.findings, &fires.sources, fires.files_checked);
        insta::assert_snapshot!(
            format!("rule__{id}"),
            serde_json::to_string_pretty(&json).unwrap()
        );
        let clean = check(&[dir.join("clean")], &profile);
        let found: Vec<String> = clean
            .findings
            .iter()
            .map(|f| format!("{} {}", f.rule_id, f.message))
            .collect();
        assert!(
            found.is_empty(),
            "{id} clean fixture has findings: {found:?}"
        );
    }
}

#[test]
fn production_guardrails_raises_production_rules_to_errors() {
    let dir = fixtures().join("CMP005/fires");
    let default = check(std::slice::from_ref(&dir), &Profile::default_profile());
    let strict = check(&[dir], &Profile::production());
    let sev = |r: &slipway_checks::CheckReport| {
        r.findings
            .iter()
            .find(|f| f.rule_id == "CMP005")
            .map(|f| f.severity)
    };
    assert_eq!(sev(&default), Some(slipway_diagnostics::Severity::Warning));
    assert_eq!(sev(&strict), Some(slipway_diagnostics::Severity::Error));
}

#[test]
fn sarif_has_one_rule_per_id_and_stable_fingerprints() {
    let dir = fixtures().join("DKR001/fires");
    let r = check(&[dir], &Profile::default_profile());
    let sarif = report::to_sarif(&r.findings, &r.sources);
    assert_eq!(sarif["version"], "2.1.0");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), RULES.len());
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "DKR001");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    let again = report::to_sarif(
        &check(
            &[fixtures().join("DKR001/fires")],
            &Profile::default_profile(),
        )
        .findings,
        &r.sources,
    );
    assert_eq!(
        result["partialFingerprints"],
        again["runs"][0]["results"][0]["partialFingerprints"]
    );
}

#[test]
fn suppressions_cover_containers_and_whole_patches() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("K8S007/fires/deployment.yaml")).unwrap();
    // On its own line above the container: covers every finding inside it.
    let suppressed = text.replace(
        "        - name: api\n",
        "        # slipway:ignore K8S007 the app writes to its root\n        - name: api\n",
    );
    std::fs::write(dir.path().join("deployment.yaml"), suppressed).unwrap();
    let r = check(&[dir.path().to_path_buf()], &Profile::default_profile());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let gh = report::to_github(
        &check(
            &[fixtures().join("K8S007/fires")],
            &Profile::default_profile(),
        )
        .findings,
        &r.sources,
    );
    assert!(
        gh.starts_with("::warning file=deployment.yaml,line="),
        "{gh}"
    );
}

/// The Dockerfile fuzz corpus replays without panics, spans inside the text.
#[test]
fn dockerfile_fuzz_corpus_replays() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dockerfile_parser");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let Ok(text) = String::from_utf8(std::fs::read(e.unwrap().path()).unwrap()) else {
            continue;
        };
        for d in slipway_checks::check_text("Dockerfile", &text) {
            let s = d.span.unwrap();
            assert!(
                s.end <= text.len()
                    && text.is_char_boundary(s.start)
                    && text.is_char_boundary(s.end)
            );
        }
        n += 1;
    }
    assert!(n >= 20);
}
