//! One compose service: reading every key (converted, knowingly ignored, or reported
//! as having no equivalent), merging a later file's definition over an earlier one,
//! and turning the merged services into model services.

use super::values::{cpus, memory, parse_env_file, parse_port, parse_volume, PortSpec};
use super::Ctx;
use crate::spec::did_you_mean;
use crate::yaml::Node;
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile};
use slipway_model::{
    App, Health, Limits, PerEnv, Service, ServiceSource, Trace, VolumeKind, VolumeMount,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Keys that convert.
const CONVERTED: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "tmpfs",
    "depends_on",
    "healthcheck",
    "deploy",
    "secrets",
    "user",
    "profiles",
    "mem_limit",
    "cpus",
    "scale",
];
/// Keys with no effect on what is generated (Kubernetes and slipway's compose set
/// them by default, or they only matter to the local engine).
const IGNORED: &[&str] = &[
    "restart",
    "container_name",
    "hostname",
    "networks",
    "labels",
    "read_only",
    "cap_drop",
    "security_opt",
    "stdin_open",
    "tty",
    "logging",
    "init",
    "stop_grace_period",
    "stop_signal",
    "pull_policy",
    "links",
    "domainname",
    "dns",
    "dns_search",
    "ulimits",
    "mem_reservation",
    "oom_score_adj",
    "pids_limit",
    "annotations",
    "attach",
];
/// Keys with no equivalent: reported, dropped, the rest converts.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "network_mode",
        "host networking has no equivalent; the service gets its own network identity",
    ),
    ("privileged", "privileged containers are never generated"),
    (
        "cap_add",
        "added capabilities are not carried over; every capability is dropped",
    ),
    (
        "sysctls",
        "sysctls are not carried over (they need a node-level allowance in Kubernetes)",
    ),
    ("pid", "sharing the host PID namespace is never generated"),
    ("ipc", "sharing the host IPC namespace is never generated"),
    ("devices", "host devices are not carried over"),
    (
        "configs",
        "configs are not carried over; provide them as a ConfigMap",
    ),
    (
        "working_dir",
        "working_dir is not carried over; set WORKDIR in the image",
    ),
    ("extra_hosts", "extra_hosts are not carried over; use DNS"),
    (
        "runtime",
        "alternative container runtimes are not carried over",
    ),
    ("shm_size", "shm_size is not carried over"),
    ("userns_mode", "user namespace modes are not carried over"),
    ("external_links", "external_links are not carried over"),
    (
        "volumes_from",
        "volumes_from is not carried over; mount the volume itself",
    ),
    ("group_add", "group_add is not carried over"),
    ("cgroup_parent", "cgroup_parent is not carried over"),
    ("credential_spec", "credential_spec is not carried over"),
    ("isolation", "isolation is not carried over"),
];

/// A value that must not be written to a file: a secret-looking name with a value,
/// or a URL carrying a password.
fn is_secret(key: &str, value: &str) -> bool {
    let k = key.to_ascii_uppercase();
    if k.ends_with("_FILE") || value.starts_with("/run/secrets/") {
        return false;
    }
    let url_password = value.find("://").is_some_and(|i| {
        let rest = &value[i + 3..];
        rest.split('/').next().is_some_and(|auth| {
            auth.contains('@') && auth.split('@').next().is_some_and(|u| u.contains(':'))
        })
    });
    (crate::secrets::is_secret_name(key) && !value.is_empty()) || url_password
}

/// `build:`: context, dockerfile, target, args.
pub(crate) type BuildSpec = (
    String,
    Option<String>,
    Option<String>,
    BTreeMap<String, String>,
);

/// A healthcheck as compose states it: a test, or explicitly disabled.
#[derive(Debug, Clone)]
pub(crate) enum HealthSetting {
    Test(Health),
    Disabled,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct ComposeService {
    pub trace: Trace,
    pub image: Option<String>,
    pub build: Option<BuildSpec>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub secret_env: Vec<String>,
    pub ports: Vec<PortSpec>,
    pub expose: Vec<u16>,
    pub volumes: Vec<VolumeMount>,
    pub depends_on: Vec<String>,
    /// `Some(None)`: the healthcheck is disabled.
    pub health: Option<HealthSetting>,
    pub replicas: Option<u32>,
    pub limits: Option<Limits>,
    pub secrets: Vec<String>,
    pub user: Option<String>,
    pub profiles: Vec<String>,
    pub platform_error: bool,
    /// Secret values moved out of `environment`, by variable, to scrub from commands.
    pub secret_values: Vec<(String, String)>,
}

/// Replaces a secret literal in a command by a reference to its variable, so the
/// value is read at run time and never written. Exec-form commands become `sh -c`.
fn scrub(argv: &[String], secrets: &[(String, String)]) -> Option<Vec<String>> {
    let hit = |s: &str| secrets.iter().any(|(_, v)| s.contains(v.as_str()));
    if !argv.iter().any(|a| hit(a)) {
        return None;
    }
    let replace = |s: &str| {
        secrets.iter().fold(s.to_string(), |acc, (k, v)| {
            acc.replace(v.as_str(), &format!("\"${k}\""))
        })
    };
    if argv.len() >= 3 && argv[0] == "sh" && argv[1] == "-c" {
        let mut out = argv.to_vec();
        for a in out.iter_mut().skip(2) {
            *a = replace(a);
        }
        return Some(out);
    }
    let line = argv
        .iter()
        .map(|a| {
            if hit(a) {
                replace(a)
            } else if a
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    Some(vec!["sh".into(), "-c".into(), line])
}

impl ComposeService {
    /// A later file's definition over this one, as compose merges `-f` files.
    pub fn merge(&mut self, o: ComposeService) {
        macro_rules! over {
            ($($f:ident),*) => { $( if o.$f.is_some() { self.$f = o.$f; } )* };
        }
        over!(image, build, command, entrypoint, health, replicas, limits, user);
        self.env.extend(o.env);
        self.secret_env.extend(o.secret_env);
        self.ports.extend(o.ports);
        self.expose.extend(o.expose);
        for v in o.volumes {
            self.volumes.retain(|x| x.target != v.target);
            self.volumes.push(v);
        }
        for d in o.depends_on {
            if !self.depends_on.contains(&d) {
                self.depends_on.push(d);
            }
        }
        self.secrets.extend(o.secrets);
        self.secret_values.extend(o.secret_values);
        if !o.profiles.is_empty() {
            self.profiles = o.profiles;
        }
        self.platform_error |= o.platform_error;
    }
}

fn port_of(ctx: &mut Ctx<'_>, node: &Node) -> Option<u16> {
    ctx.text(node)?.split('/').next()?.trim().parse().ok()
}

fn read_ports(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    for item in node.as_seq().unwrap_or(&[]) {
        let spec = if item.as_map().is_some() {
            let target = item.get("target").and_then(|t| port_of(ctx, t));
            let published = item
                .get("published")
                .and_then(|p| ctx.text(p))
                .and_then(|p| p.split('-').next()?.parse().ok());
            target.map(|container| PortSpec {
                container,
                host: published,
                more: Vec::new(),
            })
        } else {
            ctx.text(item).and_then(|s| parse_port(&s))
        };
        if let Some(p) = spec {
            svc.ports.push(p);
        } else {
            let d = ctx.err("SPEC102", item, "not a port mapping").expected(
                "`80`, `8080:80`, `127.0.0.1:8080:80/tcp` or `{ target: 80, published: 8080 }`",
            );
            ctx.diags.push(d);
        }
    }
}

fn read_volumes(ctx: &mut Ctx<'_>, node: &Node, declared: &[String], svc: &mut ComposeService) {
    for item in node.as_seq().unwrap_or(&[]) {
        let mount = if item.as_map().is_some() {
            let kind = item
                .get("type")
                .and_then(|t| ctx.text(t))
                .unwrap_or_else(|| "volume".into());
            let source = item
                .get("source")
                .and_then(|s| ctx.text(s))
                .unwrap_or_default();
            let target = item
                .get("target")
                .and_then(|t| ctx.text(t))
                .unwrap_or_default();
            let read_only = item
                .get("read_only")
                .and_then(Node::as_bool)
                .unwrap_or(false);
            let kind = match kind.as_str() {
                "bind" => Some(VolumeKind::Bind),
                "tmpfs" => Some(VolumeKind::Tmpfs),
                "volume" if source.is_empty() => Some(VolumeKind::Tmpfs),
                "volume" => Some(VolumeKind::Named),
                _ => None,
            };
            kind.filter(|_| target.starts_with('/'))
                .map(|kind| VolumeMount {
                    kind,
                    source,
                    target,
                    read_only,
                    size: None,
                })
        } else {
            let is_named = |n: &str| declared.iter().any(|d| d == n);
            ctx.text(item).and_then(|s| parse_volume(&s, &is_named))
        };
        let Some(mount) = mount else {
            let d = ctx
                .err("SPEC102", item, "not a volume mount")
                .expected("`name:/path`, `./dir:/path[:ro]` or `{ type, source, target }`");
            ctx.diags.push(d);
            continue;
        };
        if mount.source.ends_with("docker.sock") {
            let d = ctx
                .warn("CMP007", item, format!("mounting the Docker socket (`{}`) gives the container control of the host; it is not carried over", mount.source))
                .help("talk to the engine through an API with its own credentials instead");
            ctx.diags.push(d);
            continue;
        }
        if mount.kind == VolumeKind::Bind {
            let d = ctx
                .warn("SPEC104", item, format!("bind mount `{}` -> `{}` depends on this host's files; Kubernetes gets an empty folder there", mount.source, mount.target))
                .help("bake the files into the image, mount them from a ConfigMap, or turn the folder into a named volume");
            ctx.diags.push(d);
        }
        svc.volumes.push(mount);
    }
}

fn read_environment(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    let mut pairs: Vec<(&Node, String, Option<String>)> = Vec::new();
    if let Some(map) = node.as_map() {
        for (k, v) in map {
            let Some(key) = k.as_scalar() else { continue };
            let value = if v.is_null() { None } else { ctx.text(v) };
            pairs.push((k, key.to_string(), value));
        }
    } else if let Some(items) = node.as_seq() {
        for item in items {
            let Some(raw) = ctx.text(item) else { continue };
            match raw.split_once('=') {
                Some((k, v)) => pairs.push((item, k.to_string(), Some(v.to_string()))),
                None => pairs.push((item, raw, None)),
            }
        }
    } else {
        let d = ctx.err(
            "SPEC102",
            node,
            "`environment` must be a mapping or a list of `KEY=value`",
        );
        ctx.diags.push(d);
    }
    for (at, key, value) in pairs {
        let value = value.or_else(|| ctx.vars.get(&key).cloned());
        let secret_name = crate::secrets::is_secret_name(&key);
        match value {
            Some(v) if is_secret(&key, &v) => {
                let d = ctx
                    .warn("CMP009", at, format!("`{key}` holds a secret in plain text; it becomes a secret reference and its value is not carried over"))
                    .help(format!("Kubernetes reads it from the Secret key `{}`; compose from `{key}` in `.env`", key.to_ascii_lowercase()));
                ctx.diags.push(d);
                svc.secret_values.push((key.clone(), v));
                svc.secret_env.push(key);
            }
            Some(v) if v.is_empty() && secret_name => svc.secret_env.push(key),
            Some(v) => {
                svc.env.insert(key, v);
            }
            None if secret_name => svc.secret_env.push(key),
            None => {
                let d = ctx.warn("SPEC105", at, format!("`{key}` takes its value from the host environment, which is not set here; it is left out"));
                ctx.diags.push(d);
            }
        }
    }
}

fn read_healthcheck(ctx: &mut Ctx<'_>, node: &Node) -> Option<HealthSetting> {
    if node.get("disable").and_then(Node::as_bool) == Some(true) {
        return Some(HealthSetting::Disabled);
    }
    let test = node.get("test")?;
    let argv = if let Some(items) = test.as_seq() {
        let words: Vec<String> = items.iter().filter_map(|i| ctx.text(i)).collect();
        match words.first().map(String::as_str) {
            Some("NONE") => return Some(HealthSetting::Disabled),
            Some("CMD") => words[1..].to_vec(),
            Some("CMD-SHELL") => vec!["sh".into(), "-c".into(), words[1..].join(" ")],
            _ => words,
        }
    } else {
        vec!["sh".into(), "-c".into(), ctx.text(test)?]
    };
    if argv.is_empty() {
        return None;
    }
    Some(HealthSetting::Test(Health::Command { command: argv }))
}

fn read_deploy(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    if let Some(r) = node.get("replicas") {
        svc.replicas = ctx.text(r).and_then(|s| s.parse().ok());
    }
    if let Some(l) = node.get("resources").and_then(|r| r.get("limits")) {
        let cpu = l
            .get("cpus")
            .and_then(|c| ctx.text(c))
            .and_then(|c| cpus(&c));
        let mem = l
            .get("memory")
            .and_then(|m| ctx.text(m))
            .and_then(|m| memory(&m));
        if cpu.is_some() || mem.is_some() {
            svc.limits = Some(Limits { cpu, memory: mem });
        }
    }
}

fn read_build(ctx: &mut Ctx<'_>, node: &Node) -> Option<BuildSpec> {
    if node.as_map().is_none() {
        return Some((ctx.text(node)?, None, None, BTreeMap::new()));
    }
    let context = node
        .get("context")
        .and_then(|c| ctx.text(c))
        .unwrap_or_else(|| ".".into());
    let dockerfile = node.get("dockerfile").and_then(|d| ctx.text(d));
    let target = node.get("target").and_then(|t| ctx.text(t));
    let mut args = BTreeMap::new();
    if let Some(a) = node.get("args") {
        let mut tmp = ComposeService::default();
        read_environment(ctx, a, &mut tmp);
        args = tmp.env;
    }
    Some((context, dockerfile, target, args))
}

/// Reads one service definition of one file.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    key: &Node,
    name: &str,
    body: &Node,
    declared: &[String],
) -> ComposeService {
    let (line, column) = ctx.file.line_col(key.span.start);
    let mut svc = ComposeService {
        trace: Trace {
            file: ctx.file.name.clone(),
            line,
            column,
            item: None,
        },
        ..Default::default()
    };
    let Some(map) = body.as_map() else {
        if !body.is_null() {
            let d = ctx.err(
                "SPEC102",
                body,
                format!("service `{name}` must be a mapping"),
            );
            ctx.diags.push(d);
        }
        return svc;
    };
    let dir = std::path::Path::new(&ctx.file.name)
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    for (k, v) in map {
        let Some(k_name) = k.as_scalar() else {
            continue;
        };
        match k_name {
            "image" => svc.image = ctx.text(v),
            "build" => svc.build = read_build(ctx, v),
            "command" => svc.command = ctx.command(v),
            "entrypoint" => svc.entrypoint = ctx.command(v),
            "environment" => read_environment(ctx, v, &mut svc),
            "env_file" => {
                let files: Vec<Node> = v.as_seq().map_or_else(|| vec![v.clone()], <[Node]>::to_vec);
                for f in files {
                    let path = f.get("path").unwrap_or(&f);
                    let Some(rel) = ctx.text(path) else { continue };
                    let required = f.get("required").and_then(Node::as_bool).unwrap_or(true);
                    match std::fs::read_to_string(dir.join(&rel)) {
                        Ok(text) => {
                            let mut tmp = ComposeService::default();
                            let vars = parse_env_file(&text);
                            for (ek, ev) in vars {
                                if is_secret(&ek, &ev) {
                                    let d = ctx.warn("CMP009", path, format!("`{ek}` from `{rel}` holds a secret; it becomes a secret reference and its value is not carried over"));
                                    ctx.diags.push(d);
                                    tmp.secret_env.push(ek);
                                } else {
                                    tmp.env.insert(ek, ev);
                                }
                            }
                            for (ek, ev) in tmp.env {
                                svc.env.entry(ek).or_insert(ev);
                            }
                            svc.secret_env.extend(tmp.secret_env);
                        }
                        Err(_) if !required => {}
                        Err(e) => {
                            let d = ctx.warn("SPEC105", path, format!("env_file `{rel}` cannot be read ({e}); its variables are left out"));
                            ctx.diags.push(d);
                        }
                    }
                }
            }
            "ports" => read_ports(ctx, v, &mut svc),
            "expose" => {
                for item in v.as_seq().unwrap_or(&[]) {
                    if let Some(p) = port_of(ctx, item) {
                        svc.expose.push(p);
                    }
                }
            }
            "volumes" => read_volumes(ctx, v, declared, &mut svc),
            "tmpfs" => {
                let items: Vec<Node> = v.as_seq().map_or_else(|| vec![v.clone()], <[Node]>::to_vec);
                for t in items {
                    if let Some(target) = ctx.text(&t) {
                        let target = target.split(':').next().unwrap_or("").to_string();
                        svc.volumes.push(VolumeMount {
                            kind: VolumeKind::Tmpfs,
                            source: String::new(),
                            target,
                            read_only: false,
                            size: None,
                        });
                    }
                }
            }
            "depends_on" => {
                if let Some(items) = v.as_seq() {
                    svc.depends_on
                        .extend(items.iter().filter_map(|i| ctx.text(i)));
                } else if let Some(m) = v.as_map() {
                    svc.depends_on.extend(
                        m.iter()
                            .filter_map(|(dk, _)| dk.as_scalar().map(ToString::to_string)),
                    );
                }
            }
            "healthcheck" => svc.health = read_healthcheck(ctx, v),
            "deploy" => read_deploy(ctx, v, &mut svc),
            "scale" => svc.replicas = ctx.text(v).and_then(|s| s.parse().ok()),
            "cpus" => {
                let cpu = ctx.text(v).and_then(|c| cpus(&c));
                svc.limits.get_or_insert_with(Limits::default).cpu = cpu;
            }
            "mem_limit" => {
                let mem = ctx.text(v).and_then(|m| memory(&m));
                svc.limits.get_or_insert_with(Limits::default).memory = mem;
            }
            "secrets" => {
                for item in v.as_seq().unwrap_or(&[]) {
                    let source = item.get("source").unwrap_or(item);
                    if let Some(s) = ctx.text(source) {
                        svc.secrets.push(s);
                    }
                }
            }
            "user" => {
                let u = ctx.text(v).unwrap_or_default();
                let numeric = !u.is_empty()
                    && u.split(':')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
                if numeric && !u.starts_with('0') {
                    svc.user = Some(u);
                } else {
                    let d = ctx.warn("SPEC108", v, format!("user `{u}` is not a numeric non-root uid; Kubernetes cannot verify it, so it is not carried over")).help("use a numeric uid such as `1000:1000`");
                    ctx.diags.push(d);
                }
            }
            "profiles" => {
                svc.profiles = v
                    .as_seq()
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|p| ctx.text(p))
                    .collect();
            }
            "platform" => {
                let p = ctx.text(v).unwrap_or_default();
                if p.starts_with("wasi") {
                    let d = ctx
                        .err("SPEC109", v, format!("service `{name}` targets `{p}`: WebAssembly workloads need a wasm runtime class that cannot be generated here"))
                        .help("convert the other services, and run this one with a wasm-capable runtime (RuntimeClass) by hand");
                    ctx.diags.push(d);
                    svc.platform_error = true;
                }
            }
            other if IGNORED.contains(&other) || other.starts_with("x-") => {}
            other => {
                if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| *k == other) {
                    let is_off = v.as_bool() == Some(false);
                    if !is_off {
                        let d = ctx.warn(
                            "SPEC103",
                            k,
                            format!("`{other}` in service `{name}`: {why}"),
                        );
                        ctx.diags.push(d);
                    }
                } else if !CONVERTED.contains(&other) {
                    let all = CONVERTED
                        .iter()
                        .chain(IGNORED.iter())
                        .chain(UNSUPPORTED.iter().map(|(k, _)| k))
                        .copied();
                    let mut d = ctx.warn(
                        "SPEC101",
                        k,
                        format!("unknown key `{other}` in service `{name}` is ignored"),
                    );
                    if let Some(s) = did_you_mean(other, all) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    ctx.diags.push(d);
                }
            }
        }
    }
    svc
}

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

/// Turns the merged compose services into model services.
pub(crate) fn into_model(
    app: &mut App,
    order: &[String],
    mut services: BTreeMap<String, ComposeService>,
    profiles: &[String],
    files: &[Arc<SourceFile>],
    diags: &mut Diagnostics,
) {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let file_of = |t: &Trace| t.file.clone();
    for original in order {
        let svc = &services[original];
        if !svc.profiles.is_empty() && !svc.profiles.iter().any(|p| profiles.contains(p)) {
            diags.push(
                Diagnostic::new(
                    "SPEC110",
                    slipway_diagnostics::Severity::Info,
                    format!(
                        "service `{original}` is only in profile(s) {}; it is left out",
                        svc.profiles.join(", ")
                    ),
                )
                .in_file(&file_of(&svc.trace)),
            );
            continue;
        }
        let mut label = dns_label(original);
        while names.values().any(|n| *n == label) {
            label.push_str("-x");
        }
        if label != *original {
            diags.push(Diagnostic::warning("SPEC111", format!("service `{original}` is renamed `{label}`: Kubernetes names must be DNS labels")).in_file(&file_of(&svc.trace)));
        }
        names.insert(original.clone(), label);
    }
    let _ = files;
    for (original, label) in &names {
        let Some(c) = services.remove(original) else {
            continue;
        };
        if c.platform_error {
            continue;
        }
        let source = match (&c.build, &c.image) {
            (Some((context, dockerfile, target, args)), _) => ServiceSource::Dockerfile {
                context: context.clone(),
                dockerfile: dockerfile.clone(),
                target: target.clone(),
                args: args.clone(),
            },
            (None, Some(image)) => ServiceSource::Image {
                image: image.clone(),
            },
            (None, None) => {
                diags.push(
                    Diagnostic::error(
                        "SPEC102",
                        format!("service `{original}` has neither `image` nor `build`"),
                    )
                    .in_file(&c.trace.file)
                    .help("add `image: name:tag` or `build: ./folder`"),
                );
                continue;
            }
        };
        let mut ports: Vec<u16> = Vec::new();
        for p in c
            .ports
            .iter()
            .flat_map(|p| std::iter::once(p.container).chain(p.more.iter().copied()))
            .chain(c.expose.iter().copied())
        {
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
        let mut depends_on = Vec::new();
        for d in &c.depends_on {
            match names.get(d) {
                Some(n) => depends_on.push(n.clone()),
                None => diags.push(Diagnostic::warning("SPEC112", format!("service `{original}` depends on `{d}`, which is not converted; the dependency is dropped")).in_file(&c.trace.file)),
            }
        }
        let mut c = c;
        if !c.secret_values.is_empty() {
            let secrets = c.secret_values.clone();
            let mut scrubbed = Vec::new();
            if let Some(HealthSetting::Test(Health::Command { command })) = &c.health {
                if let Some(new) = scrub(command, &secrets) {
                    c.health = Some(HealthSetting::Test(Health::Command { command: new }));
                    scrubbed.push("healthcheck");
                }
            }
            if let Some(new) = c.command.as_deref().and_then(|a| scrub(a, &secrets)) {
                c.command = Some(new);
                scrubbed.push("command");
            }
            if let Some(new) = c.entrypoint.as_deref().and_then(|a| scrub(a, &secrets)) {
                c.entrypoint = Some(new);
                scrubbed.push("entrypoint");
            }
            for what in scrubbed {
                diags.push(
                    Diagnostic::warning("CMP009", format!("service `{original}`: the {what} contained a secret value; it now reads it from its variable at run time"))
                        .in_file(&c.trace.file),
                );
            }
        }
        let mut secret_env = c.secret_env.clone();
        secret_env.sort();
        secret_env.dedup();
        let mut secrets: Vec<String> = c.secrets.iter().map(|s| secret_env_name(s)).collect();
        secrets.sort();
        secrets.dedup();
        let svc = Service {
            name: label.clone(),
            source,
            port: ports.first().copied(),
            host_port: c.ports.first().and_then(|p| p.host),
            // Declared (`expose`) but published nowhere: reachable only on the network.
            internal: c.ports.is_empty() && !ports.is_empty(),
            health: match &c.health {
                Some(HealthSetting::Test(h)) => Some(h.clone()),
                _ => None,
            },
            env: c.env.clone(),
            secrets,
            secret_env,
            depends_on,
            replicas: c.replicas.map(PerEnv::all).unwrap_or_default(),
            resources: c.limits.clone().map(PerEnv::all).unwrap_or_default(),
            ingress: None,
            command: c.command.clone(),
            entrypoint: c.entrypoint.clone(),
            extra_ports: ports.iter().skip(1).copied().collect(),
            volumes: c.volumes.clone(),
            user: c.user.clone(),
            files: Vec::new(),
            trace: c.trace.clone(),
        };
        app.services.insert(label.clone(), svc);
    }
}
