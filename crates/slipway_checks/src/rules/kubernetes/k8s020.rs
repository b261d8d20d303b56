//! K8S020 rbac-least-privilege.

use super::{object_id, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Flags Roles and ClusterRoles with `*` in verbs, resources or apiGroups, and
    /// bindings to the `cluster-admin` ClusterRole.
    ///
    /// ## Why
    /// A wildcard grants every current and future permission; `cluster-admin` is
    /// root on the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]
    /// ```
    ///
    /// ## Fix
    /// List the exact resources and verbs the subject needs; bind a narrow Role.
    ///
    /// Peers: checkov CKV_K8S_49, CKV_K8S_157, CKV_K8S_158; kube-linter wildcard-in-rules, cluster-admin-role-binding.
    K8s020 { id: "K8S020", name: "rbac-least-privilege", severity: Error, production: true, peers: "checkov CKV_K8S_49, CKV_K8S_157/158; kube-linter wildcard-in-rules, cluster-admin-role-binding" }
}

impl Rule for K8s020 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj) in tree.objects() {
            match obj.get("kind").and_then(Node::as_scalar) {
                Some("Role" | "ClusterRole") => {
                    for rule in obj.get("rules").and_then(Node::as_seq).unwrap_or(&[]) {
                        for key in ["verbs", "resources", "apiGroups"] {
                            if let Some(w) = rule
                                .get(key)
                                .and_then(Node::as_seq)
                                .unwrap_or(&[])
                                .iter()
                                .find(|v| v.as_scalar() == Some("*"))
                            {
                                out.add(
                                    &Self::META,
                                    file,
                                    w.span,
                                    format!("{} grants `*` in {key}", object_id(obj)),
                                    Some("list the exact values needed"),
                                );
                            }
                        }
                    }
                }
                Some("RoleBinding" | "ClusterRoleBinding") => {
                    if let Some(n) = obj
                        .get("roleRef")
                        .and_then(|r| r.get("name"))
                        .filter(|n| n.as_scalar() == Some("cluster-admin"))
                    {
                        out.add(
                            &Self::META,
                            file,
                            n.span,
                            format!("{} binds cluster-admin", object_id(obj)),
                            Some("bind a narrow Role instead"),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
