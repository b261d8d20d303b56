//! A YAML tree as the JSON instance a schema validator sees, typed the way the
//! reference loader types it (ruamel.yaml's YAML 1.2 resolver, as `check-jsonschema`
//! uses it): `yes` and `on` are strings, `0o17` and `0x1F` are integers, `1_000` is an
//! integer, timestamps stay strings, mapping keys become strings (`true` -> `True`,
//! `null` -> `None`, as Python's `str()` spells them).
//!
//! Pure: [`Node`] in, `serde_json::Value` out; the path back to a node is [`at`].

use serde_json::{Map, Number, Value as Json};
use slipway_import::yaml::{Node, Value};

fn strip(t: &str) -> (bool, &str) {
    match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

fn digits(t: &str, radix: u32) -> Option<i128> {
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !t.chars().all(|c| c == '_' || c.is_digit(radix)) {
        return None;
    }
    i128::from_str_radix(&clean, radix).ok()
}

/// ruamel's YAML 1.2 int: `[-+]?(0b[01_]+ | 0o[0-7_]+ | [0-9_]+ | 0x[0-9a-fA-F_]+)`
/// (`017` is 17: a leading zero is decimal there).
fn as_int(text: &str) -> Option<i128> {
    let (neg, t) = strip(text);
    let v = if let Some(b) = t.strip_prefix("0b") {
        digits(b, 2)?
    } else if let Some(h) = t.strip_prefix("0x") {
        digits(h, 16)?
    } else if let Some(o) = t.strip_prefix("0o") {
        digits(o, 8)?
    } else {
        digits(t, 10)?
    };
    Some(if neg { -v } else { v })
}

/// ruamel's YAML 1.2 float (digits with `_`, a `.` or an exponent, `.inf`, `.nan`).
fn as_float(text: &str) -> Option<f64> {
    let (neg, t) = strip(text);
    let sign = if neg { -1.0 } else { 1.0 };
    if matches!(t, ".inf" | ".Inf" | ".INF") {
        // JSON has no infinity; the largest number keeps the type a schema sees.
        return Some(sign * f64::MAX);
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(0.0);
    }
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let int_ok = int.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && int.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let frac_ok = frac.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit() || b == b'_'));
    // `.5` needs an explicitly signed exponent in ruamel's pattern.
    let bare_frac = int.is_empty()
        && frac.is_some_and(|f| !f.is_empty())
        && exp.is_none_or(|e| e.starts_with(['-', '+']));
    if !(exp_ok && frac_ok && (int_ok || bare_frac) && (frac.is_some() || exp.is_some())) {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    clean.parse::<f64>().ok().map(|v| sign * v)
}

fn scalar(text: &str, plain: bool) -> Json {
    if !plain {
        return Json::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "true" | "True" | "TRUE" => return Json::Bool(true),
        "false" | "False" | "FALSE" => return Json::Bool(false),
        _ => {}
    }
    if let Some(i) = as_int(text) {
        if let Ok(v) = i64::try_from(i) {
            return Json::Number(v.into());
        }
        if let Ok(v) = u64::try_from(i) {
            return Json::Number(v.into());
        }
    }
    if let Some(n) = as_float(text).and_then(Number::from_f64) {
        return Json::Number(n);
    }
    Json::String(text.to_string())
}

/// The string a mapping key becomes (Python's `str()` of the loaded key).
pub(crate) fn key_text(key: &Node) -> String {
    match &key.value {
        Value::Scalar { text, plain } => match scalar(text, *plain) {
            Json::Null => "None".into(),
            Json::Bool(true) => "True".into(),
            Json::Bool(false) => "False".into(),
            Json::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => text.clone(),
        },
        _ => to_json(key).to_string(),
    }
}

/// The JSON instance of a YAML node.
pub(crate) fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar { text, plain } => scalar(text, *plain),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                m.insert(key_text(k), to_json(v));
            }
            Json::Object(m)
        }
    }
}

/// The node at a JSON Pointer's segments, with the key node it sits under (if any).
pub(crate) fn at<'a>(root: &'a Node, path: &[String]) -> (&'a Node, Option<&'a Node>) {
    let mut node = root;
    let mut key = None;
    for seg in path {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| key_text(k) == *seg)
                .map(|(k, v)| (v, Some(k))),
            Value::Seq(items) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| (v, None)),
            Value::Scalar { .. } => None,
        };
        let Some((v, k)) = next else { break };
        node = v;
        key = k;
    }
    (node, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use slipway_diagnostics::SourceFile;
    use slipway_import::yaml::{parse, Budget};

    fn load(text: &str) -> Json {
        let docs = parse(&SourceFile::new("t.yaml", text), Budget::default()).unwrap();
        to_json(&docs[0])
    }

    #[test]
    fn scalars_are_typed_as_yaml_1_2() {
        let v = load("a: yes\nb: on\nc: 0o17\nd: 0x1F\ne: 1_000\nf: 1.5e3\ng: '12'\nh: ~\ni: True\nj: 2024-01-02\nk: .inf\nl: 1:30\nm: 017\nn: .5\no: 1.\n");
        assert_eq!(
            v,
            json!({"a": "yes", "b": "on", "c": 15, "d": 31, "e": 1000, "f": 1500.0, "g": "12",
                   "h": null, "i": true, "j": "2024-01-02", "k": f64::MAX, "l": "1:30", "m": 17, "n": 0.5, "o": 1.0})
        );
    }

    #[test]
    fn keys_are_spelled_as_python_does() {
        let v = load("true: 1\n~: 2\n0x10: 3\nplain: 4\n");
        assert_eq!(v, json!({"True": 1, "None": 2, "16": 3, "plain": 4}));
    }
}
