//! CMP009 no-plaintext-secrets.

use super::services;
use crate::rules::secrets::{is_reference, is_secret_name, redact};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Flags secret-looking variables (`*_PASSWORD`, `*_TOKEN`, `API_KEY`, ...) given a
    /// literal value in a service's `environment`.
    ///
    /// ## Why
    /// The compose file is committed, copied and printed; its values are not secret.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   MYSQL_ROOT_PASSWORD: hunter2
    /// ```
    ///
    /// ## Fix
    /// Use `secrets:` and the image's `*_FILE` variant, or `${MYSQL_ROOT_PASSWORD}` from a git-ignored `.env`.
    ///
    /// Peers: checkov CKV_SECRET_4, CKV_SECRET_6 (partial); gitleaks generic-api-key.
    Cmp009 { id: "CMP009", name: "no-plaintext-secrets", severity: Error, production: true, peers: "checkov CKV_SECRET_4/6 (partial); gitleaks generic-api-key" }
}

impl Rule for Cmp009 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root, _) in tree.compose_files() {
            for (_, body) in services(root) {
                let Some(env) = body.get("environment") else {
                    continue;
                };
                let mut pairs: Vec<(&str, &str, &Node)> = Vec::new();
                for (k, v) in env.as_map().unwrap_or(&[]) {
                    if let (Some(k), Some(val)) = (k.as_scalar(), v.as_scalar()) {
                        pairs.push((k, val, v));
                    }
                }
                for item in env.as_seq().unwrap_or(&[]) {
                    if let Some((k, val)) = item.as_scalar().and_then(|s| s.split_once('=')) {
                        pairs.push((k, val, item));
                    }
                }
                for (k, val, node) in pairs {
                    if is_secret_name(k) && !is_reference(val) {
                        out.add(&Self::META, file, node.span, format!("`{k}` has the literal value `{}`", redact(val)), Some("use `secrets:` with a `_FILE` variable, or `${VAR}` from a git-ignored .env"));
                    }
                }
            }
        }
    }
}
