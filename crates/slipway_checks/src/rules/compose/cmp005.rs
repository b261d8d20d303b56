//! CMP005 image-pinned.

use super::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that every `image:` of a service that is not built here has a tag other
    /// than `latest`, or a digest.
    ///
    /// ## Why
    /// `postgres` today and `postgres` next month are different databases.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db: { image: postgres }
    /// ```
    ///
    /// ## Fix
    /// `image: postgres:16.4-bookworm` (or a digest).
    ///
    /// Peers: kube-linter latest-tag and checkov CKV_K8S_14 analogues.
    Cmp005 { id: "CMP005", name: "image-pinned", severity: Warning, production: true, peers: "kube-linter latest-tag (analogue)" }
}

impl Rule for Cmp005 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root, _) in tree.compose_files() {
            for (_, body) in services(root) {
                let Some(node) = body.get("image").filter(|_| body.get("build").is_none()) else {
                    continue;
                };
                if let Some(msg) = crate::rules::unpinned(node.as_scalar().unwrap_or("")) {
                    out.add(
                        &Self::META,
                        file,
                        node.span,
                        msg,
                        Some("pin a version tag or a digest"),
                    );
                }
            }
        }
    }
}
