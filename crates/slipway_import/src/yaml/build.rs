//! Builds the node tree from yaml-rust2's events: spans (mapped back through the
//! relaxation's [`Shifts`]), anchors and aliases with the node budget, merge keys
//! applied as each mapping closes. Knows nothing of how the text was relaxed.

use super::merge;
use super::relax::Shifts;
use super::{Budget, Node, Value};
use slipway_diagnostics::{Diagnostic, SourceFile, Span};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// Why building the tree stopped.
pub(super) enum Stop {
    /// The text is not YAML the scanner accepts (a relaxed retry may help).
    Syntax(Diagnostic),
    /// A budget, an alias or a merge key: final.
    Refused(Diagnostic),
}

struct Builder<'a> {
    name: &'a str,
    /// The text being parsed: the user's, or its relaxed copy (see `relax`).
    text: &'a str,
    shifts: &'a Shifts,
    budget: Budget,
    char_to_byte: Option<Vec<usize>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    docs: Vec<Node>,
}

/// A byte offset for every char index of `text`, when it is not ASCII (scanner marks
/// count chars).
pub(super) fn char_table(text: &str) -> Option<Vec<usize>> {
    (!text.is_ascii()).then(|| {
        let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        t.push(text.len());
        t
    })
}

pub(super) fn byte_of(table: Option<&Vec<usize>>, text: &str, char_index: usize) -> usize {
    match table {
        Some(t) => t.get(char_index).copied().unwrap_or(text.len()),
        None => char_index.min(text.len()),
    }
}

impl Builder<'_> {
    fn offset(&self, m: &Marker) -> usize {
        byte_of(self.char_to_byte.as_ref(), self.text, m.index())
    }

    /// A span in the user's text from offsets in the parsed text.
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.shifts.to_original(start), self.shifts.to_original(end))
    }

    fn fail(&self, at: usize, message: impl Into<String>) -> Diagnostic {
        let end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |e| at + e);
        let end = end.max(at + 1).min(self.text.len().max(at));
        Diagnostic::error("SPEC001", message).at(self.name, self.span(at, end))
    }

    fn add(&mut self, node: Node, anchor: usize, at: usize) -> Result<(), Stop> {
        self.nodes += 1;
        if self.nodes > self.budget.max_nodes {
            return Err(Stop::Refused(
                self.fail(
                    at,
                    format!(
                        "the file has more than {} YAML nodes",
                        self.budget.max_nodes
                    ),
                )
                .help("split the file, or remove aliases that expand into very large trees"),
            ));
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }

    fn on_event(&mut self, event: Event, mark: &Marker) -> Result<(), Stop> {
        let at = self.offset(mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let end = scalar_end(self.text, at, &text, style);
                // `!!str 16` is the string "16", as if quoted.
                let str_tag =
                    tag.is_some_and(|t| t.handle == "tag:yaml.org,2002:" && t.suffix == "str");
                let plain = style == TScalarStyle::Plain && !str_tag;
                let node = Node {
                    value: Value::Scalar { text, plain },
                    span: self.span(at, end),
                };
                self.add(node, anchor, at)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.budget.max_depth {
                    return Err(Stop::Refused(self.fail(
                        at,
                        format!("nesting deeper than {} levels", self.budget.max_depth),
                    )));
                }
                let start = self.shifts.to_original(at);
                self.stack
                    .push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq {
                            start,
                            anchor,
                            items: Vec::new(),
                        }
                    } else {
                        Frame::Map {
                            start,
                            anchor,
                            entries: Vec::new(),
                            key: None,
                        }
                    });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(at)?,
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(Stop::Refused(self.fail(at, "alias to an unknown anchor")));
                };
                self.nodes += target.count();
                let end = alias_end(self.text, at);
                let node = Node {
                    value: target.value,
                    span: self.span(at, end),
                };
                self.add(node, 0, at)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Ends the innermost collection at `at`; a mapping gets its merge keys applied.
    fn close(&mut self, at: usize) -> Result<(), Stop> {
        // A flow collection ends after its closing bracket; a block one where the next
        // token starts.
        let flow = matches!(self.text.as_bytes().get(at), Some(b']' | b'}'));
        let end = self.shifts.to_original(at + usize::from(flow));
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq {
                start,
                anchor,
                items,
            }) => (
                Node {
                    value: Value::Seq(items),
                    span: Span::new(start, end),
                },
                anchor,
            ),
            Some(Frame::Map {
                start,
                anchor,
                entries,
                ..
            }) => {
                let entries = merge::resolve(entries).map_err(|e| {
                    Stop::Refused(
                        Diagnostic::error("SPEC001", e.message)
                            .at(self.name, e.span)
                            .help(e.help),
                    )
                })?;
                (
                    Node {
                        value: Value::Map(entries),
                        span: Span::new(start, end),
                    },
                    anchor,
                )
            }
            None => return Err(Stop::Refused(self.fail(at, "unbalanced YAML structure"))),
        };
        self.add(node, anchor, at)
    }
}

/// Where an alias (`*name`) ends.
fn alias_end(src: &str, start: usize) -> usize {
    let rest = src.as_bytes().get(start + 1..).unwrap_or(&[]);
    let len = rest
        .iter()
        .take_while(|b| {
            !matches!(
                b,
                b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
            )
        })
        .count();
    ceil_char(src, start + 1 + len)
}

/// Where a scalar ends in the source, from its start and style.
fn scalar_end(src: &str, start: usize, value: &str, style: TScalarStyle) -> usize {
    let rest = &src[start.min(src.len())..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let len = match style {
        TScalarStyle::Plain if rest.starts_with(value) => value.len(),
        TScalarStyle::SingleQuoted => {
            let b = rest.as_bytes();
            let mut i = 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            (i + 1).min(b.len())
        }
        TScalarStyle::DoubleQuoted => {
            let b = rest.as_bytes();
            let mut i = 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            (i + 1).min(b.len())
        }
        _ => line_end,
    };
    ceil_char(src, start + len.max(usize::from(!rest.is_empty())))
}

/// `i`, moved forward to the next character boundary of `src` (and at most its end),
/// so a span never cuts a multi-byte character.
pub(super) fn ceil_char(src: &str, i: usize) -> usize {
    let mut i = i.min(src.len());
    while !src.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Builds the node tree of `text` (the user's text, or its relaxed copy).
pub(super) fn build(
    file: &SourceFile,
    text: &str,
    shifts: &Shifts,
    budget: Budget,
) -> Result<Vec<Node>, Stop> {
    let mut b = Builder {
        name: &file.name,
        text,
        shifts,
        budget,
        char_to_byte: char_table(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        docs: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => b.on_event(event, &mark)?,
            Err(e) => {
                let at = b.offset(e.marker());
                return Err(Stop::Syntax(
                    b.fail(at, format!("invalid YAML: {}", e.info()))
                        .help("check the indentation and quoting around this position"),
                ));
            }
        }
    }
    Ok(b.docs)
}
