//! Emitters: the app model -> an in-memory `FileSet`. One module per output family
//! (`docker`, `compose`, `scripts`, `manifest`); every file is rendered from an
//! embedded minijinja template a user may override, then re-parsed by its format's
//! parser before it is kept. Nothing here touches the disk: writing is the engine's job.

mod compose;
mod deploy_refs;
mod docker;
mod fileset;
mod hardening;
mod images;
mod kubernetes;
mod manifest;
mod monitoring;
mod naming;
mod resources;
mod scripts;
mod templates;
mod validate;
mod yaml_out;

pub use fileset::{Artifact, FileSet};
pub use manifest::{manifest_hashes, sha256_hex, MANIFEST_PATH};
pub use templates::{TemplateError, Templates, TEMPLATE_NAMES};

use slipway_diagnostics::Diagnostics;
use slipway_model::App;
use std::collections::BTreeMap;

/// The targets this version has emitters for.
pub const EMITTED_TARGETS: &[&str] = &["docker", "compose", "scripts", "kubernetes", "monitoring"];

/// Secret files slipway creates with random values (the passwords of resources it
/// runs); every other secret file the compose files name is the user's to provide.
#[must_use]
pub fn generated_secrets(app: &slipway_model::App) -> Vec<String> {
    let mut v: Vec<String> = app
        .resources
        .values()
        .filter(|r| r.external.is_none())
        .flat_map(resources::secrets)
        .collect();
    v.sort();
    v.dedup();
    v
}

pub const GENERATOR: &str = concat!("slipway ", env!("CARGO_PKG_VERSION"));

/// Where each built service's source sits relative to the generated files.
#[derive(Debug, Clone, Default)]
pub struct ServiceLayout {
    /// The build context, relative to the `compose/` folder (`../../api`).
    pub context: String,
    /// The Dockerfile, relative to the build context.
    pub dockerfile: String,
}

/// Everything an emit run needs besides the model.
#[derive(Debug, Clone, Default)]
pub struct EmitRequest {
    /// The environment the scripts default to (`--env`), when given.
    pub environment: Option<String>,
    /// Per built service, where its source is.
    pub layout: BTreeMap<String, ServiceLayout>,
    /// The spec file name as shown in traces.
    pub source: String,
    /// The input's folder relative to the `compose/` folder (for bind mounts).
    pub input_dir: String,
    /// Short hash of the normalized inputs and the generator version.
    pub build_id: String,
}

/// The result of emitting: the files, what each one is, and any problems.
#[derive(Debug, Default)]
pub struct Emitted {
    pub files: FileSet,
    pub diagnostics: Diagnostics,
}

/// Runs every emitter the app's targets ask for, then the manifest over the result.
#[must_use]
pub fn emit(app: &App, req: &EmitRequest, templates: &Templates) -> Emitted {
    let mut out = Emitted::default();
    let wants = |t: &str| app.targets.iter().any(|x| x == t);
    for t in app
        .targets
        .iter()
        .filter(|t| !EMITTED_TARGETS.contains(&t.as_str()))
    {
        out.diagnostics.push(
            slipway_diagnostics::Diagnostic::warning(
                "GEN004",
                format!("target `{t}` has no emitter in this version; nothing generated for it"),
            )
            .in_file(&req.source)
            .help(format!("this version emits {}", EMITTED_TARGETS.join(", "))),
        );
    }
    if wants("compose") || wants("kubernetes") {
        for svc in app.services.values() {
            if let Some(note) = hardening::note(svc, &hardening::for_service(svc)) {
                out.diagnostics.push(note);
            }
        }
    }
    if wants("docker") || wants("compose") {
        docker::emit(app, templates, &mut out);
    }
    if wants("compose") {
        let view = compose::view(app, req, &mut out);
        compose::emit(app, req, &view, templates, &mut out);
        scripts::emit(&view, templates, &mut out);
    }
    if wants("kubernetes") {
        kubernetes::emit(app, req, templates, &mut out);
    }
    if wants("monitoring") {
        monitoring::emit(app, req, templates, &mut out);
    }
    manifest::emit(app, req, &mut out);
    out
}
