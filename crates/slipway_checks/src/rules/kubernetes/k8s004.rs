//! K8S004 run-as-non-root.

use super::{containers, name_of, object_id, pods, security_bool, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every container runs with `runAsNonRoot: true` (pod or container level) and never with `runAsUser: 0`.
    ///
    /// ## Why
    /// Root in a container is root on the node after any escape; the kubelet can enforce non-root only when asked.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: { runAsUser: 0 }
    /// ```
    ///
    /// ## Fix
    /// Set `runAsNonRoot: true` and a numeric `runAsUser` above 10000 in the pod's securityContext.
    ///
    /// Peers: checkov CKV_K8S_23, CKV_K8S_40; kube-linter run-as-non-root; Polaris runAsRootAllowed.
    K8s004 { id: "K8S004", name: "run-as-non-root", severity: Error, production: true, peers: "checkov CKV_K8S_23, CKV_K8S_40; kube-linter run-as-non-root; Polaris runAsRootAllowed" }
}

impl Rule for K8s004 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            for (c, _) in containers(pod) {
                let user = c
                    .get("securityContext")
                    .and_then(|s| s.get("runAsUser"))
                    .or_else(|| pod.get("securityContext").and_then(|s| s.get("runAsUser")))
                    .and_then(Node::as_u64);
                if security_bool(pod, c, "runAsNonRoot") != Some(true) || user == Some(0) {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} may run as root",
                            name_of(c),
                            object_id(obj)
                        ),
                        Some("set runAsNonRoot: true and a numeric non-root runAsUser"),
                    );
                }
            }
        }
    }
}
