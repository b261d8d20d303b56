//! DKR002 final-stage-non-root.

use super::final_stage;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that the final stage sets `USER`, and that the last `USER` is not root.
    ///
    /// ## Why
    /// A process running as root inside the container is one kernel bug away from
    /// root on the host; most images need no privileges at run time.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:20-bookworm-slim
    /// CMD ["node", "server.js"]
    /// ```
    ///
    /// ## Fix
    /// Create a user and switch to it by number: `USER 10001:10001`.
    ///
    /// Peers: hadolint DL3002 (only fires on an explicit root); checkov CKV_DOCKER_3, CKV_DOCKER_8; Trivy DS002.
    Dkr002 { id: "DKR002", name: "final-stage-non-root", severity: Warning, production: true, peers: "hadolint DL3002; checkov CKV_DOCKER_3, CKV_DOCKER_8" }
}

fn is_root(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or("").trim();
    u == "root" || u == "0"
}

impl Rule for Dkr002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            let Some(last) = final_stage(df) else {
                continue;
            };
            let users: Vec<_> = df
                .stage_instructions(last)
                .filter(|i| i.keyword == "USER")
                .collect();
            match users.last() {
                None => {
                    let from = &df.instructions[df.stages[last].from];
                    out.add(
                        &Self::META,
                        file,
                        from.span,
                        "the final stage runs as root (no `USER`)",
                        Some("add `USER 10001:10001` (a numeric non-root user) before CMD"),
                    );
                }
                Some(u) if is_root(&u.args) => {
                    out.add(
                        &Self::META,
                        file,
                        u.span,
                        format!("the final stage switches to `{}`", u.args.trim()),
                        Some("switch to a non-root numeric user"),
                    );
                }
                Some(_) => {}
            }
        }
    }
}
