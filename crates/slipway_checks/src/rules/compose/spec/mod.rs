//! slipway's own description of the Compose file format (written from the Compose
//! Specification's documentation) and the validation CMP001 runs with it: unknown keys
//! (with a "did you mean"), values of the wrong type, missing required keys and names
//! that are not allowed, each located on its YAML node.
//!
//! The description is data ([`shape::Shape`]): the top level in `top.rs`, a service in
//! `service.rs` and `container.rs`, its structured values in `nested.rs` and
//! `deploy.rs`. Values are typed as a YAML 1.2 loader types them (`instance.rs`), so
//! `yes` is a string and `0o17` an integer. The differential test
//! `crates/slipway_cli/tests/compose_differential.rs` compares the verdicts with
//! `check-jsonschema --builtin-schema vendor.compose-spec` over the corpus.

mod container;
mod deploy;
mod instance;
mod nested;
mod service;
mod shape;
#[cfg(test)]
mod tests;
mod top;

use instance::{at, to_json};
use serde_json::Value as Json;
use shape::{Keys, Pattern, Shape};
use slipway_diagnostics::Span;
use slipway_import::yaml::Node;

/// One way a compose file departs from the Compose Specification.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaProblem {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

/// Validates a compose file's root node against slipway's description of the format.
#[must_use]
pub fn validate(root: &Node) -> Vec<SchemaProblem> {
    if root.is_null() {
        return vec![SchemaProblem {
            span: root.span,
            message: "the compose file is empty; Docker Compose refuses an empty file".into(),
            help: Some("add `services:` with at least one service".into()),
        }];
    }
    let mut walk = Walk {
        root: Some(root),
        out: Vec::new(),
    };
    walk.check(&Shape::Keys(&top::ROOT), &to_json(root), &mut Vec::new());
    let mut out = walk.out;
    out.sort_by_key(|p| (p.span.start, p.span.end));
    out.dedup();
    out
}

/// `root: None` when only the verdict matters (trying the forms of a value).
struct Walk<'a> {
    root: Option<&'a Node>,
    out: Vec<SchemaProblem>,
}

impl Walk<'_> {
    /// `on_key`: point at the key of the value (a missing key, a repeated entry).
    fn push(&mut self, path: &[String], on_key: bool, message: String, help: Option<String>) {
        let span = self.root.map_or_else(Span::default, |root| {
            let (node, key) = at(root, path);
            if on_key {
                key.unwrap_or(node).span
            } else {
                node.span
            }
        });
        self.out.push(SchemaProblem {
            span,
            message,
            help,
        });
    }

    fn wrong_type(&mut self, shape: &Shape, path: &[String]) {
        let found = self
            .root
            .map(|root| at(root, path).0.kind_name())
            .unwrap_or_default();
        let message = format!(
            "{} must be {}; found {found}",
            dotted(path),
            forms(shape).join(" or "),
        );
        self.push(path, false, message, None);
    }

    fn check(&mut self, shape: &Shape, v: &Json, path: &mut Vec<String>) {
        if !fits(shape, v) {
            self.wrong_type(shape, path);
            return;
        }
        match shape {
            Shape::Enum(allowed) => self.one_of_words(allowed, v, path),
            Shape::Alt(branches) => self.alt(branches, v, path),
            Shape::List(item, unique) => self.list(item, *unique, v, path),
            Shape::Keys(keys) => self.keys(keys, v, path),
            Shape::Names(value, pattern) => self.names(value, *pattern, v, path),
            _ => {}
        }
    }

    fn one_of_words(&mut self, allowed: &[&str], v: &Json, path: &[String]) {
        let word = v.as_str().unwrap_or_default();
        if !allowed.contains(&word) {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
            let message = format!(
                "{} must be one of {}; found `{word}`",
                dotted(path),
                list.join(", ")
            );
            let help = crate::rules::did_you_mean(word, allowed.iter().copied())
                .map(|s| format!("did you mean `{s}`?"));
            self.push(path, false, message, help);
        }
    }

    /// A value that matches none of the forms: when exactly one form has the value's
    /// type, that form's problems are the ones to tell.
    fn alt(&mut self, branches: &[Shape], v: &Json, path: &mut Vec<String>) {
        if branches.iter().any(|b| valid(b, v)) {
            return;
        }
        let fitting: Vec<&Shape> = branches.iter().filter(|b| fits(b, v)).collect();
        if let [one] = fitting.as_slice() {
            self.check(one, v, path);
            return;
        }
        let message = format!(
            "{} matches none of the forms the Compose Specification allows here",
            dotted(path)
        );
        self.push(path, false, message, None);
    }

    fn list(&mut self, item: &Shape, unique: bool, v: &Json, path: &mut Vec<String>) {
        let items = v.as_array().map_or(&[][..], Vec::as_slice);
        for (i, x) in items.iter().enumerate() {
            path.push(i.to_string());
            self.check(item, x, path);
            path.pop();
        }
        let repeated = items
            .iter()
            .enumerate()
            .any(|(i, x)| items[..i].contains(x));
        if unique && repeated {
            let message = format!("{} lists the same entry twice", dotted(path));
            self.push(
                path,
                true,
                message,
                Some("remove the repeated entry".into()),
            );
        }
    }

    fn keys(&mut self, keys: &Keys, v: &Json, path: &mut Vec<String>) {
        let Some(map) = v.as_object() else { return };
        for (name, value) in map {
            path.push(name.clone());
            match lookup(keys, name) {
                Some(shape) => self.check(shape, value, path),
                None if keys.extensions && name.starts_with("x-") => {}
                None => self.unknown(keys, name, path),
            }
            path.pop();
        }
        for name in required(keys).filter(|n| !map.contains_key(*n)) {
            let message = format!("{} needs the key `{name}`", dotted(path));
            self.push(path, true, message, None);
        }
    }

    fn unknown(&mut self, keys: &Keys, name: &str, path: &[String]) {
        let mut names = Vec::new();
        all_names(keys, &mut names);
        let help = crate::rules::did_you_mean(name, names.iter().copied()).map_or_else(
            || {
                "see the Compose Specification for the keys allowed here; custom keys start with `x-`"
                    .to_string()
            },
            |s| format!("did you mean `{s}`?"),
        );
        let here = dotted(&path[..path.len() - 1]);
        self.push(
            path,
            true,
            format!("unknown key `{name}` in {here}"),
            Some(help),
        );
    }

    fn names(&mut self, value: &Shape, pattern: Option<Pattern>, v: &Json, path: &mut Vec<String>) {
        let Some(map) = v.as_object() else { return };
        for (name, x) in map {
            path.push(name.clone());
            match pattern {
                Some(p) if !(p.ok)(name) => {
                    let here = dotted(&path[..path.len() - 1]);
                    let message = format!("`{name}` is not an allowed name in {here}");
                    let help = format!("names here must match `{}`", p.shown);
                    self.push(path, true, message, Some(help));
                }
                _ => self.check(value, x, path),
            }
            path.pop();
        }
    }
}

fn lookup<'k>(keys: &'k Keys, name: &str) -> Option<&'k Shape> {
    keys.fields
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, s)| s)
        .or_else(|| keys.also.iter().find_map(|k| lookup(k, name)))
}

fn required(keys: &Keys) -> impl Iterator<Item = &str> + '_ {
    keys.required
        .iter()
        .copied()
        .chain(keys.also.iter().flat_map(|k| k.required.iter().copied()))
}

fn all_names(keys: &Keys, out: &mut Vec<&'static str>) {
    out.extend(keys.fields.iter().map(|(k, _)| *k));
    for k in keys.also {
        all_names(k, out);
    }
}

fn is_int(v: &Json) -> bool {
    v.as_number()
        .is_some_and(|n| n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0))
}

/// Whether a value has (one of) the shape's types, not looking inside it.
fn fits(shape: &Shape, v: &Json) -> bool {
    match shape {
        Shape::Any => true,
        Shape::Str | Shape::Enum(_) => v.is_string(),
        Shape::Num => v.is_number(),
        Shape::Int => is_int(v),
        Shape::Bool => v.is_boolean(),
        Shape::Null => v.is_null(),
        Shape::Alt(branches) => branches.iter().any(|b| fits(b, v)),
        Shape::List(..) => v.is_array(),
        Shape::Keys(_) | Shape::Names(..) => v.is_object(),
    }
}

/// Whether a value matches the shape all the way down.
fn valid(shape: &Shape, v: &Json) -> bool {
    let mut walk = Walk {
        root: None,
        out: Vec::new(),
    };
    walk.check(shape, v, &mut Vec::new());
    walk.out.is_empty()
}

/// `a string`, `a list`... for each type a shape allows, without repeats.
fn forms(shape: &Shape) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut add = |f: &'static str| {
        if !out.contains(&f) {
            out.push(f);
        }
    };
    match shape {
        Shape::Any => add("a value"),
        Shape::Str | Shape::Enum(_) => add("a string"),
        Shape::Num => add("a number"),
        Shape::Int => add("an integer"),
        Shape::Bool => add("a boolean"),
        Shape::Null => add("null"),
        Shape::List(..) => add("a list"),
        Shape::Keys(_) | Shape::Names(..) => add("a mapping"),
        Shape::Alt(branches) => branches.iter().flat_map(forms).for_each(add),
    }
    out
}

/// `services.api.ports[0]`, for messages.
fn dotted(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            s.push('[');
            s.push_str(seg);
            s.push(']');
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    if s.is_empty() {
        "the top level".into()
    } else {
        format!("`{s}`")
    }
}
