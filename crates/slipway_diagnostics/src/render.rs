//! Renderers: the same diagnostics as text for people (source line underlined) or as
//! JSON for machines. Renderers never decide what is a problem.

use crate::{Diagnostic, SourceMap};
use serde_json::json;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    pub color: bool,
}

fn paint(opts: RenderOptions, code: &str, text: &str) -> String {
    if opts.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Text for a terminal, in the style of rustc: header, location, the source line with
/// the span underlined, then expected / found / help.
#[must_use]
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, opts: RenderOptions) -> String {
    let mut out = String::new();
    for d in diags {
        render_one(&mut out, d, sources, opts);
        out.push('\n');
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == crate::Severity::Error)
        .count();
    let warnings = diags
        .iter()
        .filter(|d| d.severity == crate::Severity::Warning)
        .count();
    if errors + warnings > 0 {
        let _ = writeln!(out, "{errors} error(s), {warnings} warning(s)");
    }
    out
}

fn render_one(out: &mut String, d: &Diagnostic, sources: &SourceMap, opts: RenderOptions) {
    let color = match d.severity {
        crate::Severity::Error => "1;31",
        crate::Severity::Warning => "1;33",
        crate::Severity::Info => "1;36",
    };
    let head = format!("{}[{}]", d.severity.as_str(), d.rule_id);
    let _ = writeln!(out, "{}: {}", paint(opts, color, &head), d.message);
    let file = d.file.as_deref().and_then(|f| sources.get(f));
    if let (Some(src), Some(span)) = (file, d.span) {
        let (line, col) = src.line_col(span.start);
        let text = src.lines.line_text(&src.text, line);
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        let _ = writeln!(out, "{pad}--> {}:{line}:{col}", src.name);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{line} | {text}");
        let (end_line, end_col) = src.line_col(span.end);
        let line_chars = text.chars().count();
        let stop = if end_line == line {
            end_col
        } else {
            line_chars + 1
        };
        let carets = "^".repeat(stop.saturating_sub(col).max(1));
        let under = format!("{}{}", " ".repeat(col - 1), paint(opts, color, &carets));
        let _ = writeln!(out, "{pad} | {under}");
        for label in &d.labels {
            if let Some(lsrc) = sources.get(&label.file) {
                let (l, c) = lsrc.line_col(label.span.start);
                let _ = writeln!(
                    out,
                    "{pad} = note: {} ({}:{l}:{c})",
                    label.message, lsrc.name
                );
            }
        }
        notes(out, d, &pad);
    } else {
        if let Some(f) = &d.file {
            let _ = writeln!(out, " --> {f}");
        }
        notes(out, d, " ");
    }
}

fn notes(out: &mut String, d: &Diagnostic, pad: &str) {
    if let Some(e) = &d.expected {
        let _ = writeln!(out, "{pad} = expected: {e}");
    }
    if let Some(f) = &d.found {
        let _ = writeln!(out, "{pad} = found: {f}");
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "{pad} = help: {h}");
    }
}

/// JSON for machines: `{schema_version, diagnostics: [...]}` with 1-based line and
/// column for start and end.
#[must_use]
pub fn render_json(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    let items: Vec<_> = diags
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let (Some(src), Some(span)) =
                (d.file.as_deref().and_then(|f| sources.get(f)), d.span)
            {
                let (line, column) = src.line_col(span.start);
                let (end_line, end_column) = src.line_col(span.end);
                v["line"] = json!(line);
                v["column"] = json!(column);
                v["end_line"] = json!(end_line);
                v["end_column"] = json!(end_column);
            }
            if let Some(obj) = v.as_object_mut() {
                obj.remove("span");
            }
            v
        })
        .collect();
    json!({ "schema_version": 1, "diagnostics": items })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SourceFile, Span};
    use std::sync::Arc;

    #[test]
    fn underlines_the_span() {
        let mut map = SourceMap::default();
        map.add(Arc::new(SourceFile::new(
            "s.yaml",
            "a: 1\n  depend_on: [x]\n",
        )));
        let d = Diagnostic::error("SPEC002", "unknown key `depend_on`")
            .at("s.yaml", Span::new(7, 16))
            .help("did you mean `depends_on`?");
        let text = render_human(&[d], &map, RenderOptions::default());
        assert!(text.contains(" --> s.yaml:2:3"), "{text}");
        assert!(
            text.contains("2 |   depend_on: [x]\n  |   ^^^^^^^^^\n"),
            "{text}"
        );
        assert!(
            text.contains("= help: did you mean `depends_on`?"),
            "{text}"
        );
    }
}
