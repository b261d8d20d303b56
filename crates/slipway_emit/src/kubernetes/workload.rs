//! Workloads: a Deployment (or a StatefulSet when the service keeps data in named
//! volumes) per service, with its ServiceAccount, ConfigMap, Service and Ingress; a
//! StatefulSet with a headless Service and a volume claim per backing resource, or
//! only an ExternalName Service when the resource is managed elsewhere.

use super::{metadata, secret_name, selector, Object};
use crate::compose::service_env;
use crate::docker::APP_UID;
use crate::hardening::{self, Hardening};
use crate::naming::secret_file;
use crate::yaml_out::COMMENT_KEY;
use crate::{deploy_refs, images, resources, Emitted};
use serde_json::{json, Map, Value};
use slipway_diagnostics::Diagnostic;
use slipway_model::{
    App, Health, Language, Limits, Resource, ResourceKind, Service, ServiceSource, VolumeKind,
};

/// Millicores of a CPU quantity (`500m`, `1`, `0.5`); 500 when unreadable.
fn millicores(cpu: &str) -> u64 {
    if let Some(m) = cpu.strip_suffix('m') {
        return m.parse().unwrap_or(500);
    }
    let (whole, frac) = cpu.split_once('.').unwrap_or((cpu, ""));
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
    match (whole.parse::<u64>(), frac.parse::<u64>()) {
        (Ok(w), Ok(f)) => (w * 1000 + f).max(1),
        _ => 500,
    }
}

/// Requests and limits: CPU requested at half the limit, memory at the limit.
pub(crate) fn resources_block(limits: Option<&Limits>, default: (&str, &str)) -> Value {
    let cpu = limits
        .and_then(|l| l.cpu.clone())
        .unwrap_or_else(|| default.0.to_string());
    let memory = limits
        .and_then(|l| l.memory.clone())
        .unwrap_or_else(|| default.1.to_string());
    json!({
        "requests": { "cpu": format!("{}m", (millicores(&cpu) / 2).max(1)), "memory": memory },
        "limits": { "cpu": cpu, "memory": memory },
    })
}

fn container_security(read_only: bool) -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": read_only,
        "runAsNonRoot": true,
        "capabilities": { "drop": ["ALL"] },
    })
}

fn pod_security((uid, gid): (u32, u32), low_port: bool) -> Value {
    let mut sc = json!({
        "runAsNonRoot": true,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": gid,
        "seccompProfile": { "type": "RuntimeDefault" },
    });
    if low_port {
        // Its own (non-root) user binds a port below 1024: a namespaced sysctl that
        // pod-security `restricted` allows, instead of a capability.
        sc["sysctls"] = json!([{ "name": "net.ipv4.ip_unprivileged_port_start", "value": "0" }]);
    }
    sc
}

/// The emptyDirs that keep a read-only root's writable paths writable: `tmp` for
/// `/tmp`, `scratch-<i>` for the others.
fn writable_mounts(h: &Hardening, mounts: &mut Vec<Value>, volumes: &mut Vec<Value>) {
    for (i, dir) in h.writable.iter().enumerate() {
        let name = if *dir == "/tmp" {
            "tmp".to_string()
        } else {
            format!("scratch-{i}")
        };
        mounts.push(json!({ "name": name, "mountPath": dir }));
        volumes.push(json!({ "name": name, "emptyDir": {} }));
    }
}

/// Liveness, readiness and (for slow starters) startup probes from the health check,
/// timed as the input says when it does.
fn probes(app: &App, svc: &Service, container: &mut Map<String, Value>, out: &mut Emitted) {
    let handler = match (svc.effective_health(), svc.container_port()) {
        (Some(Health::Http { path }), Some(_)) => {
            json!({ "httpGet": { "path": path, "port": "http" } })
        }
        (Some(Health::Command { command }), _) => {
            json!({ "exec": { "command": deploy_refs::kubernetes_probe(app, svc, &command) } })
        }
        (_, Some(_)) => json!({ "tcpSocket": { "port": "http" } }),
        _ => return,
    };
    let with = |extra: Value| {
        let mut p = handler.as_object().cloned().unwrap_or_default();
        p.extend(extra.as_object().cloned().unwrap_or_default());
        Value::Object(p)
    };
    if !svc.health_timing.is_unset() {
        for (name, probe) in timed_probes(svc, out) {
            container.insert(name.into(), with(probe));
        }
        return;
    }
    container.insert(
        "livenessProbe".into(),
        with(json!({ "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3 })),
    );
    container.insert(
        "readinessProbe".into(),
        with(json!({ "periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 3 })),
    );
    let slow = svc.plan().is_some_and(|p| p.language == Language::Java)
        || matches!(
            svc.source,
            ServiceSource::Image { .. } | ServiceSource::Dockerfile { .. }
        );
    if slow {
        container.insert(
            "startupProbe".into(),
            with(json!({ "periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 30 })),
        );
    }
}

/// Whole seconds, at least 1 (what a probe accepts), and whether that rounded.
fn seconds(ms: u64) -> (u64, bool) {
    (
        ms.div_ceil(1000).max(1),
        !ms.is_multiple_of(1000) || ms == 0,
    )
}

/// Probes timed as the input's health check: its interval, timeout and retries; a
/// startup probe covering its start period.
fn timed_probes(svc: &Service, out: &mut Emitted) -> Vec<(&'static str, Value)> {
    let t = svc.health_timing;
    let (period, r1) = seconds(t.interval_ms.unwrap_or(30_000));
    let (timeout, r2) = seconds(t.timeout_ms.unwrap_or(30_000));
    let retries = t.retries.unwrap_or(3).max(1);
    if r1 || r2 {
        out.diagnostics.push(
            Diagnostic::new("GEN030", slipway_diagnostics::Severity::Info, format!("service `{}` ({}): Kubernetes probes count whole seconds, so its health check runs every {period} s with a {timeout} s timeout", svc.name, svc.trace.location()))
                .in_file(&svc.trace.file),
        );
    }
    let every =
        json!({ "periodSeconds": period, "timeoutSeconds": timeout, "failureThreshold": retries });
    let mut probes = vec![("livenessProbe", every.clone()), ("readinessProbe", every)];
    let start = t.start_period_ms.unwrap_or(0);
    if start > 0 {
        let grace = start.div_ceil(period * 1000) + u64::from(retries);
        probes.push((
            "startupProbe",
            json!({ "periodSeconds": period, "timeoutSeconds": timeout, "failureThreshold": grace }),
        ));
    }
    probes
}

/// A Service whose ports carry the protocols the input publishes them with.
fn with_protocols(mut service: Value, svc: &Service, ports: &[u16]) -> Value {
    if let Some(list) = service["spec"]["ports"].as_array_mut() {
        for (entry, port) in list.iter_mut().zip(ports) {
            entry["protocol"] = json!(protocol(svc, *port));
        }
        for p in udp_too(svc) {
            let name = format!("udp-{p}");
            list.push(json!({ "name": name, "port": p, "targetPort": name, "protocol": "UDP" }));
        }
    }
    service
}

/// Ports the input publishes over both TCP and UDP: they need a second, UDP entry.
fn udp_too(svc: &Service) -> impl Iterator<Item = u16> + '_ {
    let mut both: Vec<u16> = svc
        .published
        .iter()
        .filter(|p| {
            p.udp
                && svc
                    .published
                    .iter()
                    .any(|q| q.container == p.container && !q.udp)
        })
        .map(|p| p.container)
        .collect();
    both.sort_unstable();
    both.dedup();
    both.into_iter()
}

/// `TCP`, or `UDP` for a port the input publishes only over UDP.
fn protocol(svc: &Service, port: u16) -> &'static str {
    let udp = svc.published.iter().any(|p| p.container == port && p.udp);
    let tcp = svc.published.iter().any(|p| p.container == port && !p.udp);
    if udp && !tcp {
        "UDP"
    } else {
        "TCP"
    }
}

fn port_name(i: usize, port: u16) -> String {
    if i == 0 {
        "http".into()
    } else {
        format!("port-{port}")
    }
}

/// An init container per dependency that waits until it accepts connections.
fn wait_for(app: &App, svc: &Service, out: &mut Emitted) -> Vec<Value> {
    let mut problems = Vec::new();
    let image = images::resolve(
        app,
        "busybox:1.36.1",
        &format!("the init containers of `{}`", svc.name),
        &mut problems,
    );
    for p in problems {
        out.diagnostics.push(p);
    }
    svc.depends_on
        .iter()
        .filter_map(|dep| {
            let (host, port) = if let Some(r) = app.resources.get(dep) {
                (r.external.clone().unwrap_or_else(|| dep.clone()), r.kind.port())
            } else {
                (dep.clone(), app.services.get(dep)?.container_port()?)
            };
            Some(json!({
                "name": format!("wait-for-{dep}"),
                "image": image,
                "command": ["sh", "-c", format!("until nc -z -w 2 {host} {port}; do echo waiting for {host}:{port}; sleep 2; done")],
                "securityContext": container_security(true),
                "resources": resources_block(None, ("50m", "32Mi")),
            }))
        })
        .collect()
}

/// The uid a service's container runs as: 10001 for images slipway builds, else the
/// input's numeric `user`, else the user of the image's hardening profile, else 10001
/// with a warning.
fn service_uid(svc: &Service, h: &Hardening, out: &mut Emitted) -> (u32, u32) {
    match h.k8s_user {
        None => {
            out.diagnostics.push(
                Diagnostic::warning("GEN011", format!("service `{}` ({}): the image's user is unknown or root; the pod runs it as uid {APP_UID}", svc.name, svc.trace.location()))
                    .in_file(&svc.trace.file)
                    .help("set a numeric non-root `user:` for it, or rebuild the image to run as non-root"),
            );
            (APP_UID, APP_UID)
        }
        Some(ids) => ids,
    }
}

fn secret_volume(app: &App, secrets: &[String]) -> Value {
    json!({
        "name": "secrets",
        "secret": {
            "secretName": secret_name(app),
            "items": secrets.iter().map(|s| json!({ "key": s, "path": s })).collect::<Vec<_>>(),
        },
    })
}

fn configmap(
    app: &App,
    name: &str,
    component: &str,
    item: &str,
    svc_trace: &slipway_model::Trace,
    env: &[(String, String)],
) -> Value {
    let data: Map<String, Value> = env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(app, &format!("{name}-config"), component, item, svc_trace),
        "data": data,
    })
}

fn service_account(
    app: &App,
    name: &str,
    component: &str,
    item: &str,
    trace: &slipway_model::Trace,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(app, name, component, item, trace),
        "automountServiceAccountToken": false,
    })
}

fn k8s_service(
    app: &App,
    name: &str,
    component: &str,
    item: &str,
    trace: &slipway_model::Trace,
    ports: &[u16],
    headless: bool,
) -> Value {
    let mut spec = json!({
        "selector": selector(app, name),
        "ports": ports.iter().enumerate().map(|(i, p)| json!({ "name": port_name(i, *p), "port": p, "targetPort": port_name(i, *p), "protocol": "TCP" })).collect::<Vec<_>>(),
    });
    if headless {
        spec["clusterIP"] = json!("None");
    }
    json!({ "apiVersion": "v1", "kind": "Service", "metadata": metadata(app, name, component, item, trace), "spec": spec })
}

/// A valid DNS-1123 name for a volume (`db_data` -> `db-data`).
fn volume_name(source: &str) -> String {
    let s: String = source
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').chars().take(63).collect::<String>();
    if s.is_empty() {
        "data".into()
    } else {
        s
    }
}

pub(crate) fn service(
    app: &App,
    svc: &Service,
    objects: &mut Vec<Object>,
    secrets_out: &mut Vec<String>,
    out: &mut Emitted,
) {
    let item = svc.id();
    let trace = svc.trace.location();
    let name = &svc.name;
    let (env, secrets) = service_env(app, svc);
    secrets_out.extend(secrets.iter().cloned());
    let hardening = hardening::for_service(svc);
    let user = service_uid(svc, &hardening, out);
    let push = |objects: &mut Vec<Object>, kind: &str, value: Value| {
        objects.push(Object {
            path: format!("kubernetes/base/{name}.{kind}.yaml"),
            item: item.clone(),
            trace: trace.clone(),
            value,
        });
    };
    push(
        objects,
        "serviceaccount",
        service_account(app, name, "service", &item, &svc.trace),
    );
    push(
        objects,
        "configmap",
        configmap(app, name, "service", &item, &svc.trace, &env),
    );

    let image = match &svc.source {
        ServiceSource::Image { image } => app.image(image),
        _ => format!("{}/{}", app.name, name),
    };
    let mut container = Map::new();
    container.insert("name".into(), json!(name));
    container.insert("image".into(), json!(image));
    container.insert("imagePullPolicy".into(), json!("IfNotPresent"));
    if svc.plan().is_none() {
        if let Some(ep) = &svc.entrypoint {
            container.insert(
                "command".into(),
                json!(deploy_refs::kubernetes_args(app, svc, ep)),
            );
        }
        if let Some(cmd) = &svc.command {
            container.insert(
                "args".into(),
                json!(deploy_refs::kubernetes_args(app, svc, cmd)),
            );
        }
    }
    let ports = svc.ports();
    if !ports.is_empty() {
        container.insert(
            "ports".into(),
            json!(ports
                .iter()
                .enumerate()
                .map(|(i, p)| json!({ "name": port_name(i, *p), "containerPort": p, "protocol": protocol(svc, *p) }))
                .chain(udp_too(svc).map(|p| json!({ "name": format!("udp-{p}"), "containerPort": p, "protocol": "UDP" })))
                .collect::<Vec<_>>()),
        );
    }
    container.insert(
        "envFrom".into(),
        json!([{ "configMapRef": { "name": format!("{name}-config") } }]),
    );
    if !svc.secret_env.is_empty() {
        let env: Vec<Value> = svc
            .secret_env
            .iter()
            .map(|k| {
                let key = secret_file(k);
                secrets_out.push(key.clone());
                json!({ "name": k, "valueFrom": { "secretKeyRef": { "name": secret_name(app), "key": key } } })
            })
            .collect();
        container.insert("env".into(), json!(env));
    }
    probes(app, svc, &mut container, out);
    container.insert(
        "resources".into(),
        resources_block(
            svc.resources
                .default
                .as_ref()
                .or_else(|| svc.resources.by_env.values().next()),
            ("500m", "512Mi"),
        ),
    );
    container.insert(
        "securityContext".into(),
        container_security(hardening.read_only),
    );
    if !hardening.read_only {
        container.insert(
            COMMENT_KEY.into(),
            json!("slipway:ignore K8S007 no hardening profile for this image: where it writes is unknown (GEN012)"),
        );
    }

    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    writable_mounts(&hardening, &mut mounts, &mut volumes);
    let mut claims = Vec::new();
    if !secrets.is_empty() {
        mounts.push(json!({ "name": "secrets", "mountPath": "/run/secrets", "readOnly": true }));
        volumes.push(secret_volume(app, &secrets));
        // Each file where the input reads it, when not at its own name.
        for (name, file) in &svc.secret_files {
            let key = secret_file(name);
            if let Some(items) = volumes
                .last_mut()
                .and_then(|v| v["secret"]["items"].as_array_mut())
            {
                for item in items.iter_mut().filter(|i| i["key"] == key.as_str()) {
                    item["path"] = json!(file);
                }
            }
        }
    }
    if !svc.files.is_empty() {
        let data: Map<String, Value> = svc
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("file-{i}"), Value::String(f.content.clone())))
            .collect();
        push(
            objects,
            "files.configmap",
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": metadata(app, &format!("{name}-files"), "service", &item, &svc.trace),
                "data": data,
            }),
        );
        volumes.push(json!({ "name": "files", "configMap": { "name": format!("{name}-files") } }));
        for (i, f) in svc.files.iter().enumerate() {
            mounts.push(json!({ "name": "files", "mountPath": f.target, "subPath": format!("file-{i}"), "readOnly": true }));
        }
    }
    for (i, v) in svc.volumes.iter().enumerate() {
        match v.kind {
            VolumeKind::Named => {
                let vname = volume_name(&v.source);
                mounts
                    .push(json!({ "name": vname, "mountPath": v.target, "readOnly": v.read_only }));
                claims.push(json!({
                    "metadata": { "name": vname },
                    "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": v.size.clone().unwrap_or_else(|| "1Gi".into()) } } },
                }));
            }
            VolumeKind::Tmpfs => {
                let vname = format!("tmpfs-{i}");
                mounts.push(json!({ "name": vname, "mountPath": v.target }));
                volumes.push(json!({ "name": vname, "emptyDir": { "medium": "Memory" } }));
            }
            VolumeKind::Bind => {
                let vname = format!("bind-{i}");
                mounts
                    .push(json!({ "name": vname, "mountPath": v.target, "readOnly": v.read_only }));
                volumes.push(json!({ "name": vname, "emptyDir": {} }));
                out.diagnostics.push(
                    Diagnostic::warning("GEN010", format!("service `{name}` ({trace}): bind mount `{}` -> `{}` has no Kubernetes equivalent; an empty emptyDir is mounted instead", v.source, v.target))
                        .in_file(&svc.trace.file)
                        .help("bake the files into the image, or provide them as a ConfigMap or a volume and edit the generated manifest"),
                );
            }
        }
    }
    container.insert("volumeMounts".into(), json!(mounts));
    let mut pod = json!({
        "serviceAccountName": name,
        "automountServiceAccountToken": false,
        "securityContext": pod_security(user, hardening.low_port),
        "containers": [Value::Object(container)],
        "volumes": volumes,
    });
    let init = wait_for(app, svc, out);
    if !init.is_empty() {
        pod["initContainers"] = json!(init);
    }
    let stateful = !claims.is_empty();
    let mut spec = json!({
        "replicas": 1,
        "selector": { "matchLabels": selector(app, name) },
        "template": { "metadata": { "labels": super::network::with_membership(app, svc, super::labels(app, name, "service")) }, "spec": pod },
    });
    if stateful {
        spec["serviceName"] = json!(name);
        spec["volumeClaimTemplates"] = json!(claims);
    }
    let kind = if stateful {
        "StatefulSet"
    } else {
        "Deployment"
    };
    push(
        objects,
        &kind.to_ascii_lowercase(),
        json!({ "apiVersion": "apps/v1", "kind": kind, "metadata": metadata(app, name, "service", &item, &svc.trace), "spec": spec }),
    );
    if !ports.is_empty() {
        push(
            objects,
            "service",
            with_protocols(
                k8s_service(app, name, "service", &item, &svc.trace, &ports, false),
                svc,
                &ports,
            ),
        );
    }
    if let (Some(ing), Some(port)) = (&svc.ingress, svc.container_port()) {
        push(
            objects,
            "ingress",
            json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": metadata(app, name, "service", &item, &svc.trace),
                "spec": { "rules": [{ "host": ing.host, "http": { "paths": [{
                    "path": ing.path, "pathType": "Prefix",
                    "backend": { "service": { "name": name, "port": { "number": port } } },
                }] } }] },
            }),
        );
    }
}

pub(crate) fn resource(
    app: &App,
    r: &Resource,
    objects: &mut Vec<Object>,
    secrets_out: &mut Vec<String>,
    out: &mut Emitted,
) {
    let item = r.id();
    let trace = r.trace.location();
    let name = &r.name;
    let component = resources::component(r.kind);
    let push = |objects: &mut Vec<Object>, kind: &str, value: Value| {
        objects.push(Object {
            path: format!("kubernetes/base/{name}.{kind}.yaml"),
            item: item.clone(),
            trace: trace.clone(),
            value,
        });
    };
    if let Some(host) = &r.external {
        push(
            objects,
            "service",
            json!({ "apiVersion": "v1", "kind": "Service", "metadata": metadata(app, name, component, &item, &r.trace), "spec": { "type": "ExternalName", "externalName": host } }),
        );
        return;
    }
    let secrets = resources::secrets(r);
    secrets_out.extend(secrets.iter().cloned());
    let mut env = resources::server_env(app, r);
    if r.kind == ResourceKind::Postgres {
        env.push((
            "PGDATA".into(),
            format!("{}/pgdata", resources::data_dir(r.kind)),
        ));
        env.sort();
    }
    push(
        objects,
        "serviceaccount",
        service_account(app, name, component, &item, &r.trace),
    );
    push(
        objects,
        "configmap",
        configmap(app, name, component, &item, &r.trace, &env),
    );
    let mut problems = Vec::new();
    let image = images::resolve(
        app,
        &resources::image(r),
        &format!("resource `{name}`"),
        &mut problems,
    );
    for p in problems {
        out.diagnostics.push(p);
    }
    let port = r.kind.port();
    let probe = |period: u32, extra: Value| {
        let mut p = json!({ "exec": { "command": resources::health(app, r.kind) }, "periodSeconds": period, "timeoutSeconds": 5 });
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        p
    };
    let hardening = hardening::for_resource(r);
    let mut mounts = vec![json!({ "name": "data", "mountPath": resources::data_dir(r.kind) })];
    let mut volumes = Vec::new();
    writable_mounts(&hardening, &mut mounts, &mut volumes);
    if !secrets.is_empty() {
        mounts.push(json!({ "name": "secrets", "mountPath": "/run/secrets", "readOnly": true }));
        volumes.push(secret_volume(app, &secrets));
    }
    let mut container = json!({
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{ "name": "http", "containerPort": port, "protocol": "TCP" }],
        "envFrom": [{ "configMapRef": { "name": format!("{name}-config") } }],
        "livenessProbe": probe(10, json!({ "failureThreshold": 6 })),
        "readinessProbe": probe(5, json!({ "failureThreshold": 3 })),
        "startupProbe": probe(5, json!({ "failureThreshold": 30 })),
        "resources": resources_block(None, resources::limits(r.kind)),
        "securityContext": container_security(hardening.read_only),
        "volumeMounts": mounts,
    });
    if let Some(cmd) = resources::command(r) {
        container["args"] = json!(cmd);
    }
    // Every resource's image has a profile, so its user is known.
    let user = hardening.k8s_user.unwrap_or((APP_UID, APP_UID));
    let spec = json!({
        "serviceName": name,
        "replicas": 1,
        "selector": { "matchLabels": selector(app, name) },
        "template": {
            "metadata": { "labels": super::labels(app, name, component) },
            "spec": {
                "serviceAccountName": name,
                "automountServiceAccountToken": false,
                "securityContext": pod_security(user, hardening.low_port),
                "containers": [container],
                "volumes": volumes,
            },
        },
        "volumeClaimTemplates": [{
            "metadata": { "name": "data" },
            "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": r.storage.clone().unwrap_or_else(|| "1Gi".into()) } } },
        }],
    });
    push(
        objects,
        "statefulset",
        json!({ "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata(app, name, component, &item, &r.trace), "spec": spec }),
    );
    push(
        objects,
        "service",
        k8s_service(app, name, component, &item, &r.trace, &[port], true),
    );
}

#[cfg(test)]
mod tests {
    use super::millicores;

    #[test]
    fn cpu_quantities() {
        assert_eq!(millicores("250m"), 250);
        assert_eq!(millicores("1"), 1000);
        assert_eq!(millicores("0.5"), 500);
        assert_eq!(millicores("1.25"), 1250);
        assert_eq!(millicores("x"), 500);
    }
}
