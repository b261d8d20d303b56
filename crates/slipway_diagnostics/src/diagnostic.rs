//! The one problem report type and the sink that collects them.

use crate::Span;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary location with a short message ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub file: String,
    pub span: Span,
    pub message: String,
}

/// One problem: a rule id (`SPEC002`), a severity, a message, where it is, what was
/// expected and found, and a hint for what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    pub file: Option<String>,
    pub span: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

impl Diagnostic {
    #[must_use]
    pub fn new(rule_id: &str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            rule_id: rule_id.to_string(),
            severity,
            message: message.into(),
            file: None,
            span: None,
            expected: None,
            found: None,
            help: None,
            labels: Vec::new(),
        }
    }

    #[must_use]
    pub fn error(rule_id: &str, message: impl Into<String>) -> Self {
        Self::new(rule_id, Severity::Error, message)
    }

    #[must_use]
    pub fn warning(rule_id: &str, message: impl Into<String>) -> Self {
        Self::new(rule_id, Severity::Warning, message)
    }

    #[must_use]
    pub fn at(mut self, file: &str, span: Span) -> Self {
        self.file = Some(file.to_string());
        self.span = Some(span);
        self
    }

    #[must_use]
    pub fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_string());
        self
    }

    #[must_use]
    pub fn expected(mut self, text: impl Into<String>) -> Self {
        self.expected = Some(text.into());
        self
    }

    #[must_use]
    pub fn found(mut self, text: impl Into<String>) -> Self {
        self.found = Some(text.into());
        self
    }

    #[must_use]
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    #[must_use]
    pub fn label(mut self, file: &str, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file: file.to_string(),
            span,
            message: message.into(),
        });
        self
    }
}

/// A sink: importers push every problem here instead of stopping at the first.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    #[must_use]
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// The diagnostics ordered by file, then position, then rule id, for stable output.
    #[must_use]
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (&a.file, a.span.map(|s| s.start), &a.rule_id, &a.message).cmp(&(
                &b.file,
                b.span.map(|s| s.start),
                &b.rule_id,
                &b.message,
            ))
        });
        self.items.dedup();
        self.items
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(items: Vec<Diagnostic>) -> Self {
        Self { items }
    }
}
