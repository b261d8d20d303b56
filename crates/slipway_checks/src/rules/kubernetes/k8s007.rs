//! K8S007 read-only-root-filesystem.

use super::{containers, name_of, object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every container sets `readOnlyRootFilesystem: true`.
    ///
    /// ## Why
    /// A writable root lets an intruder drop tools and change binaries; writable paths should be explicit emptyDirs or volumes.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: { readOnlyRootFilesystem: false }
    /// ```
    ///
    /// ## Fix
    /// Set it to true and mount an emptyDir where the process writes (`/tmp`).
    ///
    /// Peers: checkov CKV_K8S_22; kube-linter no-read-only-root-fs; Polaris notReadOnlyRootFilesystem.
    K8s007 { id: "K8S007", name: "read-only-root-filesystem", severity: Warning, production: false, peers: "checkov CKV_K8S_22; kube-linter no-read-only-root-fs; Polaris notReadOnlyRootFilesystem" }
}

impl Rule for K8s007 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            for (c, _) in containers(pod) {
                if c.get("securityContext")
                    .and_then(|s| s.get("readOnlyRootFilesystem"))
                    .and_then(Node::as_bool)
                    != Some(true)
                {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} has a writable root filesystem",
                            name_of(c),
                            object_id(obj)
                        ),
                        Some(
                            "set readOnlyRootFilesystem: true and mount emptyDirs where it writes",
                        ),
                    );
                }
            }
        }
    }
}
