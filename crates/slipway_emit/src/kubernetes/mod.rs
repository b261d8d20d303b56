//! Kubernetes: `kubernetes/base/` (one file per object) and `overlays/{env}` as
//! kustomizations. Workloads are hardened by default, secrets are only references
//! (files from one Secret the user creates), `depends_on` becomes init containers and
//! NetworkPolicy edges, and the prod overlay adds HPA, PDB and topology spread.

mod network;
mod overlay;
mod workload;

use crate::{validate, EmitRequest, Emitted, Templates};
use serde::Serialize;
use serde_json::{json, Value};
use slipway_model::{App, Trace};
use std::collections::BTreeMap;

/// One object to write: where, which model item it belongs to, and what.
pub(crate) struct Object {
    pub path: String,
    pub item: String,
    pub trace: String,
    pub value: Value,
}

/// Labels every object of one workload carries; the first two select its pods.
pub(crate) fn labels(app: &App, name: &str, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": app.name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": app.name,
        "app.kubernetes.io/managed-by": "slipway",
    })
}

pub(crate) fn selector(app: &App, name: &str) -> Value {
    json!({ "app.kubernetes.io/name": name, "app.kubernetes.io/instance": app.name })
}

/// Metadata with labels and the annotation that traces the object to its input.
pub(crate) fn metadata(app: &App, name: &str, component: &str, item: &str, trace: &Trace) -> Value {
    let mut at = format!("{item} {}", trace.location());
    if let Some(l10) = &trace.item {
        at = format!("{at} level10:{l10}");
    }
    json!({
        "name": name,
        "labels": labels(app, name, component),
        "annotations": { "slipway.dev/trace": at },
    })
}

/// The one Secret every pod reads its secret files from.
pub(crate) fn secret_name(app: &App) -> String {
    format!("{}-secrets", app.name)
}

#[derive(Serialize)]
struct ObjectView<'a> {
    source: &'a str,
    trace: &'a str,
    object: minijinja::Value,
}

#[derive(Serialize)]
struct ReadmeView {
    app: String,
    source: String,
    secret_name: String,
    secrets: Vec<String>,
    overlays: Vec<BTreeMap<String, String>>,
    externals: Vec<BTreeMap<String, String>>,
}

pub(crate) fn emit(app: &App, req: &EmitRequest, templates: &Templates, out: &mut Emitted) {
    let mut objects: Vec<Object> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    for svc in app.services.values() {
        workload::service(app, svc, &mut objects, &mut secrets, out);
    }
    for r in app.resources.values() {
        workload::resource(app, r, &mut objects, &mut secrets, out);
    }
    network::policies(app, &mut objects);
    if app.networks.values().any(|n| !n.internal) {
        out.diagnostics.push(
            slipway_diagnostics::Diagnostic::new("GEN031", slipway_diagnostics::Severity::Info, "compose networks let containers reach the internet; the Kubernetes NetworkPolicies allow only traffic between the services of a network, their dependencies and DNS")
                .in_file(&app.trace.file)
                .help("add an egress rule to the service's NetworkPolicy for what it must reach outside the cluster"),
        );
    }
    let base_files: Vec<String> = objects
        .iter()
        .map(|o| o.path.trim_start_matches("kubernetes/base/").to_string())
        .collect();
    objects.push(Object {
        path: "kubernetes/base/kustomization.yaml".into(),
        item: format!("app.{}", app.name),
        trace: app.trace.location(),
        value: overlay::base_kustomization(app, base_files),
    });
    let overlays = overlay::overlays(app, &mut objects);
    secrets.sort();
    secrets.dedup();

    let mut by_item: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
    for o in objects {
        let view = ObjectView {
            source: &req.source,
            trace: &o.trace,
            object: crate::templates::JsonDoc::value(o.value),
        };
        let rendered = templates
            .render("kubernetes/object.yaml.j2", &view)
            .and_then(|text| {
                validate::yaml(&text, "kubernetes/object.yaml.j2", &o.path).map(|()| text)
            });
        match rendered {
            Ok(text) => {
                out.files.add(o.path.clone(), text);
                by_item
                    .entry(o.item.clone())
                    .or_insert_with(|| (Vec::new(), o.trace.clone()))
                    .0
                    .push(o.path.clone());
            }
            Err(d) => out.diagnostics.push(d),
        }
    }
    let readme = ReadmeView {
        app: app.name.clone(),
        source: req.source.clone(),
        secret_name: secret_name(app),
        secrets,
        overlays,
        externals: app
            .resources
            .values()
            .filter_map(|r| {
                let host = r.external.clone()?;
                Some(BTreeMap::from([
                    ("name".into(), r.name.clone()),
                    ("kind".into(), r.kind.as_str().into()),
                    ("host".into(), host),
                ]))
            })
            .collect(),
    };
    match templates.render("kubernetes/README.md.j2", &readme) {
        Ok(text) => {
            out.files.add("kubernetes/README.md", text);
            by_item
                .entry(format!("app.{}", app.name))
                .or_insert_with(|| (Vec::new(), app.trace.location()))
                .0
                .push("kubernetes/README.md".into());
        }
        Err(d) => out.diagnostics.push(d),
    }
    for (item, (mut paths, _)) in by_item {
        paths.sort();
        let name = item
            .split_once('.')
            .map_or(item.as_str(), |(_, n)| n)
            .to_string();
        let (kind, summary) = if item.starts_with("overlay.") {
            ("kustomize-overlay", format!("Kustomize overlay `{name}`: namespace, replicas, limits and configuration for this environment"))
        } else if item.starts_with("app.") {
            ("kustomize-base", "Kustomize base: kustomization, default-deny and DNS NetworkPolicies, secrets guide".to_string())
        } else {
            ("kubernetes", format!("Kubernetes objects for `{name}`: workload, Service, ServiceAccount, ConfigMap, NetworkPolicy"))
        };
        let traces = if item.starts_with("overlay.") || item.starts_with("app.") {
            app.services
                .values()
                .map(slipway_model::Service::id)
                .chain(app.resources.values().map(slipway_model::Resource::id))
                .collect()
        } else {
            vec![item.clone()]
        };
        out.files.artifact(
            format!("artifact.kubernetes.{}", item.replace('.', "-")),
            kind,
            traces,
            summary,
            paths,
        );
    }
}
