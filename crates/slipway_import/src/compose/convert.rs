//! The loaded compose services -> model services: profiles, DNS names, secrets
//! scrubbed, every published port, health timing (Compose's defaults where the input
//! states none), networks, `depends_on` conditions, and a port for services others
//! reach by name. What changes on the way is reported at its line.

use super::project::Loaded;
use super::reach::{known_port, reached_by};
use super::scrub::scrub;
use super::service::{At, ComposeService, HealthSetting};
use super::ComposeOptions;
use slipway_diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile};
use slipway_model::{
    App, HealthTiming, Network, PerEnv, PublishedPort, Service, ServiceSource, Trace,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Compose's health check timing when the input states none.
const COMPOSE_HEALTH: HealthTiming = HealthTiming {
    interval_ms: Some(30_000),
    timeout_ms: Some(30_000),
    retries: Some(3),
    start_period_ms: Some(0),
};

/// A compose name as a DNS label (`my_db` -> `my-db`).
pub(crate) fn dns_label(name: &str) -> String {
    crate::detect::service_name(name)
}

fn secret_env_name(name: &str) -> String {
    name.to_ascii_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn note(severity: Severity, code: &str, at: &At, message: String) -> Diagnostic {
    Diagnostic::new(code, severity, message).at(&at.0, at.1)
}

/// Which services convert, and their model names.
fn names(
    order: &[String],
    services: &BTreeMap<String, ComposeService>,
    profiles: &[String],
    diags: &mut Diagnostics,
) -> BTreeMap<String, String> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for original in order {
        let Some(svc) = services.get(original) else {
            continue;
        };
        if !svc.profiles.is_empty() && !svc.profiles.iter().any(|p| profiles.contains(p)) {
            diags.push(
                Diagnostic::new(
                    "SPEC110",
                    Severity::Info,
                    format!(
                        "service `{original}` is only in profile(s) {}; it is left out",
                        svc.profiles.join(", ")
                    ),
                )
                .in_file(&svc.trace.file),
            );
            continue;
        }
        let mut label = dns_label(original);
        while names.values().any(|n| *n == label) {
            label.push_str("-x");
        }
        if label != *original {
            diags.push(Diagnostic::warning("SPEC111", format!("service `{original}` is renamed `{label}`: Kubernetes names must be DNS labels")).in_file(&svc.trace.file));
        }
        names.insert(original.clone(), label);
    }
    // Docker Compose accepts a profile no service declares and selects nothing with
    // it; slipway does too, but says so: it is most often a typo.
    let declared: std::collections::BTreeSet<&str> = services
        .values()
        .flat_map(|s| s.profiles.iter().map(String::as_str))
        .collect();
    for p in profiles {
        if declared.contains(p.as_str()) {
            continue;
        }
        let mut d = Diagnostic::warning(
            "SPEC113",
            format!("`--profile {p}`: no service in the compose files is in profile `{p}`"),
        )
        .in_file(
            services
                .values()
                .next()
                .map_or("compose.yaml", |s| s.trace.file.as_str()),
        );
        d = if declared.is_empty() {
            d.help("the compose files declare no profiles; drop `--profile`")
        } else {
            let hint = crate::spec::did_you_mean(p, declared.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            d.expected(format!(
                "one of {}",
                declared.iter().copied().collect::<Vec<_>>().join(", ")
            ))
            .help(format!("{hint}profiles name the `profiles:` of services"))
        };
        diags.push(d);
    }
    names
}

/// Builds the app from what the project loaded; returns it with the extra sources.
pub(crate) fn into_app(
    mut loaded: Loaded,
    files: &[Arc<SourceFile>],
    opts: &ComposeOptions,
    diags: &mut Diagnostics,
) -> (App, Vec<Arc<SourceFile>>) {
    let app_name = dns_label(loaded.name.as_deref().unwrap_or(&opts.default_name));
    let trace = files
        .first()
        .map(|f| Trace {
            file: f.name.clone(),
            line: 1,
            column: 1,
            item: None,
        })
        .unwrap_or_default();
    let mut app = App {
        name: app_name,
        environments: crate::spec::DEFAULT_ENVIRONMENTS
            .iter()
            .map(ToString::to_string)
            .collect(),
        targets: vec!["compose".into(), "scripts".into(), "kubernetes".into()],
        trace: trace.clone(),
        deploy_vars: std::mem::take(&mut loaded.deploy_vars),
        ..App::default()
    };
    let names = names(&loaded.order, &loaded.services, &opts.profiles, diags);
    let mut originals: BTreeMap<String, (String, At)> = BTreeMap::new();
    for (original, label) in &names {
        let Some(mut c) = loaded.services.remove(original) else {
            continue;
        };
        if c.platform_error {
            continue;
        }
        let at = c.at.clone();
        scrub(&mut c, original, label, &loaded.env_secrets, diags);
        app.deploy_vars.extend(c.deploy_refs.iter().cloned());
        let Some(svc) = model_service(original, label, &c, &names, &loaded.networks, diags) else {
            continue;
        };
        for n in &svc.networks {
            let net = loaded.networks.get(n).cloned().unwrap_or_else(|| Network {
                trace: trace.clone(),
                ..Network::default()
            });
            app.networks.insert(n.clone(), net);
        }
        originals.insert(label.clone(), (original.clone(), at));
        app.services.insert(label.clone(), svc);
    }
    ports_for_reached(&mut app, &originals, diags);
    app.deploy_vars.sort();
    app.deploy_vars.dedup();
    (app, loaded.sources)
}

fn source_of(original: &str, c: &ComposeService, diags: &mut Diagnostics) -> Option<ServiceSource> {
    match (&c.build, &c.image) {
        (Some((context, dockerfile, target, args)), _) => Some(ServiceSource::Dockerfile {
            context: context.clone(),
            dockerfile: dockerfile.clone(),
            target: target.clone(),
            args: args.clone(),
        }),
        (None, Some(image)) => Some(ServiceSource::Image {
            image: image.clone(),
        }),
        (None, None) => {
            diags.push(
                Diagnostic::error(
                    "SPEC102",
                    format!("service `{original}` has neither `image` nor `build`"),
                )
                .in_file(&c.trace.file)
                .help("add `image: name:tag` or `build: ./folder`"),
            );
            None
        }
    }
}

fn published(c: &ComposeService) -> Vec<PublishedPort> {
    let mut out = Vec::new();
    for p in &c.ports {
        for (i, container) in std::iter::once(p.container)
            .chain(p.more.iter().copied())
            .enumerate()
        {
            let offset = u16::try_from(i).unwrap_or(u16::MAX);
            out.push(PublishedPort {
                container,
                host: p.host.map(|h| h.saturating_add(offset)),
                host_ip: p.host_ip.clone(),
                udp: p.udp,
            });
        }
    }
    out
}

fn model_service(
    original: &str,
    label: &str,
    c: &ComposeService,
    names: &BTreeMap<String, String>,
    declared: &BTreeMap<String, Network>,
    diags: &mut Diagnostics,
) -> Option<Service> {
    let source = source_of(original, c, diags)?;
    if let (Some(_), Some(image), Some(at)) = (&c.build, &c.image, c.keys.get("image")) {
        diags.push(note(Severity::Info, "SPEC124", at, format!("service `{original}` has both `build` and `image`: the output builds it and names the image after the project and service, not `{image}`")));
    }
    let published = published(c);
    let mut ports: Vec<u16> = Vec::new();
    for p in published
        .iter()
        .map(|p| p.container)
        .chain(c.expose.iter().copied())
    {
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    if published.iter().any(|p| p.host_ip.is_none()) {
        if let Some(at) = c.keys.get("ports") {
            diags.push(note(Severity::Info, "SPEC124", at, format!("service `{original}`: ports are published on 127.0.0.1 only, where the input publishes them on every interface; write `0.0.0.0:HOST:CONTAINER` to keep that")));
        }
    }
    let mut depends_on = Vec::new();
    let mut conditions = BTreeMap::new();
    for d in &c.depends_on {
        match names.get(d) {
            Some(n) => {
                if !depends_on.contains(n) {
                    depends_on.push(n.clone());
                }
                if let Some(cond) = c.conditions.get(d) {
                    conditions.insert(n.clone(), cond.clone());
                }
            }
            None => diags.push(Diagnostic::warning("SPEC112", format!("service `{original}` depends on `{d}`, which is not converted; the dependency is dropped")).in_file(&c.trace.file)),
        }
    }
    let networks = c.networks.clone().unwrap_or_else(|| vec!["default".into()]);
    for n in &networks {
        if n != "default" && !declared.contains_key(n) {
            let at = c
                .keys
                .get("networks")
                .cloned()
                .unwrap_or_else(|| c.at.clone());
            diags.push(
                note(Severity::Error, "SPEC102", &at, format!("service `{original}` joins network `{n}`, which no top-level `networks:` declares"))
                    .help(format!("declare it: `networks: {{ {n}: {{}} }}`")),
            );
        }
    }
    let health = match &c.health {
        Some(HealthSetting::Test(h)) => Some(h.clone()),
        _ => None,
    };
    let mut timing = HealthTiming::default();
    if health.is_some() {
        let t = c.health_timing;
        timing = HealthTiming {
            interval_ms: t.interval_ms.or(COMPOSE_HEALTH.interval_ms),
            timeout_ms: t.timeout_ms.or(COMPOSE_HEALTH.timeout_ms),
            retries: t.retries.or(COMPOSE_HEALTH.retries),
            start_period_ms: t.start_period_ms.or(COMPOSE_HEALTH.start_period_ms),
        };
    }
    let mut secret_env = c.secret_env.clone();
    secret_env.sort();
    secret_env.dedup();
    let mut env = c.env.clone();
    env.retain(|k, _| !secret_env.contains(k));
    let mut secrets: Vec<String> = c.secrets.iter().map(|s| secret_env_name(s)).collect();
    secrets.sort();
    secrets.dedup();
    // Read where the input reads it, when that is not the secret's own file name.
    let secret_files: BTreeMap<String, String> = c
        .secrets
        .iter()
        .filter_map(|s| {
            let model = secret_env_name(s);
            let target = c
                .secret_targets
                .get(s)
                .cloned()
                .unwrap_or_else(|| s.clone());
            (target != model.to_ascii_lowercase()).then_some((model, target))
        })
        .collect();
    Some(Service {
        name: label.to_string(),
        source,
        port: ports.first().copied(),
        host_port: published.first().and_then(|p| p.host),
        // Declared (`expose`) but published nowhere: reachable only on the network.
        internal: published.is_empty() && !ports.is_empty(),
        health,
        health_timing: timing,
        env,
        secrets,
        secret_files,
        secret_env,
        depends_on,
        depends_on_condition: conditions,
        replicas: c.replicas.map(PerEnv::all).unwrap_or_default(),
        resources: c.limits.clone().map(PerEnv::all).unwrap_or_default(),
        ingress: None,
        command: c.command.clone(),
        entrypoint: c.entrypoint.clone(),
        extra_ports: ports.iter().skip(1).copied().collect(),
        volumes: c.volumes.clone(),
        user: c.user.clone(),
        files: Vec::new(),
        published,
        networks,
        trace: c.trace.clone(),
    })
}

/// A service others reach by name but that declares no port gets the official
/// image's known port, or the port others address it on (a reported guess), so
/// Kubernetes gives it a Service; otherwise the user is told why it has none.
fn ports_for_reached(
    app: &mut App,
    originals: &BTreeMap<String, (String, At)>,
    diags: &mut Diagnostics,
) {
    let portless: Vec<String> = app
        .services
        .values()
        .filter(|s| s.ports().is_empty())
        .map(|s| s.name.clone())
        .collect();
    for name in portless {
        let Some((original, at)) = originals.get(&name) else {
            continue;
        };
        let reached = reached_by(app.services.values(), &name, original);
        let Some((who, how, _)) = reached.first() else {
            continue;
        };
        let image_port = match &app.services[&name].source {
            ServiceSource::Image { image } => known_port(image),
            _ => None,
        };
        let guess = reached.iter().find_map(|(_, _, p)| *p);
        let by_name = reached.iter().any(|(_, how, _)| how != "`depends_on`");
        let (port, d) = if let Some(p) = image_port {
            (Some(p), note(Severity::Info, "SPEC125", at, format!("service `{original}` declares no port but `{who}` reaches it ({how}): it gets port {p}, its image's known port, for the Kubernetes Service (and `expose` in compose)")))
        } else if let Some(p) = guess {
            (Some(p), note(Severity::Warning, "SPEC125", at, format!("service `{original}` declares no port; port {p} is a guess, from how `{who}` addresses it ({how}), for its Kubernetes Service")).help(format!("add `expose: [\"{p}\"]` to service `{original}` to make it certain")))
        } else if by_name {
            (None, note(Severity::Warning, "SPEC125", at, format!("service `{original}` is reached by `{who}` ({how}) but declares no port, so Kubernetes gets no Service for it")).help(format!("add `expose: [PORT]` to service `{original}`")))
        } else {
            continue;
        };
        diags.push(d);
        if let (Some(p), Some(svc)) = (port, app.services.get_mut(&name)) {
            svc.port = Some(p);
            svc.internal = true;
        }
    }
}
