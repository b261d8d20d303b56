//! K8S017 explicit-namespace.

use super::{object_id, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that namespaced objects land in an explicit, non-default namespace:
    /// either `metadata.namespace` is set (and is not `default`), or a kustomization
    /// among the files checked sets `namespace:` for what it builds.
    ///
    /// ## Why
    /// Everything applied without a namespace goes to `default`, where it shares
    /// quotas, policies and RBAC with whatever else was applied the same way.
    ///
    /// ## Example
    /// ```yaml
    /// metadata: { name: api, namespace: default }
    /// ```
    ///
    /// ## Fix
    /// Set a namespace per application and environment (a kustomize overlay's `namespace:` does it for every object).
    ///
    /// Peers: checkov CKV_K8S_21; kube-linter use-namespace.
    K8s017 { id: "K8S017", name: "explicit-namespace", severity: Warning, production: false, peers: "checkov CKV_K8S_21; kube-linter use-namespace" }
}

const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

impl Rule for K8s017 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let kustomize_sets_namespace = tree
            .kustomizations
            .iter()
            .any(|k| k.file.text.lines().any(|l| l.starts_with("namespace:")));
        for (file, obj) in tree.objects() {
            let kind = obj.get("kind").and_then(Node::as_scalar).unwrap_or("");
            if CLUSTER_SCOPED.contains(&kind) || tree.is_patch(file) {
                continue;
            }
            match obj.get("metadata").and_then(|m| m.get("namespace")) {
                Some(ns) if ns.as_scalar() == Some("default") => {
                    out.add(
                        &Self::META,
                        file,
                        ns.span,
                        format!("{} is in the `default` namespace", object_id(obj)),
                        Some("use a namespace of its own"),
                    );
                }
                None if !kustomize_sets_namespace => {
                    let span = obj.get("metadata").map_or(obj.span, |m| m.span);
                    out.add(
                        &Self::META,
                        file,
                        span,
                        format!(
                            "{} has no namespace and no kustomization sets one",
                            object_id(obj)
                        ),
                        Some("set metadata.namespace, or `namespace:` in the kustomization"),
                    );
                }
                _ => {}
            }
        }
    }
}
