//! Profiles: which rules run, at which severity, on which files. Built in:
//! `default` (every rule at its own severity) and `production-guardrails` (the rules
//! marked for production become errors). A user profile is a YAML file:
//!
//! ```yaml
//! extends: production-guardrails
//! rules: { K8S007: off, CMP010: error }
//! exclude: ["vendor/**"]
//! ignore:
//!   - { rule: K8S007, paths: ["kubernetes/base/legacy.*"], reason: "writes to /var/cache" }
//! max_monthly_cost: 400
//! prices: { cpu_core_month: 25.0, memory_gib_month: 3.5 }
//! required_labels: [team, cost-center]
//! ```

use crate::rules::{self, RuleMeta};
use slipway_diagnostics::{Diagnostic, Severity, SourceFile};
use slipway_import::yaml::{self, Budget, Node};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Default,
    ProductionGuardrails,
}

/// A suppression from the profile: a rule, the files it covers, why.
#[derive(Debug, Clone)]
pub struct Ignore {
    pub rule: String,
    pub paths: Vec<String>,
    pub reason: String,
}

/// Settings the policy rules (cost, labels) read.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub max_monthly_cost: Option<f64>,
    pub cpu_core_month: f64,
    pub memory_gib_month: f64,
    pub required_labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub base: Base,
    /// Per rule: `None` turns it off, `Some` sets its severity.
    pub overrides: BTreeMap<String, Option<Severity>>,
    pub exclude: Vec<String>,
    pub ignores: Vec<Ignore>,
    pub policy: Policy,
}

impl Profile {
    pub const NAMES: &[&str] = &["default", "production-guardrails"];

    fn builtin(base: Base) -> Self {
        Profile {
            base,
            overrides: BTreeMap::new(),
            exclude: Vec::new(),
            ignores: Vec::new(),
            policy: Policy {
                cpu_core_month: 25.0,
                memory_gib_month: 3.5,
                ..Policy::default()
            },
        }
    }

    /// A built-in profile by name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::builtin(Base::Default)),
            "production-guardrails" => Some(Self::builtin(Base::ProductionGuardrails)),
            _ => None,
        }
    }

    #[must_use]
    pub fn default_profile() -> Self {
        Self::builtin(Base::Default)
    }

    #[must_use]
    pub fn production() -> Self {
        Self::builtin(Base::ProductionGuardrails)
    }

    #[must_use]
    pub fn enabled(&self, meta: &RuleMeta) -> bool {
        !matches!(self.overrides.get(meta.id), Some(None))
    }

    #[must_use]
    pub fn severity(&self, meta: &RuleMeta) -> Severity {
        if let Some(Some(s)) = self.overrides.get(meta.id) {
            return *s;
        }
        match self.base {
            Base::ProductionGuardrails if meta.production => Severity::Error,
            _ => meta.severity,
        }
    }

    /// Whether a file (path relative to the checked folder) is excluded.
    #[must_use]
    pub fn excludes(&self, file: &str) -> bool {
        self.exclude.iter().any(|g| glob(g, file))
    }

    /// The profile suppression that covers `rule` in `file`, if any.
    #[must_use]
    pub fn ignored(&self, rule: &str, file: &str) -> Option<&Ignore> {
        self.ignores.iter().find(|i| {
            i.rule.eq_ignore_ascii_case(rule)
                && (i.paths.is_empty() || i.paths.iter().any(|g| glob(g, file)))
        })
    }

    /// Reads a user profile; every problem is a diagnostic in `file`.
    pub fn load(file: &SourceFile) -> Result<Self, Vec<Diagnostic>> {
        let mut errs = Vec::new();
        let docs = yaml::parse(file, Budget::default()).map_err(|d| vec![d])?;
        let Some(root) = docs.first().filter(|r| r.as_map().is_some()) else {
            return Err(vec![
                Diagnostic::error("POL000", "a profile is a mapping").in_file(&file.name)
            ]);
        };
        let err = |n: &Node, msg: String| Diagnostic::error("POL000", msg).at(&file.name, n.span);
        let mut p = match root.get("extends").and_then(Node::as_scalar) {
            Some(name) => Self::parse(name).unwrap_or_else(|| {
                errs.push(
                    err(
                        root.get("extends").unwrap_or(root),
                        format!("unknown profile `{name}` to extend"),
                    )
                    .expected("default or production-guardrails"),
                );
                Self::default_profile()
            }),
            None => Self::default_profile(),
        };
        for (k, _) in root.as_map().unwrap_or(&[]) {
            let key = k.as_scalar().unwrap_or("");
            if ![
                "extends",
                "rules",
                "exclude",
                "ignore",
                "max_monthly_cost",
                "prices",
                "required_labels",
            ]
            .contains(&key)
            {
                errs.push(err(k, format!("unknown key `{key}` in the profile")).expected("extends, rules, exclude, ignore, max_monthly_cost, prices, required_labels"));
            }
        }
        for (k, v) in root.get("rules").and_then(Node::as_map).unwrap_or(&[]) {
            let id = k.as_scalar().unwrap_or("").to_ascii_uppercase();
            if rules::find(&id).is_none() {
                errs.push(
                    err(k, format!("unknown rule `{id}`")).help("`slipway rules` lists them"),
                );
                continue;
            }
            let setting = match v.as_scalar().map(str::to_ascii_lowercase).as_deref() {
                Some("off" | "false") => None,
                Some("error") => Some(Severity::Error),
                Some("warning") => Some(Severity::Warning),
                Some("info") => Some(Severity::Info),
                _ => {
                    errs.push(err(
                        v,
                        format!("`{id}` must be off, error, warning or info"),
                    ));
                    continue;
                }
            };
            p.overrides.insert(id, setting);
        }
        let strings = |n: Option<&Node>| -> Vec<String> {
            n.and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|x| x.as_scalar().map(ToString::to_string))
                .collect()
        };
        p.exclude = strings(root.get("exclude"));
        for i in root.get("ignore").and_then(Node::as_seq).unwrap_or(&[]) {
            let rule = i
                .get("rule")
                .and_then(Node::as_scalar)
                .unwrap_or("")
                .to_ascii_uppercase();
            let reason = i
                .get("reason")
                .and_then(Node::as_scalar)
                .unwrap_or("")
                .to_string();
            if rules::find(&rule).is_none() {
                errs.push(err(i, format!("`ignore` names unknown rule `{rule}`")));
            } else if reason.is_empty() {
                errs.push(
                    err(i, format!("the suppression of {rule} has no `reason`"))
                        .help("say why, so the next reader can judge it"),
                );
            } else {
                p.ignores.push(Ignore {
                    rule,
                    paths: strings(i.get("paths")),
                    reason,
                });
            }
        }
        let num = |n: &Node| n.as_scalar().and_then(|s| s.parse::<f64>().ok());
        p.policy.max_monthly_cost = root.get("max_monthly_cost").and_then(num);
        // `prices:` inline, or the path of a price table file next to the profile.
        let table;
        let prices_node = match root.get("prices") {
            Some(p) if p.as_scalar().is_some() => {
                let rel = p.as_scalar().unwrap_or("");
                let path = std::path::Path::new(&file.name)
                    .parent()
                    .unwrap_or(std::path::Path::new(""))
                    .join(rel);
                match std::fs::read_to_string(&path)
                    .ok()
                    .map(|t| SourceFile::new(path.to_string_lossy(), t))
                    .and_then(|f| yaml::parse(&f, Budget::default()).ok())
                {
                    Some(mut docs) if !docs.is_empty() => {
                        table = docs.remove(0);
                        Some(&table)
                    }
                    _ => {
                        errs.push(err(
                            p,
                            format!("price table `{rel}` cannot be read as YAML"),
                        ));
                        None
                    }
                }
            }
            other => other,
        };
        if let Some(prices) = prices_node {
            if let Some(c) = prices.get("cpu_core_month").and_then(num) {
                p.policy.cpu_core_month = c;
            }
            if let Some(m) = prices.get("memory_gib_month").and_then(num) {
                p.policy.memory_gib_month = m;
            }
        }
        p.policy.required_labels = strings(root.get("required_labels"));
        if errs.is_empty() {
            Ok(p)
        } else {
            Err(errs)
        }
    }
}

/// Glob match on `/`-separated paths: `*` within a segment, `**` across segments.
#[must_use]
pub fn glob(pattern: &str, path: &str) -> bool {
    fn seg(p: &str, s: &str) -> bool {
        match p.split_once('*') {
            None => p == s,
            Some((head, tail)) => {
                s.starts_with(head)
                    && (0..=s.len() - head.len()).any(|i| {
                        s.is_char_boundary(head.len() + i) && seg(tail, &s[head.len() + i..])
                    })
            }
        }
    }
    fn parts(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => parts(&p[1..], s) || (!s.is_empty() && parts(p, &s[1..])),
            (Some(a), Some(b)) => seg(a, b) && parts(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    parts(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("vendor/**", "vendor/a/b.yaml"));
        assert!(glob(
            "kubernetes/base/legacy.*",
            "kubernetes/base/legacy.deployment.yaml"
        ));
        assert!(glob("**/*.sh", "scripts/deploy.sh"));
        assert!(!glob("*.sh", "scripts/deploy.sh"));
    }

    #[test]
    fn user_profiles_are_read_and_checked() {
        let ok = SourceFile::new("p.yaml", "extends: production-guardrails\nrules: { K8S007: off, CMP010: error }\nexclude: [\"vendor/**\"]\nignore:\n  - { rule: K8S011, paths: [\"k8s/*\"], reason: \"sized by the platform\" }\nmax_monthly_cost: 400\nrequired_labels: [team]\n");
        let p = Profile::load(&ok).unwrap();
        assert_eq!(p.base, Base::ProductionGuardrails);
        assert!(!p.enabled(crate::rules::find("K8S007").unwrap().meta()));
        assert_eq!(
            p.severity(crate::rules::find("CMP010").unwrap().meta()),
            Severity::Error
        );
        assert!(p.excludes("vendor/x/compose.yaml"));
        assert!(p.ignored("K8S011", "k8s/deploy.yaml").is_some());
        assert_eq!(p.policy.max_monthly_cost, Some(400.0));
        let bad = SourceFile::new("p.yaml", "extends: prod\nrules: { NOPE001: off, K8S007: maybe }\nignore: [{ rule: K8S011 }]\ncolour: red\n");
        let errs = Profile::load(&bad).unwrap_err();
        assert_eq!(errs.len(), 5, "{errs:?}");
    }
}
