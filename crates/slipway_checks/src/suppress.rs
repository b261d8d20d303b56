//! Inline suppressions: `# slipway:ignore RULE[,RULE] reason`. In YAML a comment on
//! its own line covers the entry that follows it (a whole container, pod template or
//! patch), and a comment after a value covers the entry on that line; in a
//! Dockerfile or script it covers the next instruction. A suppression that matches
//! nothing is reported (POL001) so stale ones do not pile up.

use crate::tree::{Kind, Tree};
use slipway_diagnostics::{Diagnostic, SourceFile, Span};
use slipway_import::yaml::Node;

struct Suppression {
    file: String,
    rules: Vec<String>,
    /// Byte range of what it covers.
    covers: Span,
    /// Where the comment is.
    at: Span,
    used: bool,
}

/// `(line index, byte offset of '#', rules)` for every suppression comment.
fn comments(file: &SourceFile) -> Vec<(usize, usize, Vec<String>, bool)> {
    let mut out = Vec::new();
    // Most files have none: one search of the whole text, not one per line.
    if !file.text.contains("slipway:ignore") {
        return out;
    }
    let mut offset = 0;
    for (i, line) in file.text.split_inclusive('\n').enumerate() {
        if let Some(pos) = line.find("slipway:ignore") {
            if let Some(hash) = line[..pos].rfind('#') {
                let rest = &line[pos + "slipway:ignore".len()..];
                let rules: Vec<String> = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(str::to_ascii_uppercase)
                    .collect();
                let own_line = line[..hash].trim().is_empty();
                out.push((i, offset + hash, rules, own_line));
            }
        }
        offset += line.len();
    }
    out
}

fn walk(n: &Node, visit: &mut dyn FnMut(Span)) {
    if let Some(map) = n.as_map() {
        for (k, v) in map {
            visit(Span::new(k.span.start, v.span.end.max(k.span.end)));
            walk(v, visit);
        }
    } else if let Some(items) = n.as_seq() {
        for item in items {
            visit(item.span);
            walk(item, visit);
        }
    }
}

/// The widest YAML entry (map entry or list item) starting on 0-based `line`.
fn entry_on_line(file: &SourceFile, nodes: &[Node], line: usize) -> Option<Span> {
    let mut best: Option<Span> = None;
    let mut visit = |span: Span| {
        if file.line_col(span.start).0 == line + 1 && best.is_none_or(|b| span.len() > b.len()) {
            best = Some(span);
        }
    };
    for n in nodes {
        walk(n, &mut visit);
    }
    best
}

fn line_span(file: &SourceFile, line: usize) -> Span {
    let start = file.lines.offset(&file.text, line + 1, 1);
    let end = file.lines.offset(&file.text, line + 2, 1);
    Span::new(start, end)
}

fn collect(tree: &Tree) -> Vec<Suppression> {
    let mut out = Vec::new();
    for f in &tree.files {
        let src = &f.source;
        for (line, hash, rules, own_line) in comments(src) {
            let at = Span::new(hash, line_span(src, line).end);
            let covers = match &f.kind {
                Kind::Compose { root, .. } => {
                    let target = if own_line { line + 1 } else { line };
                    entry_on_line(src, std::slice::from_ref(root), target).map_or_else(
                        || line_span(src, target),
                        |s| Span::new(line_span(src, target).start.min(s.start), s.end),
                    )
                }
                Kind::Workflow { root } | Kind::Monitoring { root, .. } => {
                    let target = if own_line { line + 1 } else { line };
                    entry_on_line(src, std::slice::from_ref(root), target).map_or_else(
                        || line_span(src, target),
                        |s| Span::new(line_span(src, target).start.min(s.start), s.end),
                    )
                }
                Kind::Kubernetes { docs } => {
                    let target = if own_line { line + 1 } else { line };
                    entry_on_line(src, docs, target).map_or_else(
                        || line_span(src, target),
                        |s| Span::new(line_span(src, target).start.min(s.start), s.end),
                    )
                }
                Kind::Dockerfile(df) => df.instructions.iter().find(|i| i.line > line).map_or_else(
                    || line_span(src, line + 1),
                    |i| Span::new(line_span(src, i.line - 1).start, i.span.end),
                ),
                Kind::Shell | Kind::Terraform(_) => line_span(src, line + 1),
            };
            out.push(Suppression {
                file: src.name.clone(),
                rules,
                covers,
                at,
                used: false,
            });
        }
    }
    out
}

/// Drops suppressed findings and reports suppressions that matched nothing.
pub(crate) fn apply(tree: &Tree, mut kept: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut sups = collect(tree);
    if !sups.is_empty() {
        kept.retain(|d| {
            let hit = sups.iter_mut().find(|s| {
                d.file.as_deref() == Some(s.file.as_str())
                    && s.rules.contains(&d.rule_id)
                    && d.span.is_some_and(|sp| {
                        sp.start >= s.covers.start
                            && sp.start < s.covers.end.max(s.covers.start + 1)
                    })
            });
            match hit {
                Some(s) => {
                    s.used = true;
                    false
                }
                None => true,
            }
        });
    }
    for s in sups.into_iter().filter(|s| !s.used) {
        kept.push(
            Diagnostic::warning(
                "POL001",
                format!("suppression of {} matches no finding", s.rules.join(", ")),
            )
            .at(&s.file, s.at)
            .help("remove it, or move it onto the line (or the entry) it is meant for"),
        );
    }
    kept
}
