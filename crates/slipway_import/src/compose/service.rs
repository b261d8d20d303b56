//! One compose service: every key is converted, reported as not carried (with why),
//! or reported as having no equivalent; a later definition merges over an earlier one
//! (`-f` files and `extends`, with Compose's merge rules for the keys carried).

use super::values::PortSpec;
use super::{environment, keys, network, Ctx};
use crate::spec::did_you_mean;
use crate::yaml::Node;
use slipway_diagnostics::{Diagnostic, Severity, Span};
use slipway_model::{Health, HealthTiming, Limits, Trace, VolumeMount};
use std::collections::BTreeMap;

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
    "networks",
    "extends",
    "platform",
];

/// Keys that are read but not carried into the output: (key, a warning rather than a
/// note, what the output does instead). Each is reported at its line.
const NOT_CARRIED: &[(&str, bool, &str)] = &[
    ("container_name", true, "the container is named by compose (`<project>-<service>-1`) and Kubernetes; other services reach it by its service name"),
    ("logging", true, "logs go to the engine's default driver (compose) and the node's log collection (Kubernetes)"),
    ("labels", false, "labels are not carried"),
    ("restart", false, "slipway sets restarts itself: `unless-stopped` in the production-like overrides; Kubernetes always restarts"),
    ("hostname", true, "the container's hostname is the one the engine gives it"),
    ("domainname", true, "the container's domain name is the engine's"),
    ("init", true, "no init process is added; the command runs as PID 1"),
    ("stop_grace_period", true, "the engine's default grace period applies (10 s compose, 30 s Kubernetes)"),
    ("stop_signal", true, "containers are stopped with SIGTERM"),
    ("dns", true, "the engine's DNS settings apply"),
    ("dns_search", true, "the engine's DNS settings apply"),
    ("dns_opt", true, "the engine's DNS settings apply"),
    ("ulimits", true, "the engine's default limits apply"),
    ("mem_reservation", false, "only limits are carried"),
    ("mem_swappiness", false, "swap settings are not carried"),
    ("memswap_limit", false, "swap settings are not carried"),
    ("oom_score_adj", false, "the engine's default applies"),
    ("oom_kill_disable", true, "the engine's default applies"),
    ("pids_limit", false, "slipway sets `pids_limit: 256`"),
    ("cpu_shares", false, "only `cpus` limits are carried"),
    ("cpu_quota", false, "only `cpus` limits are carried"),
    ("cpu_period", false, "only `cpus` limits are carried"),
    ("cpuset", false, "CPU pinning is not carried"),
    ("tty", false, "no terminal is allocated"),
    ("stdin_open", false, "stdin is not kept open"),
    ("pull_policy", false, "the engine's default pull policy applies"),
    ("links", true, "other services reach this one by its service name"),
    ("read_only", false, "slipway decides the root filesystem by its hardening profile for the image"),
    ("cap_drop", false, "slipway sets capabilities by its hardening profile for the image"),
    ("security_opt", false, "slipway sets `no-new-privileges` itself"),
    ("annotations", false, "annotations are not carried"),
    ("attach", false, "log attachment is a `docker compose up` setting"),
    ("develop", false, "`develop` (compose watch) is a development setting"),
    ("gpus", true, "GPU access is not carried"),
    ("post_start", true, "lifecycle hooks are not carried"),
    ("pre_stop", true, "lifecycle hooks are not carried"),
    ("mac_address", true, "addresses are assigned by the engine"),
    ("storage_opt", true, "storage options are not carried"),
    ("label_file", false, "labels are not carried"),
    ("blkio_config", false, "I/O limits are not carried"),
    ("device_cgroup_rules", true, "device rules are not carried"),
    ("use_api_socket", true, "the engine's socket is never given to a container"),
    ("models", true, "model runners are not carried"),
    ("provider", true, "provider services are not carried"),
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
    ("cgroup", "cgroup is not carried over"),
    ("credential_spec", "credential_spec is not carried over"),
    ("isolation", "isolation is not carried over"),
];

/// Keys whose place the report may point at.
const NOTED: &[&str] = &[
    "image",
    "command",
    "entrypoint",
    "environment",
    "ports",
    "healthcheck",
    "networks",
];

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

/// Where a key of the service was written (the file that set it last).
pub(crate) type At = (String, Span);

#[derive(Debug, Default, Clone)]
pub(crate) struct ComposeService {
    pub trace: Trace,
    /// The service's key, where notes about the whole service point.
    pub at: At,
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
    /// `depends_on` conditions as written (`service_healthy`, ...).
    pub conditions: BTreeMap<String, String>,
    pub health: Option<HealthSetting>,
    pub health_timing: HealthTiming,
    pub replicas: Option<u32>,
    pub limits: Option<Limits>,
    pub secrets: Vec<String>,
    /// Where a secret is read under `/run/secrets` when not at its own name.
    pub secret_targets: BTreeMap<String, String>,
    pub user: Option<String>,
    pub profiles: Vec<String>,
    /// `None`: the service states no networks (it joins `default`).
    pub networks: Option<Vec<String>>,
    pub platform_error: bool,
    /// Secret values moved out of `environment` and env files, by variable, so the
    /// same values are not written elsewhere.
    pub secret_values: Vec<(String, String)>,
    /// Variables its text refers to as `${NAME}` to be filled at deploy time.
    pub deploy_refs: Vec<String>,
    /// Where each key was written, for the report.
    pub keys: BTreeMap<&'static str, At>,
    /// Keys tagged `!reset` (drop what an earlier definition set) or `!override`
    /// (replace it rather than merge with it).
    pub resets: Vec<String>,
}

impl ComposeService {
    /// Drops what this definition says for `key` (for `!reset` / `!override`).
    fn clear(&mut self, key: &str) {
        match key {
            "image" => self.image = None,
            "build" => self.build = None,
            "command" => self.command = None,
            "entrypoint" => self.entrypoint = None,
            "environment" | "env_file" => {
                self.env.clear();
                self.secret_env.clear();
            }
            "ports" => self.ports.clear(),
            "expose" => self.expose.clear(),
            "volumes" | "tmpfs" => self.volumes.clear(),
            "depends_on" => {
                self.depends_on.clear();
                self.conditions.clear();
            }
            "healthcheck" => {
                self.health = None;
                self.health_timing = HealthTiming::default();
            }
            "networks" => self.networks = None,
            "secrets" => self.secrets.clear(),
            "user" => self.user = None,
            "profiles" => self.profiles.clear(),
            "deploy" => {
                self.replicas = None;
                self.limits = None;
            }
            _ => {}
        }
    }

    /// A later file's definition over this one, as compose merges `-f` files.
    pub fn merge(&mut self, o: ComposeService) {
        for k in &o.resets {
            self.clear(k);
        }
        macro_rules! over {
            ($($f:ident),*) => { $( if o.$f.is_some() { self.$f = o.$f; } )* };
        }
        over!(image, command, entrypoint, health, replicas, user);
        match (&mut self.networks, o.networks) {
            (Some(mine), Some(theirs)) => {
                for n in theirs {
                    if !mine.contains(&n) {
                        mine.push(n);
                    }
                }
            }
            (mine, theirs @ Some(_)) => *mine = theirs,
            _ => {}
        }
        match (&mut self.build, o.build) {
            (Some(mine), Some(theirs)) => {
                mine.0 = theirs.0;
                if theirs.1.is_some() {
                    mine.1 = theirs.1;
                }
                if theirs.2.is_some() {
                    mine.2 = theirs.2;
                }
                mine.3.extend(theirs.3);
            }
            (mine, theirs @ Some(_)) => *mine = theirs,
            _ => {}
        }
        match (&mut self.limits, o.limits) {
            (Some(mine), Some(theirs)) => {
                if theirs.cpu.is_some() {
                    mine.cpu = theirs.cpu;
                }
                if theirs.memory.is_some() {
                    mine.memory = theirs.memory;
                }
            }
            (mine, theirs @ Some(_)) => *mine = theirs,
            _ => {}
        }
        let t = o.health_timing;
        let h = &mut self.health_timing;
        h.interval_ms = t.interval_ms.or(h.interval_ms);
        h.timeout_ms = t.timeout_ms.or(h.timeout_ms);
        h.retries = t.retries.or(h.retries);
        h.start_period_ms = t.start_period_ms.or(h.start_period_ms);
        for k in o.env.keys() {
            self.secret_env.retain(|s| s != k);
        }
        for k in &o.secret_env {
            self.env.remove(k);
        }
        self.env.extend(o.env);
        self.secret_env.extend(o.secret_env);
        for p in o.ports {
            if !self.ports.contains(&p) {
                self.ports.push(p);
            }
        }
        for p in o.expose {
            if !self.expose.contains(&p) {
                self.expose.push(p);
            }
        }
        for v in o.volumes {
            self.volumes.retain(|x| x.target != v.target);
            self.volumes.push(v);
        }
        for d in o.depends_on {
            if !self.depends_on.contains(&d) {
                self.depends_on.push(d);
            }
        }
        self.conditions.extend(o.conditions);
        for s in o.secrets {
            if !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
        self.secret_targets.extend(o.secret_targets);
        self.secret_values.extend(o.secret_values);
        self.deploy_refs.extend(o.deploy_refs);
        if !o.profiles.is_empty() {
            self.profiles = o.profiles;
        }
        self.platform_error |= o.platform_error;
        self.keys.extend(o.keys);
        self.resets.extend(o.resets);
    }

    /// This (a base named by `extends`) with the extending service `o` over it: the
    /// same rules as `merge`, and the result is traced to the extending service.
    pub fn extend_with(&mut self, o: ComposeService) {
        let (trace, at) = (o.trace.clone(), o.at.clone());
        self.merge(o);
        self.trace = trace;
        self.at = at;
    }
}

fn port_of(ctx: &mut Ctx<'_>, node: &Node) -> Option<u16> {
    ctx.value(node)?.split('/').next()?.trim().parse().ok()
}

fn report_key(ctx: &mut Ctx<'_>, k: &Node, v: &Node, name: &str, other: &str) {
    if let Some((_, warn, why)) = NOT_CARRIED.iter().find(|(key, _, _)| *key == other) {
        let severity = if *warn {
            Severity::Warning
        } else {
            Severity::Info
        };
        let shown = v
            .as_scalar()
            .filter(|s| s.len() <= 60 && other != "labels")
            .map(|s| format!(" `{s}`"))
            .unwrap_or_default();
        ctx.diags.push(
            Diagnostic::new(
                "SPEC123",
                severity,
                format!("`{other}`{shown} in service `{name}` is not carried: {why}"),
            )
            .at(&ctx.file.name, k.span),
        );
    } else if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| *k == other) {
        if v.as_bool() != Some(false) {
            let d = ctx.warn(
                "SPEC103",
                k,
                format!("`{other}` in service `{name}`: {why}"),
            );
            ctx.diags.push(d);
        }
    } else if !other.starts_with("x-") {
        let all = CONVERTED
            .iter()
            .chain(NOT_CARRIED.iter().map(|(k, _, _)| k))
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

/// The `!reset` / `!override` tag written between a key and its value. (The YAML
/// layer does not keep tags, so it is read from the source between the two spans.)
fn merge_tag<'a>(ctx: &Ctx<'a>, k: &Node, v: &Node) -> Option<&'a str> {
    let text: &'a str = &ctx.file.text;
    let end = v.span.end.max(k.span.end).min(text.len());
    let between = text.get(k.span.end..end)?;
    let between = between.trim_start_matches([':', ' ', '\t']);
    ["!reset", "!override"].into_iter().find(|t| {
        between.starts_with(t) && !between[t.len()..].starts_with(|c: char| c.is_alphanumeric())
    })
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
        at: (ctx.file.name.clone(), key.span),
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
    for (k, v) in map {
        let Some(k_name) = k.as_scalar() else {
            continue;
        };
        if let Some(noted) = NOTED.iter().find(|n| **n == k_name) {
            svc.keys.insert(noted, (ctx.file.name.clone(), k.span));
        }
        match merge_tag(ctx, k, v) {
            Some("!reset") => {
                svc.resets.push(k_name.to_string());
                continue;
            }
            Some("!override") => svc.resets.push(k_name.to_string()),
            _ => {}
        }
        match k_name {
            "image" => svc.image = ctx.text(v),
            "build" => {
                svc.build =
                    environment::build(ctx, v, name, &mut svc.deploy_refs, &mut svc.secret_values);
            }
            "command" => svc.command = ctx.command(v),
            "entrypoint" => svc.entrypoint = ctx.command(v),
            "environment" => environment::read(ctx, v, &mut svc),
            "env_file" => environment::env_files(ctx, v, &mut svc),
            "ports" => keys::ports(ctx, v, &mut svc),
            "expose" => {
                for item in v.as_seq().unwrap_or(&[]) {
                    if let Some(p) = port_of(ctx, item) {
                        svc.expose.push(p);
                    }
                }
            }
            "volumes" => keys::volumes(ctx, v, declared, &mut svc),
            "tmpfs" => keys::tmpfs(ctx, v, &mut svc),
            "depends_on" => keys::depends_on(ctx, v, name, &mut svc),
            "healthcheck" => keys::healthcheck(ctx, v, name, &mut svc),
            "deploy" => keys::deploy(ctx, v, name, &mut svc),
            "scale" => svc.replicas = ctx.value(v).and_then(|s| s.parse().ok()),
            "cpus" => {
                let cpu = ctx.value(v).and_then(|c| super::values::cpus(&c));
                svc.limits.get_or_insert_with(Limits::default).cpu = cpu;
            }
            "mem_limit" => {
                let mem = ctx.value(v).and_then(|m| super::values::memory(&m));
                svc.limits.get_or_insert_with(Limits::default).memory = mem;
            }
            "secrets" => keys::secrets(ctx, v, name, &mut svc),
            "user" => keys::user(ctx, v, &mut svc),
            "profiles" => {
                svc.profiles = v
                    .as_seq()
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|p| ctx.value(p))
                    .collect();
            }
            "networks" => svc.networks = Some(network::joined(ctx, v, name)),
            "platform" => {
                let p = ctx.value(v).unwrap_or_default();
                if p.starts_with("wasi") {
                    let d = ctx
                        .err("SPEC109", v, format!("service `{name}` targets `{p}`: WebAssembly workloads need a wasm runtime class that cannot be generated here"))
                        .help("convert the other services, and run this one with a wasm-capable runtime (RuntimeClass) by hand");
                    ctx.diags.push(d);
                    svc.platform_error = true;
                } else if !p.is_empty() {
                    let d = ctx.info("SPEC123", k, format!("`platform` `{p}` in service `{name}` is not carried: images are pulled for the engine's own platform"));
                    ctx.diags.push(d);
                }
            }
            // Resolved by the project (project.rs).
            "extends" => {}
            other => report_key(ctx, k, v, name, other),
        }
    }
    svc
}
