//! Diagnostics: where a problem is (`SourceFile`, `Span`, `LineIndex`), what it is
//! (`Diagnostic`), and how it is shown (`render`). Every importer, emitter and check
//! reports through this one type. Depends on nothing internal.

mod diagnostic;
mod render;
mod source;

pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use render::{render_human, render_json, RenderOptions};
pub use source::{LineIndex, SourceFile, SourceMap, Span};
