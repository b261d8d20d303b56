//! SEC001 known-token-format.

use crate::rules::secrets::{find_tokens, redact};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;

rule! {
    /// ## What it does
    /// Finds tokens with a well-known format in any checked file: AWS access key ids,
    /// GitHub and Slack tokens, Stripe live keys, Google API keys, private keys.
    ///
    /// ## Why
    /// A committed token is a leaked token: it lives on in every clone and every
    /// image layer. These formats have almost no false positives.
    ///
    /// ## Example
    /// ```yaml
    /// environment:
    ///   AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE
    /// ```
    ///
    /// ## Fix
    /// Revoke the token, then read it at run time from a secret store or a secret file.
    ///
    /// Peers: gitleaks aws-access-token, github-pat, slack-*, private-key; checkov CKV_SECRET_2, CKV_SECRET_13, CKV_SECRET_14.
    Sec001 { id: "SEC001", name: "known-token-format", severity: Error, production: true, peers: "gitleaks aws-access-token, github-pat, slack-*, private-key; checkov CKV_SECRET_2/13/14" }
}

impl Rule for Sec001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for f in &tree.files {
            for (at, len, kind) in find_tokens(&f.source.text) {
                let value = &f.source.text[at..at + len];
                out.add(
                    &Self::META,
                    &f.source,
                    Span::new(at, at + len),
                    format!("{kind} `{}` in a file", redact(value)),
                    Some("revoke it and read it from a secret at run time"),
                );
            }
        }
    }
}
