//! Docker Compose -> `App`. Reads one or more compose files (merged in order, as
//! `docker compose -f a -f b` does), `.env` and `${VAR:-default}` interpolation, and
//! profiles. Every service becomes a model service; keys with no equivalent are
//! reported with their file:line and the rest still converts. Secret values found in
//! `environment` are never carried: the variable becomes a secret reference.

mod legacy;
mod service;
mod values;

pub use values::{interpolate, parse_env_file};

use crate::spec::did_you_mean;
use crate::yaml::{self, Budget, Node};
use service::ComposeService;
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use slipway_model::{App, Trace};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Keys of the compose top level that are understood or knowingly ignored.
const TOP_KEYS: &[&str] = &[
    "version", "name", "services", "volumes", "networks", "secrets", "configs", "include",
];

/// Options for reading compose files.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    /// Variables for interpolation (the process environment, then `.env`, as compose).
    pub vars: BTreeMap<String, String>,
    /// Profiles to enable; services in other profiles are left out.
    pub profiles: Vec<String>,
    /// The project name when the files do not set `name:`.
    pub default_name: String,
}

/// What importing produced.
#[derive(Debug)]
pub struct ComposeOutcome {
    pub app: Option<App>,
    pub diagnostics: Diagnostics,
}

/// Shared state while reading one file.
pub(crate) struct Ctx<'a> {
    pub file: &'a SourceFile,
    pub vars: &'a BTreeMap<String, String>,
    pub diags: &'a mut Diagnostics,
    pub missing: BTreeMap<String, Span>,
}

impl Ctx<'_> {
    pub fn warn(&mut self, rule: &str, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(rule, message).at(&self.file.name, node.span)
    }

    pub fn err(&mut self, rule: &str, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(rule, message).at(&self.file.name, node.span)
    }

    /// A scalar's text after interpolation.
    pub fn text(&mut self, node: &Node) -> Option<String> {
        let raw = node.as_scalar()?;
        match interpolate(raw, self.vars) {
            Ok((s, missing)) => {
                for m in missing {
                    self.missing.entry(m).or_insert(node.span);
                }
                Some(s)
            }
            Err(msg) => {
                let d = Diagnostic::error("SPEC106", format!("interpolation failed: {msg}"))
                    .at(&self.file.name, node.span)
                    .help(
                        "set the variable in the environment or in `.env` next to the compose file",
                    );
                self.diags.push(d);
                None
            }
        }
    }

    /// A list of strings, or one string split like a shell command line.
    pub fn command(&mut self, node: &Node) -> Option<Vec<String>> {
        if let Some(items) = node.as_seq() {
            return Some(items.iter().filter_map(|i| self.text(i)).collect());
        }
        let s = self.text(node)?;
        Some(shell_words(&s))
    }
}

/// Splits a command line on whitespace, honouring single and double quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// Reads and merges compose files (in order) into an `App`.
#[must_use]
pub fn import_compose(files: &[Arc<SourceFile>], opts: &ComposeOptions) -> ComposeOutcome {
    let mut diags = Diagnostics::new();
    let mut services: BTreeMap<String, ComposeService> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut name: Option<String> = None;
    let mut declared_volumes: Vec<String> = Vec::new();
    for file in files {
        let docs = match yaml::parse(file, Budget::default()) {
            Ok(d) => d,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let Some(root) = docs.first() else { continue };
        let mut ctx = Ctx {
            file,
            vars: &opts.vars,
            diags: &mut diags,
            missing: BTreeMap::new(),
        };
        let Some(map) = root.as_map() else {
            let d = ctx.err(
                "SPEC100",
                root,
                "a compose file must be a mapping with `services:`",
            );
            ctx.diags.push(d);
            continue;
        };
        if let Some(d) = legacy::refuse(&file.name, root) {
            ctx.diags.push(d);
            continue;
        }
        // Top-level volumes first: the short volume syntax needs to know the names.
        if let Some(vols) = root.get("volumes").and_then(Node::as_map) {
            declared_volumes.extend(
                vols.iter()
                    .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string)),
            );
        }
        for (k, v) in map {
            let key = k.as_scalar().unwrap_or("");
            match key {
                "name" => name = ctx.text(v),
                "services" => {
                    for (sk, body) in v.as_map().unwrap_or(&[]) {
                        let Some(sname) = sk.as_scalar() else {
                            continue;
                        };
                        let parsed = service::read(&mut ctx, sk, sname, body, &declared_volumes);
                        if let Some(existing) = services.get_mut(sname) {
                            existing.merge(parsed);
                        } else {
                            order.push(sname.to_string());
                            services.insert(sname.to_string(), parsed);
                        }
                    }
                }
                "version" | "volumes" | "networks" | "secrets" | "configs" => {}
                "include" => {
                    let d = ctx.warn(
                        "SPEC107",
                        k,
                        "`include:` is not followed; pass the included files with `-f` instead",
                    );
                    ctx.diags.push(d);
                }
                other if other.starts_with("x-") => {}
                other => {
                    let mut d = ctx.warn(
                        "SPEC101",
                        k,
                        format!("unknown top-level key `{other}` is ignored"),
                    );
                    if let Some(s) = did_you_mean(other, TOP_KEYS.iter().copied()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    ctx.diags.push(d);
                }
            }
        }
        for (var, span) in std::mem::take(&mut ctx.missing) {
            ctx.diags.push(
                Diagnostic::warning("SPEC105", format!("variable `{var}` is not set; it is replaced by an empty string"))
                    .at(&file.name, span)
                    .help("set it in the environment or in `.env`, or give a default with `${VAR:-default}`"),
            );
        }
    }
    let app_name = service::dns_label(name.as_deref().unwrap_or(&opts.default_name));
    let mut app = App {
        name: app_name,
        environments: crate::spec::DEFAULT_ENVIRONMENTS
            .iter()
            .map(ToString::to_string)
            .collect(),
        targets: vec!["compose".into(), "scripts".into(), "kubernetes".into()],
        trace: files
            .first()
            .map(|f| Trace {
                file: f.name.clone(),
                line: 1,
                column: 1,
                item: None,
            })
            .unwrap_or_default(),
        ..App::default()
    };
    service::into_model(
        &mut app,
        &order,
        services,
        &opts.profiles,
        files,
        &mut diags,
    );
    let ok = !diags.has_errors() && !app.services.is_empty();
    if app.services.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::error("SPEC100", "no service to convert: the compose files define none (or all are in disabled profiles)").in_file(files.first().map_or("compose.yaml", |f| f.name.as_str())));
    }
    ComposeOutcome {
        app: ok.then_some(app),
        diagnostics: diags,
    }
}

#[cfg(test)]
mod tests;
