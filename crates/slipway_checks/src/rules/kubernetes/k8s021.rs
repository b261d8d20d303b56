//! K8S021 overlays-build-and-pass. Needs `kubectl`: it runs in `check --deep`
//! (`crate::deep`), which builds every kustomization and checks what it renders.

use super::Tree;
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// With `--deep`, builds every kustomization with `kubectl kustomize` and checks
    /// the rendered objects with every Kubernetes rule, so a patch that breaks a
    /// hardened default, or an overlay that does not build, is reported at the
    /// kustomization.
    ///
    /// ## Why
    /// Checking base and patches separately misses what they produce together: a
    /// strategic-merge patch can drop a securityContext, and a wrong patch target
    /// only fails at `kubectl apply`.
    ///
    /// ## Example
    /// ```yaml
    /// # overlays/prod/kustomization.yaml
    /// patches: [{ path: missing.yaml }]
    /// ```
    ///
    /// ## Fix
    /// Make the overlay build, and fix the patch that produced the finding.
    ///
    /// Peers: `kubectl kustomize`; checkov's kustomize framework.
    K8s021 { id: "K8S021", name: "overlays-build-and-pass", severity: Error, production: true, peers: "kubectl kustomize; checkov kustomize framework" }
}

impl Rule for K8s021 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Without `--deep` there is nothing to render; see `crate::deep`.
    fn check(&self, _tree: &Tree, _out: &mut Findings) {}
}
