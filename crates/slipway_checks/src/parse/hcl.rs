//! A Terraform (HCL) reader that keeps positions: blocks (type, labels, body),
//! attributes (name, raw value text, span). Expressions are kept as text, which is
//! what the rules need (literals, references, lists of CIDRs). Unknown syntax is
//! skipped, never fatal.

use slipway_diagnostics::Span;

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    /// The value as written (quotes included for strings).
    pub value: String,
    pub span: Span,
    pub value_span: Span,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub span: Span,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

impl Block {
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn children<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }

    /// A string attribute's value without quotes.
    #[must_use]
    pub fn string(&self, name: &str) -> Option<&str> {
        self.attr(name).map(|a| a.value.trim().trim_matches('"'))
    }
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// Skips whitespace (not newlines when `lines` is false) and comments.
    fn skip(&mut self, newlines: bool) {
        loop {
            let rest = &self.text[self.pos..];
            let Some(c) = rest.chars().next() else { return };
            if c == '\n' && !newlines {
                return;
            }
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if rest.starts_with('#') || rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                self.pos += rest.find("*/").map_or(rest.len(), |e| e + 2);
            } else {
                return;
            }
        }
    }

    fn ident(&mut self) -> Option<String> {
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        (len > 0).then(|| {
            self.pos += len;
            rest[..len].to_string()
        })
    }

    fn string_lit(&mut self) -> Option<String> {
        let rest = &self.text[self.pos..];
        if !rest.starts_with('"') {
            return None;
        }
        let b = rest.as_bytes();
        let mut i = 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        let end = (i + 1).min(b.len());
        self.pos += end;
        Some(rest[1..end.saturating_sub(1).max(1)].to_string())
    }

    /// The raw text of an expression up to the end of the line, with brackets and
    /// heredocs spanning lines.
    fn expression(&mut self) -> (String, Span) {
        let start = self.pos;
        let rest = &self.text[start..];
        if let Some(h) = rest.strip_prefix("<<") {
            let marker: String = h
                .trim_start_matches('-')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let body_start = rest.find('\n').map_or(rest.len(), |n| n + 1);
            let end = rest[body_start..]
                .lines()
                .scan(body_start, |off, l| {
                    let here = *off;
                    *off += l.len() + 1;
                    Some((here, l))
                })
                .find(|(_, l)| l.trim() == marker)
                .map_or(rest.len(), |(o, l)| o + l.len());
            self.pos = start + end;
            return (rest[..end].to_string(), Span::new(start, start + end));
        }
        let mut depth = 0i32;
        let mut in_str = false;
        let mut end = rest.len();
        let mut prev = '\0';
        for (i, c) in rest.char_indices() {
            match c {
                '"' if prev != '\\' => in_str = !in_str,
                '[' | '{' | '(' if !in_str => depth += 1,
                ']' | '}' | ')' if !in_str => {
                    depth -= 1;
                    if depth < 0 {
                        end = i;
                        break;
                    }
                }
                '\n' if !in_str && depth <= 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
            prev = c;
        }
        let raw = rest[..end].trim_end();
        self.pos = start + end;
        (raw.to_string(), Span::new(start, start + raw.len()))
    }
}

fn body(c: &mut Cursor<'_>) -> (Vec<Attribute>, Vec<Block>) {
    let mut attributes = Vec::new();
    let mut blocks = Vec::new();
    loop {
        c.skip(true);
        match c.peek() {
            None => break,
            Some('}') => {
                c.pos += 1;
                break;
            }
            _ => {}
        }
        let start = c.pos;
        let Some(name) = c.ident() else {
            // Unknown syntax: skip a character and go on.
            c.pos += c.peek().map_or(1, char::len_utf8);
            continue;
        };
        c.skip(false);
        if c.peek() == Some('=') && !c.text[c.pos..].starts_with("==") {
            c.pos += 1;
            c.skip(false);
            let (value, value_span) = c.expression();
            attributes.push(Attribute {
                name,
                value,
                span: Span::new(start, value_span.end),
                value_span,
            });
            continue;
        }
        let mut labels = Vec::new();
        loop {
            c.skip(false);
            if let Some(l) = c.string_lit() {
                labels.push(l);
            } else if c.peek() == Some('{') {
                break;
            } else if let Some(l) = c.ident() {
                labels.push(l);
            } else {
                break;
            }
        }
        if c.peek() == Some('{') {
            c.pos += 1;
            let (a, b) = body(c);
            blocks.push(Block {
                kind: name,
                labels,
                span: Span::new(start, c.pos),
                attributes: a,
                blocks: b,
            });
        }
    }
    (attributes, blocks)
}

/// Parses a `.tf` file into its top-level blocks (and attributes, for `.tfvars`).
#[must_use]
pub fn parse(text: &str) -> Block {
    let mut c = Cursor { text, pos: 0 };
    let (attributes, blocks) = body(&mut c);
    Block {
        kind: "file".into(),
        labels: Vec::new(),
        span: Span::new(0, text.len()),
        attributes,
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_attributes_heredocs() {
        let text = "terraform {\n  required_version = \">= 1.6\"\n  required_providers {\n    aws = { source = \"hashicorp/aws\", version = \"~> 5.0\" }\n  }\n}\n# comment\nresource \"aws_security_group\" \"web\" {\n  ingress {\n    from_port   = 22\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n  user_data = <<EOF\necho hi\nEOF\n}\n";
        let f = parse(text);
        assert_eq!(f.blocks.len(), 2);
        let tf = &f.blocks[0];
        assert_eq!(tf.string("required_version"), Some(">= 1.6"));
        assert!(tf
            .children("required_providers")
            .next()
            .unwrap()
            .attr("aws")
            .unwrap()
            .value
            .contains("~> 5.0"));
        let sg = &f.blocks[1];
        assert_eq!(sg.labels, vec!["aws_security_group", "web"]);
        let ing = sg.children("ingress").next().unwrap();
        assert_eq!(ing.attr("from_port").unwrap().value, "22");
        assert_eq!(
            &text[ing.attr("cidr_blocks").unwrap().value_span.start
                ..ing.attr("cidr_blocks").unwrap().value_span.end],
            "[\"0.0.0.0/0\"]"
        );
        assert!(sg.attr("user_data").unwrap().value.contains("echo hi"));
    }
}
