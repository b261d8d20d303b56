//! Docker Compose -> `App`. Reads one or more compose files (merged in order, as
//! `docker compose -f a -f b` does), `include:` and `extends:` (project.rs), `.env`
//! parsed as Compose parses it (dotenv.rs) and `${VAR:-default}` interpolation
//! (interpolate.rs), and profiles. Every service becomes a model service; keys with no
//! equivalent are reported with their file:line and the rest still converts. Secret
//! values are never carried (scrub.rs): they become secret references.
//!
//! Interpolation never reads the process environment: the caller passes the variables
//! it wants used (`--env-from-shell`); a variable set nowhere is reported and kept as a
//! `${NAME}` reference for the deploy.

mod convert;
mod dotenv;
mod environment;
mod interpolate;
mod keys;
mod legacy;
mod network;
mod project;
mod reach;
mod scrub;
mod service;
mod values;

pub use dotenv::{parse_dotenv, parse_env_file, DotEnv, EnvEntry};
pub use interpolate::{interpolate, substitute, Interpolated, Unset};
pub use project::FileAccess;

use crate::yaml::{self, Budget, Node};
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use slipway_model::App;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Options for reading compose files.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    /// The caller's variables (the shell's environment, with `--env-from-shell`).
    /// They win over `.env`, as in Compose. Empty: only `.env` and defaults are used.
    pub vars: BTreeMap<String, String>,
    /// Profiles to enable; services in other profiles are left out.
    pub profiles: Vec<String>,
    /// The project name when the files do not set `name:`.
    pub default_name: String,
    /// Where `.env`, `env_file`, `include` and `extends` files are read from.
    pub access: FileAccess,
}

/// What importing produced.
#[derive(Debug)]
pub struct ComposeOutcome {
    pub app: Option<App>,
    pub diagnostics: Diagnostics,
    /// Files read besides the ones passed in (`.env`, included and extended files,
    /// env files), so diagnostics in them can be shown with their source lines.
    pub sources: Vec<Arc<SourceFile>>,
}

/// Shared state while reading one file.
pub(crate) struct Ctx<'a> {
    pub file: &'a SourceFile,
    /// The file's folder, to read files it names.
    pub dir: &'a Path,
    /// Prefix that makes a path relative to this file's folder relative to the main
    /// file's folder (`""` for the main folder, `sub/` for an included file).
    pub rebase: &'a str,
    pub vars: &'a BTreeMap<String, String>,
    pub access: &'a FileAccess,
    pub diags: &'a mut Diagnostics,
    /// Unset variables: name -> every place, and whether it is kept as a reference there.
    pub missing: BTreeMap<String, Vec<(Span, bool)>>,
    /// Files read while reading this one (env files).
    pub read: Vec<Arc<SourceFile>>,
}

impl Ctx<'_> {
    pub fn warn(&mut self, rule: &str, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(rule, message).at(&self.file.name, node.span)
    }

    pub fn err(&mut self, rule: &str, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(rule, message).at(&self.file.name, node.span)
    }

    pub fn info(&mut self, rule: &str, node: &Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(rule, slipway_diagnostics::Severity::Info, message)
            .at(&self.file.name, node.span)
    }

    fn interpolated(&mut self, node: &Node, unset: Unset) -> Option<String> {
        let raw = node.as_scalar()?;
        if !raw.contains('$') {
            return Some(raw.to_string());
        }
        let vars = self.vars;
        match substitute(raw, &|k| vars.get(k).cloned(), unset) {
            Ok(r) => {
                for m in r.missing {
                    let places = self.missing.entry(m).or_default();
                    if !places.iter().any(|(s, _)| *s == node.span) {
                        places.push((node.span, unset == Unset::Keep));
                    }
                }
                Some(r.text)
            }
            Err(msg) => {
                let d = Diagnostic::error("SPEC106", format!("interpolation failed: {msg}"))
                    .at(&self.file.name, node.span)
                    .help("set the variable in `.env` next to the compose file (or pass `--env-from-shell` to use the shell's), or escape a literal `$` as `$$`");
                self.diags.push(d);
                None
            }
        }
    }

    /// A scalar's text after interpolation; an unset variable stays a `${NAME}`
    /// reference (for values carried as text: image, environment, commands).
    pub fn text(&mut self, node: &Node) -> Option<String> {
        self.interpolated(node, Unset::Keep)
    }

    /// A scalar's text after interpolation, an unset variable being empty (for values
    /// slipway must understand: ports, paths, numbers, names).
    pub fn value(&mut self, node: &Node) -> Option<String> {
        self.interpolated(node, Unset::Empty)
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

/// Splits a command line on whitespace, honouring single and double quotes, as
/// Compose does for a string `command:` or `entrypoint:`.
#[must_use]
pub fn shell_words(s: &str) -> Vec<String> {
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
    let mut project =
        project::Project::new(opts, files.first().map(|f| f.name.as_str()), &mut diags);
    for file in files {
        let docs = match yaml::parse(file, Budget::default()) {
            Ok(d) => d,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let Some(root) = docs.first() else { continue };
        if root.as_map().is_none() {
            diags.push(
                Diagnostic::error(
                    "SPEC100",
                    "a compose file must be a mapping with `services:`",
                )
                .at(&file.name, root.span),
            );
            continue;
        }
        if let Some(d) = legacy::refuse(&file.name, root) {
            diags.push(d);
            continue;
        }
        project.add_top_file(file, root.clone(), &mut diags);
    }
    let loaded = project.finish(&mut diags);
    let (app, sources) = convert::into_app(loaded, files, opts, &mut diags);
    let ok = !diags.has_errors() && !app.services.is_empty();
    if app.services.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::error("SPEC100", "no service to convert: the compose files define none (or all are in disabled profiles)").in_file(files.first().map_or("compose.yaml", |f| f.name.as_str())));
    }
    ComposeOutcome {
        app: ok.then_some(app),
        diagnostics: diags,
        sources,
    }
}

#[cfg(test)]
mod tests;
