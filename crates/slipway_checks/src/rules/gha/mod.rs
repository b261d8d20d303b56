//! GitHub Actions workflow rules.

pub mod gha001;
pub mod gha002;
pub mod gha003;
pub mod gha004;
pub mod gha005;
pub mod gha006;

use slipway_import::yaml::Node;

/// `(job id key node, job body)` of a workflow.
pub(crate) fn jobs(root: &Node) -> Vec<(&Node, &Node)> {
    root.get("jobs")
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .map(|(k, v)| (k, v))
        .collect()
}

/// Every step of a job.
pub(crate) fn steps(job: &Node) -> &[Node] {
    job.get("steps").and_then(Node::as_seq).unwrap_or(&[])
}

/// The trigger names of a workflow (`on: push`, `on: [push, pull_request]`, `on: { push: ... }`).
pub(crate) fn triggers(root: &Node) -> Vec<String> {
    let Some(on) = root.get("on").or_else(|| root.get("true")) else {
        return Vec::new();
    };
    if let Some(s) = on.as_scalar() {
        return vec![s.to_string()];
    }
    if let Some(items) = on.as_seq() {
        return items
            .iter()
            .filter_map(|i| i.as_scalar().map(ToString::to_string))
            .collect();
    }
    on.as_map()
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string))
        .collect()
}
