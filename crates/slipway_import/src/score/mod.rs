//! Score (`score.dev/v1b1`) -> `App`: one workload per file, its containers,
//! variables, files, volumes, probes and service ports; resources of type postgres,
//! redis, nats, amqp, mysql and mongodb become backing resources, `volume` a named
//! volume, `route` (with `dns`) an ingress. `${resources.NAME.KEY}` and
//! `${metadata.name}` are resolved; outputs that are secrets (passwords) make the
//! variable a secret reference, never a value.

mod placeholders;

use crate::yaml::{self, Budget, Node};
use placeholders::{Outputs, Resolved};
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use slipway_model::{
    App, FileMount, Health, Ingress, Limits, PerEnv, Resource, ResourceKind, Service,
    ServiceSource, Trace, VolumeKind, VolumeMount,
};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct ScoreOutcome {
    pub app: Option<App>,
    pub diagnostics: Diagnostics,
}

const WORKLOAD_KEYS: &[&str] = &[
    "apiVersion",
    "metadata",
    "service",
    "containers",
    "resources",
];

struct Reader<'a> {
    file: &'a SourceFile,
    diags: &'a mut Diagnostics,
}

impl Reader<'_> {
    fn warn(&mut self, rule: &str, node: &Node, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(rule, msg).at(&self.file.name, node.span));
    }

    fn err(&mut self, rule: &str, node: &Node, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(rule, msg).at(&self.file.name, node.span)
    }

    fn trace(&self, node: &Node) -> Trace {
        let (line, column) = self.file.line_col(node.span.start);
        Trace {
            file: self.file.name.clone(),
            line,
            column,
            item: None,
        }
    }
}

fn kind_of(t: &str) -> Option<ResourceKind> {
    match t {
        "postgres" | "postgresql" => Some(ResourceKind::Postgres),
        "redis" => Some(ResourceKind::Redis),
        "nats" => Some(ResourceKind::Nats),
        "amqp" | "rabbitmq" => Some(ResourceKind::Amqp),
        "mysql" => Some(ResourceKind::Mysql),
        "mongodb" => Some(ResourceKind::Mongodb),
        _ => None,
    }
}

/// Reads one or more Score files into one application.
#[must_use]
pub fn import_score(files: &[Arc<SourceFile>]) -> ScoreOutcome {
    let mut diags = Diagnostics::new();
    let mut app = App {
        environments: crate::spec::DEFAULT_ENVIRONMENTS
            .iter()
            .map(ToString::to_string)
            .collect(),
        targets: vec!["compose".into(), "scripts".into(), "kubernetes".into()],
        ..App::default()
    };
    for file in files {
        let docs = match yaml::parse(file, Budget::default()) {
            Ok(d) => d,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        for doc in &docs {
            let mut r = Reader {
                file,
                diags: &mut diags,
            };
            workload(&mut r, doc, &mut app);
        }
    }
    if let Some(first) = app.services.values().next() {
        app.trace = Trace {
            line: 1,
            column: 1,
            ..first.trace.clone()
        };
        if app.name.is_empty() {
            app.name.clone_from(&first.name);
        }
    }
    if app.services.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::error("SCORE001", "no Score workload found").in_file(files.first().map_or("score.yaml", |f| f.name.as_str())).help("a Score file has `apiVersion: score.dev/v1b1`, `metadata.name` and `containers`"));
    }
    let ok = !diags.has_errors();
    ScoreOutcome {
        app: ok.then_some(app),
        diagnostics: diags,
    }
}

fn workload(r: &mut Reader<'_>, doc: &Node, app: &mut App) {
    if doc.as_map().is_none() {
        let d = r.err("SCORE001", doc, "a Score workload must be a mapping");
        r.diags.push(d);
        return;
    }
    match doc.get("apiVersion").and_then(Node::as_str) {
        Some("score.dev/v1b1") => {}
        other => {
            let at = doc.get("apiVersion").unwrap_or(doc);
            let d = r
                .err(
                    "SCORE002",
                    at,
                    format!(
                        "unsupported Score apiVersion `{}`",
                        other.unwrap_or("(missing)")
                    ),
                )
                .expected("`score.dev/v1b1`");
            r.diags.push(d);
            return;
        }
    }
    for (k, _) in doc.as_map().unwrap_or(&[]) {
        let key = k.as_scalar().unwrap_or("");
        if !WORKLOAD_KEYS.contains(&key) {
            let mut d = Diagnostic::warning(
                "SCORE003",
                format!("unknown key `{key}` in the workload is ignored"),
            )
            .at(&r.file.name, k.span);
            if let Some(s) = crate::spec::did_you_mean(key, WORKLOAD_KEYS.iter().copied()) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            r.diags.push(d);
        }
    }
    let Some(name_node) = doc.get("metadata").and_then(|m| m.get("name")) else {
        let d = r.err("SCORE004", doc, "the workload has no `metadata.name`");
        r.diags.push(d);
        return;
    };
    let raw_name = name_node.as_scalar().unwrap_or("workload").to_string();
    let name = crate::detect::service_name(&raw_name);
    if name != raw_name {
        r.warn(
            "SCORE005",
            name_node,
            format!("workload `{raw_name}` is renamed `{name}`: names must be DNS labels"),
        );
    }
    let annotations: BTreeMap<String, String> = doc
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((k.as_scalar()?.to_string(), v.as_scalar()?.to_string())))
        .collect();

    // Resources first: placeholders in containers refer to them.
    let mut outputs = Outputs {
        workload: name.clone(),
        annotations,
        ..Outputs::default()
    };
    let mut depends_on = Vec::new();
    let mut ingress = None;
    for (k, v) in doc.get("resources").and_then(Node::as_map).unwrap_or(&[]) {
        let Some(rname) = k.as_scalar() else { continue };
        let rtype = v.get("type").and_then(Node::as_str).unwrap_or("");
        let label =
            crate::detect::service_name(v.get("id").and_then(Node::as_str).unwrap_or(rname));
        if let Some(kind) = kind_of(rtype) {
            let version = v
                .get("params")
                .and_then(|p| p.get("version"))
                .and_then(Node::as_scalar)
                .map_or_else(|| kind.default_version().to_string(), ToString::to_string);
            app.resources
                .entry(label.clone())
                .or_insert_with(|| Resource {
                    name: label.clone(),
                    kind,
                    version,
                    external: None,
                    storage: None,
                    trace: r.trace(k),
                });
            outputs
                .resources
                .insert(rname.to_string(), (kind, label.clone(), app.name_or(&name)));
            depends_on.push(label);
        } else {
            match rtype {
                "volume" => {
                    outputs.volumes.insert(rname.to_string(), label);
                }
                "environment" => {
                    outputs.environment.push(rname.to_string());
                }
                "dns" => {
                    outputs
                        .dns
                        .insert(rname.to_string(), format!("{name}.example.com"));
                    r.warn("SCORE006", k, format!("resource `{rname}` (dns): no DNS provider here; the host `{name}.example.com` is used, edit the Ingress"));
                }
                "route" => {
                    let params = v.get("params");
                    let host = params
                        .and_then(|p| p.get("host"))
                        .and_then(Node::as_scalar)
                        .unwrap_or("")
                        .to_string();
                    let path = params
                        .and_then(|p| p.get("path"))
                        .and_then(Node::as_scalar)
                        .unwrap_or("/")
                        .to_string();
                    ingress = Some((host, path, k.clone()));
                }
                other => {
                    let d = Diagnostic::warning("SCORE007", format!("resource `{rname}` has type `{other}`, which slipway does not provision; placeholders to it stay empty"))
                        .at(&r.file.name, v.get("type").unwrap_or(k).span)
                        .expected("postgres, redis, nats, amqp, mysql, mongodb, volume, environment, dns or route");
                    r.diags.push(d);
                }
            }
        }
    }

    let containers = doc.get("containers").and_then(Node::as_map).unwrap_or(&[]);
    let Some((ck, container)) = containers.first() else {
        let d = r.err(
            "SCORE004",
            doc,
            format!("workload `{name}` has no `containers`"),
        );
        r.diags.push(d);
        return;
    };
    for (extra, _) in containers.iter().skip(1) {
        r.warn(
            "SCORE008",
            extra,
            format!(
                "container `{}` is a sidecar; only the first container (`{}`) is converted",
                extra.as_scalar().unwrap_or(""),
                ck.as_scalar().unwrap_or("")
            ),
        );
    }
    let mut svc = Service {
        name: name.clone(),
        trace: r.trace(name_node),
        depends_on,
        ..Service::default()
    };
    let image = container
        .get("image")
        .and_then(Node::as_scalar)
        .unwrap_or("")
        .to_string();
    svc.source = if image == "." {
        ServiceSource::Dockerfile {
            context: ".".into(),
            dockerfile: None,
            target: None,
            args: BTreeMap::new(),
        }
    } else {
        ServiceSource::Image { image }
    };
    let argv = |n: Option<&Node>| -> Option<Vec<String>> {
        Some(
            n?.as_seq()?
                .iter()
                .filter_map(|x| x.as_scalar().map(ToString::to_string))
                .collect(),
        )
    };
    svc.entrypoint = argv(container.get("command"));
    svc.command = argv(container.get("args"));
    for (k, v) in container
        .get("variables")
        .and_then(Node::as_map)
        .unwrap_or(&[])
    {
        let (Some(key), Some(raw)) = (k.as_scalar(), v.as_scalar()) else {
            continue;
        };
        match placeholders::resolve(raw, &outputs) {
            Resolved::Plain(value) => {
                svc.env.insert(key.to_string(), value);
            }
            Resolved::Secret => {
                r.warn("SCORE009", v, format!("`{key}` contains a secret output; it becomes a secret reference, never a value"));
                svc.secret_env.push(key.to_string());
            }
            Resolved::Unknown(what) => {
                let d = Diagnostic::error(
                    "SCORE010",
                    format!(
                        "`{key}` refers to `{what}`, which no resource of this workload provides"
                    ),
                )
                .at(&r.file.name, v.span)
                .help("declare the resource under `resources:`, or fix the placeholder");
                r.diags.push(d);
            }
        }
    }
    for f in container.get("files").and_then(Node::as_seq).unwrap_or(&[]) {
        let target = f
            .get("target")
            .and_then(Node::as_scalar)
            .unwrap_or("")
            .to_string();
        match f.get("content").and_then(Node::as_scalar) {
            Some(content) => {
                let no_expand = f.get("noExpand").and_then(Node::as_bool).unwrap_or(false);
                let resolved = if no_expand {
                    Resolved::Plain(content.to_string())
                } else {
                    placeholders::resolve(content, &outputs)
                };
                match resolved {
                    Resolved::Plain(content) => svc.files.push(FileMount { target, content }),
                    _ => r.warn("SCORE011", f, format!("file `{target}` contains a secret or an unknown placeholder; it is not written (mount it from a Secret)")),
                }
            }
            None => r.warn(
                "SCORE011",
                f,
                format!("file `{target}` has no inline `content`; only inline files are converted"),
            ),
        }
    }
    for v in container
        .get("volumes")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
    {
        let source = v.get("source").and_then(Node::as_scalar).unwrap_or("");
        let target = v
            .get("target")
            .or_else(|| v.get("path"))
            .and_then(Node::as_scalar)
            .unwrap_or("")
            .to_string();
        let rname = source
            .trim_start_matches("${resources.")
            .trim_end_matches('}');
        if let Some(vol) = outputs.volumes.get(rname) {
            svc.volumes.push(VolumeMount {
                kind: VolumeKind::Named,
                source: vol.clone(),
                target,
                read_only: v.get("readOnly").and_then(Node::as_bool).unwrap_or(false),
                size: None,
            });
        } else {
            let d = Diagnostic::error(
                "SCORE010",
                format!("volume source `{source}` is not a `volume` resource of this workload"),
            )
            .at(&r.file.name, v.span);
            r.diags.push(d);
        }
    }
    if let Some(l) = container.get("resources").and_then(|x| x.get("limits")) {
        svc.resources = PerEnv::all(Limits {
            cpu: l
                .get("cpu")
                .and_then(Node::as_scalar)
                .map(ToString::to_string),
            memory: l
                .get("memory")
                .and_then(Node::as_scalar)
                .map(ToString::to_string),
        });
    }
    let probe = container
        .get("readinessProbe")
        .or_else(|| container.get("livenessProbe"));
    svc.health = probe.and_then(|p| {
        if let Some(path) = p
            .get("httpGet")
            .and_then(|h| h.get("path"))
            .and_then(Node::as_scalar)
        {
            return Some(Health::Http {
                path: path.to_string(),
            });
        }
        argv(p.get("exec").and_then(|e| e.get("command")))
            .map(|command| Health::Command { command })
    });
    let mut ports: Vec<u16> = Vec::new();
    for (_, p) in doc
        .get("service")
        .and_then(|s| s.get("ports"))
        .and_then(Node::as_map)
        .unwrap_or(&[])
    {
        let port = p
            .get("targetPort")
            .or_else(|| p.get("port"))
            .and_then(Node::as_u64)
            .and_then(|x| u16::try_from(x).ok());
        if let Some(port) = port.filter(|p| !ports.contains(p)) {
            ports.push(port);
        }
    }
    svc.port = ports.first().copied();
    svc.extra_ports = ports.iter().skip(1).copied().collect();
    if let Some((host, path, node)) = ingress {
        let host = match placeholders::resolve(&host, &outputs) {
            Resolved::Plain(h) if !h.is_empty() => h,
            _ => format!("{name}.example.com"),
        };
        if svc.port.is_none() {
            r.warn(
                "SCORE012",
                &node,
                "a route needs a service port; the route is dropped",
            );
        } else {
            svc.ingress = Some(Ingress { host, path });
        }
    }
    let _ = Span::default();
    if app.services.contains_key(&name) {
        let d = r.err(
            "SCORE013",
            name_node,
            format!("two workloads are named `{name}`"),
        );
        r.diags.push(d);
        return;
    }
    app.services.insert(name, svc);
}

trait NameOr {
    fn name_or(&self, fallback: &str) -> String;
}

impl NameOr for App {
    fn name_or(&self, fallback: &str) -> String {
        if self.name.is_empty() {
            fallback.to_string()
        } else {
            self.name.clone()
        }
    }
}

#[cfg(test)]
mod tests;
