//! GHA005 no-untrusted-checkout-on-privileged-trigger.

use super::{jobs, steps, triggers};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Flags workflows triggered by `pull_request_target` or `workflow_run` that
    /// check out the pull request's head (`ref: ${{ github.event.pull_request.head.sha }}`
    /// or `head.ref`, or the triggering run's head).
    ///
    /// ## Why
    /// Those triggers run with the base repository's secrets and a write token; checking
    /// out and building the untrusted head hands both to whoever opened the pull request.
    ///
    /// ## Example
    /// ```yaml
    /// on: pull_request_target
    /// jobs: { build: { steps: [{ uses: actions/checkout@v4, with: { ref: "${{ github.event.pull_request.head.sha }}" } }] } }
    /// ```
    ///
    /// ## Fix
    /// Use `pull_request` for untrusted code, or split the privileged part into a separate workflow that never runs the head's code.
    ///
    /// Peers: zizmor `dangerous-triggers`; checkov CKV_GHA_7 (dispatch inputs).
    Gha005 { id: "GHA005", name: "no-untrusted-checkout-on-privileged-trigger", severity: Error, production: true, peers: "zizmor dangerous-triggers" }
}

impl Rule for Gha005 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.workflows() {
            let t = triggers(root);
            if !t
                .iter()
                .any(|x| x == "pull_request_target" || x == "workflow_run")
            {
                continue;
            }
            for (_, job) in jobs(root) {
                for s in steps(job) {
                    let checkout = s
                        .get("uses")
                        .and_then(Node::as_scalar)
                        .is_some_and(|u| u.starts_with("actions/checkout"));
                    let Some(r) = s.get("with").and_then(|w| w.get("ref")) else {
                        continue;
                    };
                    let text = r.as_scalar().unwrap_or("");
                    if checkout
                        && (text.contains("head.sha")
                            || text.contains("head.ref")
                            || text.contains("head_sha")
                            || text.contains("head_branch"))
                    {
                        out.add(&Self::META, file, r.span, format!("checks out untrusted code (`{text}`) in a workflow that runs with secrets"), Some("use `pull_request`, or never build the head in this workflow"));
                    }
                }
            }
        }
    }
}
