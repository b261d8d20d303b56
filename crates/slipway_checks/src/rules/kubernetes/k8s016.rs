//! K8S016 no-secret-literals.

use super::{containers, name_of, object_id, pods, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Flags secret-looking environment variables with a literal `value:`, and Secret objects with values committed in `data` or `stringData`.
    ///
    /// ## Why
    /// Manifests are committed and printed; a value written in them is not secret.
    ///
    /// ## Example
    /// ```yaml
    /// env: [{ name: DB_PASSWORD, value: hunter2 }]
    /// ```
    ///
    /// ## Fix
    /// `valueFrom: { secretKeyRef: { name: app-secrets, key: db_password } }`, with the Secret created outside the repository.
    ///
    /// Peers: kube-linter env-var-secret; Polaris sensitiveContainerEnvVar; checkov CKV_SECRET_6.
    K8s016 { id: "K8S016", name: "no-secret-literals", severity: Error, production: true, peers: "kube-linter env-var-secret; Polaris sensitiveContainerEnvVar; checkov CKV_SECRET_6" }
}

impl Rule for K8s016 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, obj, pod, _) in pods(tree) {
            for (c, _) in containers(pod) {
                for e in c.get("env").and_then(Node::as_seq).unwrap_or(&[]) {
                    let name = e.get("name").and_then(Node::as_scalar).unwrap_or("");
                    if let Some(v) = e.get("value").filter(|v| {
                        v.as_scalar()
                            .is_some_and(|s| !crate::rules::secrets::is_reference(s))
                    }) {
                        if crate::rules::secrets::is_secret_name(name) {
                            out.add(
                                &Self::META,
                                file,
                                v.span,
                                format!(
                                    "`{name}` in container `{}` of {} has a literal value",
                                    name_of(c),
                                    object_id(obj)
                                ),
                                Some("use valueFrom.secretKeyRef"),
                            );
                        }
                    }
                }
            }
        }
        for (file, obj) in tree.objects() {
            if obj.get("kind").and_then(Node::as_scalar) == Some("Secret") {
                for key in ["data", "stringData"] {
                    if let Some(d) = obj
                        .get(key)
                        .filter(|d| d.as_map().is_some_and(|m| !m.is_empty()))
                    {
                        out.add(&Self::META, file, d.span, format!("{} commits its values in `{key}`", object_id(obj)), Some("create the Secret outside the repository, or use an external secret manager"));
                    }
                }
            }
        }
    }
}
