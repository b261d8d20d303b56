//! CMP004 healthcheck-present.

use super::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks that every service in a base compose file has a healthcheck (and does
    /// not disable it).
    ///
    /// ## Why
    /// Without a healthcheck, "running" is all compose knows: dependents start too
    /// early and a hung process is never noticed.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api: { image: example/api:1.2.0 }
    /// ```
    ///
    /// ## Fix
    /// Add `healthcheck: { test: [CMD, ...] }` with a command the image has.
    ///
    /// Peers: KICS healthcheck_not_set.
    Cmp004 { id: "CMP004", name: "healthcheck-present", severity: Warning, production: true, peers: "KICS healthcheck_not_set" }
}

impl Rule for Cmp004 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.base_compose_files() {
            for (k, body) in services(root) {
                let hc = body.get("healthcheck");
                let disabled = hc.is_some_and(|h| {
                    h.get("disable").and_then(Node::as_bool) == Some(true)
                        || h.get("test")
                            .and_then(Node::as_seq)
                            .and_then(|t| t.first())
                            .and_then(Node::as_scalar)
                            == Some("NONE")
                });
                if hc.is_none() || disabled {
                    let name = k.as_scalar().unwrap_or("");
                    out.add(
                        &Self::META,
                        file,
                        k.span,
                        format!("service `{name}` has no healthcheck"),
                        Some("add a healthcheck"),
                    );
                }
            }
        }
    }
}
