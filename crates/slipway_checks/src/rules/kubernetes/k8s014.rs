//! K8S014 dedicated-service-account.

use super::{object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that pods use their own ServiceAccount (not `default`) and do not mount its token unless they need the API.
    ///
    /// ## Why
    /// A mounted token is a credential for the Kubernetes API in every pod an attacker lands in.
    ///
    /// ## Example
    /// ```yaml
    /// spec: { containers: [...] }
    /// ```
    ///
    /// ## Fix
    /// `serviceAccountName: api` and `automountServiceAccountToken: false`.
    ///
    /// Peers: checkov CKV_K8S_38, CKV_K8S_41; kube-linter default-service-account; Polaris automountServiceAccountToken.
    K8s014 { id: "K8S014", name: "dedicated-service-account", severity: Warning, production: false, peers: "checkov CKV_K8S_38, CKV_K8S_41; kube-linter default-service-account; Polaris automountServiceAccountToken" }
}

impl Rule for K8s014 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        // ServiceAccounts that switch token automount off, found once.
        let quiet: std::collections::BTreeSet<&str> = tree
            .objects()
            .filter(|(_, o)| {
                o.get("kind").and_then(Node::as_scalar) == Some("ServiceAccount")
                    && o.get("automountServiceAccountToken")
                        .and_then(Node::as_bool)
                        == Some(false)
            })
            .filter_map(|(_, o)| {
                o.get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_scalar)
            })
            .collect();
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            let sa = pod
                .get("serviceAccountName")
                .and_then(Node::as_scalar)
                .unwrap_or("default");
            let automount_off = pod
                .get("automountServiceAccountToken")
                .and_then(Node::as_bool)
                == Some(false)
                || quiet.contains(sa);
            if sa == "default" || !automount_off {
                let span = pod.get("containers").map_or(obj.span, |c| c.span);
                let who = if sa == "default" {
                    "the default ServiceAccount".to_string()
                } else {
                    format!("ServiceAccount `{sa}`")
                };
                out.add(&Self::META, file, span, format!("{} uses {who} and mounts its token", object_id(obj)), Some("give it its own ServiceAccount and set automountServiceAccountToken: false"));
            }
        }
    }
}
