//! Diagnostics: where a problem is (`SourceFile`, `Span`, `LineIndex`), what it is
//! (`Diagnostic`), how it is shown (`render`), and what each importer and emitter
//! code means (`codes`). Every importer, emitter and check reports through this one
//! type. Depends on nothing internal.

mod codes;
mod diagnostic;
mod render;
mod source;

pub use codes::{code, Code, CODES};
pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use render::{render_human, render_json, RenderOptions};
pub use source::{LineIndex, SourceFile, SourceMap, Span};
