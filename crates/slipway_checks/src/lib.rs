//! `slipway check`: files -> findings. Every file is found and parsed once
//! (`tree`), every rule runs over the parsed tree (`rules`), inline suppressions
//! are applied (`suppress`), and a profile sets severities (`profile`). Renderers for
//! JSON, SARIF and GitHub annotations live in `report`. No I/O beyond reading the
//! files under check; no network.

mod deep;
pub mod kustomize;
mod overlay;
pub mod parse;
pub mod profile;
pub mod report;
pub mod rules;
mod suppress;
pub mod tree;
mod walk;

pub use profile::{Base, Profile};
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
    /// What the user should know about the run that is not a finding: what
    /// `--deep` could not run, Terraform resources no rule covers, symlink loops
    /// not followed. Shown in every output format.
    pub notes: Vec<String>,
}

/// Checks every file under `paths` with `profile`.
#[must_use]
pub fn check(paths: &[PathBuf], profile: &Profile) -> CheckReport {
    check_with(paths, profile, false)
}

/// Checks, and with `deep` also runs the real tools that are installed.
#[must_use]
pub fn check_with(paths: &[PathBuf], profile: &Profile, deep: bool) -> CheckReport {
    let mut tree = Tree::load_filtered(paths, &|f| profile.excludes(f));
    tree.policy = profile.policy.clone();
    let mut items = collect(&tree, profile);
    let mut notes = tree.skipped.clone();
    notes.extend(rules::terraform::uncovered(&tree));
    if deep {
        let (more, n) = deep::run(&tree, &items);
        items.extend(more);
        notes.extend(n);
    }
    let findings = finish(&tree, profile, items);
    let report = CheckReport {
        files_checked: tree.files.len(),
        problems: tree.problems.clone(),
        sources: tree.sources.clone(),
        findings,
        notes,
    };
    // Freeing a thousand parsed files takes a few milliseconds: done on the pool,
    // while the caller renders the report.
    rayon::spawn(move || drop(tree));
    report
}

/// Checks one in-memory file with the default profile.
#[must_use]
pub fn check_text(name: &str, text: &str) -> Vec<Diagnostic> {
    let tree = Tree::from_text(name, text);
    let profile = Profile::default_profile();
    let items = collect(&tree, &profile);
    finish(&tree, &profile, items)
}

/// Every rule's findings, before suppressions. Rules run on every core; their
/// findings are joined in registry order.
fn collect(tree: &Tree, profile: &Profile) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let per_rule: Vec<Vec<Diagnostic>> = RULES
        .par_iter()
        .filter(|rule| profile.enabled(rule.meta()))
        .map(|rule| {
            let mut found = Findings { items: Vec::new() };
            rule.check(tree, &mut found);
            found.items
        })
        .collect();
    let mut out = Findings {
        items: per_rule.into_iter().flatten().collect(),
    };
    // SEC002 is the catch-all: where a structured rule already reports a secret at
    // the same place, keep only that one.
    let structured: Vec<(Option<String>, usize)> = out
        .items
        .iter()
        .filter(|d| {
            matches!(
                d.rule_id.as_str(),
                "CMP009" | "K8S016" | "DKR008" | "SEC001" | "SEC003" | "TF005"
            )
        })
        .filter_map(|d| {
            Some((
                d.file.clone(),
                tree.sources
                    .get(d.file.as_deref()?)?
                    .line_col(d.span?.start)
                    .0,
            ))
        })
        .collect();
    out.items.retain(|d| {
        d.rule_id != "SEC002"
            || !d
                .file
                .as_deref()
                .and_then(|f| tree.sources.get(f))
                .zip(d.span)
                .is_some_and(|(src, sp)| {
                    structured.contains(&(d.file.clone(), src.line_col(sp.start).0))
                })
    });
    out.items
}

/// Suppressions applied, severities from the profile, stable order.
fn finish(tree: &Tree, profile: &Profile, items: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut used = vec![false; profile.ignores.len()];
    let items: Vec<Diagnostic> = items
        .into_iter()
        .filter(|d| {
            let Some(ig) = profile.ignored(&d.rule_id, d.file.as_deref().unwrap_or("")) else {
                return true;
            };
            if let Some(i) = profile.ignores.iter().position(|x| std::ptr::eq(x, ig)) {
                used[i] = true;
            }
            false
        })
        .collect();
    let mut findings = suppress::apply(tree, items);
    for (ig, _) in profile.ignores.iter().zip(&used).filter(|(_, u)| !**u) {
        findings.push(
            Diagnostic::warning(
                "POL001",
                format!(
                    "the profile's suppression of {} ({}) matches no finding",
                    ig.rule, ig.reason
                ),
            )
            .help("remove it from the profile, or fix its `paths`"),
        );
    }
    for f in &mut findings {
        if let Some(rule) = rules::find(&f.rule_id) {
            f.severity = profile.severity(rule.meta());
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
