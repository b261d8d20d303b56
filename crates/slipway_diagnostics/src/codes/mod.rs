//! The code registry: every diagnostic code an importer, an emitter or `generate`
//! reports (SPEC, SCORE, L10, GEN, TPL), with its kebab-case name, default severity,
//! lifecycle and documentation, so `slipway explain CODE` can say what it means.
//! Check rules register beside their code in `slipway_checks::rules`.
//!
//! One file per family (`spec.rs` and `compose.rs` share SPEC); each entry's doc
//! comment is its user documentation (What it reports / Why / Fix). The default
//! severity is the most severe one the code is reported with; the doc says when it
//! is reported lower. Depends on nothing but `Severity`.

use crate::Severity;

/// Declares a family's codes; each takes its doc comment as documentation.
macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $id:ident $name:literal $sev:ident; )*) => {
        &[$(
            $crate::codes::Code {
                id: stringify!($id),
                name: $name,
                severity: $crate::Severity::$sev,
                lifecycle: "stable",
                doc: concat!($($doc, "\n"),*),
            }
        ),*]
    };
}

mod compose;
mod gen;
mod level10;
mod score;
mod spec;
mod tpl;

/// One registered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// `SPEC009`: a family prefix and three digits.
    pub id: &'static str,
    /// Kebab-case: `invalid-value`.
    pub name: &'static str,
    /// The most severe severity it is reported with.
    pub severity: Severity,
    /// `stable` or `preview`.
    pub lifecycle: &'static str,
    /// The documentation, one doc-comment line per line (each keeps the comment's
    /// leading space, as a rule's doc does).
    pub doc: &'static str,
}

const FAMILIES: [&[Code]; 6] = [
    gen::CODES,
    level10::CODES,
    score::CODES,
    spec::CODES,
    compose::CODES,
    tpl::CODES,
];

const LEN: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < FAMILIES.len() {
        n += FAMILIES[i].len();
        i += 1;
    }
    n
};

const fn concat() -> [Code; LEN] {
    let mut out = [FAMILIES[0][0]; LEN];
    let (mut at, mut f) = (0, 0);
    while f < FAMILIES.len() {
        let mut i = 0;
        while i < FAMILIES[f].len() {
            out[at] = FAMILIES[f][i];
            at += 1;
            i += 1;
        }
        f += 1;
    }
    out
}

static ALL: [Code; LEN] = concat();

/// Every registered code, in id order.
pub static CODES: &[Code] = &ALL;

/// The code with this id, ignoring case.
#[must_use]
pub fn code(id: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_well_formed() {
        for pair in CODES.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} then {}: ids must be unique and in order",
                pair[0].id,
                pair[1].id
            );
        }
        for c in CODES {
            let digits = c.id.trim_start_matches(|ch: char| ch.is_ascii_uppercase());
            let digits = digits
                .strip_prefix("10")
                .filter(|_| c.id.starts_with("L10"))
                .unwrap_or(digits);
            assert!(
                digits.len() == 3 && digits.chars().all(|ch| ch.is_ascii_digit()),
                "{}: a family prefix and three digits",
                c.id
            );
            assert!(
                !c.name.is_empty()
                    && c.name.split('-').all(|w| !w.is_empty()
                        && w.chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())),
                "{}: `{}` is not kebab-case",
                c.id,
                c.name
            );
            assert!(matches!(c.lifecycle, "stable" | "preview"), "{}", c.id);
        }
        let mut names: Vec<&str> = CODES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        for pair in names.windows(2) {
            assert_ne!(pair[0], pair[1], "two codes are named `{}`", pair[0]);
        }
    }

    #[test]
    fn every_doc_says_what_why_and_fix() {
        for c in CODES {
            for heading in ["## What it reports", "## Why", "## Fix"] {
                assert!(c.doc.contains(heading), "{} has no `{heading}`", c.id);
            }
            let lines = c.doc.lines().filter(|l| !l.trim().is_empty()).count();
            assert!(lines >= 6, "{}: the doc is too thin", c.id);
        }
    }

    #[test]
    fn lookup_ignores_case_and_refuses_strangers() {
        assert_eq!(code("spec009").map(|c| c.id), Some("SPEC009"));
        assert_eq!(
            code("L10001").map(|c| c.name),
            Some("not-a-level10-manifest")
        );
        assert!(code("SPEC999").is_none());
        assert!(
            code("DKR001").is_none(),
            "check rules register in slipway_checks"
        );
    }
}
