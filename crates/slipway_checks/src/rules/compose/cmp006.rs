//! CMP006 no-host-privileges.

use super::{key_node, services};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Flags `privileged: true`, `cap_add` of ALL or SYS_ADMIN, and sharing the
    /// host's network, PID, IPC or user namespaces.
    ///
    /// ## Why
    /// Each one removes a wall between the container and the host; together they
    /// make the container the host.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   agent: { image: agent:1, privileged: true, network_mode: host }
    /// ```
    ///
    /// ## Fix
    /// Remove them; add only the narrow capability a process really needs.
    ///
    /// Peers: KICS privileged_containers_enabled, shared_host_network_namespace, host_namespace_is_shared, container_capabilities_unrestricted.
    Cmp006 { id: "CMP006", name: "no-host-privileges", severity: Error, production: true, peers: "KICS privileged_containers_enabled, shared_host_network_namespace, host_namespace_is_shared" }
}

impl Rule for Cmp006 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root, _) in tree.compose_files() {
            for (k, body) in services(root) {
                let name = k.as_scalar().unwrap_or("");
                if body.get("privileged").and_then(Node::as_bool) == Some(true) {
                    out.add(
                        &Self::META,
                        file,
                        key_node(body, "privileged").unwrap_or(k).span,
                        format!("service `{name}` is privileged"),
                        Some("remove `privileged: true`"),
                    );
                }
                for cap in body.get("cap_add").and_then(Node::as_seq).unwrap_or(&[]) {
                    let c = cap.as_scalar().unwrap_or("").trim_start_matches("CAP_");
                    if matches!(
                        c,
                        "ALL" | "SYS_ADMIN" | "NET_ADMIN" | "SYS_PTRACE" | "SYS_MODULE"
                    ) {
                        out.add(
                            &Self::META,
                            file,
                            cap.span,
                            format!("service `{name}` adds capability {c}"),
                            Some("drop it; grant a narrower capability if one is needed"),
                        );
                    }
                }
                for key in ["network_mode", "pid", "ipc", "userns_mode"] {
                    if let Some(v) = body.get(key).filter(|v| v.as_scalar() == Some("host")) {
                        out.add(
                            &Self::META,
                            file,
                            v.span,
                            format!("service `{name}` shares the host's {key}"),
                            Some("remove it"),
                        );
                    }
                }
            }
        }
    }
}
