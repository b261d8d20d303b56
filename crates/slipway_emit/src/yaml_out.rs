//! A small, deterministic YAML writer for generated objects: block style, two-space
//! indentation, sequences indented under their key, scalars plain unless quoting is
//! needed (then JSON-style double quotes, which YAML reads back the same).
//!
//! A mapping's entry under [`COMMENT_KEY`] is not data: its text is written as a
//! comment at the end of the mapping's first line (how a generated container carries
//! its `# slipway:ignore RULE reason`).

use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The key whose (string) value becomes a comment on its mapping's first line.
pub const COMMENT_KEY: &str = "#";

/// A mapping without its comment entry, and the comment.
fn split_comment(map: &Map<String, Value>) -> (Option<&str>, Option<Value>) {
    match map.get(COMMENT_KEY).and_then(Value::as_str) {
        Some(c) => {
            let mut rest = map.clone();
            rest.remove(COMMENT_KEY);
            (Some(c), Some(Value::Object(rest)))
        }
        None => (None, None),
    }
}

/// `text` with `  # comment` appended to its first line.
fn comment_first_line(text: &str, comment: Option<&str>) -> String {
    match (comment, text.split_once('\n')) {
        (Some(c), Some((first, rest))) => format!("{first}  # {c}\n{rest}"),
        _ => text.to_string(),
    }
}

/// Whether a string can be written plain and read back as the same string.
fn plain_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        )
}

/// A scalar as YAML text.
#[must_use]
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn key(k: &str) -> String {
    if plain_ok(k) {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

fn inline_empty(v: &Value) -> Option<&'static str> {
    match v {
        Value::Object(m) if m.is_empty() => Some("{}"),
        Value::Array(a) if a.is_empty() => Some("[]"),
        _ => None,
    }
}

/// `v` (a mapping or a sequence) as block YAML, every line indented by `indent`.
#[must_use]
pub fn to_yaml(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_node(&mut out, v, indent);
    out
}

fn write_node(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            let mut first = true;
            let comment = map.get(COMMENT_KEY).and_then(Value::as_str);
            for (k, val) in map.iter().filter(|(k, _)| k.as_str() != COMMENT_KEY) {
                if first {
                    let mut line = String::new();
                    write_entry(&mut line, &pad, &key(k), val, indent);
                    out.push_str(&comment_first_line(&line, comment));
                    first = false;
                } else {
                    write_entry(out, &pad, &key(k), val, indent);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // First entry on the dash line, the rest aligned under it.
                        let (comment, rest) = split_comment(m);
                        let inner = to_yaml(rest.as_ref().unwrap_or(item), indent + 2);
                        let inner = comment_first_line(&inner, comment);
                        let _ = write!(out, "{pad}- {}", &inner[indent + 2..]);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        write_node(out, item, indent + 2);
                    }
                    other => {
                        let text =
                            inline_empty(other).map_or_else(|| scalar(other), ToString::to_string);
                        let _ = writeln!(out, "{pad}- {text}");
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

fn write_entry(out: &mut String, pad: &str, k: &str, val: &Value, indent: usize) {
    if let Some(empty) = inline_empty(val) {
        let _ = writeln!(out, "{pad}{k}: {empty}");
        return;
    }
    match val {
        Value::Object(_) | Value::Array(_) => {
            let _ = writeln!(out, "{pad}{k}:");
            write_node(out, val, indent + 2);
        }
        Value::String(s) if s.contains('\n') => {
            // Literal block for multi-line text (scripts, patches).
            let _ = writeln!(out, "{pad}{k}: |-");
            for line in s.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "{pad}  {line}");
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{k}: {}", scalar(other));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml_that_reads_back() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "api", "labels": {"app.kubernetes.io/name": "api"}},
            "data": {"PORT": "8000", "FLAG": "true", "EMPTY": ""},
            "list": [{"name": "a", "ports": [{"containerPort": 80}]}, "x", [], {}],
            "script": "line one\nline two",
        });
        let text = to_yaml(&v, 0);
        assert!(text.contains("  PORT: \"8000\"\n"), "{text}");
        assert!(text.contains("list:\n  - name: a\n    ports:\n      - containerPort: 80\n  - x\n  - []\n  - {}\n"), "{text}");
        let back = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        assert_eq!(back[0]["data"]["FLAG"].as_str(), Some("true"));
        assert_eq!(back[0]["data"]["EMPTY"].as_str(), Some(""));
        assert_eq!(back[0]["script"].as_str(), Some("line one\nline two"));
        assert_eq!(
            back[0]["list"][0]["ports"][0]["containerPort"].as_i64(),
            Some(80)
        );
    }

    #[test]
    fn a_comment_entry_ends_its_mappings_first_line() {
        let v = json!({
            "containers": [{ "#": "slipway:ignore K8S007 why", "name": "a", "image": "x" }],
            "spec": { "#": "note", "b": 1 },
        });
        let text = to_yaml(&v, 0);
        assert_eq!(
            text,
            "containers:\n  - image: x  # slipway:ignore K8S007 why\n    name: a\nspec:\n  b: 1  # note\n"
        );
        let back = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        assert!(back[0]["containers"][0]["#"].is_badvalue());
        assert_eq!(back[0]["spec"]["b"].as_i64(), Some(1));
    }
}
