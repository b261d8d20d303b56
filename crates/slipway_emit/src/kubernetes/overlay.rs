//! Kustomize: the base kustomization, and one overlay per environment with its
//! namespace, replicas, limits and configuration. The prod overlay adds a
//! HorizontalPodAutoscaler (and drops the fixed replica count it manages), a
//! PodDisruptionBudget and topology spread. Images are never changed per overlay.

use super::workload::resources_block;
use super::{labels, selector, Object};
use serde_json::{json, Value};
use slipway_model::{App, Service};
use std::collections::BTreeMap;

pub(crate) fn base_kustomization(app: &App, mut files: Vec<String>) -> Value {
    files.sort();
    let images: Vec<Value> = app
        .services
        .values()
        .filter(|s| !matches!(s.source, slipway_model::ServiceSource::Image { .. }))
        .map(|s| json!({ "name": format!("{}/{}", app.name, s.name), "newTag": "local" }))
        .collect();
    let mut k = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": files,
    });
    if !images.is_empty() {
        k["images"] = json!(images);
    }
    k
}

/// The production environment: `prod` or `production`, else the last one declared.
fn is_prod(app: &App, env: &str) -> bool {
    let named = app
        .environments
        .iter()
        .any(|e| e == "prod" || e == "production");
    if named {
        env == "prod" || env == "production"
    } else {
        app.environments.last().is_some_and(|e| e == env)
    }
}

fn workload_kind(svc: &Service) -> &'static str {
    if svc.is_stateful() {
        "StatefulSet"
    } else {
        "Deployment"
    }
}

/// Writes every overlay's objects; returns a summary row per overlay for the README.
pub(crate) fn overlays(app: &App, objects: &mut Vec<Object>) -> Vec<BTreeMap<String, String>> {
    let mut rows = Vec::new();
    for env in &app.environments {
        let prod = is_prod(app, env);
        let dir = format!("kubernetes/overlays/{env}");
        let namespace = format!("{}-{env}", app.name);
        let item = format!("overlay.{env}");
        let at = app.trace.location();
        let push = |objects: &mut Vec<Object>, file: &str, value: Value| {
            objects.push(Object {
                path: format!("{dir}/{file}"),
                item: item.clone(),
                trace: at.clone(),
                value,
            });
        };
        push(
            objects,
            "namespace.yaml",
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": namespace,
                    "labels": {
                        "app.kubernetes.io/part-of": app.name,
                        "app.kubernetes.io/managed-by": "slipway",
                        "pod-security.kubernetes.io/enforce": "restricted",
                    },
                },
            }),
        );
        let mut resources = vec![json!("../../base"), json!("namespace.yaml")];
        let mut patches = Vec::new();
        let mut hpas = 0;
        for svc in app.services.values() {
            let name = &svc.name;
            let replicas = svc.replicas.get(env).copied().unwrap_or(1);
            let autoscaled = prod && replicas >= 2 && !svc.is_stateful();
            let mut container = json!({ "name": name });
            if svc.resources.by_env.contains_key(env) {
                container["resources"] = resources_block(svc.resources.get(env), ("500m", "512Mi"));
            }
            let mut spec = json!({ "template": { "spec": { "containers": [container] } } });
            if !autoscaled {
                spec["replicas"] = json!(replicas);
            }
            // Wherever two or more replicas run (as with the PodDisruptionBudget), they
            // spread over nodes: one node's loss must not take them all.
            if prod || replicas >= 2 {
                spec["template"]["spec"]["topologySpreadConstraints"] = json!([{
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": { "matchLabels": selector(app, name) },
                }]);
            }
            let kind = workload_kind(svc);
            push(
                objects,
                &format!("{name}.patch.yaml"),
                json!({ "apiVersion": "apps/v1", "kind": kind, "metadata": { "name": name }, "spec": spec }),
            );
            patches.push(json!({ "path": format!("{name}.patch.yaml") }));
            // `APP_ENV` names the environment, unless the input sets it itself.
            if !svc.env.contains_key("APP_ENV") {
                push(
                    objects,
                    &format!("{name}.config.patch.yaml"),
                    json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": format!("{name}-config") }, "data": { "APP_ENV": env } }),
                );
                patches.push(json!({ "path": format!("{name}.config.patch.yaml") }));
            }
            if autoscaled {
                hpas += 1;
                patches.push(json!({ "target": { "kind": kind, "name": name }, "patch": "- op: remove\n  path: /spec/replicas" }));
                let target = json!({ "apiVersion": "apps/v1", "kind": kind, "name": name });
                push(
                    objects,
                    &format!("{name}.hpa.yaml"),
                    json!({
                        "apiVersion": "autoscaling/v2",
                        "kind": "HorizontalPodAutoscaler",
                        "metadata": { "name": name, "labels": labels(app, name, "service") },
                        "spec": {
                            "scaleTargetRef": target,
                            "minReplicas": replicas,
                            "maxReplicas": replicas * 2,
                            "metrics": [{ "type": "Resource", "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 70 } } }],
                        },
                    }),
                );
                resources.push(json!(format!("{name}.hpa.yaml")));
            }
            // Every environment that runs two or more replicas keeps one up through a
            // node drain (not only prod: staging with 2 replicas needs it as much).
            if replicas >= 2 && !svc.is_stateful() {
                push(
                    objects,
                    &format!("{name}.pdb.yaml"),
                    json!({
                        "apiVersion": "policy/v1",
                        "kind": "PodDisruptionBudget",
                        "metadata": { "name": name, "labels": labels(app, name, "service") },
                        "spec": { "maxUnavailable": 1, "selector": { "matchLabels": selector(app, name) } },
                    }),
                );
                resources.push(json!(format!("{name}.pdb.yaml")));
            }
        }
        push(
            objects,
            "kustomization.yaml",
            json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": namespace,
                "resources": resources,
                "patches": patches,
            }),
        );
        let summary = if prod {
            format!("replicas and limits for `{env}`, {hpas} HorizontalPodAutoscaler(s) with PodDisruptionBudgets, topology spread")
        } else {
            format!("replicas and limits for `{env}`")
        };
        rows.push(BTreeMap::from([
            ("env".to_string(), env.clone()),
            ("namespace".to_string(), namespace),
            ("summary".to_string(), summary),
        ]));
    }
    rows
}
