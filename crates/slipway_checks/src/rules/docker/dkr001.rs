//! DKR001 base-image-pinned.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that every `FROM` names an explicit tag other than `latest`, or a digest.
    ///
    /// ## Why
    /// An untagged or `latest` base changes under you: the same Dockerfile builds a
    /// different image tomorrow, and a rollback no longer restores yesterday's system.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:latest
    /// ```
    ///
    /// ## Fix
    /// `FROM python:3.12-slim-bookworm`, or pin a digest (`@sha256:...`).
    ///
    /// Peers: hadolint DL3006, DL3007; checkov CKV_DOCKER_7; Trivy DS001.
    Dkr001 { id: "DKR001", name: "base-image-pinned", severity: Warning, production: true, peers: "hadolint DL3006, DL3007; checkov CKV_DOCKER_7" }
}

impl Rule for Dkr001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            let mut earlier: Vec<&str> = Vec::new();
            for stage in &df.stages {
                let image = stage.image.as_str();
                let is_stage = earlier.iter().any(|n| n.eq_ignore_ascii_case(image));
                if let Some(n) = &stage.name {
                    earlier.push(n);
                }
                if is_stage || image == "scratch" {
                    continue;
                }
                if let Some(msg) = crate::rules::unpinned(image) {
                    let span = df.instructions[stage.from].span;
                    out.add(
                        &Self::META,
                        file,
                        span,
                        format!("base {msg}"),
                        Some("pin an explicit version tag (or a digest)"),
                    );
                }
            }
        }
    }
}
