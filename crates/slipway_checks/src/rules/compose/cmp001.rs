//! CMP001 compose-valid.

use super::spec::validate;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::compose::{import_compose, ComposeOptions};

rule! {
    /// ## What it does
    /// Validates every compose file against slipway's description of the Compose
    /// Specification (its keys, nested structures and value types) and reports each departure at its line: unknown keys (with a "did you mean"),
    /// values of the wrong type, missing required keys, names that are not allowed.
    /// Merge keys (`<<`), anchors, `extends`, `include`, `develop`, `gpus`, hooks and
    /// every other key of the current specification are accepted. On top of that
    /// it reports what Docker Compose itself refuses when it loads the file although the
    /// specification allows any string there: port and volume strings it cannot parse, and
    /// broken `${...}` interpolation.
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
    /// Peers: `docker compose config -q` (stops at the first error),
    /// `check-jsonschema --builtin-schema vendor.compose-spec` (same verdicts on the corpus).
    Cmp001 { id: "CMP001", name: "compose-valid", severity: Error, production: true, peers: "docker compose config -q" }
}

/// Importer findings about values Compose parses further than its specification does (the
/// specification takes any string there; `docker compose` refuses these when it loads the file).
const COMPOSE_REFUSES: &[&str] = &["not a port mapping", "not a volume mount"];

impl Rule for Cmp001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root, _) in tree.compose_files() {
            for p in validate(root) {
                out.add(&Self::META, file, p.span, p.message, p.help.as_deref());
            }
            let opts = ComposeOptions {
                default_name: "check".into(),
                ..Default::default()
            };
            let imported = import_compose(std::slice::from_ref(file), &opts);
            for d in imported.diagnostics.iter() {
                let Some(span) = d.span else { continue };
                // A value built by interpolation is judged after interpolation, which
                // needs the variables `check` does not have.
                let written = file.text.get(span.start..span.end).unwrap_or("");
                let refused = COMPOSE_REFUSES.iter().any(|m| d.message.starts_with(m))
                    && !written.contains('$');
                let bad_syntax = d.rule_id == "SPEC106" && !d.message.contains("is required");
                if refused || bad_syntax {
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
}
