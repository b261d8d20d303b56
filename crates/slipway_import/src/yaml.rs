//! The YAML wrapper every importer uses: parses into a tree of nodes that keep their
//! byte spans, with budgets (size, depth, node count including alias expansion) so a
//! hostile file cannot exhaust memory. Scalars keep their source text; typing is done
//! by the reader (`as_bool`, `as_u64`), so `version: 3.10` stays `"3.10"`.

mod merge;
mod relax;

use relax::Shifts;
use slipway_diagnostics::{Diagnostic, SourceFile, Span};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, Scanner, TScalarStyle, Token, TokenType};

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

/// Why building the tree stopped.
enum Stop {
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
fn char_table(text: &str) -> Option<Vec<usize>> {
    (!text.is_ascii()).then(|| {
        let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        t.push(text.len());
        t
    })
}

fn byte_of(table: Option<&Vec<usize>>, text: &str, char_index: usize) -> usize {
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
fn ceil_char(src: &str, i: usize) -> usize {
    let mut i = i.min(src.len());
    while !src.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Builds the node tree of `text` (the user's text, or its relaxed copy).
fn build(
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

/// How much scanning the relaxation may spend, in bytes scanned over all its rounds,
/// and how many regions it may re-indent (one per round).
const RELAX_WORK: usize = 64 << 20;
const RELAX_ROUNDS: usize = 1000;

/// The text with every flow collection and quoted scalar whose continuation lines sit
/// left of where the YAML 1.2 spec wants them re-indented (go-yaml's leniency, see
/// `relax`), or `None` when no such region is why the scanner stopped.
fn relaxed(text: &str) -> Option<(String, Shifts)> {
    let mut out = text.to_string();
    let mut shifts = Shifts::default();
    let mut changed = false;
    let mut work = 0;
    for _ in 0..RELAX_ROUNDS {
        if work > RELAX_WORK {
            break;
        }
        work += out.len().max(1);
        let Some(start) = unindented_region(&out) else {
            break;
        };
        if !relax::widen(&mut out, &mut shifts, start) {
            break;
        }
        changed = true;
    }
    changed.then_some((out, shifts))
}

/// Where the region starts whose indentation stops yaml-rust2's scanner, if that is
/// why it stops.
fn unindented_region(text: &str) -> Option<usize> {
    let table = char_table(text);
    let byte = |c: usize| byte_of(table.as_ref(), text, c);
    let mut scanner = Scanner::new(text.chars());
    let mut open: Vec<usize> = Vec::new();
    let mut last = 0;
    for Token(mark, token) in &mut scanner {
        last = mark.index();
        match token {
            TokenType::FlowSequenceStart | TokenType::FlowMappingStart => open.push(mark.index()),
            TokenType::FlowSequenceEnd | TokenType::FlowMappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    let err = scanner.get_error()?;
    if !err.info().contains("indentation") {
        return None;
    }
    if let Some(&first) = open.first() {
        return Some(byte(first));
    }
    // The scanner holds tokens back while a simple key may still follow, so the
    // region's opening token may not have been handed out yet: find it in the text.
    let at = byte(err.marker().index());
    relax::open_region(text, byte(last), at)
        .or_else(|| text[at..].starts_with(['"', '\'']).then_some(at))
}

/// Parses every document in `file`. A syntax error or a blown budget is one error
/// diagnostic (`SPEC001`) at the place the parser stopped. Merge keys are applied;
/// a repeated key is an error.
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
    let first = match build(file, &file.text, &Shifts::default(), budget) {
        Ok(docs) => return Ok(docs),
        Err(Stop::Refused(d)) => return Err(d),
        Err(Stop::Syntax(d)) => d,
    };
    let Some((text, shifts)) = relaxed(&file.text) else {
        return Err(first);
    };
    build(file, &text, &shifts, budget).map_err(|(Stop::Syntax(d) | Stop::Refused(d))| d)
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
