//! K8S013 seccomp-runtime-default.

use super::{containers, name_of, object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that pods (or every container) use the `RuntimeDefault` (or `Localhost`) seccomp profile.
    ///
    /// ## Why
    /// Without it, containers can call every system call, including ones used in kernel exploits.
    ///
    /// ## Example
    /// ```yaml
    /// spec: { securityContext: { runAsNonRoot: true } }
    /// ```
    ///
    /// ## Fix
    /// `securityContext: { seccompProfile: { type: RuntimeDefault } }` on the pod.
    ///
    /// Peers: checkov CKV_K8S_31; kube-score container-seccomp-profile.
    K8s013 { id: "K8S013", name: "seccomp-runtime-default", severity: Warning, production: false, peers: "checkov CKV_K8S_31; kube-score container-seccomp-profile" }
}

impl Rule for K8s013 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            let ok = |n: Option<&Node>| {
                n.and_then(|s| s.get("seccompProfile"))
                    .and_then(|p| p.get("type"))
                    .and_then(Node::as_scalar)
                    .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
            };
            if ok(pod.get("securityContext")) {
                continue;
            }
            for (c, _) in containers(pod) {
                if !ok(c.get("securityContext")) {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} has no seccomp profile",
                            name_of(c),
                            object_id(obj)
                        ),
                        Some("set seccompProfile: { type: RuntimeDefault } on the pod"),
                    );
                }
            }
        }
    }
}
