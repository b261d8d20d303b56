//! Every diagnostic code a user can see is registered and explainable: the SPEC,
//! SCORE, L10, GEN and TPL ids written as string literals in `crates/*/src` are
//! exactly the ids of `slipway_diagnostics::CODES`, and `slipway explain` documents
//! each of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const FAMILIES: &[&str] = &["SPEC", "SCORE", "L10", "GEN", "TPL"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
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

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals `"SPEC009"`, `"L10001"`, ... in `text`, with their line.
fn literals(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices('"') {
            let rest = &line[at + 1..];
            for family in FAMILIES {
                let Some(digits) = rest.strip_prefix(family) else {
                    continue;
                };
                let d = digits.as_bytes();
                if d.len() > 3 && d[..3].iter().all(u8::is_ascii_digit) && d[3] == b'"' {
                    found.push((format!("{family}{}", &digits[..3]), i + 1));
                }
            }
        }
    }
    found
}

/// Every code literal under `crates/*/src` outside the registry itself: where each
/// is written, and whether it is written outside test code (a `tests.rs` file or
/// what follows a file's first `#[cfg(test)]`).
fn code_literals() -> BTreeMap<String, (Vec<String>, bool)> {
    let crates = root().join("crates");
    let registry = crates.join("slipway_diagnostics/src/codes");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    assert!(
        files.len() > 50,
        "the scan found only {} files",
        files.len()
    );
    let mut seen: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
    for file in files.iter().filter(|f| !f.starts_with(&registry)) {
        let text = std::fs::read_to_string(file).unwrap();
        let test_from = if file.ends_with("tests.rs") {
            0
        } else {
            text.find("#[cfg(test)]")
                .map_or(usize::MAX, |at| text[..at].lines().count() + 1)
        };
        let shown = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        for (id, line) in literals(&text) {
            let entry = seen.entry(id).or_default();
            entry.0.push(format!("{shown}:{line}"));
            entry.1 |= line < test_from;
        }
    }
    seen
}

#[test]
fn the_scan_finds_code_literals() {
    let found = literals("x(\"SPEC009\", \"L10001\") \"GEN01\" \"TPL0012\" SCORE001 \"DKR001\"");
    let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["SPEC009", "L10001"]);
}

#[test]
fn every_code_in_the_source_is_registered_and_every_registered_code_is_used() {
    let registered: BTreeSet<&str> = slipway_diagnostics::CODES.iter().map(|c| c.id).collect();
    let seen = code_literals();
    let unregistered: Vec<String> = seen
        .iter()
        .filter(|(id, _)| !registered.contains(id.as_str()))
        .map(|(id, (at, _))| format!("{id} (at {})", at.join(", ")))
        .collect();
    let unused: Vec<&str> = registered
        .iter()
        .copied()
        .filter(|id| {
            !seen
                .get(*id)
                .is_some_and(|(_, outside_tests)| *outside_tests)
        })
        .collect();
    assert!(
        unregistered.is_empty() && unused.is_empty(),
        "written in the source but not registered in slipway_diagnostics/src/codes: [{}]; \
         registered but reported by no code outside tests (remove them, the id stays retired): [{}]",
        unregistered.join("; "),
        unused.join(", ")
    );
}

#[test]
fn explain_documents_every_registered_code() {
    for c in slipway_diagnostics::CODES {
        let (code, out, err) = slipway(&["explain", c.id]);
        assert_eq!(code, 0, "explain {}: {err}", c.id);
        let head = format!(
            "{} {} ({}, {})\n\n",
            c.id,
            c.name,
            c.severity.as_str(),
            c.lifecycle
        );
        assert!(out.starts_with(&head), "explain {}:\n{out}", c.id);
        assert!(
            out.contains("\n## Fix\n") && !out.contains("\n ## "),
            "explain {}:\n{out}",
            c.id
        );
    }
    let (code, out, _) = slipway(&["explain", "spec009"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("SPEC009 invalid-value"), "{out}");
}

#[test]
fn an_unknown_code_is_refused_with_the_nearest_id() {
    let (code, out, err) = slipway(&["explain", "spec9"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no rule `spec9` (did you mean `SPEC009`?)"),
        "{err}"
    );
    let (code, _, err) = slipway(&["explain", "SPEC999"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no rule `SPEC999`") && !err.contains("did you mean"),
        "{err}"
    );
}

#[test]
fn rules_all_lists_the_codes_and_plain_rules_does_not() {
    let (code, plain, _) = slipway(&["rules"]);
    assert_eq!(code, 0);
    let (code, all, _) = slipway(&["rules", "--all"]);
    assert_eq!(code, 0);
    assert!(
        all.starts_with(&plain),
        "`--all` lists the rules first, as before"
    );
    for c in slipway_diagnostics::CODES {
        assert!(!plain.contains(c.id), "plain `rules` lists {}", c.id);
        assert!(
            all.lines().any(|l| l.split_whitespace().take(3).eq([
                c.id,
                c.name,
                c.severity.as_str()
            ])),
            "`rules --all` does not list {}",
            c.id
        );
    }
    let (_, json, _) = slipway(&["rules", "--all", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = v["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let registered: Vec<&str> = slipway_diagnostics::CODES.iter().map(|c| c.id).collect();
    assert_eq!(ids, registered);
    assert_eq!(v["codes"][0]["lifecycle"], "stable");
    let (_, json, _) = slipway(&["rules", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v.get("codes").is_none(),
        "plain `rules --format json` is unchanged"
    );
}
