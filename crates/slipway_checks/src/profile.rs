//! Profiles: which rules run and at which severity. `default` runs every rule at
//! its own severity; `production-guardrails` makes the rules marked for production
//! errors.

use crate::rules::RuleMeta;
use slipway_diagnostics::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Default,
    ProductionGuardrails,
}

impl Profile {
    pub const NAMES: &[&str] = &["default", "production-guardrails"];

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::Default),
            "production-guardrails" => Some(Self::ProductionGuardrails),
            _ => None,
        }
    }

    #[must_use]
    pub fn enabled(self, _meta: &RuleMeta) -> bool {
        true
    }

    #[must_use]
    pub fn severity(self, meta: &RuleMeta) -> Severity {
        match self {
            Self::ProductionGuardrails if meta.production => Severity::Error,
            _ => meta.severity,
        }
    }
}
