//! K8S019 network-policy-coverage.

use super::{labels, object_id, pod_labels, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every workload's pods are selected by at least one NetworkPolicy
    /// in the files checked (an empty `podSelector` selects all pods).
    ///
    /// ## Why
    /// A pod no policy selects accepts traffic from anywhere in the cluster, so one
    /// compromised pod can reach it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment   # and no NetworkPolicy anywhere
    /// ```
    ///
    /// ## Fix
    /// Add a default-deny policy and allow exactly the traffic each workload needs.
    ///
    /// Peers: checkov CKV2_K8S_6; kube-score pod-networkpolicy; kube-linter non-isolated-pod.
    K8s019 { id: "K8S019", name: "network-policy-coverage", severity: Warning, production: false, peers: "checkov CKV2_K8S_6; kube-score pod-networkpolicy; kube-linter non-isolated-pod" }
}

impl Rule for K8s019 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let selectors: Vec<Vec<(String, String)>> = tree
            .objects()
            .filter(|(_, o)| o.get("kind").and_then(Node::as_scalar) == Some("NetworkPolicy"))
            .map(|(_, o)| {
                labels(
                    o.get("spec")
                        .and_then(|s| s.get("podSelector"))
                        .and_then(|p| p.get("matchLabels")),
                )
            })
            .collect();
        for (file, obj, _, patch) in pods(tree) {
            if patch {
                continue;
            }
            let own = pod_labels(obj);
            if !selectors
                .iter()
                .any(|sel| sel.iter().all(|p| own.contains(p)))
            {
                let span = obj.get("kind").map_or(obj.span, |k| k.span);
                out.add(
                    &Self::META,
                    file,
                    span,
                    format!("no NetworkPolicy selects the pods of {}", object_id(obj)),
                    Some("add a default-deny NetworkPolicy and explicit allows"),
                );
            }
        }
    }
}
