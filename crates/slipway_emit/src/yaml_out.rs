//! A small, deterministic YAML writer for generated objects: block style, two-space
//! indentation, sequences indented under their key, scalars plain unless quoting is
//! needed (then JSON-style double quotes, which YAML reads back the same).

use serde_json::Value;
use std::fmt::Write as _;

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
            for (k, val) in map {
                write_entry(out, &pad, &key(k), val, indent);
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // First entry on the dash line, the rest aligned under it.
                        let inner = to_yaml(item, indent + 2);
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
}
