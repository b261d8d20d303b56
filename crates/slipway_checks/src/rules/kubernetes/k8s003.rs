//! K8S003 image-pinned.

use super::{containers, pods, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Checks that every container image has a tag other than `latest`, or a digest (a tag set by the kustomization's `images:` counts).
    ///
    /// ## Why
    /// An unpinned image changes under a running Deployment: the next pod restart runs different code.
    ///
    /// ## Example
    /// ```yaml
    /// containers: [{ name: api, image: nginx }]
    /// ```
    ///
    /// ## Fix
    /// `image: nginx:1.27.2`, or pin it in the kustomization's `images:`.
    ///
    /// Peers: checkov CKV_K8S_14, CKV_K8S_43; kube-linter latest-tag; kube-score container-image-tag.
    K8s003 { id: "K8S003", name: "image-pinned", severity: Warning, production: true, peers: "checkov CKV_K8S_14, CKV_K8S_43; kube-linter latest-tag; kube-score container-image-tag" }
}

impl Rule for K8s003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, _, pod, _) in pods(tree) {
            for (c, _) in containers(pod) {
                let Some(node) = c.get("image") else { continue };
                let image = node.as_scalar().unwrap_or("");
                if tree.kustomize_images.contains(image) {
                    continue;
                }
                if let Some(msg) = crate::rules::unpinned(image) {
                    out.add(
                        &Self::META,
                        file,
                        node.span,
                        msg,
                        Some("pin a version tag or a digest"),
                    );
                }
            }
        }
    }
}
