//! CMP003 healthy-dependencies.

use super::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks that a `depends_on` with `condition: service_healthy` targets a service
    /// that defines a healthcheck, and that `depends_on` has no cycle.
    ///
    /// ## Why
    /// Waiting for health on a service without a healthcheck fails at run time, and
    /// a cycle makes `up` refuse to start anything; neither shows up in a static
    /// `config` run.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api: { image: api:1, depends_on: { db: { condition: service_healthy } } }
    ///   db: { image: postgres:16 }
    /// ```
    ///
    /// ## Fix
    /// Give `db` a healthcheck (`pg_isready`), and break cycles.
    ///
    /// Peers: none static (a run-time failure in compose).
    Cmp003 { id: "CMP003", name: "healthy-dependencies", severity: Error, production: true, peers: "none (run-time failure only)" }
}

impl Rule for Cmp003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.base_compose_files() {
            let svcs = services(root);
            let body_of = |n: &str| {
                svcs.iter()
                    .find(|(k, _)| k.as_scalar() == Some(n))
                    .map(|(_, b)| *b)
            };
            let deps_of = |b: &Node| -> Vec<String> {
                match b.get("depends_on") {
                    Some(d) if d.as_seq().is_some() => d
                        .as_seq()
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|x| x.as_scalar().map(ToString::to_string))
                        .collect(),
                    Some(d) => d
                        .as_map()
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string))
                        .collect(),
                    None => Vec::new(),
                }
            };
            for (_, body) in &svcs {
                for (k, cond) in body.get("depends_on").and_then(Node::as_map).unwrap_or(&[]) {
                    let Some(target) = k.as_scalar() else {
                        continue;
                    };
                    let healthy =
                        cond.get("condition").and_then(Node::as_scalar) == Some("service_healthy");
                    let has_check = body_of(target)
                        .and_then(|b| b.get("healthcheck"))
                        .is_some_and(|h| h.get("disable").and_then(Node::as_bool) != Some(true));
                    if healthy && body_of(target).is_some() && !has_check {
                        out.add(&Self::META, file, k.span, format!("waits for `{target}` to be healthy, but `{target}` has no healthcheck"), Some("add a healthcheck to it, or wait for `service_started`"));
                    }
                }
            }
            // Cycles: follow edges from each service; report at the first service of each cycle.
            for (k, body) in &svcs {
                let Some(start) = k.as_scalar() else { continue };
                let mut stack: Vec<(String, Vec<String>)> = deps_of(body)
                    .into_iter()
                    .map(|d| (d, vec![start.to_string()]))
                    .collect();
                let mut seen = std::collections::BTreeSet::new();
                while let Some((n, path)) = stack.pop() {
                    if n == start {
                        let smallest = path.iter().min().is_some_and(|m| m == start);
                        if smallest {
                            out.add(
                                &Self::META,
                                file,
                                k.span,
                                format!("`depends_on` cycle: {} -> {start}", path.join(" -> ")),
                                Some("remove one of these edges"),
                            );
                        }
                        break;
                    }
                    if !seen.insert(n.clone()) {
                        continue;
                    }
                    if let Some(b) = body_of(&n) {
                        for d in deps_of(b) {
                            let mut p = path.clone();
                            p.push(n.clone());
                            stack.push((d, p));
                        }
                    }
                }
            }
        }
    }
}
