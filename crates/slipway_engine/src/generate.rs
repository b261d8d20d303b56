//! `slipway generate`: spec -> model (with detection) -> files -> disk.

use crate::input::{self, InputKind};
use crate::paths::{absolute, relative};
use crate::write::{self, FileChange, FileStatus};
use crate::EngineError;
use sha2::{Digest, Sha256};
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile, SourceMap, Span};
use slipway_emit::{EmitRequest, ServiceLayout, Templates, GENERATOR};
use slipway_import::detect::detect_folder;
use slipway_import::spec::did_you_mean;
use slipway_model::{App, ServiceSource};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const DEFAULT_OUT: &str = "infrastructure";

#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// The spec file, as the user named it.
    pub spec: PathBuf,
    /// Output folder; default `infrastructure/` next to the spec.
    pub out: Option<PathBuf>,
    pub environment: Option<String>,
    /// The importer; by default chosen from the file name.
    pub from: Option<InputKind>,
    /// Further input files merged over the first (compose `-f`, several Score files).
    pub extra_inputs: Vec<PathBuf>,
    /// Restricts what is emitted (`--target`); empty: every target the input supports.
    pub targets: Vec<String>,
    /// Compose profiles to enable.
    pub profiles: Vec<String>,
    /// Compose interpolation may read this process's environment (`--env-from-shell`);
    /// otherwise only `.env` and defaults are used.
    pub env_from_shell: bool,
    /// `--image-map FROM=TO`, applied over the spec's `images:`.
    pub image_map: Vec<(String, String)>,
    pub templates: Option<PathBuf>,
    pub dry_run: bool,
    pub force: bool,
    /// Write the tree here instead of into `out`. Every path inside the files is
    /// still computed for `out`, and the files already in `out` decide what is kept:
    /// a staging copy for a caller that checks the result before it lands.
    pub stage_in: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct GenerateReport {
    pub out_dir: PathBuf,
    pub build_id: String,
    pub changes: Vec<FileChange>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    /// The unified diff, for `--dry-run`.
    pub diff: Option<String>,
    pub written: bool,
    /// The app's name (the default project name on an engine).
    pub project: String,
    /// sha256 of the canonical model (after image maps), the generator and environment.
    pub spec_hash: String,
    /// Secret files slipway fills with random values when they are missing.
    pub generated_secrets: Vec<String>,
    /// Services whose HTTP health path detection guessed and the spec does not set:
    /// service -> (path, container port). `deploy` asks for it before the health gate.
    pub guessed_health: std::collections::BTreeMap<String, (String, u16)>,
}

impl GenerateReport {
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == slipway_diagnostics::Severity::Error)
    }
}

/// Runs detection for every service built from source; a folder that is missing or
/// holds no known language is an error at the service's `path`.
fn detect_services(app: &mut App, spec_dir: &Path, file: &SourceFile, diags: &mut Diagnostics) {
    for svc in app.services.values_mut() {
        let ServiceSource::Build { path, plan } = &mut svc.source else {
            continue;
        };
        let dir = spec_dir.join(&*path);
        let at = file
            .lines
            .offset(&file.text, svc.trace.line, svc.trace.column);
        let span = Span::new(at, at + svc.name.len());
        if !dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    "SPEC012",
                    format!("service `{}`: folder `{path}` does not exist", svc.name),
                )
                .at(&file.name, span)
                .help("`path` is relative to the folder that holds the spec"),
            );
            continue;
        }
        let Some(mut detected) = detect_folder(&dir) else {
            diags.push(
                Diagnostic::error("SPEC012", format!("service `{}`: no supported language found in `{path}`", svc.name))
                    .at(&file.name, span)
                    .expected("one of package.json, pyproject.toml, requirements.txt, go.mod, Cargo.toml, pom.xml")
                    .help("or use `image:` for a prebuilt image"),
            );
            continue;
        };
        // The spec's port wins over the detected one, in the start commands too.
        if let (Some(want), Some(found)) = (svc.port, detected.port) {
            if want != found {
                let (w, f) = (want.to_string(), found.to_string());
                let swap = |argv: &mut Vec<String>| {
                    for a in argv.iter_mut() {
                        if *a == f {
                            a.clone_from(&w);
                        } else if let Some(host) = a.strip_suffix(&format!(":{f}")) {
                            *a = format!("{host}:{w}");
                        }
                    }
                };
                swap(&mut detected.start);
                if let Some(d) = detected.dev_start.as_mut() {
                    swap(d);
                }
                detected.port = Some(want);
            }
        }
        let set = SetBySpec {
            name: &svc.name,
            port: svc.port.is_some(),
            health: svc.health.is_some(),
            command: svc.command.is_some(),
        };
        detection_diagnostics(&set, &mut detected, path, &file.name, span, diags);
        *plan = Some(Box::new(detected));
    }
}

/// What the spec leaves to detection, said once per service: an error when no start
/// command was found and the spec gives none (`SPEC020`), a note naming every value
/// that was guessed rather than read from a file (`GEN020`). Values the spec sets are
/// no longer guesses.
struct SetBySpec<'a> {
    name: &'a str,
    port: bool,
    health: bool,
    command: bool,
}

fn detection_diagnostics(
    svc: &SetBySpec<'_>,
    detected: &mut slipway_model::BuildPlan,
    path: &str,
    file: &str,
    span: Span,
    diags: &mut Diagnostics,
) {
    let set_by_spec = |g: &str| match g {
        "port" => svc.port,
        "health_path" => svc.health,
        "start" => svc.command,
        _ => false,
    };
    detected.guessed.retain(|g| !set_by_spec(g));
    if detected.start.is_empty() && !svc.command {
        let why = detected
            .notes
            .iter()
            .find(|n| n.starts_with("no start command"))
            .map_or_else(String::new, |n| format!(" ({n})"));
        diags.push(
            Diagnostic::error(
                "SPEC020",
                format!(
                    "service `{}`: no start command found in `{path}`{why}",
                    svc.name
                ),
            )
            .at(file, span)
            .expected("a start script, a framework's server, or an entry file that exists")
            .help("set `command:` on the service, e.g. `command: [node, dist/server.js]`"),
        );
    }
    let shown: Vec<String> = detected
        .guessed
        .iter()
        .filter_map(|g| {
            Some(match g.as_str() {
                "port" => format!("port {}", detected.port?),
                "health_path" => format!("health path {}", detected.health_path.as_deref()?),
                "start" => format!("start command `{}`", detected.start.join(" ")),
                "version" => format!(
                    "{} version {}",
                    detected.language.as_str(),
                    detected.version
                ),
                "package_manager" => format!("package manager {}", detected.package_manager),
                "entry" => format!("entry {}", detected.entry.as_deref()?),
                other => other.to_string(),
            })
        })
        .collect();
    if !shown.is_empty() {
        let keys: Vec<&str> = detected
            .guessed
            .iter()
            .filter_map(|g| match g.as_str() {
                "port" => Some("`port:`"),
                "health_path" => Some("`health:`"),
                "start" => Some("`command:`"),
                _ => None,
            })
            .collect();
        let mut d = Diagnostic::new(
            "GEN020",
            slipway_diagnostics::Severity::Info,
            format!(
                "service `{}`: guessed, not found in `{path}`: {}",
                svc.name,
                shown.join(", ")
            ),
        )
        .at(file, span);
        if !keys.is_empty() {
            d = d.help(format!(
                "check them, and set {} in the spec to confirm",
                keys.join(", ")
            ));
        }
        diags.push(d);
    }
}

fn spec_hash(app: &App, opts: &GenerateOptions) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(app).unwrap_or_default());
    h.update(GENERATOR.as_bytes());
    h.update(opts.environment.as_deref().unwrap_or("").as_bytes());
    h.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Reads, checks, emits and (unless `dry_run`) writes. Input problems come back as
/// diagnostics in the report with nothing written; only I/O refusals are `Err`.
///
/// # Errors
/// When the spec or a template override cannot be read, or a file cannot be written.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateReport, EngineError> {
    let mut report = GenerateReport::default();
    let kind = opts.from.unwrap_or_else(|| InputKind::for_path(&opts.spec));
    let mut paths = vec![opts.spec.clone()];
    paths.extend(opts.extra_inputs.iter().cloned());
    if kind == InputKind::Compose && opts.extra_inputs.is_empty() {
        // As `docker compose` does: an override file next to the main one applies.
        if let Some(over) = input::compose_override(&opts.spec) {
            paths.push(over);
        }
    }
    let loaded = input::load(
        kind,
        &paths,
        &opts.profiles,
        opts.env_from_shell,
        &mut report.sources,
    )?;
    let mut diags = loaded.diagnostics;
    if kind != InputKind::Compose {
        for p in &opts.profiles {
            diags.push(
                Diagnostic::error(
                    "SPEC113",
                    format!("`--profile {p}` selects a compose profile, and this input is not a compose file"),
                )
                .in_file(&opts.spec.to_string_lossy())
                .help("drop `--profile`; `slipway check --profile` is where policy profiles are chosen"),
            );
        }
    }
    let Some(mut app) = loaded.app else {
        report.diagnostics = diags.into_sorted();
        return Ok(report);
    };
    let spec_dir = loaded.base_dir;
    let shown = opts.spec.to_string_lossy().into_owned();
    let out_dir = opts
        .out
        .as_ref()
        .map_or_else(|| spec_dir.join(DEFAULT_OUT), |o| absolute(o));
    report.out_dir.clone_from(&out_dir);
    let trace_name = app.trace.file.clone();
    if !opts.targets.is_empty() {
        for t in &opts.targets {
            if !slipway_emit::EMITTED_TARGETS.contains(&t.as_str()) {
                let mut d = Diagnostic::error(
                    "SPEC009",
                    format!("`--target {t}` is not a target this version emits"),
                )
                .expected(format!(
                    "one of {}",
                    slipway_emit::EMITTED_TARGETS.join(", ")
                ));
                if let Some(s) = did_you_mean(t, slipway_emit::EMITTED_TARGETS.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
        app.targets.clone_from(&opts.targets);
    }
    for (from, to) in &opts.image_map {
        // Both sides end up in Dockerfiles and compose files: only real references.
        for r in [from, to] {
            if let Err(e) = crate::names::image_reference(r) {
                diags.push(
                    Diagnostic::error("SPEC016", format!("--image-map: {e}"))
                        .help("give FROM=TO with two image references, e.g. python:3.12-slim=mirror.local/python:3.12-slim"),
                );
            }
        }
        app.images.insert(from.clone(), to.clone());
    }
    if let Some(env) = &opts.environment {
        if !app.environments.contains(env) {
            let mut d = Diagnostic::error(
                "SPEC011",
                format!("environment `{env}` is not declared in the spec"),
            )
            .in_file(&shown)
            .expected(format!("one of {}", app.environments.join(", ")));
            if let Some(s) = did_you_mean(env, app.environments.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
    }
    if let Some(file) = report.sources.get(&shown).cloned() {
        detect_services(&mut app, &spec_dir, &file, &mut diags);
    }
    if diags.has_errors() {
        report.diagnostics = diags.into_sorted();
        return Ok(report);
    }

    report.spec_hash = spec_hash(&app, opts);
    report.project.clone_from(&app.name);
    for svc in app.services.values() {
        let Some(plan) = svc.plan() else { continue };
        if let (None, Some(path), Some(port)) =
            (&svc.health, &plan.health_path, svc.container_port())
        {
            if plan.guessed.iter().any(|g| g == "health_path") {
                report
                    .guessed_health
                    .insert(svc.name.clone(), (path.clone(), port));
            }
        }
    }
    report.generated_secrets = slipway_emit::generated_secrets(&app);
    let mut req = EmitRequest {
        environment: opts.environment.clone(),
        source: trace_name,
        build_id: report.spec_hash[..12].to_string(),
        ..Default::default()
    };
    for svc in app.services.values() {
        let compose_dir = out_dir.join("compose");
        match &svc.source {
            ServiceSource::Build { path, .. } => {
                let context = absolute(&spec_dir.join(path));
                let dockerfile = out_dir.join("docker").join(&svc.name).join("Dockerfile");
                req.layout.insert(
                    svc.name.clone(),
                    ServiceLayout {
                        context: relative(&compose_dir, &context),
                        dockerfile: relative(&context, &dockerfile),
                    },
                );
            }
            ServiceSource::Dockerfile {
                context,
                dockerfile,
                ..
            } => {
                let context = absolute(&spec_dir.join(context));
                req.layout.insert(
                    svc.name.clone(),
                    ServiceLayout {
                        context: relative(&compose_dir, &context),
                        dockerfile: dockerfile.clone().unwrap_or_else(|| "Dockerfile".into()),
                    },
                );
            }
            ServiceSource::Image { .. } => {}
        }
    }
    req.input_dir = relative(&out_dir.join("compose"), &spec_dir);
    report.build_id.clone_from(&req.build_id);
    let templates = Templates::new(opts.templates.as_deref())?;
    let emitted = slipway_emit::emit(&app, &req, &templates);
    diags.extend(emitted.diagnostics);
    if diags.has_errors() {
        report.diagnostics = diags.into_sorted();
        return Ok(report);
    }
    report.changes = write::plan(&out_dir, &emitted.files, opts.force);
    for c in report
        .changes
        .iter()
        .filter(|c| c.status == FileStatus::KeptEdited)
    {
        diags.push(
            Diagnostic::warning(
                "GEN003",
                format!(
                    "`{}` was edited by hand since the last generation; kept as is",
                    c.path
                ),
            )
            .help(
                "review it with --dry-run, then pass --force to overwrite it (or keep your edit)",
            ),
        );
    }
    report.diagnostics = diags.into_sorted();
    if opts.dry_run {
        report.diff = Some(write::diff(&report.changes));
    } else {
        write::apply(opts.stage_in.as_ref().unwrap_or(&out_dir), &report.changes)?;
        report.written = true;
    }
    Ok(report)
}
