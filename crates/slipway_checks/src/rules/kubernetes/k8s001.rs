//! K8S001 schema-valid-strict.

use super::{object_id, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use k8s_openapi::api;
use serde::de::DeserializeOwned;
use serde_json::Value;
use slipway_diagnostics::SourceFile;

rule! {
    /// ## What it does
    /// Validates every object of a known kind against the Kubernetes 1.31 API types
    /// (from `k8s-openapi`, embedded, no network), strictly: a field the API does not
    /// have is a finding, as is a value of the wrong type. Files applied as kustomize
    /// patches are partial and skipped; custom resources are not known and skipped.
    ///
    /// ## Why
    /// The API server silently drops unknown fields under some settings, so a typo
    /// such as `readinessprobe:` leaves the pod without a probe and nothing says so.
    ///
    /// ## Example
    /// ```yaml
    /// containers: [{ name: api, image: api:1.0, readinessprobe: { httpGet: { path: /ready, port: 8080 } } }]
    /// ```
    ///
    /// ## Fix
    /// Use the field names and types of the API (`readinessProbe`).
    ///
    /// Peers: kubeconform -strict; kubernetes-validate --strict; checkov CKV_K8S schema checks.
    K8s001 { id: "K8S001", name: "schema-valid-strict", severity: Error, production: true, peers: "kubeconform -strict; kubernetes-validate --strict" }
}

/// A YAML node as JSON, with YAML 1.2 core typing of plain scalars.
fn to_json(n: &Node) -> Value {
    if let Some(m) = n.as_map() {
        return Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_scalar().unwrap_or("").to_string(), to_json(v)))
                .collect(),
        );
    }
    if let Some(items) = n.as_seq() {
        return Value::Array(items.iter().map(to_json).collect());
    }
    if n.is_null() {
        return Value::Null;
    }
    if let Some(b) = n.as_bool() {
        return Value::Bool(b);
    }
    match (n.as_str(), n.as_scalar()) {
        (Some(s), _) => Value::String(s.to_string()),
        (None, Some(raw)) => raw
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| raw.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(raw.to_string())),
        _ => Value::Null,
    }
}

/// `spec.?.template.?.spec.?.containers.?.0.x` -> `spec.template.spec.containers[0].x`.
fn clean(path: &str) -> String {
    let mut out = String::new();
    for seg in path.split('.').filter(|s| !s.is_empty() && *s != "?") {
        if seg.parse::<usize>().is_ok() {
            out = format!("{out}[{seg}]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// The node a serde path points at: the key of the last mapping step when there is
/// one (that is where a misspelt field is), else the value.
fn locate<'a>(root: &'a Node, path: &str) -> &'a Node {
    let mut cur = root;
    let mut last_key: Option<&Node> = None;
    for seg in path
        .split(['.', '[', ']'])
        .filter(|s| !s.is_empty() && *s != "?")
    {
        if let Ok(i) = seg.parse::<usize>() {
            match cur.as_seq().and_then(|s| s.get(i)) {
                Some(n) => {
                    cur = n;
                    last_key = None;
                }
                None => break,
            }
        } else {
            match cur
                .as_map()
                .and_then(|m| m.iter().find(|(k, _)| k.as_scalar() == Some(seg)))
            {
                Some((k, v)) => {
                    cur = v;
                    last_key = Some(k);
                }
                None => break,
            }
        }
    }
    last_key.unwrap_or(cur)
}

/// What validating one object found: unknown field paths, and a type error (path,
/// message) if deserializing failed.
type Validation = (Vec<String>, Option<(String, String)>);

/// Deserializes `value` as `T`; returns (unknown field paths, a type error with its path).
fn validate<T: DeserializeOwned>(value: Value) -> Validation {
    let mut unknown = Vec::new();
    let mut record = |p: serde_ignored::Path<'_>| unknown.push(p.to_string());
    let de = serde_ignored::Deserializer::new(value, &mut record);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    let error = result
        .err()
        .map(|e| (e.path().to_string(), e.inner().to_string()));
    (unknown, error)
}

fn check_object(api_version: &str, kind: &str, value: Value) -> Option<Validation> {
    Some(match (api_version, kind) {
        ("apps/v1", "Deployment") => validate::<api::apps::v1::Deployment>(value),
        ("apps/v1", "StatefulSet") => validate::<api::apps::v1::StatefulSet>(value),
        ("apps/v1", "DaemonSet") => validate::<api::apps::v1::DaemonSet>(value),
        ("batch/v1", "Job") => validate::<api::batch::v1::Job>(value),
        ("batch/v1", "CronJob") => validate::<api::batch::v1::CronJob>(value),
        ("v1", "Pod") => validate::<api::core::v1::Pod>(value),
        ("v1", "Service") => validate::<api::core::v1::Service>(value),
        ("v1", "ConfigMap") => validate::<api::core::v1::ConfigMap>(value),
        ("v1", "Secret") => validate::<api::core::v1::Secret>(value),
        ("v1", "ServiceAccount") => validate::<api::core::v1::ServiceAccount>(value),
        ("v1", "Namespace") => validate::<api::core::v1::Namespace>(value),
        ("v1", "PersistentVolumeClaim") => validate::<api::core::v1::PersistentVolumeClaim>(value),
        ("networking.k8s.io/v1", "Ingress") => validate::<api::networking::v1::Ingress>(value),
        ("networking.k8s.io/v1", "NetworkPolicy") => {
            validate::<api::networking::v1::NetworkPolicy>(value)
        }
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            validate::<api::autoscaling::v2::HorizontalPodAutoscaler>(value)
        }
        ("policy/v1", "PodDisruptionBudget") => {
            validate::<api::policy::v1::PodDisruptionBudget>(value)
        }
        ("rbac.authorization.k8s.io/v1", "Role") => validate::<api::rbac::v1::Role>(value),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
            validate::<api::rbac::v1::ClusterRole>(value)
        }
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
            validate::<api::rbac::v1::RoleBinding>(value)
        }
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            validate::<api::rbac::v1::ClusterRoleBinding>(value)
        }
        _ => return None,
    })
}

impl Rule for K8s001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Deserializing into the API types is the costliest rule by far (a third of a
    /// check run on a thousand manifests), so objects are validated on every core;
    /// findings keep the tree's order.
    fn check(&self, tree: &Tree, out: &mut Findings) {
        use rayon::prelude::*;
        let objects: Vec<_> = tree.objects().filter(|(f, _)| !tree.is_patch(f)).collect();
        let found: Vec<Vec<slipway_diagnostics::Diagnostic>> = objects
            .par_iter()
            .map(|(file, obj)| {
                let mut one = Findings { items: Vec::new() };
                check_one(file, obj, &mut one);
                one.items
            })
            .collect();
        out.items.extend(found.into_iter().flatten());
    }
}

fn check_one(file: &SourceFile, obj: &Node, out: &mut Findings) {
    let api_version = obj
        .get("apiVersion")
        .and_then(Node::as_scalar)
        .unwrap_or("");
    let kind = obj.get("kind").and_then(Node::as_scalar).unwrap_or("");
    let Some((unknown, error)) = check_object(api_version, kind, to_json(obj)) else {
        return;
    };
    for path in unknown {
        let node = locate(obj, &path);
        let shown = clean(&path);
        let field = shown.rsplit('.').next().unwrap_or(&shown).to_string();
        out.add(
            &K8s001::META,
            file,
            node.span,
            format!(
                "{}: `{shown}` is not a field of {api_version} {kind}",
                object_id(obj)
            ),
            Some(&format!("remove `{field}` or fix its name")),
        );
    }
    if let Some((path, msg)) = error {
        let node = locate(obj, &path);
        out.add(
            &K8s001::META,
            file,
            node.span,
            format!("{}: at `{}`: {msg}", object_id(obj), clean(&path)),
            Some("use the type the API expects"),
        );
    }
}
