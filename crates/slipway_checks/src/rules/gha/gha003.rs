//! GHA003 least-privilege-permissions.

use super::jobs;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that a workflow sets `permissions:` (at the top, or on every job), and
    /// never `write-all`.
    ///
    /// ## Why
    /// Without it the `GITHUB_TOKEN` gets the repository's default permissions, often
    /// write access to contents, packages and pull requests, for every step.
    ///
    /// ## Example
    /// ```yaml
    /// on: [push]
    /// jobs: { test: { runs-on: ubuntu-latest, steps: [{ run: make test }] } }
    /// ```
    ///
    /// ## Fix
    /// `permissions: { contents: read }` at the top, and more only on the job that needs it.
    ///
    /// Peers: checkov CKV2_GHA_1; actionlint [permissions] (validity only).
    Gha003 { id: "GHA003", name: "least-privilege-permissions", severity: Error, production: true, peers: "checkov CKV2_GHA_1" }
}

impl Rule for Gha003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.workflows() {
            let top = root.get("permissions");
            let all = jobs(root);
            for p in std::iter::once(top)
                .chain(all.iter().map(|(_, j)| j.get("permissions")))
                .flatten()
            {
                if p.as_scalar() == Some("write-all") {
                    out.add(
                        &Self::META,
                        file,
                        p.span,
                        "`permissions: write-all` gives every step write access",
                        Some("grant only what is needed, e.g. `contents: read`"),
                    );
                }
            }
            if top.is_none() {
                for (k, job) in &all {
                    if job.get("permissions").is_none() && job.get("uses").is_none() {
                        let id = k.as_scalar().unwrap_or("");
                        out.add(
                            &Self::META,
                            file,
                            k.span,
                            format!("job `{id}` runs with the default token permissions"),
                            Some("set `permissions:` at the top of the workflow or on this job"),
                        );
                    }
                }
            }
        }
    }
}
