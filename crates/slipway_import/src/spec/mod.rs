//! The native spec (`slipway.yaml`) -> `App`. Reading collects every problem at once:
//! YAML syntax, unknown keys, wrong types, bad names, missing references, cycles and
//! port clashes. An `App` is returned only when there is no error.

mod check;
mod reader;
mod schema;
mod service;

pub use reader::did_you_mean;
pub use schema::{spec_schema, SpecDocument};

use crate::yaml::{self, Budget, Node};
use reader::Reader;
use slipway_diagnostics::{Diagnostics, SourceFile, Span};
use slipway_model::{App, Resource, ResourceKind, Trace};

pub(crate) const TOP_KEYS: &[&str] = &[
    "name",
    "environments",
    "services",
    "resources",
    "targets",
    "images",
    "pin_digests",
    "policy",
];
pub(crate) const RESOURCE_KEYS: &[&str] = &["type", "version", "external", "storage"];
/// Targets a spec may name. Those without an emitter yet are accepted and reported.
pub const TARGETS: &[&str] = &[
    "docker",
    "compose",
    "scripts",
    "kubernetes",
    "terraform-aws",
    "github-actions",
    "gitlab-ci",
    "monitoring",
];
pub const DEFAULT_ENVIRONMENTS: &[&str] = &["dev", "staging", "prod"];

/// What reading a spec produced: the app when it is valid, and every diagnostic.
#[derive(Debug)]
pub struct SpecOutcome {
    pub app: Option<App>,
    pub diagnostics: Diagnostics,
}

/// Reads a native spec. `file.name` is used in traces and diagnostics as given.
#[must_use]
pub fn parse_spec(file: &SourceFile) -> SpecOutcome {
    let mut r = Reader::new(file);
    let docs = match yaml::parse(file, Budget::default()) {
        Ok(d) => d,
        Err(d) => {
            r.push(d);
            return SpecOutcome {
                app: None,
                diagnostics: r.diags,
            };
        }
    };
    let Some(root) = docs.first() else {
        r.push(
            slipway_diagnostics::Diagnostic::error("SPEC004", "the spec is empty")
                .at(&file.name, Span::new(0, 0))
                .help(
                    "start with `name: myapp` and a `services:` mapping; `slipway init` writes one",
                ),
        );
        return SpecOutcome {
            app: None,
            diagnostics: r.diags,
        };
    };
    let app = read_app(&mut r, root);
    check::check_app(&mut r, &app, root);
    let ok = !r.diags.has_errors();
    SpecOutcome {
        app: ok.then_some(app),
        diagnostics: r.diags,
    }
}

pub(crate) fn trace_of(r: &Reader<'_>, node: &Node) -> Trace {
    let (line, column) = r.file.line_col(node.span.start);
    Trace {
        file: r.file.name.clone(),
        line,
        column,
        item: None,
    }
}

fn read_app(r: &mut Reader<'_>, root: &Node) -> App {
    let mut app = App {
        environments: DEFAULT_ENVIRONMENTS
            .iter()
            .map(ToString::to_string)
            .collect(),
        targets: vec!["docker".into(), "compose".into(), "scripts".into()],
        trace: trace_of(r, root),
        ..App::default()
    };
    let entries = r.entries(root, "the spec", TOP_KEYS);
    if root.as_map().is_some() && !entries.iter().any(|(_, k, _)| *k == "name") {
        let d = r
            .error("SPEC004", root, "the spec has no `name`")
            .help("add `name: myapp` at the top (a lowercase DNS name)");
        r.push(d);
    }
    // Environments first: per-environment values below are checked against them.
    if let Some((_, _, v)) = entries.iter().find(|(_, k, _)| *k == "environments") {
        app.environments = r
            .strings(v, "`environments`")
            .into_iter()
            .map(|(n, s)| {
                check::dns_name(r, n, &s, "environment");
                s
            })
            .collect();
    }
    for (_, key, v) in &entries {
        match *key {
            "name" => {
                if let Some(s) = r.string(v, "`name`") {
                    check::dns_name(r, v, &s, "application");
                    app.name = s;
                }
            }
            "services" => {
                for (k, name, body) in r.entries(v, "`services`", &[]) {
                    check::dns_name(r, k, name, "service");
                    let svc = service::read_service(r, k, name, body, &app.environments);
                    app.services.insert(name.to_string(), svc);
                }
            }
            "resources" => {
                for (k, name, body) in r.entries(v, "`resources`", &[]) {
                    check::dns_name(r, k, name, "resource");
                    if let Some(res) = read_resource(r, k, name, body) {
                        app.resources.insert(name.to_string(), res);
                    }
                }
            }
            "targets" => {
                app.targets = r
                    .strings(v, "`targets`")
                    .into_iter()
                    .filter_map(|(n, t)| {
                        if TARGETS.contains(&t.as_str()) {
                            return Some(t);
                        }
                        let mut d = r
                            .error("SPEC009", n, format!("unknown target `{t}`"))
                            .expected(format!("one of {}", TARGETS.join(", ")));
                        if let Some(s) = did_you_mean(&t, TARGETS.iter().copied()) {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        r.push(d);
                        None
                    })
                    .collect();
            }
            "images" => {
                for (_, from, to) in r.entries(v, "`images`", &[]) {
                    if let Some(to) = r.string(to, &format!("the mirror for `{from}`")) {
                        app.images.insert(from.to_string(), to);
                    }
                }
            }
            "pin_digests" => app.pin_digests = r.bool(v, "`pin_digests`").unwrap_or(false),
            "policy" => app.policy = r.string(v, "`policy`"),
            _ => {}
        }
    }
    app
}

fn read_resource(r: &mut Reader<'_>, key: &Node, name: &str, body: &Node) -> Option<Resource> {
    let what = format!("resource `{name}`");
    let entries = r.entries(body, &what, RESOURCE_KEYS);
    let mut kind = None;
    let mut version = None;
    let mut external = None;
    let mut storage = None;
    for (_, k, v) in &entries {
        match *k {
            "type" => {
                let t = r.string(v, &format!("`type` of {what}"))?;
                kind = ResourceKind::ALL.into_iter().find(|k| k.as_str() == t);
                if kind.is_none() {
                    let names: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.as_str()).collect();
                    let mut d = r
                        .error("SPEC009", v, format!("unknown resource type `{t}`"))
                        .expected(format!("one of {}", names.join(", ")));
                    if let Some(s) = did_you_mean(&t, names) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    r.push(d);
                    return None;
                }
            }
            "version" => {
                let s = r.scalar(v, &format!("`version` of {what}"))?;
                if s.is_empty()
                    || s == "latest"
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
                {
                    let d = r
                        .error(
                            "SPEC009",
                            v,
                            format!("`{s}` is not a usable version for {what}"),
                        )
                        .expected("an explicit version such as \"16\" or \"7.2\"")
                        .help("`latest` changes under you; pin a major or exact version");
                    r.push(d);
                }
                version = Some(s);
            }
            "external" => external = r.string(v, &format!("`external` of {what}")),
            "storage" => {
                if let Some(s) = r.scalar(v, &format!("`storage` of {what}")) {
                    check::memory(r, v, &s);
                    storage = Some(s);
                }
            }
            _ => {}
        }
    }
    let Some(kind) = kind else {
        if body.as_map().is_some() {
            let d = r
                .error("SPEC004", key, format!("{what} has no `type`"))
                .expected("`type: postgres`, `type: redis` or `type: nats`");
            r.push(d);
        }
        return None;
    };
    Some(Resource {
        name: name.to_string(),
        kind,
        version: version.unwrap_or_else(|| kind.default_version().to_string()),
        external,
        storage,
        trace: trace_of(r, key),
    })
}

#[cfg(test)]
mod tests;
