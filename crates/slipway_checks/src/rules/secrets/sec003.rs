//! SEC003 credentials-in-url.

use crate::rules::secrets::{find_url_credentials, redact};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;

rule! {
    /// ## What it does
    /// Finds URLs that carry a password: `scheme://user:password@host`.
    ///
    /// ## Why
    /// Connection strings are copied into logs, dashboards and error messages; the
    /// password travels with them.
    ///
    /// ## Example
    /// ```yaml
    /// DATABASE_URL: postgres://app:hunter2@db:5432/app
    /// ```
    ///
    /// ## Fix
    /// Keep the URL without the password and read the password from a secret file
    /// (`DB_PASSWORD_FILE`), or build the URL at run time from `${DB_PASSWORD}`.
    ///
    /// Peers: checkov CKV_SECRET_4.
    Sec003 { id: "SEC003", name: "credentials-in-url", severity: Error, production: true, peers: "checkov CKV_SECRET_4" }
}

impl Rule for Sec003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for f in &tree.files {
            for (at, len) in find_url_credentials(&f.source.text) {
                let pw = &f.source.text[at..at + len];
                out.add(
                    &Self::META,
                    &f.source,
                    Span::new(at, at + len),
                    format!("a URL carries the password `{}`", redact(pw)),
                    Some("remove the password from the URL; read it from a secret"),
                );
            }
        }
    }
}
