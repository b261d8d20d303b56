//! The Compose Specification's JSON Schema, embedded, and the validation CMP001 runs
//! with it: the verdict is the schema's (the same one `check-jsonschema --builtin-schema
//! vendor.compose-spec` uses), the messages are ours, located on the YAML node.
//!
//! Origin of `compose-spec.json`: the `compose-spec/compose-spec` project's
//! `schema/compose-spec.json` (Apache-2.0, `LICENSE.compose-spec` beside it), as vendored
//! in the PyPI package check-jsonschema 0.39.0 at
//! `check_jsonschema/builtin_schemas/vendor/compose-spec.json`, sha256
//! `d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64` (the package's own
//! `sha256/compose-spec.sha256`). To update: install a newer check-jsonschema, copy the
//! file over this one, update the version and hash here, and run the CMP001 tests and
//! the differential test (`crates/slipway_cli/tests/compose_differential.rs`).

use super::instance::{at, to_json};
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;
use slipway_diagnostics::Span;
use slipway_import::yaml::Node;
use std::sync::OnceLock;

/// The version of the schema's carrier, for `explain` and reports.
pub const SCHEMA_ORIGIN: &str =
    "compose-spec schema as shipped in check-jsonschema 0.39.0 (sha256 d549057e…)";

const SCHEMA_TEXT: &str = include_str!("compose-spec.json");

struct Compiled {
    schema: Json,
    validator: Validator,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        // The schema is a constant compiled into the binary; the unit test
        // `embedded_schema_compiles` proves both steps succeed.
        let schema: Json =
            serde_json::from_str(SCHEMA_TEXT).expect("the embedded compose-spec schema is JSON");
        let validator = jsonschema::draft202012::new(&schema)
            .expect("the embedded compose-spec schema compiles");
        Compiled { schema, validator }
    })
}

/// One way a compose file departs from the Compose Specification.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaProblem {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

/// Validates a compose file's root node against the Compose Specification.
#[must_use]
pub fn validate(root: &Node) -> Vec<SchemaProblem> {
    if root.is_null() {
        return vec![SchemaProblem {
            span: root.span,
            message: "the compose file is empty; Docker Compose refuses an empty file".into(),
            help: Some("add `services:` with at least one service".into()),
        }];
    }
    let c = compiled();
    let instance = to_json(root);
    let mut out = Vec::new();
    for err in c.validator.iter_errors(&instance) {
        describe(&err, root, &c.schema, &mut out);
    }
    out.sort_by_key(|p| (p.span.start, p.span.end));
    out.dedup();
    out
}

fn segments(loc: &jsonschema::paths::Location) -> Vec<String> {
    loc.as_str()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
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

/// The schema object reached by a keyword location, following `$ref`s on the way.
fn schema_at<'a>(schema: &'a Json, path: &[String]) -> Option<&'a Json> {
    let mut node = schema;
    for seg in path {
        node = if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?.strip_prefix('#')?;
            schema.pointer(target)?
        } else {
            match node {
                Json::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
                _ => node.get(seg)?,
            }
        };
    }
    Some(node)
}

/// Property names a schema object (with its `allOf`/`$ref` parts) allows.
fn allowed(schema: &Json, obj: &Json, out: &mut Vec<String>) {
    if let Some(props) = obj.get("properties").and_then(Json::as_object) {
        out.extend(props.keys().cloned());
    }
    if let Some(target) = obj.get("$ref").and_then(Json::as_str) {
        if let Some(t) = target.strip_prefix('#').and_then(|p| schema.pointer(p)) {
            allowed(schema, t, out);
        }
    }
    for part in obj
        .get("allOf")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        allowed(schema, part, out);
    }
}

fn push(out: &mut Vec<SchemaProblem>, node: &Node, message: String, help: Option<String>) {
    out.push(SchemaProblem {
        span: node.span,
        message,
        help,
    });
}

fn describe(err: &ValidationError, root: &Node, schema: &Json, out: &mut Vec<SchemaProblem>) {
    let path = segments(err.instance_path());
    let (node, key) = at(root, &path);
    let keyword_path = segments(err.schema_path());
    let keyword = keyword_path
        .split_last()
        .map_or(&[][..], |(_, parent)| parent);
    let here = dotted(&path);
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let obj = schema_at(schema, keyword);
            let mut names = Vec::new();
            if let Some(o) = obj {
                allowed(schema, o, &mut names);
            }
            // A known key is reported as unevaluated only because a sibling part of
            // the schema failed on another key, which is reported on its own.
            for name in unexpected.iter().filter(|n| !names.contains(n)) {
                let mut p = path.clone();
                p.push(name.clone());
                let (_, k) = at(root, &p);
                let target = k.unwrap_or(node);
                if names.is_empty() {
                    let pattern = obj
                        .and_then(|o| o.get("patternProperties"))
                        .and_then(Json::as_object)
                        .and_then(|m| m.keys().next().cloned())
                        .unwrap_or_default();
                    push(
                        out,
                        target,
                        format!("`{name}` is not an allowed name in {here}"),
                        Some(format!("names here must match `{pattern}`")),
                    );
                } else {
                    let help = crate::rules::did_you_mean(name, names.iter().map(String::as_str))
                        .map_or_else(|| "see the Compose Specification for the keys allowed here; custom keys start with `x-`".to_string(), |s| format!("did you mean `{s}`?"));
                    push(
                        out,
                        target,
                        format!("unknown key `{name}` in {here}"),
                        Some(help),
                    );
                }
            }
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            one_of(err, context, root, schema, out);
        }
        ValidationErrorKind::Type { .. } => {
            let want = schema_at(schema, &keyword_path)
                .map(types)
                .unwrap_or_default();
            push(
                out,
                node,
                format!("{here} must be {want}; found {}", node.kind_name()),
                None,
            );
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), ToString::to_string);
            push(
                out,
                key.unwrap_or(node),
                format!("{here} needs the key `{name}`"),
                None,
            );
        }
        ValidationErrorKind::UniqueItems => {
            push(
                out,
                key.unwrap_or(node),
                format!("{here} lists the same entry twice"),
                Some("remove the repeated entry".into()),
            );
        }
        _ => push(out, node, format!("{here}: {err}"), None),
    }
}

/// `a string`, `a list or a mapping`, from a `type` keyword's value.
fn types(t: &Json) -> String {
    let one = |s: &str| match s {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "number" => "a number",
        "integer" => "an integer",
        "boolean" => "a boolean",
        "null" => "null",
        _ => "a value of another type",
    };
    match t {
        Json::String(s) => one(s).to_string(),
        Json::Array(items) => items
            .iter()
            .filter_map(Json::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "something else".into(),
    }
}

/// A value that matches none of the forms a `oneOf`/`anyOf` allows: when exactly one
/// form has the value's type, that form's problems are the ones to tell; otherwise the
/// forms' types are.
fn one_of(
    err: &ValidationError,
    context: &[Vec<ValidationError<'static>>],
    root: &Node,
    schema: &Json,
    out: &mut Vec<SchemaProblem>,
) {
    let here = err.instance_path().as_str();
    let type_mismatch = |branch: &Vec<ValidationError<'static>>| {
        branch.iter().any(|e| {
            matches!(e.kind(), ValidationErrorKind::Type { .. })
                && e.instance_path().as_str() == here
        })
    };
    let fitting: Vec<&Vec<ValidationError<'static>>> =
        context.iter().filter(|b| !type_mismatch(b)).collect();
    if let [branch] = fitting.as_slice() {
        for e in *branch {
            describe(e, root, schema, out);
        }
        return;
    }
    let path = segments(err.instance_path());
    let (node, _) = at(root, &path);
    let mut forms: Vec<String> = context
        .iter()
        .flatten()
        .filter(|e| {
            matches!(e.kind(), ValidationErrorKind::Type { .. })
                && e.instance_path().as_str() == here
        })
        .filter_map(|e| schema_at(schema, &segments(e.schema_path())).map(types))
        .collect();
    forms.dedup();
    let message = if fitting.is_empty() && !forms.is_empty() {
        format!(
            "{} must be {}; found {}",
            dotted(&path),
            forms.join(" or "),
            node.kind_name()
        )
    } else {
        format!(
            "{} matches none of the forms the Compose Specification allows here",
            dotted(&path)
        )
    };
    push(out, node, message, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_diagnostics::SourceFile;
    use slipway_import::yaml::{parse, Budget};

    fn check(text: &str) -> Vec<(String, String)> {
        let docs = parse(&SourceFile::new("compose.yaml", text), Budget::default()).unwrap();
        validate(&docs[0])
            .into_iter()
            .map(|p| (text[p.span.start..p.span.end].to_string(), p.message))
            .collect()
    }

    #[test]
    fn embedded_schema_compiles() {
        assert!(compiled().schema.get("$defs").is_some());
    }

    #[test]
    fn current_keys_are_allowed() {
        let text = "x-base: &base\n  restart: always\nservices:\n  api:\n    <<: *base\n    image: a/b:1\n    develop: { watch: [{ action: sync, path: ./src, target: /app }] }\n    gpus: all\n    post_start: [{ command: [\"true\"] }]\n    mem_swappiness: 10\n  web:\n    extends: { service: api }\ninclude: [other.yaml]\n";
        assert_eq!(check(text), Vec::<(String, String)>::new());
    }

    #[test]
    fn unknown_keys_are_located_with_a_suggestion() {
        let text = "services:\n  api:\n    image: a/b:1\n    restrat: always\n";
        let docs = parse(&SourceFile::new("compose.yaml", text), Budget::default()).unwrap();
        let problems = validate(&docs[0]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            &text[problems[0].span.start..problems[0].span.end],
            "restrat"
        );
        assert_eq!(
            problems[0].message,
            "unknown key `restrat` in `services.api`"
        );
        assert_eq!(problems[0].help.as_deref(), Some("did you mean `restart`?"));
    }

    #[test]
    fn wrong_types_and_missing_keys_are_located() {
        let found = check("services:\n  api:\n    image: a/b:1\n    privileged: [yes]\n  b:\n    build: { dockerfile: D }\n    image: x\nvolumes:\n  v: { driver: [x] }\n");
        let want = [
            (
                "[yes]",
                "`services.api.privileged` must be a boolean or a string; found a list",
            ),
            ("[x]", "`volumes.v.driver` must be a string; found a list"),
        ];
        assert_eq!(found, want.map(|(a, m)| (a.to_string(), m.to_string())));
        let found = check("services:\n  api:\n    image: 12\n    extends: { file: x }\n    ports: [{ target: [80] }]\n");
        let want = [
            (
                "12",
                "`services.api.image` must be a string; found the number `12`",
            ),
            ("extends", "`services.api.extends` needs the key `service`"),
            (
                "[80]",
                "`services.api.ports[0].target` must be an integer or a string; found a list",
            ),
        ];
        assert_eq!(found, want.map(|(a, m)| (a.to_string(), m.to_string())));
    }
}
