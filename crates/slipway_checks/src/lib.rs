//! `slipway check`: files -> findings. Every file is found and parsed once
//! (`tree`), every rule runs over the parsed tree (`rules`), inline suppressions
//! are applied (`suppress`), and a profile sets severities (`profile`). Renderers for
//! JSON, SARIF and GitHub annotations live in `report`. No I/O beyond reading the
//! files under check; no network.

pub mod parse;
pub mod profile;
pub mod report;
pub mod rules;
mod suppress;
pub mod tree;

pub use profile::Profile;
pub use tree::Tree;

use rules::{Findings, RULES};
use slipway_diagnostics::{Diagnostic, SourceMap};
use std::path::PathBuf;

/// What a check run found.
pub struct CheckReport {
    pub findings: Vec<Diagnostic>,
    /// Files that could not be read or parsed (exit code 2).
    pub problems: Vec<Diagnostic>,
    pub sources: SourceMap,
    pub files_checked: usize,
}

/// Checks every file under `paths` with `profile`.
#[must_use]
pub fn check(paths: &[PathBuf], profile: &Profile) -> CheckReport {
    let tree = Tree::load(paths);
    let findings = run(&tree, *profile);
    CheckReport {
        files_checked: tree.files.len(),
        problems: tree.problems.clone(),
        sources: tree.sources.clone(),
        findings,
    }
}

/// Checks one in-memory file with the default profile.
#[must_use]
pub fn check_text(name: &str, text: &str) -> Vec<Diagnostic> {
    run(&Tree::from_text(name, text), Profile::Default)
}

fn run(tree: &Tree, profile: Profile) -> Vec<Diagnostic> {
    let mut out = Findings { items: Vec::new() };
    for rule in RULES {
        if profile.enabled(rule.meta()) {
            rule.check(tree, &mut out);
        }
    }
    let mut findings = suppress::apply(tree, out.items);
    for f in &mut findings {
        if let Some(meta) = rules::find(&f.rule_id) {
            f.severity = profile.severity(meta.meta());
        }
    }
    findings.sort_by(|a, b| {
        (&a.file, a.span.map(|s| s.start), &a.rule_id).cmp(&(
            &b.file,
            b.span.map(|s| s.start),
            &b.rule_id,
        ))
    });
    findings.dedup();
    findings
}
