//! `environment`, `env_file` and `build` (with its args): values are carried as
//! written (after interpolation); a value that is a secret (by name, token format, a
//! password in a URL, entropy) becomes a reference and is never written.

use super::dotenv::parse_dotenv;
use super::project::normalize;
use super::service::{BuildSpec, ComposeService};
use super::Ctx;
use crate::secrets::{is_secret_name, secret_kind};
use crate::yaml::Node;
use slipway_diagnostics::{Diagnostic, Severity, SourceFile, Span};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// `key=value` pairs of a mapping or a `KEY=value` list: (where, key, value or none).
fn pairs(ctx: &mut Ctx<'_>, node: &Node, what: &str) -> Vec<(Span, String, Option<String>)> {
    let mut out = Vec::new();
    if let Some(map) = node.as_map() {
        for (k, v) in map {
            let Some(key) = k.as_scalar() else { continue };
            let value = if v.is_null() { None } else { ctx.text(v) };
            out.push((k.span, key.to_string(), value));
        }
    } else if let Some(items) = node.as_seq() {
        for item in items {
            let Some(raw) = ctx.text(item) else { continue };
            match raw.split_once('=') {
                Some((k, v)) => out.push((item.span, k.to_string(), Some(v.to_string()))),
                None => out.push((item.span, raw, None)),
            }
        }
    } else {
        let d = ctx.err(
            "SPEC102",
            node,
            format!("`{what}` must be a mapping or a list of `KEY=value`"),
        );
        ctx.diags.push(d);
    }
    out
}

/// Files a variable of `environment` may be shown in.
struct Place<'a> {
    file: &'a str,
    span: Span,
    /// `""`, or ` (from `x.env`)`.
    from: String,
}

fn classify(
    ctx: &mut Ctx<'_>,
    at: &Place<'_>,
    key: String,
    value: String,
    svc: &mut ComposeService,
) {
    match secret_kind(Some(&key), &value) {
        Some(kind) => {
            ctx.diags.push(
                Diagnostic::warning("CMP009", format!("`{key}`{} holds a secret in plain text ({}); it becomes a secret reference and its value is not carried over", at.from, kind.reason()))
                    .at(at.file, at.span)
                    .help(format!("Kubernetes reads it from the Secret key `{}`; compose from `{key}` in `.env`", key.to_ascii_lowercase().replace('_', "-"))),
            );
            svc.secret_values.push((key.clone(), value));
            svc.secret_env.push(key);
        }
        // Set from the deploy's own variable of the same name: what a secret
        // reference is.
        None if is_secret_name(&key) && (value.is_empty() || value == format!("${{{key}}}")) => {
            svc.secret_env.push(key);
        }
        None => {
            svc.env.insert(key, value);
        }
    }
}

/// `environment:`. It wins over `env_file`, whatever their order.
pub(crate) fn read(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    let file = ctx.file.name.clone();
    for (span, key, value) in pairs(ctx, node, "environment") {
        svc.env.remove(&key);
        svc.secret_env.retain(|s| *s != key);
        let value = value.or_else(|| ctx.vars.get(&key).cloned());
        let at = Place {
            file: &file,
            span,
            from: String::new(),
        };
        match value {
            Some(v) => classify(ctx, &at, key, v, svc),
            None if is_secret_name(&key) => svc.secret_env.push(key),
            None => {
                // Compose takes it from the shell when the project runs: so does the output.
                ctx.missing
                    .entry(key.clone())
                    .or_default()
                    .push((span, true));
                svc.env.insert(key.clone(), format!("${{{key}}}"));
            }
        }
    }
}

/// `env_file:` (a path, a list, or `{ path, required }` items), read relative to the
/// file's folder and parsed as `.env` files are.
pub(crate) fn env_files(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    let items: Vec<Node> = node
        .as_seq()
        .map_or_else(|| vec![node.clone()], <[Node]>::to_vec);
    for f in items {
        let path = f.get("path").unwrap_or(&f).clone();
        let Some(rel) = ctx.value(&path) else {
            continue;
        };
        let required = f.get("required").and_then(Node::as_bool).unwrap_or(true);
        let full = ctx.dir.join(&rel);
        let text = match ctx.access.read(&full) {
            Ok(t) => t,
            Err(_) if !required => continue,
            Err(e) => {
                let d = ctx.warn(
                    "SPEC105",
                    &path,
                    format!("env_file `{rel}` cannot be read ({e}); its variables are left out"),
                );
                ctx.diags.push(d);
                continue;
            }
        };
        let source = Arc::new(SourceFile::new(
            normalize(&full).to_string_lossy().into_owned(),
            text,
        ));
        ctx.read.push(source.clone());
        let vars = ctx.vars;
        let parsed = parse_dotenv(&source.text, &|k| vars.get(k).cloned());
        for (span, msg) in &parsed.errors {
            ctx.diags.push(
                Diagnostic::error("SPEC120", format!("invalid env file line: {msg}"))
                    .at(&source.name, *span)
                    .expected("`KEY=value`, `KEY=\"value\"` or `KEY='value'`, one per line"),
            );
        }
        let mut tmp = ComposeService::default();
        for e in parsed.entries {
            let at = Place {
                file: &source.name,
                span: e.key_span,
                from: format!(" (from `{rel}`)"),
            };
            classify(ctx, &at, e.key, e.value, &mut tmp);
        }
        for (k, v) in tmp.env {
            if !svc.secret_env.contains(&k) {
                svc.env.entry(k).or_insert(v);
            }
        }
        for k in tmp.secret_env {
            if !svc.env.contains_key(&k) && !svc.secret_env.contains(&k) {
                svc.secret_env.push(k);
            }
        }
        svc.secret_values.extend(tmp.secret_values);
    }
}

/// A path relative to this file's folder, made relative to the main file's folder.
pub(crate) fn rebased(ctx: &Ctx<'_>, path: &str) -> String {
    if ctx.rebase.is_empty()
        || path.starts_with(['/', '~', '$'])
        || path.contains("://")
        || path.starts_with("git@")
    {
        return path.to_string();
    }
    let joined = normalize(&Path::new(ctx.rebase).join(path));
    let s = joined.to_string_lossy().into_owned();
    if s.is_empty() {
        ".".into()
    } else if s.starts_with("..") {
        s
    } else {
        format!("./{s}")
    }
}

const BUILD_NOT_CARRIED: &[&str] = &[
    "cache_from",
    "cache_to",
    "labels",
    "network",
    "shm_size",
    "extra_hosts",
    "secrets",
    "ssh",
    "platforms",
    "tags",
    "no_cache",
    "pull",
    "additional_contexts",
    "privileged",
    "isolation",
    "ulimits",
    "entitlements",
    "provenance",
    "sbom",
];

/// `build:`: a context path, or `{ context, dockerfile, target, args, ... }`.
pub(crate) fn build(
    ctx: &mut Ctx<'_>,
    node: &Node,
    service: &str,
    refs: &mut Vec<String>,
    secrets: &mut Vec<(String, String)>,
) -> Option<BuildSpec> {
    if node.as_map().is_none() {
        let context = ctx.value(node)?;
        return Some((rebased(ctx, &context), None, None, BTreeMap::new()));
    }
    let context = node
        .get("context")
        .and_then(|c| ctx.value(c))
        .unwrap_or_else(|| ".".into());
    let mut spec: BuildSpec = (rebased(ctx, &context), None, None, BTreeMap::new());
    for (k, v) in node.as_map().unwrap_or(&[]) {
        match k.as_scalar().unwrap_or("") {
            "context" => {}
            "dockerfile" => spec.1 = ctx.value(v),
            "target" => spec.2 = ctx.value(v),
            "args" => build_args(ctx, v, service, &mut spec.3, refs, secrets),
            "dockerfile_inline" => {
                let d = ctx.warn("SPEC123", k, format!("service `{service}`: `dockerfile_inline` is not carried; write it to a Dockerfile in the build context"));
                ctx.diags.push(d);
            }
            other if BUILD_NOT_CARRIED.contains(&other) => {
                let d = ctx.info(
                    "SPEC123",
                    k,
                    format!("service `{service}`: build `{other}` is not carried"),
                );
                ctx.diags.push(d);
            }
            other if other.starts_with("x-") => {}
            other => {
                let d = ctx.warn(
                    "SPEC101",
                    k,
                    format!("unknown key `{other}` in the build of service `{service}` is ignored"),
                );
                ctx.diags.push(d);
            }
        }
    }
    Some(spec)
}

fn build_args(
    ctx: &mut Ctx<'_>,
    node: &Node,
    service: &str,
    args: &mut BTreeMap<String, String>,
    refs: &mut Vec<String>,
    secrets: &mut Vec<(String, String)>,
) {
    let file = ctx.file.name.clone();
    for (span, key, value) in pairs(ctx, node, "args") {
        let Some(value) = value.or_else(|| ctx.vars.get(&key).cloned()) else {
            ctx.diags.push(
                Diagnostic::new("SPEC123", Severity::Info, format!("service `{service}`: build arg `{key}` has no value here, so it is not passed (the Dockerfile's default applies)"))
                    .at(&file, span),
            );
            continue;
        };
        if let Some(kind) = secret_kind(Some(&key), &value) {
            ctx.diags.push(
                Diagnostic::warning("CMP009", format!("service `{service}`: build arg `{key}` holds a secret ({}); the build reads it as `${{{key}}}` from `.env`, and its value is not carried over", kind.reason()))
                    .at(&file, span)
                    .help("better: pass it as a build secret (`RUN --mount=type=secret`), which leaves no trace in the image"),
            );
            args.insert(key.clone(), format!("${{{key}}}"));
            secrets.push((key.clone(), value));
            refs.push(key);
        } else {
            args.insert(key, value);
        }
    }
}
