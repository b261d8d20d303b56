//! POL001 unused-suppression. Findings come from the suppression pass
//! (`crate::suppress`), which knows which suppressions matched; the rule itself only
//! carries the metadata and documentation.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Reports a `# slipway:ignore RULE reason` comment that suppresses nothing.
    ///
    /// ## Why
    /// Suppressions outlive the problems they were written for, or silently miss
    /// because they sit on the wrong line; either way they hide what they claim to.
    ///
    /// ## Example
    /// ```yaml
    /// # slipway:ignore K8S007 the app writes its cache here
    /// replicas: 2
    /// ```
    ///
    /// ## Fix
    /// Remove it, or move it onto the line or the entry (container, pod template,
    /// patch) that has the finding.
    ///
    /// Peers: ruff RUF100 (unused noqa).
    Pol001 { id: "POL001", name: "unused-suppression", severity: Warning, production: false, peers: "ruff RUF100 (analogue)" }
}

impl Rule for Pol001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, _tree: &Tree, _out: &mut Findings) {}
}
