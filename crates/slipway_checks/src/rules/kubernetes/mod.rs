//! Kubernetes rules, over every object of every YAML file (pod templates of
//! Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs included).
//! Files a kustomization applies as patches are partial: rules about what must be
//! present skip them.

pub mod k8s001;
pub mod k8s002;
pub mod k8s003;
pub mod k8s004;
pub mod k8s005;
pub mod k8s006;
pub mod k8s007;
pub mod k8s008;
pub mod k8s009;
pub mod k8s010;
pub mod k8s011;
pub mod k8s012;
pub mod k8s013;
pub mod k8s014;
pub mod k8s015;
pub mod k8s016;
pub mod k8s017;
pub mod k8s018;
pub mod k8s019;
pub mod k8s020;
pub mod k8s021;

use crate::tree::Tree;
use slipway_diagnostics::SourceFile;
use slipway_import::yaml::Node;
use std::sync::Arc;

/// The pod spec of a workload or Pod.
pub(crate) fn pod_spec(obj: &Node) -> Option<&Node> {
    let spec = obj.get("spec")?;
    match obj.get("kind")?.as_scalar()? {
        "Pod" => Some(spec),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => spec.get("template")?.get("spec"),
        "CronJob" => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

/// `(container, is_init)` of a pod spec.
pub(crate) fn containers(pod: &Node) -> Vec<(&Node, bool)> {
    let list = |k: &str| pod.get(k).and_then(Node::as_seq).unwrap_or(&[]);
    list("initContainers")
        .iter()
        .map(|c| (c, true))
        .chain(list("containers").iter().map(|c| (c, false)))
        .collect()
}

pub(crate) fn name_of(n: &Node) -> &str {
    n.get("name").and_then(Node::as_scalar).unwrap_or("?")
}

/// `kind/name` of an object, for messages.
pub(crate) fn object_id(obj: &Node) -> String {
    let kind = obj.get("kind").and_then(Node::as_scalar).unwrap_or("?");
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_scalar)
        .unwrap_or("?");
    format!("{kind}/{name}")
}

/// Every `(file, object, pod spec, is_patch)` of the tree that has a pod spec.
pub(crate) fn pods(tree: &Tree) -> Vec<(&Arc<SourceFile>, &Node, &Node, bool)> {
    tree.objects()
        .filter_map(|(f, o)| pod_spec(o).map(|p| (f, o, p, tree.is_patch(f))))
        .collect()
}

/// A boolean at `key` of a container's securityContext, else of the pod's.
pub(crate) fn security_bool(pod: &Node, container: &Node, key: &str) -> Option<bool> {
    container
        .get("securityContext")
        .and_then(|s| s.get(key))
        .and_then(Node::as_bool)
        .or_else(|| {
            pod.get("securityContext")
                .and_then(|s| s.get(key))
                .and_then(Node::as_bool)
        })
}

/// `key=value` pairs of a label mapping (or a selector's `matchLabels`).
pub(crate) fn labels(n: Option<&Node>) -> Vec<(String, String)> {
    n.and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((k.as_scalar()?.to_string(), v.as_scalar()?.to_string())))
        .collect()
}

/// The labels a workload's pods carry: a Pod's own, else its template's.
pub(crate) fn pod_labels(obj: &Node) -> Vec<(String, String)> {
    if obj.get("kind").and_then(Node::as_scalar) == Some("Pod") {
        labels(obj.get("metadata").and_then(|m| m.get("labels")))
    } else {
        labels(
            obj.get("spec")
                .and_then(|s| s.get("template"))
                .and_then(|t| t.get("metadata"))
                .and_then(|m| m.get("labels")),
        )
    }
}
