//! GHA001 workflow-valid.

use super::{jobs, steps};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks a workflow's structure: known top-level keys, triggers and jobs present,
    /// every job with `runs-on` (or a reusable `uses`), every step with `uses` or
    /// `run`, and every `needs:` naming a job of the workflow.
    ///
    /// ## Why
    /// GitHub reports these only when the workflow is triggered, often on the default
    /// branch after the merge.
    ///
    /// ## Example
    /// ```yaml
    /// jobs:
    ///   deploy: { runs-on: ubuntu-latest, needs: [buid], steps: [{ run: make deploy }] }
    /// ```
    ///
    /// ## Fix
    /// Name existing jobs in `needs:`, and give each job a runner and each step an action or a command.
    ///
    /// Peers: actionlint [syntax-check], [job-needs].
    Gha001 { id: "GHA001", name: "workflow-valid", severity: Error, production: true, peers: "actionlint syntax-check, job-needs" }
}

const TOP: &[&str] = &[
    "name",
    "run-name",
    "on",
    "true",
    "permissions",
    "env",
    "defaults",
    "concurrency",
    "jobs",
];

impl Rule for Gha001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.workflows() {
            for (k, _) in root.as_map().unwrap_or(&[]) {
                let key = k.as_scalar().unwrap_or("");
                if !TOP.contains(&key) {
                    let hint = crate::rules::did_you_mean(key, TOP.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"));
                    out.add(
                        &Self::META,
                        file,
                        k.span,
                        format!("unknown top-level key `{key}`"),
                        hint.as_deref(),
                    );
                }
            }
            if root.get("on").or_else(|| root.get("true")).is_none() {
                out.add(
                    &Self::META,
                    file,
                    root.span,
                    "the workflow has no `on:` trigger",
                    Some("add `on: [push]` or the events it should run on"),
                );
            }
            let all = jobs(root);
            if all.is_empty() {
                out.add(
                    &Self::META,
                    file,
                    root.span,
                    "the workflow has no jobs",
                    None,
                );
            }
            let names: Vec<&str> = all.iter().filter_map(|(k, _)| k.as_scalar()).collect();
            for (k, job) in &all {
                let id = k.as_scalar().unwrap_or("");
                if job.get("runs-on").is_none() && job.get("uses").is_none() {
                    out.add(
                        &Self::META,
                        file,
                        k.span,
                        format!("job `{id}` has neither `runs-on` nor `uses`"),
                        Some("add `runs-on: ubuntu-24.04`"),
                    );
                }
                let needs: Vec<&Node> = match job.get("needs") {
                    Some(n) if n.as_seq().is_some() => n.as_seq().unwrap_or(&[]).iter().collect(),
                    Some(n) => vec![n],
                    None => Vec::new(),
                };
                for n in needs {
                    let target = n.as_scalar().unwrap_or("");
                    if !names.contains(&target) {
                        let hint = crate::rules::did_you_mean(target, names.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"));
                        out.add(
                            &Self::META,
                            file,
                            n.span,
                            format!("job `{id}` needs `{target}`, which is not a job here"),
                            hint.as_deref(),
                        );
                    }
                }
                for s in steps(job) {
                    if s.get("uses").is_none() && s.get("run").is_none() {
                        out.add(
                            &Self::META,
                            file,
                            s.span,
                            format!("a step of job `{id}` has neither `uses` nor `run`"),
                            None,
                        );
                    }
                }
            }
        }
    }
}
