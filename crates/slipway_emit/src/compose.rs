//! Docker Compose: `compose/docker-compose.yaml` (the base every environment shares),
//! `docker-compose.dev.yaml` and `docker-compose.prod.yaml` overrides, `.env.example`
//! and a `.gitignore` that keeps secret files out of git. Valid for compose v2 and v1.

use crate::docker::healthcheck_argv;
use crate::naming::{compose_cpus, compose_memory, env_prefix, secret_file};
use crate::{deploy_refs, hardening, images, resources, validate, EmitRequest, Emitted, Templates};
use serde::Serialize;
use slipway_model::{App, HealthTiming, Resource, Service, ServiceSource, VolumeKind};

#[derive(Serialize)]
struct Build {
    context: String,
    dockerfile: String,
    /// The stage to build: `prod` for generated Dockerfiles, else as the input says.
    target: Option<String>,
    args: Vec<(String, String)>,
    /// Built with a Dockerfile slipway generated (which has dev and prod stages).
    generated: bool,
}

#[derive(Serialize)]
struct Health {
    test: Vec<String>,
    interval: String,
    timeout: String,
    retries: u32,
    start_period: String,
}

#[derive(Serialize)]
pub(crate) struct Entry {
    name: String,
    pub(crate) id: String,
    /// `service` (built or prebuilt) or the resource type.
    kind: String,
    image: String,
    build: Option<Build>,
    command: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    user: Option<String>,
    environment: Vec<(String, String)>,
    /// Variables whose (secret) value compose reads from `.env`.
    secret_env: Vec<String>,
    secrets: Vec<String>,
    /// Secrets read under another name than their own: (secret, file name).
    secret_targets: std::collections::BTreeMap<String, String>,
    volumes: Vec<String>,
    /// Named volumes among `volumes`, declared at the top level.
    named_volumes: Vec<String>,
    tmpfs: Vec<String>,
    expose: Vec<u16>,
    /// Configuration files written next to the compose files and mounted read-only.
    files: Vec<(String, String, String)>,
    healthcheck: Option<Health>,
    depends_on: Vec<(String, String)>,
    /// The override sets `APP_ENV` (not when the input sets it itself).
    app_env: bool,
    /// Networks it joins, when the app has more than the default one.
    networks: Vec<String>,
    /// `cap_drop: [ALL]` (see `hardening`); every container has no privilege escalation.
    hardened: bool,
    /// Capabilities a prebuilt image's entrypoint needs back (its hardening profile).
    cap_add: Vec<&'static str>,
    dev_ports: Vec<String>,
    dev_volumes: Vec<String>,
    prod_ports: Vec<String>,
    replicas: u32,
    cpus: String,
    memory: String,
    /// Limits every environment starts from (the spec's default ones).
    base_cpus: String,
    base_memory: String,
    read_only: bool,
    /// In memory under the read-only root (every environment but dev).
    writable: Vec<&'static str>,
}

#[derive(Serialize)]
struct SecretFile {
    name: String,
    file: String,
    /// Created by `scripts/start.sh` with a random value (resource passwords), or
    /// provided by the user (secrets the spec names).
    generated: bool,
}

#[derive(Serialize)]
pub(crate) struct ComposeView<'a> {
    app: &'a str,
    source: &'a str,
    pub(crate) entries: Vec<Entry>,
    secrets: Vec<SecretFile>,
    secret_env: Vec<String>,
    /// Variables the deploy fills in that are not secrets (`.env.example` names them).
    deploy_vars: Vec<String>,
    volumes: Vec<String>,
    /// Networks to declare (only when a service joins one besides the default).
    networks: Vec<NetworkView>,
    dev_env: String,
    prod_env: String,
    /// Every declared environment, in the spec's order (start.sh accepts each).
    environments: Vec<String>,
    environment: String,
}

#[derive(Serialize)]
struct NetworkView {
    name: String,
    external: Option<String>,
    internal: bool,
}

/// Compose interpolates `$` in every value; values slipway already resolved must
/// reach the container as written (deploy-time references stay references).
fn escape(app: &App, s: &str) -> String {
    deploy_refs::compose(app, s)
}

fn escape_all(app: &App, v: &[String]) -> Vec<String> {
    v.iter().map(|s| escape(app, s)).collect()
}

/// A duration in compose's form (`30s`, `1m30s`, `500ms`).
fn duration(ms: u64) -> String {
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// A host path from the input, made relative to the compose folder.
fn rebase(input_dir: &str, source: &str) -> String {
    if source.starts_with('/') || source.starts_with('~') || source.starts_with('$') {
        return source.to_string();
    }
    let rel = source.trim_start_matches("./");
    let joined = if input_dir.is_empty() || input_dir == "." {
        rel.to_string()
    } else {
        format!("{input_dir}/{rel}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let out = parts.join("/");
    if out.starts_with("..") {
        out
    } else {
        format!("./{out}")
    }
}

/// A healthcheck: the input's timing where it states one, else slipway's defaults.
fn health(test: Vec<String>, slow: bool, timing: HealthTiming) -> Health {
    let mut t = vec!["CMD".to_string()];
    t.extend(test);
    Health {
        test: t,
        interval: duration(timing.interval_ms.unwrap_or(10_000)),
        timeout: duration(timing.timeout_ms.unwrap_or(5_000)),
        retries: timing.retries.unwrap_or(if slow { 10 } else { 5 }),
        start_period: duration(timing.start_period_ms.unwrap_or(if slow {
            60_000
        } else {
            20_000
        })),
    }
}

/// Ports published on the host in environment `env`: every port the input publishes
/// (on its address, else 127.0.0.1), or `port` on `host_port`; a range of host ports
/// when the environment runs several replicas.
fn published_ports(svc: &Service, env: &str) -> Vec<String> {
    if svc.internal {
        return Vec::new();
    }
    let n = svc.replicas.get(env).copied().unwrap_or(1).max(1);
    let one = |ip: Option<&str>, first: u16, port: u16, udp: bool| {
        let host = if n > 1 {
            format!("{first}-{}", u32::from(first) + n - 1)
        } else {
            first.to_string()
        };
        let ip = match ip.unwrap_or("127.0.0.1") {
            v6 if v6.contains(':') => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        let proto = if udp { "/udp" } else { "" };
        format!("{ip}:{host}:{port}{proto}")
    };
    if !svc.published.is_empty() {
        return svc
            .published
            .iter()
            .map(|p| {
                one(
                    p.host_ip.as_deref(),
                    p.host.unwrap_or(p.container),
                    p.container,
                    p.udp,
                )
            })
            .collect();
    }
    let (Some(port), Some(first)) = (svc.container_port(), svc.host_port.or(svc.container_port()))
    else {
        return Vec::new();
    };
    vec![one(None, first, port, false)]
}

/// Whether any service joins a network other than the default one (only then are
/// networks written: compose gives every service the default network by itself).
fn has_networks(app: &App) -> bool {
    app.services
        .values()
        .any(|s| s.networks.iter().any(|n| n != "default"))
}

fn env_named(app: &App, wanted: &str, fallback_last: bool) -> String {
    if app.environments.iter().any(|e| e == wanted) {
        return wanted.to_string();
    }
    let pick = if fallback_last {
        app.environments.last()
    } else {
        app.environments.first()
    };
    pick.cloned().unwrap_or_else(|| wanted.to_string())
}

/// Connection settings a service gets for each thing it depends on.
fn connection_env(
    app: &App,
    svc: &Service,
    env: &mut Vec<(String, String)>,
    secrets: &mut Vec<String>,
) {
    for dep in &svc.depends_on {
        if let Some(r) = app.resources.get(dep) {
            let (e, s) = resources::connection(app, r);
            env.extend(e);
            secrets.extend(s);
        } else if let Some(port) = app.services.get(dep).and_then(Service::container_port) {
            env.push((
                format!("{}_URL", env_prefix(dep)),
                format!("http://{dep}:{port}"),
            ));
        }
    }
}

/// The file name under `/run/secrets` where the service reads secret `name`.
pub(crate) fn secret_path(svc: &Service, name: &str) -> String {
    svc.secret_files
        .get(name)
        .cloned()
        .unwrap_or_else(|| secret_file(name))
}

/// A service's configuration as environment variables (sorted) and the secret files
/// it reads: `PORT` for services slipway builds, connection settings for what it
/// depends on, `<SECRET>_FILE` paths, then the input's own `env`.
pub(crate) fn service_env(app: &App, svc: &Service) -> (Vec<(String, String)>, Vec<String>) {
    let mut environment: Vec<(String, String)> = Vec::new();
    let mut secrets = Vec::new();
    if let (Some(port), Some(_)) = (svc.container_port(), svc.plan()) {
        environment.push(("PORT".into(), port.to_string()));
    }
    connection_env(app, svc, &mut environment, &mut secrets);
    for s in &svc.secrets {
        environment.push((
            format!("{s}_FILE"),
            format!("/run/secrets/{}", secret_path(svc, s)),
        ));
        secrets.push(secret_file(s));
    }
    // The input's own values win over what slipway adds, and a variable set from a
    // secret is not set twice.
    let mut merged: std::collections::BTreeMap<String, String> = environment.into_iter().collect();
    merged.extend(svc.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged.retain(|k, _| !svc.secret_env.contains(k));
    let environment: Vec<(String, String)> = merged.into_iter().collect();
    secrets.sort();
    secrets.dedup();
    (environment, secrets)
}

fn service_entry(
    app: &App,
    req: &EmitRequest,
    svc: &Service,
    envs: (&str, &str),
    problems: &mut Vec<slipway_diagnostics::Diagnostic>,
) -> Entry {
    let (dev, prod) = envs;
    let plan = svc.plan();
    let hardening = hardening::for_service(svc);
    let (environment, secrets) = service_env(app, svc);
    let (image, build) = match &svc.source {
        ServiceSource::Build { .. } | ServiceSource::Dockerfile { .. } => {
            let layout = req.layout.get(&svc.name).cloned().unwrap_or_default();
            let (target, args, generated) = match &svc.source {
                ServiceSource::Dockerfile { target, args, .. } => (
                    target.clone(),
                    args.iter()
                        .map(|(k, v)| (k.clone(), escape(app, v)))
                        .collect(),
                    false,
                ),
                _ => (Some("prod".to_string()), Vec::new(), true),
            };
            (
                format!("{}/{}:${{IMAGE_TAG:-local}}", app.name, svc.name),
                Some(Build {
                    context: layout.context,
                    dockerfile: layout.dockerfile,
                    target,
                    args,
                    generated,
                }),
            )
        }
        ServiceSource::Image { image } => (
            images::resolve(app, image, &format!("service `{}`", svc.name), problems),
            None,
        ),
    };
    // The input's condition where it states one; else healthy when the dependency
    // has a health check.
    let depends_on =
        svc.depends_on
            .iter()
            .filter(|d| app.resources.get(*d).is_none_or(|r| r.external.is_none()))
            .map(|d| {
                let healthy = app.resources.contains_key(d)
                    || app.services.get(d).is_some_and(|s| {
                        healthcheck_argv(s, s.plan().map(|p| p.language)).is_some()
                    });
                let computed = if healthy {
                    "service_healthy"
                } else {
                    "service_started"
                };
                let condition = svc
                    .depends_on_condition
                    .get(d)
                    .cloned()
                    .unwrap_or_else(|| computed.to_string());
                (d.clone(), condition)
            })
            .collect();
    let publish = |env: &str| published_ports(svc, env);
    let workdir = if plan.is_some_and(|p| {
        matches!(
            p.language,
            slipway_model::Language::Python | slipway_model::Language::Node
        )
    }) {
        "/app"
    } else {
        "/src"
    };
    let mut dev_volumes = Vec::new();
    if let Some(b) = build.as_ref().filter(|b| b.generated) {
        dev_volumes.push(format!("{}:{workdir}", b.context));
        if plan.is_some_and(|p| p.language == slipway_model::Language::Node) {
            dev_volumes.push("/app/node_modules".into());
        }
    }
    let limits = svc.resources.get(prod).cloned().unwrap_or_default();
    let base = svc
        .resources
        .default
        .clone()
        .or_else(|| svc.resources.by_env.values().next().cloned())
        .unwrap_or_default();
    let mut volumes = Vec::new();
    let mut named_volumes = Vec::new();
    let mut tmpfs = Vec::new();
    for v in &svc.volumes {
        let ro = if v.read_only { ":ro" } else { "" };
        match v.kind {
            VolumeKind::Named => {
                volumes.push(format!("{}:{}{ro}", v.source, v.target));
                named_volumes.push(v.source.clone());
            }
            VolumeKind::Bind => volumes.push(format!(
                "{}:{}{ro}",
                rebase(&req.input_dir, &v.source),
                v.target
            )),
            VolumeKind::Tmpfs => tmpfs.push(v.target.clone()),
        }
    }
    for (i, f) in svc.files.iter().enumerate() {
        let base = f
            .target
            .rsplit('/')
            .next()
            .filter(|b| !b.is_empty())
            .unwrap_or("file");
        volumes.push(format!("./files/{}/{i}-{base}:{}:ro", svc.name, f.target));
    }
    Entry {
        name: svc.name.clone(),
        id: svc.id(),
        kind: "service".into(),
        image,
        build,
        command: svc
            .command
            .clone()
            .filter(|_| plan.is_none())
            .map(|c| escape_all(app, &c)),
        entrypoint: svc
            .entrypoint
            .clone()
            .filter(|_| plan.is_none())
            .map(|c| escape_all(app, &c)),
        user: svc.user.clone(),
        environment: environment
            .into_iter()
            .map(|(k, v)| (k, escape(app, &v)))
            .collect(),
        secret_env: svc.secret_env.clone(),
        secret_targets: svc
            .secret_files
            .iter()
            .map(|(k, v)| (secret_file(k), v.clone()))
            .collect(),
        secrets,
        volumes,
        named_volumes,
        tmpfs,
        // An unpublished service declares its port for the other services instead.
        expose: svc
            .internal
            .then(|| svc.container_port())
            .flatten()
            .into_iter()
            .chain(svc.extra_ports.iter().copied())
            .collect(),
        files: svc
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let base = f
                    .target
                    .rsplit('/')
                    .next()
                    .filter(|b| !b.is_empty())
                    .unwrap_or("file");
                (
                    format!("files/{}/{i}-{base}", svc.name),
                    f.target.clone(),
                    f.content.clone(),
                )
            })
            .collect(),
        healthcheck: healthcheck_argv(svc, plan.map(|p| p.language)).map(|t| {
            health(
                escape_all(app, &t),
                plan.is_some_and(|p| p.language == slipway_model::Language::Java),
                svc.health_timing,
            )
        }),
        depends_on,
        app_env: !svc.env.contains_key("APP_ENV"),
        networks: if has_networks(app) {
            svc.networks.clone()
        } else {
            Vec::new()
        },
        hardened: hardening.drop_all,
        cap_add: hardening.cap_add,
        dev_ports: publish(dev),
        dev_volumes,
        prod_ports: publish(prod),
        replicas: svc.replicas.get(prod).copied().unwrap_or(1),
        cpus: compose_cpus(limits.cpu.as_deref().unwrap_or("500m")),
        memory: compose_memory(limits.memory.as_deref().unwrap_or("512Mi")),
        base_cpus: compose_cpus(base.cpu.as_deref().unwrap_or("500m")),
        base_memory: compose_memory(base.memory.as_deref().unwrap_or("512Mi")),
        read_only: hardening.read_only,
        writable: hardening.writable,
    }
}

fn resource_entry(
    app: &App,
    r: &Resource,
    problems: &mut Vec<slipway_diagnostics::Diagnostic>,
) -> Entry {
    let image = images::resolve(
        app,
        &resources::image(r),
        &format!("resource `{}`", r.name),
        problems,
    );
    let (cpu, memory) = resources::limits(r.kind);
    let hardening = hardening::for_resource(r);
    Entry {
        name: r.name.clone(),
        id: r.id(),
        kind: r.kind.as_str().into(),
        image,
        build: None,
        command: resources::command(r).map(|c| escape_all(app, &c)),
        entrypoint: None,
        user: None,
        secret_env: Vec::new(),
        secret_targets: std::collections::BTreeMap::new(),
        named_volumes: vec![format!("{}-data", r.name)],
        tmpfs: Vec::new(),
        expose: Vec::new(),
        files: Vec::new(),
        environment: resources::server_env(app, r),
        secrets: resources::secrets(r),
        volumes: vec![format!("{}-data:{}", r.name, resources::data_dir(r.kind))],
        healthcheck: Some(health(
            resources::health(app, r.kind),
            false,
            HealthTiming::default(),
        )),
        depends_on: Vec::new(),
        app_env: false,
        networks: Vec::new(),
        hardened: hardening.drop_all,
        cap_add: hardening.cap_add,
        dev_ports: Vec::new(),
        dev_volumes: Vec::new(),
        prod_ports: Vec::new(),
        replicas: 1,
        cpus: compose_cpus(cpu),
        memory: compose_memory(memory),
        base_cpus: compose_cpus(cpu),
        base_memory: compose_memory(memory),
        read_only: hardening.read_only,
        writable: hardening.writable,
    }
}

/// The view every compose-family template renders (compose files and scripts).
pub(crate) fn view<'a>(app: &'a App, req: &'a EmitRequest, out: &mut Emitted) -> ComposeView<'a> {
    let mut problems = Vec::new();
    let view = view_for(app, req, &env_named(app, "prod", true), &mut problems);
    for p in problems {
        out.diagnostics.push(p);
    }
    view
}

/// The view with `prod` as the production-like environment whose override is
/// rendered (replicas, limits, restarts and published ports of that environment).
fn view_for<'a>(
    app: &'a App,
    req: &'a EmitRequest,
    prod: &str,
    diagnostics: &mut Vec<slipway_diagnostics::Diagnostic>,
) -> ComposeView<'a> {
    let dev = env_named(app, "dev", false);
    let prod = prod.to_string();
    let mut problems = Vec::new();
    let mut entries: Vec<Entry> = app
        .services
        .values()
        .map(|s| service_entry(app, req, s, (&dev, &prod), &mut problems))
        .collect();
    entries.extend(
        app.resources
            .values()
            .filter(|r| r.external.is_none())
            .map(|r| resource_entry(app, r, &mut problems)),
    );
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    diagnostics.extend(problems);
    let mut secrets: Vec<SecretFile> = entries
        .iter()
        .flat_map(|e| e.secrets.iter())
        .map(|name| SecretFile {
            name: name.clone(),
            file: format!("./secrets/{name}"),
            generated: app
                .resources
                .values()
                .any(|r| r.external.is_none() && resources::secrets(r).contains(name)),
        })
        .collect();
    secrets.sort_by(|a, b| a.name.cmp(&b.name));
    secrets.dedup_by(|a, b| a.name == b.name);
    let mut volumes: Vec<String> = entries
        .iter()
        .flat_map(|e| e.named_volumes.iter().cloned())
        .collect();
    volumes.sort();
    volumes.dedup();
    let mut secret_env: Vec<String> = entries
        .iter()
        .flat_map(|e| e.secret_env.iter().cloned())
        .collect();
    secret_env.sort();
    secret_env.dedup();
    let networks = if has_networks(app) {
        app.networks
            .iter()
            .filter(|(n, net)| *n != "default" || net.external.is_some() || net.internal)
            .map(|(n, net)| NetworkView {
                name: n.clone(),
                external: net.external.clone(),
                internal: net.internal,
            })
            .collect()
    } else {
        Vec::new()
    };
    let deploy_vars = app
        .deploy_vars
        .iter()
        .filter(|v| !secret_env.contains(v))
        .cloned()
        .collect();
    ComposeView {
        app: &app.name,
        source: &req.source,
        deploy_vars,
        networks,
        secret_env,
        entries,
        secrets,
        volumes,
        environment: req.environment.clone().unwrap_or_else(|| dev.clone()),
        environments: if app.environments.is_empty() {
            vec![dev.clone(), prod.clone()]
        } else {
            app.environments.clone()
        },
        dev_env: dev,
        prod_env: prod,
    }
}

/// One compose file to render: its template, path, manifest kind and summary, and
/// the view it renders (the shared one unless it is another environment's override).
struct ComposeFile<'a> {
    template: String,
    path: String,
    kind: &'static str,
    definition: String,
    is_yaml: bool,
    own_view: Option<ComposeView<'a>>,
}

/// One override per declared environment: the development one from the dev template,
/// every other one from the production template with that environment's replicas,
/// limits and ports, so `docker-compose.<env>.yaml` exists for each (a staging
/// deploy never runs on the base file alone).
fn overrides(view: &ComposeView<'_>) -> Vec<(String, String, bool)> {
    view.environments
        .iter()
        .map(|e| {
            let dev = *e == view.dev_env;
            let template = if dev { "dev" } else { "prod" };
            (
                e.clone(),
                format!("compose/docker-compose.{template}.yaml.j2"),
                dev,
            )
        })
        .collect()
}

/// For an app imported from compose (which always carries its networks): the
/// variables the output adds to a service's environment, so the import report lists
/// every difference from the input.
fn added_env_notes(app: &App, out: &mut Emitted) {
    if app.networks.is_empty() {
        return;
    }
    for svc in app.services.values() {
        let (env, _) = service_env(app, svc);
        let mut added: Vec<String> = env
            .iter()
            .filter(|(k, _)| !svc.env.contains_key(k))
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect();
        if !svc.env.contains_key("APP_ENV") {
            added.push("`APP_ENV` (the environment's name, in each override)".into());
        }
        if added.is_empty() {
            continue;
        }
        out.diagnostics.push(
            slipway_diagnostics::Diagnostic::new(
                "GEN032",
                slipway_diagnostics::Severity::Info,
                format!(
                    "service `{}` ({}): the output adds {} to its environment",
                    svc.name,
                    svc.trace.location(),
                    added.join(", ")
                ),
            )
            .in_file(&svc.trace.file)
            .help("set the variable in the input to keep your own value"),
        );
    }
}

pub(crate) fn emit(
    app: &App,
    req: &EmitRequest,
    view: &ComposeView<'_>,
    templates: &Templates,
    out: &mut Emitted,
) {
    added_env_notes(app, out);
    for e in &view.entries {
        for (path, target, content) in &e.files {
            out.files.add(format!("compose/{path}"), content.clone());
            out.files.artifact(
                format!("artifact.compose.file-{}", path.replace(['/', '.'], "-")),
                "config-file",
                vec![e.id.clone()],
                format!("File mounted read-only at {target} in `{}`", e.name),
                vec![format!("compose/{path}")],
            );
        }
    }
    let traces: Vec<String> = view.entries.iter().map(|e| e.id.clone()).collect();
    let file =
        |template: &str, path: &str, kind: &'static str, definition: String, is_yaml| ComposeFile {
            template: template.to_string(),
            path: path.to_string(),
            kind,
            definition,
            is_yaml,
            own_view: None,
        };
    let mut files = vec![file(
        "compose/docker-compose.yaml.j2",
        "compose/docker-compose.yaml",
        "compose-base",
        "Compose base shared by every environment: services, backing resources with healthchecks, secrets as files, named volumes".into(),
        true,
    )];
    for (env, template, dev) in overrides(view) {
        let path = format!("compose/docker-compose.{env}.yaml");
        files.push(if dev {
            file(&template, &path, "compose-override", format!("Compose {env} override: dev build target, source bind mounts, ports on 127.0.0.1"), true)
        } else {
            ComposeFile {
                own_view: (env != view.prod_env).then(|| view_for(app, req, &env, &mut Vec::new())),
                ..file(&template, &path, "compose-override", format!("Compose {env} override: replicas, resource limits, restart policy, read-only root filesystems"), true)
            }
        });
    }
    files.push(file(
        "compose/env.example.j2",
        "compose/.env.example",
        "env-example",
        "Compose variables (project name, image tag); secrets are files, never here".into(),
        false,
    ));
    files.push(file(
        "compose/gitignore.j2",
        "compose/.gitignore",
        "gitignore",
        "Keeps secret files and local .env out of git".into(),
        false,
    ));
    for f in files {
        let ComposeFile {
            template,
            path,
            kind,
            definition,
            is_yaml,
            own_view,
        } = f;
        let (template, path) = (template.as_str(), path.as_str());
        let rendered = templates
            .render(template, own_view.as_ref().unwrap_or(view))
            .and_then(|text| {
                if is_yaml {
                    validate::yaml(&text, template, path).map(|()| text)
                } else {
                    Ok(text)
                }
            });
        match rendered {
            Ok(text) => {
                out.files.add(path, text);
                let id = format!(
                    "artifact.compose.{}",
                    path.trim_start_matches("compose/")
                        .trim_start_matches('.')
                        .replace('.', "-")
                );
                out.files.artifact(
                    id,
                    kind,
                    traces.clone(),
                    definition.clone(),
                    vec![path.to_string()],
                );
            }
            Err(d) => out.diagnostics.push(d),
        }
    }
}
