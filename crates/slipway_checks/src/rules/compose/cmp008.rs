//! CMP008 resource-limits.

use super::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks that every service in a base compose file limits its memory and CPU
    /// (`deploy.resources.limits` or `mem_limit`/`cpus`) and its number of processes
    /// (`pids_limit`).
    ///
    /// ## Why
    /// One leaking or fork-bombing container otherwise takes the whole host, and
    /// every other service on it, down.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api: { image: example/api:1.2.0 }
    /// ```
    ///
    /// ## Fix
    /// `deploy: { resources: { limits: { cpus: "0.5", memory: 512M } } }` and `pids_limit: 256`.
    ///
    /// Peers: KICS memory_not_limited, cpus_not_limited, pids_limit_not_set.
    Cmp008 { id: "CMP008", name: "resource-limits", severity: Warning, production: true, peers: "KICS memory_not_limited, cpus_not_limited, pids_limit_not_set" }
}

impl Rule for Cmp008 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.base_compose_files() {
            for (k, body) in services(root) {
                let limits = body
                    .get("deploy")
                    .and_then(|d| d.get("resources"))
                    .and_then(|r| r.get("limits"));
                let memory = limits.and_then(|l| l.get("memory")).is_some()
                    || body.get("mem_limit").is_some();
                let cpu =
                    limits.and_then(|l| l.get("cpus")).is_some() || body.get("cpus").is_some();
                let pids = body.get("pids_limit").and_then(Node::as_u64).is_some()
                    || limits.and_then(|l| l.get("pids")).is_some();
                let missing: Vec<&str> = [("memory", memory), ("cpus", cpu), ("pids_limit", pids)]
                    .iter()
                    .filter(|(_, ok)| !ok)
                    .map(|(n, _)| *n)
                    .collect();
                if !missing.is_empty() {
                    let name = k.as_scalar().unwrap_or("");
                    out.add(
                        &Self::META,
                        file,
                        k.span,
                        format!("service `{name}` has no limit for {}", missing.join(", ")),
                        Some("set deploy.resources.limits (cpus, memory) and pids_limit"),
                    );
                }
            }
        }
    }
}
