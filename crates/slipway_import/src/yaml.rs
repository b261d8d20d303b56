//! The YAML wrapper every importer uses: parses into a tree of nodes that keep their
//! byte spans, with budgets (size, depth, node count including alias expansion) so a
//! hostile file cannot exhaust memory. Scalars keep their source text; typing is done
//! by the reader (`as_bool`, `as_u64`), so `version: 3.10` stays `"3.10"`. Anchors
//! and aliases are expanded, merge keys (`<<`) applied (`merge`), and a repeated key
//! is an error, as in Docker Compose's parser.
//!
//! The parser underneath is yaml-rust2. Why not saphyr / serde-saphyr, its maintained
//! successor: saphyr-parser 0.3 has the same scanner and refuses the same documents
//! (it was tried on a flow list closed at its key's indentation, the one real-world
//! shape Compose accepts and the YAML 1.2 spec does not), and serde-saphyr gives up
//! the event stream with spans this module builds on. Switching would fix nothing, so
//! the leniency is added here instead: when the scanner stops on indentation inside a
//! flow collection or a quoted scalar, `relax` re-indents that region and the parse is
//! retried, with spans mapped back to the user's text. Files the scanner accepts take
//! the first pass only. Reconsider when a saphyr release accepts what go-yaml accepts.

mod build;
mod merge;
mod relax;

use build::{build, byte_of, char_table, Stop};
use relax::Shifts;
use slipway_diagnostics::{Diagnostic, SourceFile, Span};
use yaml_rust2::scanner::{Scanner, Token, TokenType};

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
        // The text comparison first: it fails fast on length, and the rules call
        // this for every key they look at.
        self.as_map()?
            .iter()
            .find(|(k, _)| {
                matches!(&k.value, Value::Scalar { text, .. } if text == key) && !k.is_null()
            })
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
