//! `.env` and `env_file` files, parsed as Compose parses them (`compose-go/dotenv`):
//!
//! - `KEY=value`, `KEY: value`, an optional `export ` prefix, `#` comment lines;
//! - unquoted values end at the line's end, an inline comment starts at ` #`, and
//!   trailing blanks are dropped;
//! - single quotes are literal and may span lines; double quotes may span lines and
//!   understand `\n \r \t \a \b \f \v \\ \" \$` (`\$` is a literal `$`);
//! - unquoted and double-quoted values are interpolated (`${VAR}`, `${VAR:-default}`,
//!   `${VAR-default}`, `${VAR:?err}`, ...) against the caller's variables, then the
//!   keys already read from this file;
//! - a key alone on its line takes its value from the caller's variables, or is unset;
//! - a caller's variable of the same name wins over the file's value.
//!
//! The `dotenvy` crate was considered and not used: it reads the process environment
//! while expanding (slipway must not, unless the user asks) and has no `:-`/`:?`
//! forms. Problems come back located, and parsing resumes at the next line.

use super::interpolate::{substitute, Unset};
use slipway_diagnostics::Span;
use std::collections::BTreeMap;

/// One `KEY=value` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    pub value: String,
    /// The key in the file.
    pub key_span: Span,
    /// The value as written (quotes included).
    pub value_span: Span,
    /// Variables the value refers to that are unset; kept as `${NAME}` in `value`.
    pub missing: Vec<String>,
}

/// A parsed `.env` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotEnv {
    pub entries: Vec<EnvEntry>,
    /// Keys alone on their line that no caller variable sets (so they stay unset).
    pub unset: Vec<(String, Span)>,
    pub errors: Vec<(Span, String)>,
}

impl DotEnv {
    /// The variables, the last definition of a key winning.
    #[must_use]
    pub fn vars(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }
}

/// `KEY=value` lines of a `.env` / `env_file`, without caller variables; problems are
/// skipped. See [`parse_dotenv`] for the located form.
#[must_use]
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    parse_dotenv(text, &|_| None).vars()
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|c| *c == b'\n')
        .map_or(b.len(), |i| from + i)
}

/// Parses `text`; `outer` gives the caller's variables (the shell's environment only
/// when the user asked for it).
#[must_use]
pub fn parse_dotenv(text: &str, outer: &dyn Fn(&str) -> Option<String>) -> DotEnv {
    let b = text.as_bytes();
    let mut out = DotEnv::default();
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
    loop {
        while pos < b.len() && (is_blank(b[pos]) || b[pos] == b'\n') {
            pos += 1;
        }
        if pos >= b.len() {
            break;
        }
        if b[pos] == b'#' {
            pos = line_end(b, pos);
            continue;
        }
        match statement(text, pos, &known, outer, &mut out) {
            Ok(next) => pos = next,
            Err((span, msg)) => {
                out.errors.push((span, msg));
                pos = line_end(b, span.start.max(pos));
            }
        }
        if let Some(e) = out.entries.last() {
            known.insert(e.key.clone(), e.value.clone());
        }
    }
    out
}

type Failure = (Span, String);

/// Reads one statement at `start`; returns where the next one may begin.
fn statement(
    text: &str,
    start: usize,
    known: &BTreeMap<String, String>,
    outer: &dyn Fn(&str) -> Option<String>,
    out: &mut DotEnv,
) -> Result<usize, Failure> {
    let b = text.as_bytes();
    let mut pos = start;
    if text[pos..].starts_with("export") && b.get(pos + 6).is_some_and(|c| is_blank(*c)) {
        pos += 6;
        while pos < b.len() && is_blank(b[pos]) {
            pos += 1;
        }
    }
    let key_start = pos;
    let end = line_end(b, pos);
    let sep = text[pos..end]
        .char_indices()
        .find(|(_, c)| *c == '=' || *c == ':')
        .map(|(i, _)| pos + i);
    let key_end = sep.unwrap_or(end);
    let key = text[key_start..key_end].trim_end();
    let key_span = Span::new(key_start, key_start + key.len());
    if let Some((i, c)) = key
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        let what = if c.is_whitespace() {
            "a key cannot contain a blank".to_string()
        } else {
            format!("unexpected character `{c}` in a variable name")
        };
        return Err((Span::new(key_start + i, key_start + i + c.len_utf8()), what));
    }
    if key.is_empty() {
        return Err((
            Span::new(key_start, end),
            "a line with no variable name".into(),
        ));
    }
    let Some(sep) = sep else {
        // A key alone: its value comes from the caller's variables, if any.
        match outer(key) {
            Some(v) => out.entries.push(EnvEntry {
                key: key.to_string(),
                value: v,
                key_span,
                value_span: Span::new(key_span.end, key_span.end),
                missing: Vec::new(),
            }),
            None => out.unset.push((key.to_string(), key_span)),
        }
        return Ok(end);
    };
    pos = sep + 1;
    while pos < b.len() && is_blank(b[pos]) {
        pos += 1;
    }
    let (raw, value_span, next, expand) = value(text, pos)?;
    let lookup = |k: &str| outer(k).or_else(|| known.get(k).cloned());
    let (mut value, missing) = if expand {
        let r = substitute(&raw, &lookup, Unset::Keep).map_err(|m| (value_span, m))?;
        (r.text, r.missing)
    } else {
        (raw, Vec::new())
    };
    if let Some(v) = outer(key) {
        value = v;
    }
    out.entries.push(EnvEntry {
        key: key.to_string(),
        value,
        key_span,
        value_span,
        missing,
    });
    Ok(next)
}

/// The value at `pos`: (text before interpolation, its span, where the next statement
/// may begin, whether it is interpolated).
fn value(text: &str, pos: usize) -> Result<(String, Span, usize, bool), Failure> {
    let b = text.as_bytes();
    let quote = b.get(pos).copied().filter(|c| *c == b'"' || *c == b'\'');
    let Some(q) = quote else {
        let end = line_end(b, pos);
        let line = &text[pos..end];
        let body = line.find(" #").map_or(line, |i| &line[..i]);
        let body = body.trim_end_matches(|c: char| c.is_whitespace());
        return Ok((
            body.to_string(),
            Span::new(pos, pos + body.len()),
            end,
            true,
        ));
    };
    let mut i = pos + 1;
    while i < b.len() {
        if b[i] == q && b[i - 1] != b'\\' {
            let inner = &text[pos + 1..i];
            let raw = if q == b'"' {
                unescape(inner)
            } else {
                inner.to_string()
            };
            return Ok((raw, Span::new(pos, i + 1), i + 1, q == b'"'));
        }
        i += 1;
    }
    let end = line_end(b, pos);
    Err((
        Span::new(pos, end),
        format!(
            "unterminated quoted value: no closing {}",
            if q == b'"' { "`\"`" } else { "`'`" }
        ),
    ))
}

/// Escapes of a double-quoted value. `\$` stays escaped (as `$$`) so interpolation
/// reads it as a literal `$`; any other `\x` becomes `x`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('$') => out.push_str("$$"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> BTreeMap<String, String> {
        let d = parse_dotenv(text, &|_| None);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        d.vars()
    }

    #[test]
    fn quotes_comments_and_export() {
        let v = vars(concat!(
            "# comment\n",
            "TAG=\"1.2.0\" # c\n",
            "PLAIN=a b  # trailing comment\n",
            "HASH=pa#ss\n",
            "export EXPORTED=yes\n",
            "exporter=kept\n",
            "SINGLE='lit $HOME \\n'\n",
            "DOUBLE=\"a\\nb\\t\\\"q\\\" \\$HOME\"\n",
            "MULTI='one\ntwo'\n",
            "YAML_STYLE: value\n",
            "EMPTY=\n",
            "  SPACED  =  v  \n",
            "URL=http://api:8000/\n",
        ));
        assert_eq!(v["TAG"], "1.2.0");
        assert_eq!(v["PLAIN"], "a b");
        assert_eq!(v["HASH"], "pa#ss");
        assert_eq!(v["EXPORTED"], "yes");
        assert_eq!(v["exporter"], "kept");
        assert_eq!(v["SINGLE"], "lit $HOME \\n");
        assert_eq!(v["DOUBLE"], "a\nb\t\"q\" $HOME");
        assert_eq!(v["MULTI"], "one\ntwo");
        assert_eq!(v["YAML_STYLE"], "value");
        assert_eq!(v["EMPTY"], "");
        assert_eq!(v["SPACED"], "v");
        assert_eq!(v["URL"], "http://api:8000/");
    }

    #[test]
    fn expansion_uses_earlier_keys_and_defaults() {
        let d = parse_dotenv(
            "HOST=db\nPORT=5432\nURL=postgres://${HOST}:$PORT/x\nD=${NOPE:-fallback}/${HOST-x}\nLATER=${AFTER}\nAFTER=1\nQ='${HOST}'\n",
            &|_| None,
        );
        let v = d.vars();
        assert_eq!(v["URL"], "postgres://db:5432/x");
        assert_eq!(v["D"], "fallback/db");
        assert_eq!(
            v["LATER"], "${AFTER}",
            "unset when read: kept as a reference"
        );
        assert_eq!(d.entries[4].missing, vec!["AFTER".to_string()]);
        assert_eq!(v["Q"], "${HOST}", "single quotes are literal");
    }

    #[test]
    fn caller_variables_win_and_fill_bare_keys() {
        let outer = |k: &str| (k == "SHELL_ONLY" || k == "TAG").then(|| "from-shell".to_string());
        let d = parse_dotenv("TAG=1.0\nSHELL_ONLY\nNOT_SET\nX=${SHELL_ONLY}\n", &outer);
        let v = d.vars();
        assert_eq!(v["TAG"], "from-shell");
        assert_eq!(v["SHELL_ONLY"], "from-shell");
        assert_eq!(v["X"], "from-shell");
        assert_eq!(d.unset[0].0, "NOT_SET");
        assert!(!parse_dotenv("A=1\nSHELL_ONLY\n", &|_| None)
            .vars()
            .contains_key("SHELL_ONLY"));
    }

    #[test]
    fn values_that_double_on_each_line_are_refused_not_built() {
        let text = format!("A=xxxxxxxx\n{}", "A=$A$A$A$A\n".repeat(12));
        let d = parse_dotenv(&text, &|_| None);
        assert!(
            d.errors.iter().any(|(_, m)| m.contains("longer than")),
            "{:?}",
            d.errors
        );
        assert!(d
            .entries
            .iter()
            .all(|e| e.value.len() <= super::super::interpolate::MAX_EXPANDED));
    }

    #[test]
    fn problems_are_located_and_parsing_resumes() {
        let text = "A=1\nB=\"open\nC=3\nBAD KEY=1\nD$=2\nE=${X:?E needs X}\nF=ok\n";
        let d = parse_dotenv(text, &|_| None);
        let at: Vec<(&str, &str)> = d
            .errors
            .iter()
            .map(|(s, m)| (&text[s.start..s.end], m.as_str()))
            .collect();
        assert_eq!(at.len(), 4, "{at:?}");
        assert!(at[0].1.starts_with("unterminated quoted value"), "{at:?}");
        assert_eq!(at[1], (" ", "a key cannot contain a blank"));
        assert_eq!(at[2].0, "$");
        assert!(at[3].1.contains("E needs X"));
        let v = d.vars();
        assert_eq!(
            (v["A"].as_str(), v["C"].as_str(), v["F"].as_str()),
            ("1", "3", "ok")
        );
    }
}
