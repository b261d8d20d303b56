//! K8S011 resources-set.

use super::{containers, name_of, object_id, pods, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every container requests CPU and memory and has a memory limit (a CPU limit is optional).
    ///
    /// ## Why
    /// Without requests the scheduler packs pods blindly; without a memory limit one leak takes the node.
    ///
    /// ## Example
    /// ```yaml
    /// containers: [{ name: api, image: api:1.0 }]
    /// ```
    ///
    /// ## Fix
    /// `resources: { requests: { cpu: 250m, memory: 256Mi }, limits: { memory: 256Mi } }`.
    ///
    /// Peers: checkov CKV_K8S_10, CKV_K8S_11, CKV_K8S_12, CKV_K8S_13; kube-linter unset-cpu-requirements, unset-memory-requirements.
    K8s011 { id: "K8S011", name: "resources-set", severity: Warning, production: true, peers: "checkov CKV_K8S_10, CKV_K8S_11, CKV_K8S_12, CKV_K8S_13; kube-linter unset-cpu-requirements, unset-memory-requirements" }
}

impl Rule for K8s011 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            for (c, _) in containers(pod) {
                let r = c.get("resources");
                let has =
                    |a: &str, b: &str| r.and_then(|r| r.get(a)).and_then(|x| x.get(b)).is_some();
                let missing: Vec<&str> = [
                    ("requests.cpu", has("requests", "cpu")),
                    ("requests.memory", has("requests", "memory")),
                    ("limits.memory", has("limits", "memory")),
                ]
                .iter()
                .filter(|(_, ok)| !ok)
                .map(|(n, _)| *n)
                .collect();
                if !missing.is_empty() {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} has no {}",
                            name_of(c),
                            object_id(obj),
                            missing.join(", ")
                        ),
                        Some("set CPU and memory requests and a memory limit"),
                    );
                }
            }
        }
    }
}
