//! OBS002 alertmanager-receivers-resolve.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::{Monitoring, Tree};
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks an Alertmanager configuration: receiver names are unique, and the root
    /// route and every nested route name a receiver that is defined.
    ///
    /// ## Why
    /// Alertmanager refuses a config with an undefined receiver, and a reload that
    /// fails keeps the old routing without telling anyone.
    ///
    /// ## Example
    /// ```yaml
    /// route: { receiver: oncall }
    /// receivers: [{ name: on-call }]
    /// ```
    ///
    /// ## Fix
    /// Name an existing receiver, or define it.
    ///
    /// Peers: amtool check-config.
    Obs002 { id: "OBS002", name: "alertmanager-receivers-resolve", severity: Error, production: true, peers: "amtool check-config" }
}

fn routes<'a>(r: &'a Node, out: &mut Vec<&'a Node>) {
    if let Some(recv) = r.get("receiver") {
        out.push(recv);
    }
    for child in r.get("routes").and_then(Node::as_seq).unwrap_or(&[]) {
        routes(child, out);
    }
}

impl Rule for Obs002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.monitoring(Monitoring::Alertmanager) {
            let mut names: Vec<&str> = Vec::new();
            for r in root.get("receivers").and_then(Node::as_seq).unwrap_or(&[]) {
                let Some(n) = r.get("name") else { continue };
                let name = n.as_scalar().unwrap_or("");
                if names.contains(&name) {
                    out.add(
                        &Self::META,
                        file,
                        n.span,
                        format!("receiver `{name}` is defined twice"),
                        None,
                    );
                }
                names.push(name);
            }
            let mut used = Vec::new();
            if let Some(route) = root.get("route") {
                if route.get("receiver").is_none() {
                    out.add(
                        &Self::META,
                        file,
                        route.span,
                        "the root route has no `receiver`",
                        Some("the root route needs a default receiver"),
                    );
                }
                routes(route, &mut used);
            }
            for r in used {
                let name = r.as_scalar().unwrap_or("");
                if !names.contains(&name) {
                    let hint = crate::rules::did_you_mean(name, names.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"));
                    out.add(
                        &Self::META,
                        file,
                        r.span,
                        format!("route names receiver `{name}`, which is not defined"),
                        hint.as_deref(),
                    );
                }
            }
        }
    }
}
