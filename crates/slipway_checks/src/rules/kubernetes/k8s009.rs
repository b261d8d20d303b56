//! K8S009 no-host-namespaces.

use super::{containers, name_of, object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Flags `hostNetwork`, `hostPID`, `hostIPC` and container `hostPort`s.
    ///
    /// ## Why
    /// Each shares a namespace of the node with the pod, bypassing NetworkPolicies or exposing other processes.
    ///
    /// ## Example
    /// ```yaml
    /// spec: { hostNetwork: true }
    /// ```
    ///
    /// ## Fix
    /// Remove them; expose the pod through a Service.
    ///
    /// Peers: checkov CKV_K8S_17, CKV_K8S_18, CKV_K8S_19, CKV_K8S_26; kube-linter host-network, host-pid, host-ipc.
    K8s009 { id: "K8S009", name: "no-host-namespaces", severity: Error, production: true, peers: "checkov CKV_K8S_17, CKV_K8S_18, CKV_K8S_19, CKV_K8S_26; kube-linter host-network, host-pid, host-ipc" }
}

impl Rule for K8s009 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, _) in pods(tree) {
            for key in ["hostNetwork", "hostPID", "hostIPC"] {
                if let Some(v) = pod.get(key).filter(|v| v.as_bool() == Some(true)) {
                    out.add(
                        &Self::META,
                        file,
                        v.span,
                        format!("{} sets {key}", object_id(obj)),
                        Some("remove it"),
                    );
                }
            }
            for (c, _) in containers(pod) {
                for p in c.get("ports").and_then(Node::as_seq).unwrap_or(&[]) {
                    if let Some(h) = p.get("hostPort") {
                        out.add(
                            &Self::META,
                            file,
                            h.span,
                            format!(
                                "container `{}` of {} binds a hostPort",
                                name_of(c),
                                object_id(obj)
                            ),
                            Some("remove hostPort; use a Service"),
                        );
                    }
                }
            }
        }
    }
}
