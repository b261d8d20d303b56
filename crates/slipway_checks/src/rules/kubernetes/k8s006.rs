//! K8S006 not-privileged.

use super::{containers, name_of, object_id, pods, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Flags containers with `privileged: true`.
    ///
    /// ## Why
    /// A privileged container has every capability and every device of the node.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: { privileged: true }
    /// ```
    ///
    /// ## Fix
    /// Remove it; grant the one capability needed, if any.
    ///
    /// Peers: checkov CKV_K8S_16; kube-linter privileged-container; Polaris runAsPrivileged.
    K8s006 { id: "K8S006", name: "not-privileged", severity: Error, production: true, peers: "checkov CKV_K8S_16; kube-linter privileged-container; Polaris runAsPrivileged" }
}

impl Rule for K8s006 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, _) in pods(tree) {
            for (c, _) in containers(pod) {
                if let Some(p) = c
                    .get("securityContext")
                    .and_then(|s| s.get("privileged"))
                    .filter(|p| p.as_bool() == Some(true))
                {
                    out.add(
                        &Self::META,
                        file,
                        p.span,
                        format!(
                            "container `{}` of {} is privileged",
                            name_of(c),
                            object_id(obj)
                        ),
                        Some("remove privileged: true"),
                    );
                }
            }
        }
    }
}
