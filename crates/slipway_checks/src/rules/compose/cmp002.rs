//! CMP002 references-resolve.

use super::{declared, services};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks every reference in a compose file: `depends_on` services, named
    /// volumes, secrets and networks must be defined. Reports all of them, not just
    /// the first.
    ///
    /// ## Why
    /// `docker compose config` stops at the first broken reference; a file with five
    /// takes five round trips to fix.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api:
    ///     depends_on: [dbb]
    ///     volumes: [data:/var/lib/api]
    /// ```
    ///
    /// ## Fix
    /// Define the missing service, or declare the volume, secret or network at the top level.
    ///
    /// Peers: `docker compose config` (stops at the first).
    Cmp002 { id: "CMP002", name: "references-resolve", severity: Error, production: true, peers: "docker compose config" }
}

impl Rule for Cmp002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.base_compose_files() {
            let names: Vec<&str> = services(root)
                .iter()
                .filter_map(|(k, _)| k.as_scalar())
                .collect();
            let volumes = declared(root, "volumes");
            let secrets = declared(root, "secrets");
            let networks = declared(root, "networks");
            for (_, body) in services(root) {
                let deps: Vec<&Node> = match body.get("depends_on") {
                    Some(d) if d.as_seq().is_some() => d.as_seq().unwrap_or(&[]).iter().collect(),
                    Some(d) => d.as_map().unwrap_or(&[]).iter().map(|(k, _)| k).collect(),
                    None => Vec::new(),
                };
                for d in deps {
                    if let Some(n) = d.as_scalar().filter(|n| !names.contains(n)) {
                        out.add(
                            &Self::META,
                            file,
                            d.span,
                            format!("`depends_on` names `{n}`, which is not a service here"),
                            Some("define the service or fix the name"),
                        );
                    }
                }
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
                    let is_named_volume = !source.is_empty()
                        && !source.starts_with(['.', '/', '~', '$'])
                        && !source.contains('/');
                    if is_named_volume
                        && v.get("type")
                            .and_then(Node::as_scalar)
                            .is_none_or(|t| t == "volume")
                        && !volumes.contains(&source)
                    {
                        out.add(
                            &Self::META,
                            file,
                            v.span,
                            format!("volume `{source}` is not declared under top-level `volumes:`"),
                            Some("declare it: `volumes: { NAME: {} }`"),
                        );
                    }
                }
                for (section, known) in [("secrets", &secrets), ("networks", &networks)] {
                    let refs: Vec<&Node> = match body.get(section) {
                        Some(s) if s.as_seq().is_some() => s
                            .as_seq()
                            .unwrap_or(&[])
                            .iter()
                            .map(|i| i.get("source").unwrap_or(i))
                            .collect(),
                        Some(s) => s.as_map().unwrap_or(&[]).iter().map(|(k, _)| k).collect(),
                        None => Vec::new(),
                    };
                    for r in refs {
                        if let Some(n) = r.as_scalar().filter(|n| {
                            !(known.iter().any(|k| k == n)
                                || section == "networks" && *n == "default")
                        }) {
                            out.add(
                                &Self::META,
                                file,
                                r.span,
                                format!(
                                    "{} `{n}` is not declared at the top level",
                                    &section[..section.len() - 1]
                                ),
                                Some("declare it under the top-level section"),
                            );
                        }
                    }
                }
            }
        }
    }
}
