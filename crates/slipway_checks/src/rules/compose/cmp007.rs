//! CMP007 no-sensitive-mounts.

use super::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Flags bind mounts of the Docker socket and of sensitive host paths (`/`,
    /// `/etc`, `/proc`, `/sys`, `/root`, `/boot`, `/var/run`, `/var/lib/docker`).
    ///
    /// ## Why
    /// Access to the Docker socket is root on the host; the others expose host
    /// configuration and credentials.
    ///
    /// ## Example
    /// ```yaml
    /// volumes: [/var/run/docker.sock:/var/run/docker.sock]
    /// ```
    ///
    /// ## Fix
    /// Talk to the engine through an API with its own credentials; mount only what the service needs.
    ///
    /// Peers: KICS docker_socket_mounted_in_container, volume_has_sensitive_host_directory.
    Cmp007 { id: "CMP007", name: "no-sensitive-mounts", severity: Error, production: true, peers: "KICS docker_socket_mounted_in_container, volume_has_sensitive_host_directory" }
}

const SENSITIVE: &[&str] = &[
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/root",
    "/boot",
    "/var/run",
    "/run",
    "/var/lib/docker",
    "/dev",
];

impl Rule for Cmp007 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root, _) in tree.compose_files() {
            for (k, body) in services(root) {
                for v in body.get("volumes").and_then(Node::as_seq).unwrap_or(&[]) {
                    let source = v
                        .as_scalar()
                        .map(|s| s.split(':').next().unwrap_or("").to_string())
                        .or_else(|| {
                            v.get("source")
                                .and_then(Node::as_scalar)
                                .map(ToString::to_string)
                        })
                        .unwrap_or_default();
                    let trimmed = source.trim_end_matches('/');
                    let trimmed = if trimmed.is_empty() && source.starts_with('/') {
                        "/"
                    } else {
                        trimmed
                    };
                    if source.ends_with("docker.sock") || SENSITIVE.contains(&trimmed) {
                        let name = k.as_scalar().unwrap_or("");
                        out.add(
                            &Self::META,
                            file,
                            v.span,
                            format!("service `{name}` mounts the host's `{source}`"),
                            Some("remove the mount; give the service only what it needs"),
                        );
                    }
                }
            }
        }
    }
}
