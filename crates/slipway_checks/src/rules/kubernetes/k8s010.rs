//! K8S010 no-host-path.

use super::{object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Flags `hostPath` volumes.
    ///
    /// ## Why
    /// A hostPath gives the pod the node's files; the Docker or containerd socket among them is root on the node.
    ///
    /// ## Example
    /// ```yaml
    /// volumes: [{ name: sock, hostPath: { path: /var/run/docker.sock } }]
    /// ```
    ///
    /// ## Fix
    /// Use a PersistentVolumeClaim, a ConfigMap or an emptyDir.
    ///
    /// Peers: checkov CKV_K8S_27; kube-linter docker-sock, sensitive-host-mounts.
    K8s010 { id: "K8S010", name: "no-host-path", severity: Error, production: true, peers: "checkov CKV_K8S_27; kube-linter docker-sock, sensitive-host-mounts" }
}

impl Rule for K8s010 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, _) in pods(tree) {
            for v in pod.get("volumes").and_then(Node::as_seq).unwrap_or(&[]) {
                if let Some(h) = v.get("hostPath") {
                    let path = h.get("path").and_then(Node::as_scalar).unwrap_or("");
                    out.add(
                        &Self::META,
                        file,
                        h.span,
                        format!("{} mounts the node path `{path}`", object_id(obj)),
                        Some("use a PersistentVolumeClaim, ConfigMap or emptyDir"),
                    );
                }
            }
        }
    }
}
