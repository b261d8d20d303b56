//! Readers of single service keys: ports, volumes and tmpfs, `depends_on`,
//! `healthcheck` (test and timings), `deploy`, `user`.

use super::environment::rebased;
use super::service::{ComposeService, HealthSetting};
use super::values::{cpus, duration_ms, memory, parse_port, parse_volume, PortSpec};
use super::Ctx;
use crate::yaml::Node;
use slipway_model::{Health, Limits, VolumeKind, VolumeMount};

pub(crate) fn ports(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    for item in node.as_seq().unwrap_or(&[]) {
        let spec = if item.as_map().is_some() {
            long_port(ctx, item)
        } else {
            ctx.value(item).and_then(|s| parse_port(&s))
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

fn long_port(ctx: &mut Ctx<'_>, item: &Node) -> Option<PortSpec> {
    let container: u16 = item
        .get("target")
        .and_then(|t| ctx.value(t))?
        .trim()
        .parse()
        .ok()?;
    let host = match item.get("published").and_then(|p| ctx.value(p)) {
        Some(p) if !p.is_empty() => Some(p.split('-').next()?.trim().parse().ok()?),
        _ => None,
    };
    let host_ip = item
        .get("host_ip")
        .and_then(|h| ctx.value(h))
        .filter(|h| !h.is_empty());
    let udp = item
        .get("protocol")
        .and_then(|p| ctx.value(p))
        .is_some_and(|p| p.eq_ignore_ascii_case("udp"));
    Some(PortSpec {
        container,
        host,
        more: Vec::new(),
        host_ip,
        udp,
    })
}

fn long_volume(ctx: &mut Ctx<'_>, item: &Node) -> Option<VolumeMount> {
    let kind = item
        .get("type")
        .and_then(|t| ctx.value(t))
        .unwrap_or_else(|| "volume".into());
    let source = item
        .get("source")
        .and_then(|s| ctx.value(s))
        .unwrap_or_default();
    let target = item
        .get("target")
        .and_then(|t| ctx.value(t))
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
}

pub(crate) fn volumes(
    ctx: &mut Ctx<'_>,
    node: &Node,
    declared: &[String],
    svc: &mut ComposeService,
) {
    for item in node.as_seq().unwrap_or(&[]) {
        let mount = if item.as_map().is_some() {
            long_volume(ctx, item)
        } else {
            let is_named = |n: &str| declared.iter().any(|d| d == n);
            ctx.value(item).and_then(|s| parse_volume(&s, &is_named))
        };
        let Some(mut mount) = mount else {
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
            mount.source = rebased(ctx, &mount.source);
            let d = ctx
                .warn("SPEC104", item, format!("bind mount `{}` -> `{}` depends on this host's files; Kubernetes gets an empty folder there", mount.source, mount.target))
                .help("bake the files into the image, mount them from a ConfigMap, or turn the folder into a named volume");
            ctx.diags.push(d);
        }
        svc.volumes.push(mount);
    }
}

pub(crate) fn tmpfs(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    let items: Vec<Node> = node
        .as_seq()
        .map_or_else(|| vec![node.clone()], <[Node]>::to_vec);
    for t in items {
        if let Some(target) = ctx.value(&t) {
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

pub(crate) fn depends_on(ctx: &mut Ctx<'_>, node: &Node, name: &str, svc: &mut ComposeService) {
    if let Some(items) = node.as_seq() {
        // The short form waits for the dependency to start, as compose does.
        for dep in items.iter().filter_map(|i| ctx.value(i)) {
            svc.conditions.insert(dep.clone(), "service_started".into());
            svc.depends_on.push(dep);
        }
        return;
    }
    for (dk, dv) in node.as_map().unwrap_or(&[]) {
        let Some(dep) = dk.as_scalar() else { continue };
        svc.depends_on.push(dep.to_string());
        let condition = dv
            .get("condition")
            .and_then(|c| ctx.value(c))
            .unwrap_or_else(|| "service_started".into());
        svc.conditions.insert(dep.to_string(), condition);
        for (sk, sv) in dv.as_map().unwrap_or(&[]) {
            let key = sk.as_scalar().unwrap_or("");
            let dropped = match key {
                "required" => sv.as_bool() == Some(false),
                "restart" => sv.as_bool() == Some(true),
                _ => false,
            };
            if dropped {
                let d = ctx.warn("SPEC123", sk, format!("service `{name}`: `{key}` on its dependency `{dep}` is not carried (the dependency is required and not restarted with it)"));
                ctx.diags.push(d);
            }
        }
    }
}

fn duration(ctx: &mut Ctx<'_>, node: &Node) -> Option<u64> {
    let text = ctx.value(node)?;
    let ms = duration_ms(&text);
    if ms.is_none() {
        let d = ctx
            .err("SPEC102", node, format!("`{text}` is not a duration"))
            .expected("a duration such as `30s`, `1m30s` or `500ms`");
        ctx.diags.push(d);
    }
    ms
}

pub(crate) fn healthcheck(ctx: &mut Ctx<'_>, node: &Node, name: &str, svc: &mut ComposeService) {
    if node.get("disable").and_then(Node::as_bool) == Some(true) {
        svc.health = Some(HealthSetting::Disabled);
        return;
    }
    for (k, v) in node.as_map().unwrap_or(&[]) {
        match k.as_scalar().unwrap_or("") {
            "test" => svc.health = health_test(ctx, v),
            "interval" => svc.health_timing.interval_ms = duration(ctx, v),
            "timeout" => svc.health_timing.timeout_ms = duration(ctx, v),
            "start_period" => svc.health_timing.start_period_ms = duration(ctx, v),
            "retries" => {
                let r = ctx.value(v).and_then(|r| r.trim().parse().ok());
                if r.is_none() {
                    let d = ctx.err("SPEC102", v, "`retries` must be a whole number");
                    ctx.diags.push(d);
                }
                svc.health_timing.retries = r;
            }
            "disable" => {}
            other => {
                let d = ctx.info(
                    "SPEC123",
                    k,
                    format!("service `{name}`: healthcheck `{other}` is not carried"),
                );
                ctx.diags.push(d);
            }
        }
    }
}

fn health_test(ctx: &mut Ctx<'_>, test: &Node) -> Option<HealthSetting> {
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

pub(crate) fn deploy(ctx: &mut Ctx<'_>, node: &Node, name: &str, svc: &mut ComposeService) {
    for (k, v) in node.as_map().unwrap_or(&[]) {
        match k.as_scalar().unwrap_or("") {
            "replicas" => svc.replicas = ctx.value(v).and_then(|s| s.parse().ok()),
            "resources" => {
                for (rk, rv) in v.as_map().unwrap_or(&[]) {
                    if rk.as_scalar() == Some("limits") {
                        limits(ctx, rv, name, svc);
                    } else {
                        let d = ctx.info("SPEC123", rk, format!("service `{name}`: `deploy.resources.{}` is not carried; only limits are (Kubernetes requests are derived from them)", rk.as_scalar().unwrap_or("")));
                        ctx.diags.push(d);
                    }
                }
            }
            other => {
                let d = ctx.info(
                    "SPEC123",
                    k,
                    format!("service `{name}`: `deploy.{other}` is not carried"),
                );
                ctx.diags.push(d);
            }
        }
    }
}

fn limits(ctx: &mut Ctx<'_>, node: &Node, name: &str, svc: &mut ComposeService) {
    let mut l = Limits::default();
    for (k, v) in node.as_map().unwrap_or(&[]) {
        match k.as_scalar().unwrap_or("") {
            "cpus" => l.cpu = ctx.value(v).and_then(|c| cpus(&c)),
            "memory" => l.memory = ctx.value(v).and_then(|m| memory(&m)),
            other => {
                let d = ctx.info(
                    "SPEC123",
                    k,
                    format!("service `{name}`: limit `{other}` is not carried"),
                );
                ctx.diags.push(d);
            }
        }
    }
    if l.cpu.is_some() || l.memory.is_some() {
        svc.limits = Some(l);
    }
}

/// `secrets:` names, or `{ source, target }`: the file is read at
/// `/run/secrets/<target>` (the source's name by default).
pub(crate) fn secrets(ctx: &mut Ctx<'_>, node: &Node, name: &str, svc: &mut ComposeService) {
    for item in node.as_seq().unwrap_or(&[]) {
        let Some(source) = ctx.value(item.get("source").unwrap_or(item)) else {
            continue;
        };
        let target = item
            .get("target")
            .and_then(|t| ctx.value(t))
            .unwrap_or_else(|| source.clone());
        let target = match target.strip_prefix("/run/secrets/") {
            Some(t) => t.to_string(),
            None if target.starts_with('/') => {
                let d = ctx.warn("SPEC123", item, format!("service `{name}`: secret `{source}` at `{target}` is not carried there: secrets are read under /run/secrets"));
                ctx.diags.push(d);
                source.clone()
            }
            None => target,
        };
        for (k, _) in item.as_map().unwrap_or(&[]) {
            if let Some(other @ ("uid" | "gid" | "mode")) = k.as_scalar() {
                let d = ctx.info(
                    "SPEC123",
                    k,
                    format!("service `{name}`: the secret's `{other}` is not carried"),
                );
                ctx.diags.push(d);
            }
        }
        svc.secret_targets.insert(source.clone(), target);
        svc.secrets.push(source);
    }
}

pub(crate) fn user(ctx: &mut Ctx<'_>, node: &Node, svc: &mut ComposeService) {
    let u = ctx.value(node).unwrap_or_default();
    let numeric = !u.is_empty()
        && u.split(':')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if numeric && !u.starts_with('0') {
        svc.user = Some(u);
    } else {
        let d = ctx.warn("SPEC108", node, format!("user `{u}` is not a numeric non-root uid; Kubernetes cannot verify it, so it is not carried over")).help("use a numeric uid such as `1000:1000`");
        ctx.diags.push(d);
    }
}
