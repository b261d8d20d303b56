//! GHA006 job-timeouts.

use super::jobs;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that every job that runs on a runner sets `timeout-minutes`.
    ///
    /// ## Why
    /// The default is six hours: a hung job holds a runner (and its billing) that long.
    ///
    /// ## Example
    /// ```yaml
    /// jobs: { test: { runs-on: ubuntu-latest, steps: [{ run: make test }] } }
    /// ```
    ///
    /// ## Fix
    /// `timeout-minutes: 15` (a little above the job's normal duration).
    ///
    /// Peers: actionlint runs ShellCheck on `run:` (the other half of this rule in RULES.md).
    Gha006 { id: "GHA006", name: "job-timeouts", severity: Warning, production: false, peers: "none (actionlint shellcheck for scripts)" }
}

impl Rule for Gha006 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.workflows() {
            for (k, job) in jobs(root) {
                if job.get("runs-on").is_some() && job.get("timeout-minutes").is_none() {
                    let id = k.as_scalar().unwrap_or("");
                    out.add(
                        &Self::META,
                        file,
                        k.span,
                        format!("job `{id}` has no `timeout-minutes`"),
                        Some("set timeout-minutes"),
                    );
                }
            }
        }
    }
}
