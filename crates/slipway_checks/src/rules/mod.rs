//! The rule registry: an explicit static list, one file per rule. A rule's doc
//! comment is its user documentation (`slipway explain RULE`): What it does / Why /
//! Example / Fix, and the peer ids it corresponds to.

pub mod compose;
pub mod docker;
pub mod gha;
pub mod kubernetes;
pub mod net;
pub mod obs;
pub mod policy;
pub mod secrets;
pub mod shell;
pub mod terraform;

use crate::tree::Tree;
use slipway_diagnostics::{Diagnostic, Severity, SourceFile, Span};

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// Made an error by the `production-guardrails` profile.
    pub production: bool,
    pub lifecycle: &'static str,
    /// The ids well-known tools use for the same problem.
    pub peers: &'static str,
    pub doc: &'static str,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, tree: &Tree, out: &mut Findings);
}

/// Collects findings for one rule run.
pub struct Findings {
    pub items: Vec<Diagnostic>,
}

impl Findings {
    /// A finding of `meta`'s rule at `span` in `file`, with an optional fix hint.
    pub fn add(
        &mut self,
        meta: &RuleMeta,
        file: &SourceFile,
        span: Span,
        message: impl Into<String>,
        fix: Option<&str>,
    ) {
        let mut d = Diagnostic::new(meta.id, meta.severity, message).at(&file.name, span);
        if let Some(f) = fix {
            d = d.help(f);
        }
        self.items.push(d);
    }
}

/// Declares a rule type, its metadata, and takes its doc comment as documentation.
macro_rules! rule {
    ($(#[doc = $doc:literal])* $ty:ident { id: $id:literal, name: $name:literal, severity: $sev:ident, production: $p:literal, peers: $peers:literal $(,)? }) => {
        $(#[doc = $doc])*
        pub struct $ty;
        impl $ty {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                id: $id,
                name: $name,
                severity: slipway_diagnostics::Severity::$sev,
                production: $p,
                lifecycle: "preview",
                peers: $peers,
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}
pub(crate) use rule;

/// Every rule, in id order.
pub static RULES: &[&dyn Rule] = &[
    &docker::dkr001::Dkr001,
    &docker::dkr002::Dkr002,
    &docker::dkr003::Dkr003,
    &docker::dkr004::Dkr004,
    &docker::dkr005::Dkr005,
    &docker::dkr006::Dkr006,
    &docker::dkr007::Dkr007,
    &docker::dkr008::Dkr008,
    &docker::dkr009::Dkr009,
    &docker::dkr010::Dkr010,
    &compose::cmp001::Cmp001,
    &compose::cmp002::Cmp002,
    &compose::cmp003::Cmp003,
    &compose::cmp004::Cmp004,
    &compose::cmp005::Cmp005,
    &compose::cmp006::Cmp006,
    &compose::cmp007::Cmp007,
    &compose::cmp008::Cmp008,
    &compose::cmp009::Cmp009,
    &compose::cmp010::Cmp010,
    &gha::gha001::Gha001,
    &gha::gha002::Gha002,
    &gha::gha003::Gha003,
    &gha::gha004::Gha004,
    &gha::gha005::Gha005,
    &gha::gha006::Gha006,
    &kubernetes::k8s001::K8s001,
    &kubernetes::k8s002::K8s002,
    &kubernetes::k8s003::K8s003,
    &kubernetes::k8s004::K8s004,
    &kubernetes::k8s005::K8s005,
    &kubernetes::k8s006::K8s006,
    &kubernetes::k8s007::K8s007,
    &kubernetes::k8s008::K8s008,
    &kubernetes::k8s009::K8s009,
    &kubernetes::k8s010::K8s010,
    &kubernetes::k8s011::K8s011,
    &kubernetes::k8s012::K8s012,
    &kubernetes::k8s013::K8s013,
    &kubernetes::k8s014::K8s014,
    &kubernetes::k8s015::K8s015,
    &kubernetes::k8s016::K8s016,
    &kubernetes::k8s017::K8s017,
    &kubernetes::k8s018::K8s018,
    &kubernetes::k8s019::K8s019,
    &kubernetes::k8s020::K8s020,
    &kubernetes::k8s021::K8s021,
    &net::net001::Net001,
    &obs::obs001::Obs001,
    &obs::obs002::Obs002,
    &policy::pol001::Pol001,
    &policy::pol002::Pol002,
    &policy::pol003::Pol003,
    &secrets::sec001::Sec001,
    &secrets::sec002::Sec002,
    &secrets::sec003::Sec003,
    &shell::sh001::Sh001,
    &terraform::tf001::Tf001,
    &terraform::tf002::Tf002,
    &terraform::tf003::Tf003,
    &terraform::tf004::Tf004,
    &terraform::tf005::Tf005,
    &terraform::tf006::Tf006,
];

/// Why an image reference is not pinned (`None` when it has a non-`latest` tag or a
/// digest, or is built from a variable).
#[must_use]
pub(crate) fn unpinned(image: &str) -> Option<String> {
    if image.contains("@sha256:") || image.contains('$') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':').map(|(_, t)| t) {
        None => Some(format!("image `{image}` has no tag")),
        Some("latest") => Some(format!("image `{image}` uses the `latest` tag")),
        Some(_) => None,
    }
}

/// The closest candidate to a mistyped name, for "did you mean" hints.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    slipway_import::spec::did_you_mean(word, candidates)
}

/// Looks a rule up by id (`DKR001`) or name (`base-image-pinned`).
#[must_use]
pub fn find(key: &str) -> Option<&'static dyn Rule> {
    // Reports look up every finding's rule: exact ids come from an index.
    static BY_ID: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static dyn Rule>> =
        std::sync::OnceLock::new();
    let by_id = BY_ID.get_or_init(|| RULES.iter().map(|r| (r.meta().id, *r)).collect());
    by_id.get(key).copied().or_else(|| {
        RULES
            .iter()
            .copied()
            .find(|r| r.meta().id.eq_ignore_ascii_case(key) || r.meta().name == key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let mut ids = std::collections::BTreeSet::new();
        for r in RULES {
            let m = r.meta();
            assert!(ids.insert(m.id), "duplicate {}", m.id);
            for section in ["What it does", "Why", "Example", "Fix"] {
                assert!(m.doc.contains(section), "{} doc lacks `{section}`", m.id);
            }
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                m.name
            );
            let prefix = &m.id[..m.id.len() - 3];
            assert!(
                ["DKR", "CMP", "K8S", "GHA", "TF", "NET", "OBS", "SEC", "SH", "POL"]
                    .contains(&prefix),
                "{}",
                m.id
            );
        }
    }
}
