//! K8S018 high-availability.

use super::{labels, object_id, pod_labels, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use std::collections::{BTreeMap, BTreeSet};

rule! {
    /// ## What it does
    /// For workloads that run two or more replicas (their own `replicas`, or an HPA's
    /// `minReplicas`), checks that a PodDisruptionBudget selects their pods and that
    /// the pods spread across nodes (`topologySpreadConstraints` or pod
    /// anti-affinity, in the workload or in a kustomize patch for it).
    ///
    /// ## Why
    /// Replicas on one node die together; without a PDB a node drain can evict them
    /// all at once. Either way the second replica buys nothing.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec: { replicas: 3 }   # no PDB, no spread
    /// ```
    ///
    /// ## Fix
    /// Add a PodDisruptionBudget (`maxUnavailable: 1`) and a `topologySpreadConstraints` on `kubernetes.io/hostname`.
    ///
    /// Peers: kube-score deployment-has-poddisruptionbudget, deployment-has-host-podantiaffinity; kube-linter no-anti-affinity; Polaris missingPodDisruptionBudget.
    K8s018 { id: "K8S018", name: "high-availability", severity: Warning, production: false, peers: "kube-score deployment-has-poddisruptionbudget; kube-linter no-anti-affinity" }
}

fn name(o: &Node) -> &str {
    o.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_scalar)
        .unwrap_or("")
}

impl Rule for K8s018 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let all: Vec<_> = tree.objects().collect();
        let kind_is = |o: &Node, k: &str| o.get("kind").and_then(Node::as_scalar) == Some(k);
        let pdb_selectors: Vec<Vec<(String, String)>> = all
            .iter()
            .filter(|(_, o)| kind_is(o, "PodDisruptionBudget"))
            .map(|(_, o)| {
                labels(
                    o.get("spec")
                        .and_then(|s| s.get("selector"))
                        .and_then(|s| s.get("matchLabels")),
                )
            })
            .collect();
        // Indexes built once, so the rule stays linear in the number of objects.
        let mut hpa_min: BTreeMap<&str, u64> = BTreeMap::new();
        for (_, o) in all
            .iter()
            .filter(|(_, o)| kind_is(o, "HorizontalPodAutoscaler"))
        {
            let spec = o.get("spec");
            let target = spec
                .and_then(|s| s.get("scaleTargetRef"))
                .and_then(|t| t.get("name"))
                .and_then(Node::as_scalar);
            let min = spec
                .and_then(|s| s.get("minReplicas"))
                .and_then(Node::as_u64);
            if let (Some(t), Some(m)) = (target, min) {
                let e = hpa_min.entry(t).or_default();
                *e = (*e).max(m);
            }
        }
        // Spread may come from the workload itself or from a patch with its name.
        let spread: BTreeSet<&str> = all
            .iter()
            .filter(|(_, o)| {
                o.get("spec")
                    .and_then(|s| s.get("template"))
                    .and_then(|t| t.get("spec"))
                    .is_some_and(|s| {
                        s.get("topologySpreadConstraints").is_some()
                            || s.get("affinity")
                                .and_then(|a| a.get("podAntiAffinity"))
                                .is_some()
                    })
            })
            .map(|(_, o)| name(o))
            .collect();
        for (file, obj, _, patch) in pods(tree) {
            if patch || !(kind_is(obj, "Deployment") || kind_is(obj, "StatefulSet")) {
                continue;
            }
            let n = name(obj);
            let replicas = obj
                .get("spec")
                .and_then(|s| s.get("replicas"))
                .and_then(Node::as_u64)
                .unwrap_or(1)
                .max(hpa_min.get(n).copied().unwrap_or(0));
            if replicas < 2 {
                continue;
            }
            let own = pod_labels(obj);
            let mut missing = Vec::new();
            if !pdb_selectors
                .iter()
                .any(|sel| !sel.is_empty() && sel.iter().all(|p| own.contains(p)))
            {
                missing.push("a PodDisruptionBudget");
            }
            if !spread.contains(n) {
                missing.push("topology spread or pod anti-affinity");
            }
            if !missing.is_empty() {
                let span = obj.get("kind").map_or(obj.span, |k| k.span);
                out.add(
                    &Self::META,
                    file,
                    span,
                    format!(
                        "{} runs {replicas} replicas without {}",
                        object_id(obj),
                        missing.join(" and ")
                    ),
                    Some("add a PodDisruptionBudget and topologySpreadConstraints"),
                );
            }
        }
    }
}
