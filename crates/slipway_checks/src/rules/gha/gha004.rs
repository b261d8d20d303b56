//! GHA004 actions-pinned-to-sha.

use super::{jobs, steps};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that third-party actions (and reusable workflows) are pinned to a full
    /// 40-character commit SHA. Actions from `actions/` and `github/`, local actions
    /// (`./`) and `docker://` images are left to the image rules.
    ///
    /// ## Why
    /// A tag or branch is mutable: whoever controls the action's repository can change
    /// the code your workflow runs, with your secrets.
    ///
    /// ## Example
    /// ```yaml
    /// - uses: some-org/deploy-action@v2
    /// ```
    ///
    /// ## Fix
    /// `uses: some-org/deploy-action@8f4b7f84864484a7bf31766abe9204da3cbe65b3 # v2.1.0`
    ///
    /// Peers: none in checkov or actionlint (zizmor `unpinned-uses`).
    Gha004 { id: "GHA004", name: "actions-pinned-to-sha", severity: Error, production: true, peers: "zizmor unpinned-uses" }
}

fn pinned(uses: &str) -> bool {
    if uses.starts_with("./")
        || uses.starts_with("docker://")
        || uses.starts_with("actions/")
        || uses.starts_with("github/")
    {
        return true;
    }
    uses.rsplit_once('@')
        .is_some_and(|(_, r)| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Rule for Gha004 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.workflows() {
            for (_, job) in jobs(root) {
                let uses = job
                    .get("uses")
                    .into_iter()
                    .chain(steps(job).iter().filter_map(|s| s.get("uses")));
                for u in uses {
                    let text = u.as_scalar().unwrap_or("");
                    if !pinned(text) {
                        out.add(&Self::META, file, u.span, format!("`{text}` is not pinned to a commit SHA"), Some("pin the full 40-character commit SHA, with the version in a comment"));
                    }
                }
            }
        }
    }
}
