//! CMP001 compose-valid.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Severity;
use slipway_import::compose::{import_compose, ComposeOptions};

rule! {
    /// ## What it does
    /// Reads every compose file with slipway's compose model (the one the importer
    /// uses) and reports what does not fit the Compose specification: unknown keys
    /// (with a "did you mean"), values of the wrong shape (ports, volumes, build,
    /// environment), services without `image` or `build`, and broken `${...}`
    /// interpolation. Every problem is reported with its position, not just the first.
    ///
    /// ## Why
    /// `docker compose config` stops at the first error and names no line; a typo such
    /// as `restrat:` is silently ignored by some engines.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api:1.2.0
    ///     ports: ["eighty"]
    ///     restrat: always
    /// ```
    ///
    /// ## Fix
    /// Use the keys and value forms of the Compose specification (`ports: ["8080:80"]`, `restart:`).
    ///
    /// Peers: `docker compose config -q` (stops at the first error).
    Cmp001 { id: "CMP001", name: "compose-valid", severity: Error, production: true, peers: "docker compose config -q" }
}

/// Importer findings that are about the file's shape (the others, such as keys with
/// no Kubernetes equivalent, are conversion advice, not validity).
const SHAPE: &[&str] = &["SPEC001", "SPEC100", "SPEC101", "SPEC102", "SPEC106"];

impl Rule for Cmp001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, _, is_override) in tree.compose_files() {
            let opts = ComposeOptions {
                default_name: "check".into(),
                ..Default::default()
            };
            let imported = import_compose(std::slice::from_ref(file), &opts);
            for d in imported.diagnostics.iter() {
                let partial = is_override && d.message.contains("neither `image` nor `build`");
                let unset_ok =
                    d.message.contains("interpolation failed") && d.message.contains("is required");
                if !SHAPE.contains(&d.rule_id.as_str())
                    || partial
                    || unset_ok
                    || d.severity == Severity::Info
                {
                    continue;
                }
                let Some(span) = d.span else { continue };
                out.add(
                    &Self::META,
                    file,
                    span,
                    d.message.clone(),
                    d.help.as_deref().or(d.expected.as_deref()),
                );
            }
        }
    }
}
