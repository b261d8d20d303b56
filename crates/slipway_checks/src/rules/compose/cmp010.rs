//! CMP010 least-privilege-runtime.

use super::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks that services set `no-new-privileges`, do not run as `user: root`, and
    /// publish database and admin ports only on 127.0.0.1.
    ///
    /// ## Why
    /// `no-new-privileges` stops setuid binaries from regaining root; a database
    /// port published on all interfaces is reachable from the whole network.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db: { image: postgres:16, ports: ["5432:5432"] }
    /// ```
    ///
    /// ## Fix
    /// `security_opt: ["no-new-privileges:true"]`, and `ports: ["127.0.0.1:5432:5432"]` (or none).
    ///
    /// Peers: KICS no_new_privileges_not_set, container_traffic_not_bound_to_host_interface.
    Cmp010 { id: "CMP010", name: "least-privilege-runtime", severity: Warning, production: false, peers: "KICS no_new_privileges_not_set, container_traffic_not_bound_to_host_interface" }
}

const DB_PORTS: &[&str] = &[
    "5432", "3306", "6379", "27017", "5672", "15672", "9200", "11211", "1433", "2379", "8086",
    "9042",
];

impl Rule for Cmp010 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root, is_override) in tree.compose_files() {
            for (k, body) in services(root) {
                let name = k.as_scalar().unwrap_or("");
                let nnp = body
                    .get("security_opt")
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .any(|o| {
                        o.as_scalar().is_some_and(|s| {
                            s.starts_with("no-new-privileges") && !s.ends_with("false")
                        })
                    });
                if !is_override && !nnp {
                    out.add(
                        &Self::META,
                        file,
                        k.span,
                        format!("service `{name}` does not set `no-new-privileges`"),
                        Some("add `security_opt: [\"no-new-privileges:true\"]`"),
                    );
                }
                if let Some(u) = body
                    .get("user")
                    .filter(|u| matches!(u.as_scalar(), Some("root" | "0" | "0:0" | "root:root")))
                {
                    out.add(
                        &Self::META,
                        file,
                        u.span,
                        format!("service `{name}` runs as root"),
                        Some("run as a numeric non-root user"),
                    );
                }
                for p in body.get("ports").and_then(Node::as_seq).unwrap_or(&[]) {
                    let Some(s) = p.as_scalar() else { continue };
                    let parts: Vec<&str> = s.split('/').next().unwrap_or("").split(':').collect();
                    let container = parts.last().copied().unwrap_or("");
                    let bound_local = parts.len() == 3
                        && (parts[0] == "127.0.0.1"
                            || parts[0] == "[::1]"
                            || parts[0] == "localhost");
                    if parts.len() >= 2 && DB_PORTS.contains(&container) && !bound_local {
                        out.add(
                            &Self::META,
                            file,
                            p.span,
                            format!("port {container} of `{name}` is published on every interface"),
                            Some("publish it on 127.0.0.1 only, or not at all"),
                        );
                    }
                }
            }
        }
    }
}
