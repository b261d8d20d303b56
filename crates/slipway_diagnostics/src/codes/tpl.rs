//! TPL001–TPL002: rendering templates, built-in or overridden with `--templates`.

use super::Code;

pub(super) const CODES: &[Code] = codes! {
    /// ## What it reports
    /// A template that is missing, malformed or fails to render; the message says
    /// whether it is built-in or your override, and the template line.
    ///
    /// ## Why
    /// No file is generated from a template that does not render.
    ///
    /// ## Fix
    /// Fix the template, or remove the override to use the built-in one.
    TPL001 "template-render-failed" Error;

    /// ## What it reports
    /// A template whose rendered output is not valid for its file: a Dockerfile line
    /// that is no known instruction (or no `FROM` first), a malformed exec-form
    /// array, or YAML that does not parse.
    ///
    /// ## Why
    /// Every rendered file is re-parsed before it is kept; nothing was written.
    ///
    /// ## Fix
    /// Fix the template (or remove your override).
    TPL002 "template-output-invalid" Error;
};
