//! A small toolkit for reading a YAML tree into typed values while collecting every
//! problem (wrong type, unknown key with a "did you mean", duplicate key) as a
//! diagnostic, instead of stopping at the first one the way serde would.

use crate::yaml::Node;
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile};

pub struct Reader<'a> {
    pub file: &'a SourceFile,
    pub diags: Diagnostics,
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
#[must_use]
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

impl<'a> Reader<'a> {
    #[must_use]
    pub fn new(file: &'a SourceFile) -> Self {
        Self {
            file,
            diags: Diagnostics::new(),
        }
    }

    pub fn error(&mut self, rule: &str, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(rule, message).at(&self.file.name, node.span)
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Reports that `node` is not of the expected kind.
    pub fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        let d = self
            .error("SPEC003", node, format!("{what} has the wrong type"))
            .expected(expected.to_string())
            .found(node.kind_name());
        self.push(d);
    }

    /// The entries of a mapping whose keys must be among `allowed`; unknown and
    /// duplicate keys are reported and skipped.
    pub fn entries<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Vec<(&'n Node, &'n str, &'n Node)> {
        let Some(map) = node.as_map() else {
            if !node.is_null() {
                self.wrong_type(node, what, "a mapping");
            }
            return Vec::new();
        };
        let mut out: Vec<(&Node, &str, &Node)> = Vec::new();
        for (k, v) in map {
            let Some(key) = k.as_scalar() else {
                self.wrong_type(k, &format!("a key in {what}"), "a plain name");
                continue;
            };
            if let Some((first, _, _)) = out.iter().find(|(_, name, _)| *name == key) {
                let d = self
                    .error("SPEC010", k, format!("duplicate key `{key}` in {what}"))
                    .label(&self.file.name, first.span, "first defined here")
                    .help("remove one of the two entries");
                self.push(d);
                continue;
            }
            if !allowed.is_empty() && !allowed.contains(&key) {
                let mut d = self
                    .error("SPEC002", k, format!("unknown key `{key}` in {what}"))
                    .expected(format!(
                        "one of {}",
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                if let Some(s) = did_you_mean(key, allowed.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                self.push(d);
                continue;
            }
            out.push((k, key, v));
        }
        out
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        if let Some(s) = node.as_str() {
            Some(s.to_string())
        } else {
            self.wrong_type(node, what, "a string");
            None
        }
    }

    /// A scalar of any YAML type as text (`version: 16` and `version: "16"` alike).
    pub fn scalar(&mut self, node: &Node, what: &str) -> Option<String> {
        if let Some(s) = node.as_scalar() {
            Some(s.to_string())
        } else {
            self.wrong_type(node, what, "a string or number");
            None
        }
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        let v = node.as_bool();
        if v.is_none() {
            self.wrong_type(node, what, "`true` or `false`");
        }
        v
    }

    pub fn int(&mut self, node: &Node, what: &str, min: u64, max: u64) -> Option<u64> {
        match node.as_u64() {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(v) => {
                let d = self
                    .error("SPEC009", node, format!("{what} is out of range"))
                    .expected(format!("a whole number from {min} to {max}"))
                    .found(v.to_string());
                self.push(d);
                None
            }
            None => {
                self.wrong_type(node, what, &format!("a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// A list of strings; a single string is accepted as a one-item list when
    /// `single_ok` is set.
    pub fn strings<'n>(&mut self, node: &'n Node, what: &str) -> Vec<(&'n Node, String)> {
        let Some(items) = node.as_seq() else {
            if !node.is_null() {
                self.wrong_type(node, what, "a list of strings");
            }
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                self.string(item, &format!("an item of {what}"))
                    .map(|s| (item, s))
            })
            .collect()
    }
}
