//! The YAML wrapper every importer uses: parses into a tree of nodes that keep their
//! byte spans, with budgets (size, depth, node count including alias expansion) so a
//! hostile file cannot exhaust memory. Scalars keep their source text; typing is done
//! by the reader (`as_bool`, `as_u64`), so `version: 3.10` stays `"3.10"`.

use slipway_diagnostics::{Diagnostic, SourceFile, Span};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Limits on what one YAML file may cost.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_nodes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 500_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written; `plain` is false for quoted and block scalars.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in source order.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Node {
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A scalar's text, whatever its YAML type (numbers and booleans included).
    #[must_use]
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// A string: quoted, or a plain scalar that YAML would not read as a number,
    /// boolean or null.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, plain: false } => Some(text),
            Value::Scalar { text, plain: true } => {
                (!self.is_null() && self.as_bool().is_none() && !looks_numeric(text))
                    .then_some(text.as_str())
            }
            _ => None,
        }
    }

    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            Value::Scalar { text, plain: true } => text.parse().ok(),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short description of what this node is, for "found" in diagnostics.
    #[must_use]
    pub fn kind_name(&self) -> String {
        match &self.value {
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
            Value::Scalar { .. } if self.is_null() => "nothing (null)".into(),
            Value::Scalar { text, .. } if self.as_bool().is_some() => {
                format!("the boolean `{text}`")
            }
            Value::Scalar { text, plain: true } if looks_numeric(text) => {
                format!("the number `{text}`")
            }
            Value::Scalar { text, .. } => format!("the string `{}`", shorten(text)),
        }
    }

    fn count(&self) -> usize {
        match &self.value {
            Value::Scalar { .. } => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

fn looks_numeric(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    if t.is_empty() {
        return false;
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| c.is_digit(8));
    }
    matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
        || (t.chars().any(|c| c.is_ascii_digit())
            && t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
            && t.parse::<f64>().is_ok())
}

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

struct Builder<'a> {
    file: &'a SourceFile,
    budget: Budget,
    char_to_byte: Option<Vec<usize>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    docs: Vec<Node>,
}

impl Builder<'_> {
    fn offset(&self, m: &Marker) -> usize {
        match &self.char_to_byte {
            Some(table) => table
                .get(m.index())
                .copied()
                .unwrap_or(self.file.text.len()),
            None => m.index().min(self.file.text.len()),
        }
    }

    fn fail(&self, at: usize, message: impl Into<String>) -> Diagnostic {
        let end = self.file.text[at..]
            .find('\n')
            .map_or(self.file.text.len(), |e| at + e);
        Diagnostic::error("SPEC001", message).at(
            &self.file.name,
            Span::new(at, end.max(at + 1).min(self.file.text.len().max(at))),
        )
    }

    fn add(&mut self, node: Node, anchor: usize, at: usize) -> Result<(), Diagnostic> {
        self.nodes += 1;
        if self.nodes > self.budget.max_nodes {
            return Err(self
                .fail(
                    at,
                    format!(
                        "the file has more than {} YAML nodes",
                        self.budget.max_nodes
                    ),
                )
                .help("split the file, or remove aliases that expand into very large trees"));
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

    fn on_event(&mut self, event: Event, mark: &Marker) -> Result<(), Diagnostic> {
        let at = self.offset(mark);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let end = scalar_end(&self.file.text, at, &text, style);
                let plain = style == TScalarStyle::Plain;
                self.add(
                    Node {
                        value: Value::Scalar { text, plain },
                        span: Span::new(at, end),
                    },
                    anchor,
                    at,
                )?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.budget.max_depth {
                    return Err(self.fail(
                        at,
                        format!("nesting deeper than {} levels", self.budget.max_depth),
                    ));
                }
                self.stack
                    .push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq {
                            start: at,
                            anchor,
                            items: Vec::new(),
                        }
                    } else {
                        Frame::Map {
                            start: at,
                            anchor,
                            entries: Vec::new(),
                            key: None,
                        }
                    });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            span: Span::new(start, at),
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            span: Span::new(start, at),
                        },
                        anchor,
                    ),
                    None => return Err(self.fail(at, "unbalanced YAML structure")),
                };
                self.add(node, anchor, at)?;
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(self.fail(at, "alias to an unknown anchor"));
                };
                self.nodes += target.count();
                let node = Node {
                    value: target.value,
                    span: Span::new(at, ceil_char(&self.file.text, at + 1)),
                };
                self.add(node, 0, at)?;
            }
            _ => {}
        }
        Ok(())
    }
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
fn ceil_char(src: &str, i: usize) -> usize {
    let mut i = i.min(src.len());
    while !src.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Parses every document in `file`. A syntax error or a blown budget is one error
/// diagnostic (`SPEC001`) at the place the parser stopped.
///
/// # Errors
/// The diagnostic describing why the text is not acceptable YAML.
pub fn parse(file: &SourceFile, budget: Budget) -> Result<Vec<Node>, Diagnostic> {
    if file.text.len() > budget.max_bytes {
        return Err(Diagnostic::error(
            "SPEC014",
            format!(
                "file is {} bytes; the limit is {} bytes",
                file.text.len(),
                budget.max_bytes
            ),
        )
        .in_file(&file.name)
        .help("split the input into smaller files"));
    }
    let char_to_byte = (!file.text.is_ascii()).then(|| {
        let mut t: Vec<usize> = file.text.char_indices().map(|(i, _)| i).collect();
        t.push(file.text.len());
        t
    });
    let mut b = Builder {
        file,
        budget,
        char_to_byte,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        docs: Vec::new(),
    };
    let mut parser = Parser::new_from_str(&file.text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => b.on_event(event, &mark)?,
            Err(e) => {
                let at = b.offset(e.marker());
                return Err(b
                    .fail(at, format!("invalid YAML: {}", e.info()))
                    .help("check the indentation and quoting around this position"));
            }
        }
    }
    Ok(b.docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse(&SourceFile::new("t.yaml", text), Budget::default())
            .unwrap()
            .remove(0)
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "name: shop\nservices:\n  api: {port: 8000}\n";
        let n = one(text);
        let services = n.get("services").unwrap();
        let (k, v) = &services.as_map().unwrap()[0];
        assert_eq!(&text[k.span.start..k.span.end], "api");
        assert_eq!(v.get("port").unwrap().as_u64(), Some(8000));
    }

    #[test]
    fn quoted_numbers_are_strings_and_plain_numbers_are_not() {
        let n = one("a: '16'\nb: 16\nc: 3.10\n");
        assert_eq!(n.get("a").unwrap().as_str(), Some("16"));
        assert_eq!(n.get("b").unwrap().as_str(), None);
        assert_eq!(n.get("c").unwrap().as_scalar(), Some("3.10"));
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "é: 'ü'\n";
        let n = one(text);
        let (k, v) = &n.as_map().unwrap()[0];
        assert_eq!(&text[k.span.start..k.span.end], "é");
        assert_eq!(&text[v.span.start..v.span.end], "'ü'");
    }

    #[test]
    fn alias_bombs_hit_the_node_budget() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='j' {
            let refs = vec![format!("*{prev}"); 10].join(", ");
            text = format!("{text}{c}: &{c} [{refs}]\n");
            prev = c;
        }
        let err = parse(&SourceFile::new("t.yaml", text), Budget::default()).unwrap_err();
        assert!(err.message.contains("YAML nodes"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse(
            &SourceFile::new("t.yaml", "a: [1, 2\nb: 3\n"),
            Budget::default(),
        )
        .unwrap_err();
        assert_eq!(err.rule_id, "SPEC001");
        assert!(err.span.is_some());
    }
}
