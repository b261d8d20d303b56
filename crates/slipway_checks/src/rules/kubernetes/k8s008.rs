//! K8S008 drop-all-capabilities.

use super::{containers, name_of, object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every container drops ALL capabilities and never adds SYS_ADMIN, NET_RAW, NET_ADMIN or ALL.
    ///
    /// ## Why
    /// The default set includes NET_RAW (packet spoofing) and more than most services need.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: { capabilities: { add: [SYS_ADMIN] } }
    /// ```
    ///
    /// ## Fix
    /// `capabilities: { drop: [ALL] }`, adding back only a narrow one if needed.
    ///
    /// Peers: checkov CKV_K8S_28, CKV_K8S_37, CKV_K8S_39; kube-linter drop-net-raw-capability; Polaris dangerousCapabilities.
    K8s008 { id: "K8S008", name: "drop-all-capabilities", severity: Error, production: true, peers: "checkov CKV_K8S_28, CKV_K8S_37, CKV_K8S_39; kube-linter drop-net-raw-capability; Polaris dangerousCapabilities" }
}

impl Rule for K8s008 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            for (c, _) in containers(pod) {
                let caps = c.get("securityContext").and_then(|s| s.get("capabilities"));
                let drops_all = caps
                    .and_then(|k| k.get("drop"))
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .any(|d| d.as_scalar() == Some("ALL"));
                if !patch && !drops_all {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} does not drop ALL capabilities",
                            name_of(c),
                            object_id(obj)
                        ),
                        Some("add capabilities: { drop: [ALL] }"),
                    );
                }
                for a in caps
                    .and_then(|k| k.get("add"))
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                {
                    if matches!(
                        a.as_scalar(),
                        Some("ALL" | "SYS_ADMIN" | "NET_RAW" | "NET_ADMIN")
                    ) {
                        out.add(
                            &Self::META,
                            file,
                            a.span,
                            format!(
                                "container `{}` of {} adds {}",
                                name_of(c),
                                object_id(obj),
                                a.as_scalar().unwrap_or("")
                            ),
                            Some("remove the capability"),
                        );
                    }
                }
            }
        }
    }
}
