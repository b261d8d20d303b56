//! K8S002 no-removed-api-versions.

use super::{object_id, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Flags objects whose `apiVersion` has been removed from Kubernetes (for
    /// example `extensions/v1beta1` Deployments, `policy/v1beta1`
    /// PodDisruptionBudgets, `autoscaling/v2beta2` HPAs, `batch/v1beta1` CronJobs).
    ///
    /// ## Why
    /// The API server rejects them: the manifest applies on an old cluster and fails
    /// after the next upgrade.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: extensions/v1beta1
    /// kind: Ingress
    /// ```
    ///
    /// ## Fix
    /// Move to the stable version (`networking.k8s.io/v1`, `apps/v1`, `policy/v1`, `autoscaling/v2`, `batch/v1`).
    ///
    /// Peers: kube-score stable-version; kube-linter no-extensions-v1beta.
    K8s002 { id: "K8S002", name: "no-removed-api-versions", severity: Error, production: true, peers: "kube-score stable-version; kube-linter no-extensions-v1beta" }
}

/// `(apiVersion, kind or "*", replacement, removed in)`.
const REMOVED: &[(&str, &str, &str, &str)] = &[
    (
        "extensions/v1beta1",
        "*",
        "apps/v1 or networking.k8s.io/v1",
        "1.16/1.22",
    ),
    ("apps/v1beta1", "*", "apps/v1", "1.16"),
    ("apps/v1beta2", "*", "apps/v1", "1.16"),
    (
        "networking.k8s.io/v1beta1",
        "*",
        "networking.k8s.io/v1",
        "1.22",
    ),
    ("policy/v1beta1", "PodDisruptionBudget", "policy/v1", "1.25"),
    (
        "policy/v1beta1",
        "PodSecurityPolicy",
        "Pod Security Admission",
        "1.25",
    ),
    ("batch/v1beta1", "CronJob", "batch/v1", "1.25"),
    ("autoscaling/v2beta1", "*", "autoscaling/v2", "1.25"),
    ("autoscaling/v2beta2", "*", "autoscaling/v2", "1.26"),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        "rbac.authorization.k8s.io/v1",
        "1.22",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "*",
        "apiextensions.k8s.io/v1",
        "1.22",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        "flowcontrol.apiserver.k8s.io/v1",
        "1.29",
    ),
];

impl Rule for K8s002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj) in tree.objects() {
            let Some(api) = obj.get("apiVersion") else {
                continue;
            };
            let (version, kind) = (
                api.as_scalar().unwrap_or(""),
                obj.get("kind").and_then(Node::as_scalar).unwrap_or(""),
            );
            if let Some((_, _, to, when)) = REMOVED
                .iter()
                .find(|(v, k, _, _)| *v == version && (*k == "*" || *k == kind))
            {
                out.add(
                    &Self::META,
                    file,
                    api.span,
                    format!(
                        "{}: `{version}` was removed in Kubernetes {when}",
                        object_id(obj)
                    ),
                    Some(&format!("use {to}")),
                );
            }
        }
    }
}
