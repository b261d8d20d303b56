//! One entry under `services:`.

use super::reader::Reader;
use super::{check, trace_of};
use crate::yaml::Node;
use slipway_model::{Health, Ingress, Limits, PerEnv, Service, ServiceSource};
use std::collections::BTreeMap;

pub(crate) const SERVICE_KEYS: &[&str] = &[
    "path",
    "image",
    "port",
    "host_port",
    "publish",
    "health",
    "env",
    "secrets",
    "depends_on",
    "replicas",
    "resources",
    "ingress",
    "command",
    "user",
];
pub(crate) const LIMIT_KEYS: &[&str] = &["cpu", "memory"];
pub(crate) const INGRESS_KEYS: &[&str] = &["host", "path"];
pub(crate) const HEALTH_KEYS: &[&str] = &["path", "command"];

pub(crate) fn read_service(
    r: &mut Reader<'_>,
    key: &Node,
    name: &str,
    body: &Node,
    envs: &[String],
) -> Service {
    let what = format!("service `{name}`");
    let mut svc = Service {
        name: name.to_string(),
        source: ServiceSource::Image {
            image: String::new(),
        },
        port: None,
        host_port: None,
        health: None,
        env: BTreeMap::new(),
        secrets: Vec::new(),
        depends_on: Vec::new(),
        replicas: PerEnv::default(),
        resources: PerEnv::default(),
        ingress: None,
        command: None,
        trace: trace_of(r, key),
        ..Service::default()
    };
    let entries = r.entries(body, &what, SERVICE_KEYS);
    let path = entries.iter().find(|(_, k, _)| *k == "path");
    let image = entries.iter().find(|(_, k, _)| *k == "image");
    match (path, image) {
        (Some(_), Some((_, _, i))) => {
            let d = r
                .error("SPEC009", i, format!("{what} has both `path` and `image`"))
                .help("use `path` to build from source or `image` for a prebuilt image, not both");
            r.push(d);
        }
        (None, None) if body.as_map().is_some() => {
            let d = r
                .error(
                    "SPEC004",
                    key,
                    format!("{what} has neither `path` nor `image`"),
                )
                .expected("`path: ./folder` (build from source) or `image: registry/name:tag`");
            r.push(d);
        }
        _ => {}
    }
    for (_, k, v) in &entries {
        let field = format!("`{k}` of {what}");
        match *k {
            "path" => {
                if let Some(p) = r.string(v, &field) {
                    check::source_path(r, v, &p);
                    svc.source = ServiceSource::Build {
                        path: p,
                        plan: None,
                    };
                }
            }
            "image" => {
                if let Some(i) = r.string(v, &field) {
                    check::image_ref(r, v, &i);
                    svc.source = ServiceSource::Image { image: i };
                }
            }
            "port" => {
                svc.port = r
                    .int(v, &field, 1, 65535)
                    .and_then(|p| u16::try_from(p).ok());
            }
            "host_port" => {
                svc.host_port = r
                    .int(v, &field, 1, 65535)
                    .and_then(|p| u16::try_from(p).ok());
            }
            "publish" => {
                svc.internal = !r.bool(v, &field).unwrap_or(true);
                if svc.internal {
                    if let Some((_, _, hp)) = entries.iter().find(|(_, k, _)| *k == "host_port") {
                        let d = r
                            .error(
                                "SPEC009",
                                hp,
                                format!("{what} sets `host_port` but `publish: false`"),
                            )
                            .help("remove `host_port`, or remove `publish: false` to publish the service on 127.0.0.1");
                        r.push(d);
                    }
                }
            }
            "health" => svc.health = read_health(r, v, &field),
            "env" => svc.env = read_env(r, v, &field),
            "secrets" => {
                for (n, s) in r.strings(v, &field) {
                    check::env_name(r, n, &s);
                    svc.secrets.push(s);
                }
            }
            "depends_on" => {
                svc.depends_on = r.strings(v, &field).into_iter().map(|(_, s)| s).collect();
            }
            "replicas" => {
                svc.replicas = per_env(
                    r,
                    v,
                    &field,
                    envs,
                    |r, n, what| r.int(n, what, 0, 1000).and_then(|x| u32::try_from(x).ok()),
                    |n| n.as_map().is_none(),
                );
            }
            "resources" => {
                svc.resources = per_env(r, v, &field, envs, read_limits, |n| {
                    n.as_map().is_some_and(|m| {
                        m.iter()
                            .any(|(k, _)| k.as_scalar().is_some_and(|k| LIMIT_KEYS.contains(&k)))
                    })
                });
            }
            "ingress" => svc.ingress = read_ingress(r, v, &field),
            "command" => svc.command = read_command(r, v, &field),
            "user" => svc.user = read_user(r, v, &field),
            _ => {}
        }
    }
    svc
}

/// A value for all environments, or a mapping of environment name -> value.
fn per_env<T>(
    r: &mut Reader<'_>,
    node: &Node,
    what: &str,
    envs: &[String],
    read: impl Fn(&mut Reader<'_>, &Node, &str) -> Option<T>,
    is_single: impl Fn(&Node) -> bool,
) -> PerEnv<T> {
    if is_single(node) {
        return PerEnv {
            default: read(r, node, what),
            by_env: BTreeMap::new(),
        };
    }
    let mut out = PerEnv::default();
    for (k, env, v) in r.entries(node, what, &[]) {
        if env == "default" {
            out.default = read(r, v, what);
            continue;
        }
        if !envs.iter().any(|e| e == env) {
            let mut d = r
                .error(
                    "SPEC011",
                    k,
                    format!("`{env}` in {what} is not a declared environment"),
                )
                .expected(format!(
                    "one of {} (from `environments`), or `default`",
                    envs.join(", ")
                ));
            if let Some(s) = super::did_you_mean(env, envs.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            r.push(d);
            continue;
        }
        if let Some(x) = read(r, v, &format!("{what} for `{env}`")) {
            out.by_env.insert(env.to_string(), x);
        }
    }
    out
}

fn read_limits(r: &mut Reader<'_>, node: &Node, what: &str) -> Option<Limits> {
    let mut l = Limits::default();
    for (_, k, v) in r.entries(node, what, LIMIT_KEYS) {
        let s = r.scalar(v, &format!("`{k}` in {what}"))?;
        if k == "cpu" {
            check::cpu(r, v, &s);
            l.cpu = Some(s);
        } else {
            check::memory(r, v, &s);
            l.memory = Some(s);
        }
    }
    Some(l)
}

fn read_health(r: &mut Reader<'_>, node: &Node, what: &str) -> Option<Health> {
    if let Some(path) = node.as_str() {
        return check::http_path(r, node, path).then(|| Health::Http {
            path: path.to_string(),
        });
    }
    if node.as_map().is_none() {
        r.wrong_type(
            node,
            what,
            "an HTTP path such as `/health`, or `{ command: [...] }`",
        );
        return None;
    }
    let mut out = None;
    for (_, k, v) in r.entries(node, what, HEALTH_KEYS) {
        out = match k {
            "path" => r
                .string(v, what)
                .filter(|p| check::http_path(r, v, p))
                .map(|path| Health::Http { path }),
            _ => read_command(r, v, what).map(|command| Health::Command { command }),
        };
    }
    out
}

fn read_command(r: &mut Reader<'_>, node: &Node, what: &str) -> Option<Vec<String>> {
    let argv: Vec<String> = if let Some(s) = node.as_str() {
        s.split_whitespace().map(ToString::to_string).collect()
    } else {
        if node.as_seq().is_none() {
            r.wrong_type(
                node,
                what,
                "a command as a list of arguments, or one string",
            );
            return None;
        }
        r.strings(node, what).into_iter().map(|(_, s)| s).collect()
    };
    if argv.is_empty() {
        let d = r
            .error("SPEC009", node, format!("{what} is empty"))
            .expected("at least the program to run");
        r.push(d);
        return None;
    }
    Some(argv)
}

/// `user: 1000` or `user: "1000:1000"`: numeric, so Kubernetes can enforce non-root.
fn read_user(r: &mut Reader<'_>, node: &Node, what: &str) -> Option<String> {
    let u = r.scalar(node, what)?;
    let numeric = u
        .split(':')
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && u.split(':').count() <= 2;
    if !numeric || u.split(':').next() == Some("0") {
        let d = r
            .error(
                "SPEC009",
                node,
                format!("`{u}` is not a numeric non-root user"),
            )
            .expected("a uid, or uid:gid, other than 0, such as `1000` or `1000:1000`");
        r.push(d);
        return None;
    }
    Some(u)
}

fn read_env(r: &mut Reader<'_>, node: &Node, what: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, name, v) in r.entries(node, what, &[]) {
        check::env_name(r, k, name);
        let value = if v.is_null() {
            Some(String::new())
        } else {
            r.scalar(v, &format!("`{name}` in {what}"))
        };
        if let Some(value) = value {
            check::no_plaintext_secret(r, k, name, &value);
            out.insert(name.to_string(), value);
        }
    }
    out
}

fn read_ingress(r: &mut Reader<'_>, node: &Node, what: &str) -> Option<Ingress> {
    let mut host = None;
    let mut path = "/".to_string();
    for (_, k, v) in r.entries(node, what, INGRESS_KEYS) {
        if k == "host" {
            host = r.string(v, &format!("`host` in {what}"));
        } else if let Some(p) = r.string(v, &format!("`path` in {what}")) {
            if check::http_path(r, v, &p) {
                path = p;
            }
        }
    }
    if host.is_none() && node.as_map().is_some() {
        let d = r
            .error("SPEC004", node, format!("{what} has no `host`"))
            .expected("`host: app.example.com`");
        r.push(d);
    }
    host.map(|host| Ingress { host, path })
}
