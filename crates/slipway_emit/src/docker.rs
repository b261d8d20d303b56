//! Dockerfile per built service (`docker/<service>/Dockerfile`) and its ignore file:
//! multi-stage with targets base, dev, test, prod; dependency manifests before the
//! source; a numeric non-root user; a HEALTHCHECK that needs no curl in the image.

use crate::{images, validate, Emitted, Templates};
use serde::Serialize;
use slipway_model::{App, BuildPlan, Health, Language, Service};

/// The numeric user every generated image runs as.
pub const APP_UID: u32 = 10001;

#[derive(Serialize)]
struct DockerView<'a> {
    app: &'a str,
    service: &'a str,
    source: String,
    template: &'a str,
    build_image: String,
    runtime_image: String,
    plan: &'a BuildPlan,
    port: Option<u16>,
    start: Vec<String>,
    dev_start: Vec<String>,
    healthcheck: Option<Vec<String>>,
    binary: String,
    uid: u32,
}

/// The health check command for a built service, using only what its image has:
/// the language runtime for Python and Node, bash's `/dev/tcp` for the others.
#[must_use]
pub fn healthcheck_argv(svc: &Service, language: Option<Language>) -> Option<Vec<String>> {
    let port = svc.container_port();
    match (svc.effective_health()?, port, language) {
        (Health::Command { command }, _, _) => Some(command),
        (Health::Http { path }, Some(port), Some(Language::Python)) => Some(vec![
            "python3".into(),
            "-c".into(),
            format!("import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3).status < 400 else 1)"),
        ]),
        (Health::Http { path }, Some(port), Some(Language::Node)) => Some(vec![
            "node".into(),
            "-e".into(),
            format!("require('http').get('http://127.0.0.1:{port}{path}', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"),
        ]),
        (Health::Http { path }, Some(port), Some(_)) => Some(vec![
            "bash".into(),
            "-c".into(),
            format!("exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' [23][0-9][0-9] '"),
        ]),
        (Health::Http { path }, Some(port), None) => Some(vec![
            "sh".into(),
            "-c".into(),
            format!("wget -q -O /dev/null http://127.0.0.1:{port}{path} || curl -fsS -o /dev/null http://127.0.0.1:{port}{path}"),
        ]),
        (Health::Http { .. }, None, _) => None,
    }
}

/// `; guessed: port 3000, health path /health` for the values detection guessed and
/// the spec left unset (the engine drops the ones the spec sets), or nothing.
fn guessed_summary(plan: &BuildPlan) -> String {
    let shown: Vec<String> = plan
        .guessed
        .iter()
        .filter_map(|g| match g.as_str() {
            "port" => plan.port.map(|p| format!("port {p}")),
            "health_path" => plan
                .health_path
                .as_ref()
                .map(|h| format!("health path {h}")),
            "start" => Some(format!("start command `{}`", plan.start.join(" "))),
            "version" => Some(format!("version {}", plan.version)),
            "package_manager" => Some(format!("package manager {}", plan.package_manager)),
            "entry" => plan.entry.as_ref().map(|e| format!("entry {e}")),
            _ => None,
        })
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!("; guessed: {}", shown.join(", "))
    }
}

pub(crate) fn emit(app: &App, templates: &Templates, out: &mut Emitted) {
    for svc in app.services.values() {
        let Some(plan) = svc.plan() else { continue };
        let template = match plan.language {
            Language::Python => "docker/python.Dockerfile.j2",
            Language::Node => "docker/node.Dockerfile.j2",
            Language::Go => "docker/go.Dockerfile.j2",
            Language::Rust => "docker/rust.Dockerfile.j2",
            Language::Java if plan.package_manager == "gradle" => "docker/gradle.Dockerfile.j2",
            Language::Java => "docker/java.Dockerfile.j2",
        };
        let (build, runtime) = images::language_images(plan);
        let mut problems = Vec::new();
        let item = format!("service `{}`", svc.name);
        let build_image = images::resolve(app, &build, &item, &mut problems);
        let runtime_image = images::resolve(app, &runtime, &item, &mut problems);
        for p in problems {
            out.diagnostics.push(p);
        }
        let start = svc.command.clone().unwrap_or_else(|| plan.start.clone());
        let view = DockerView {
            app: &app.name,
            service: &svc.name,
            source: svc.trace.location(),
            template,
            build_image,
            runtime_image,
            plan,
            port: svc.container_port(),
            dev_start: plan.dev_start.clone().unwrap_or_else(|| start.clone()),
            start,
            healthcheck: healthcheck_argv(svc, Some(plan.language)),
            binary: plan
                .start
                .first()
                .and_then(|s| s.rsplit('/').next())
                .unwrap_or("app")
                .to_string(),
            uid: APP_UID,
        };
        let dockerfile = format!("docker/{}/Dockerfile", svc.name);
        let ignore = format!("docker/{}/Dockerfile.dockerignore", svc.name);
        let rendered = templates
            .render(template, &view)
            .and_then(|text| validate::dockerfile(&text, template, &dockerfile).map(|()| text));
        let ignored = templates.render("docker/dockerignore.j2", &view);
        match (rendered, ignored) {
            (Ok(text), Ok(ign)) => {
                out.files.add(dockerfile.clone(), text);
                out.files.add(ignore.clone(), ign);
                let framework = plan
                    .framework
                    .as_deref()
                    .map(|f| format!("/{f}"))
                    .unwrap_or_default();
                out.files.artifact(
                    format!("artifact.docker.{}", svc.name),
                    "dockerfile",
                    vec![svc.id()],
                    format!(
                        "multi-stage Dockerfile (base, dev, test, prod) for {} ({}{framework}, {}); runs as uid {APP_UID}{}",
                        svc.name,
                        plan.language.as_str(),
                        plan.package_manager,
                        guessed_summary(plan)
                    ),
                    vec![dockerfile, ignore],
                );
            }
            (Err(d), _) | (_, Err(d)) => out.diagnostics.push(d),
        }
    }
}
