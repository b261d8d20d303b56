//! Compose variable interpolation, as `compose-go/template` does it: `$$` is a literal
//! `$`; `$NAME` and `${NAME}`; `${NAME:-default}`, `${NAME-default}`,
//! `${NAME:?error}`, `${NAME?error}`, `${NAME:+alt}`, `${NAME+alt}`, where the
//! default, error and alternative are themselves interpolated (nesting). A `$` followed
//! by anything else is refused, as Compose refuses it.
//!
//! Variables come from a lookup the caller builds (`.env`, and the shell's environment
//! only when the user asks): this module reads no environment itself.

use std::collections::BTreeMap;

/// What to write for a variable that is unset and has no default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unset {
    /// An empty string (what Compose does, with a warning).
    Empty,
    /// The reference itself, `${NAME}`, to be filled in when the output is deployed.
    Keep,
}

/// The result of interpolating one text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interpolated {
    pub text: String,
    /// Variables that were unset with no default, in order of appearance.
    pub missing: Vec<String>,
}

/// Nested `${...}` deeper than this is refused (a hostile file cannot recurse forever).
const MAX_NESTING: usize = 16;
/// A text longer than this after expansion is refused: `.env` values refer to earlier
/// ones, so each line could otherwise double the size (found by fuzzing).
pub const MAX_EXPANDED: usize = 256 * 1024;

/// Replaces every reference in `text`.
///
/// # Errors
/// The message of a `:?` / `?` expansion whose variable is unset (it starts with
/// `variable`), or a malformed expression.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: Unset,
) -> Result<Interpolated, String> {
    let mut out = Interpolated::default();
    run(text, lookup, unset, 0, &mut out)?;
    if out.text.len() > MAX_EXPANDED {
        return Err(format!(
            "the value is longer than {MAX_EXPANDED} bytes once its variables are expanded"
        ));
    }
    Ok(out)
}

/// [`substitute`] over a map, with unset variables replaced by an empty string.
///
/// # Errors
/// As [`substitute`].
pub fn interpolate(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<(String, Vec<String>), String> {
    let r = substitute(text, &|k| vars.get(k).cloned(), Unset::Empty)?;
    Ok((r.text, r.missing))
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn name_len(s: &str) -> usize {
    s.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(s.len())
}

/// The byte offset of the `}` closing a `${` whose body starts at `body`, counting
/// nested `${` as compose does.
fn closing_brace(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'}' {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        } else if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

fn run(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: Unset,
    depth: usize,
    out: &mut Interpolated,
) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err(format!(
            "`${{...}}` nested deeper than {MAX_NESTING} levels"
        ));
    }
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        if out.text.len() > MAX_EXPANDED {
            return Err(format!(
                "the value is longer than {MAX_EXPANDED} bytes once its variables are expanded"
            ));
        }
        out.text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.text.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| {
                format!("unclosed `${{` in `{text}`; escape a literal `$` as `$$`")
            })?;
            braced(&body[..end], lookup, unset, depth, out)?;
            rest = &body[end + 1..];
        } else if after.starts_with(is_name_start) {
            let len = name_len(after);
            let name = &after[..len];
            plain(name, lookup, unset, out);
            rest = &after[len..];
        } else {
            return Err(format!(
                "invalid interpolation format in `{text}`: `$` must be followed by a name or `{{`; escape a literal `$` as `$$`"
            ));
        }
    }
    out.text.push_str(rest);
    Ok(())
}

fn plain(
    name: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: Unset,
    out: &mut Interpolated,
) {
    if let Some(v) = lookup(name) {
        out.text.push_str(&v);
        return;
    }
    out.missing.push(name.to_string());
    if unset == Unset::Keep {
        out.text.push_str("${");
        out.text.push_str(name);
        out.text.push('}');
    }
}

/// The operand of `:-`, `?` and the like, interpolated itself.
fn operand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: Unset,
    depth: usize,
    missing: &mut Vec<String>,
) -> Result<String, String> {
    let mut inner = Interpolated::default();
    run(text, lookup, unset, depth + 1, &mut inner)?;
    missing.extend(inner.missing);
    Ok(inner.text)
}

fn braced(
    expr: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: Unset,
    depth: usize,
    out: &mut Interpolated,
) -> Result<(), String> {
    if !expr.starts_with(is_name_start) {
        return Err(format!("`${{{expr}}}` has no variable name"));
    }
    let (name, op) = expr.split_at(name_len(expr));
    if op.is_empty() {
        plain(name, lookup, unset, out);
        return Ok(());
    }
    let (colon, op) = match op.strip_prefix(':') {
        Some(o) => (true, o),
        None => (false, op),
    };
    let mut chars = op.chars();
    let (Some(kind @ ('-' | '+' | '?')), arg) = (chars.next(), chars.as_str()) else {
        return Err(format!("`${{{expr}}}` is not a supported expansion"));
    };
    let value = lookup(name);
    // `:` also treats an empty value as unset.
    let present = value.as_ref().is_some_and(|v| !colon || !v.is_empty());
    match kind {
        '-' if present => out.text.push_str(&value.unwrap_or_default()),
        '-' => {
            let d = operand(arg, lookup, unset, depth, &mut out.missing)?;
            out.text.push_str(&d);
        }
        '+' if present => {
            let d = operand(arg, lookup, unset, depth, &mut out.missing)?;
            out.text.push_str(&d);
        }
        '+' => out.text.push_str(&value.unwrap_or_default()),
        _ if present => out.text.push_str(&value.unwrap_or_default()),
        _ => {
            let msg = operand(arg, lookup, Unset::Empty, depth, &mut Vec::new())?;
            return Err(format!(
                "variable `{name}` is required: {}",
                if msg.is_empty() { "not set" } else { &msg }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([("A".into(), "1".into()), ("EMPTY".into(), String::new())])
    }

    fn keep(text: &str) -> Result<Interpolated, String> {
        let v = vars();
        substitute(text, &|k| v.get(k).cloned(), Unset::Keep)
    }

    #[test]
    fn forms_as_compose() {
        let v = vars();
        assert_eq!(interpolate("x${A}y$A$$B", &v).unwrap().0, "x1y1$B");
        assert_eq!(
            interpolate("${B:-d}${EMPTY:-e}${EMPTY-f}", &v).unwrap().0,
            "de"
        );
        assert_eq!(
            interpolate("${A:+yes}${B:+no}${EMPTY+set}", &v).unwrap().0,
            "yesset"
        );
        assert!(interpolate("${B:?must be set}", &v)
            .unwrap_err()
            .contains("must be set"));
        assert!(interpolate("${EMPTY:?}", &v).is_err());
        assert_eq!(interpolate("${EMPTY?}", &v).unwrap().0, "");
        assert_eq!(interpolate("${B}", &v).unwrap().1, vec!["B".to_string()]);
        assert!(interpolate("${A", &v).is_err());
        assert!(interpolate("${ A}", &v).is_err());
        assert!(interpolate("${A%x}", &v).is_err());
    }

    #[test]
    fn nested_defaults() {
        let v = vars();
        assert_eq!(interpolate("${B:-${A}-x}/", &v).unwrap().0, "1-x/");
        assert_eq!(interpolate("${B:-${C:-${A}}}", &v).unwrap().0, "1");
        assert_eq!(interpolate("a${B-}b", &v).unwrap().0, "ab");
        let deep = format!("{}{}", "${B:-".repeat(40), "}".repeat(40));
        assert!(interpolate(&deep, &v)
            .unwrap_err()
            .contains("nested deeper"));
    }

    #[test]
    fn expansion_is_bounded() {
        let big = BTreeMap::from([("A".to_string(), "x".repeat(MAX_EXPANDED / 2 + 1))]);
        assert!(interpolate("$A", &big).is_ok());
        assert!(interpolate("$A$A", &big)
            .unwrap_err()
            .contains("longer than"));
    }

    #[test]
    fn a_lone_dollar_is_refused_as_compose_refuses_it() {
        let v = vars();
        for bad in ["echo $1", "cost: 5$", "$ {A}", "a$-b"] {
            let e = interpolate(bad, &v).unwrap_err();
            assert!(e.contains("escape a literal `$` as `$$`"), "{bad}: {e}");
        }
    }

    #[test]
    fn unset_variables_are_kept_as_references_when_asked() {
        let r = keep("postgres://$USER:${PW}@db/${A}?x=${NONE:-d}").unwrap();
        assert_eq!(r.text, "postgres://${USER}:${PW}@db/1?x=d");
        assert_eq!(r.missing, vec!["USER".to_string(), "PW".to_string()]);
        assert_eq!(keep("${X:+alt}").unwrap().text, "");
    }
}
