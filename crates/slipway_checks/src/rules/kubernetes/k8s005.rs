//! K8S005 no-privilege-escalation.

use super::{containers, name_of, object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every container sets `allowPrivilegeEscalation: false`.
    ///
    /// ## Why
    /// The default allows setuid binaries to gain privileges the process did not start with.
    ///
    /// ## Example
    /// ```yaml
    /// containers: [{ name: api, image: api:1.0 }]
    /// ```
    ///
    /// ## Fix
    /// `securityContext: { allowPrivilegeEscalation: false }` on each container.
    ///
    /// Peers: checkov CKV_K8S_20; kube-linter privilege-escalation-container; Polaris privilegeEscalationAllowed.
    K8s005 { id: "K8S005", name: "no-privilege-escalation", severity: Error, production: true, peers: "checkov CKV_K8S_20; kube-linter privilege-escalation-container; Polaris privilegeEscalationAllowed" }
}

impl Rule for K8s005 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            for (c, _) in containers(pod) {
                let v = c
                    .get("securityContext")
                    .and_then(|s| s.get("allowPrivilegeEscalation"))
                    .and_then(Node::as_bool);
                if v != Some(false) {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} allows privilege escalation",
                            name_of(c),
                            object_id(obj)
                        ),
                        Some("set allowPrivilegeEscalation: false"),
                    );
                }
            }
        }
    }
}
