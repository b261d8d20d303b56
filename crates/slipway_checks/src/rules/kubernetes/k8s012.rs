//! K8S012 probes-present.

use super::{containers, name_of, object_id, pods, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every (non-init) container has a readiness and a liveness probe, and that they are not identical.
    ///
    /// ## Why
    /// Without readiness, traffic reaches pods that are not ready; without liveness, a hung process is never restarted; identical probes restart pods that are only busy.
    ///
    /// ## Example
    /// ```yaml
    /// containers: [{ name: api, image: api:1.0 }]
    /// ```
    ///
    /// ## Fix
    /// Add both probes; give liveness a longer period or threshold than readiness.
    ///
    /// Peers: checkov CKV_K8S_8, CKV_K8S_9; kube-linter no-readiness-probe, no-liveness-probe; kube-score pod-probes.
    K8s012 { id: "K8S012", name: "probes-present", severity: Warning, production: true, peers: "checkov CKV_K8S_8, CKV_K8S_9; kube-linter no-readiness-probe, no-liveness-probe; kube-score pod-probes" }
}

impl Rule for K8s012 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            for (c, init) in containers(pod) {
                if init {
                    continue;
                }
                let (ready, live) = (c.get("readinessProbe"), c.get("livenessProbe"));
                let mut missing = Vec::new();
                if ready.is_none() {
                    missing.push("readinessProbe");
                }
                if live.is_none() {
                    missing.push("livenessProbe");
                }
                if !missing.is_empty() {
                    out.add(
                        &Self::META,
                        file,
                        c.span,
                        format!(
                            "container `{}` of {} has no {}",
                            name_of(c),
                            object_id(obj),
                            missing.join(" or ")
                        ),
                        Some("add readiness and liveness probes"),
                    );
                } else if let (Some(r), Some(l)) = (ready, live) {
                    if r.value == l.value {
                        out.add(
                            &Self::META,
                            file,
                            l.span,
                            format!(
                                "container `{}` of {} has identical liveness and readiness probes",
                                name_of(c),
                                object_id(obj)
                            ),
                            Some("give the liveness probe a longer period or threshold"),
                        );
                    }
                }
            }
        }
    }
}
