//! NetworkPolicies: deny everything, allow DNS, then allow exactly the edges of the
//! `depends_on` graph (and traffic from the ingress controller to services with an
//! ingress). An app imported from compose also gets one policy per compose network:
//! its members (pods labelled `slipway.dev/network-<name>`) reach each other on any
//! port, as services sharing a compose network do.

use super::{labels, selector, Object};
use serde_json::{json, Value};
use slipway_model::{App, Service};

/// The namespace the ingress controller runs in; edit the policy if yours differs.
pub(crate) const INGRESS_NAMESPACE: &str = "ingress-nginx";

/// Ports a workload listens on.
fn ports_of(app: &App, name: &str) -> Vec<u16> {
    if let Some(s) = app.services.get(name) {
        return s.ports();
    }
    app.resources
        .get(name)
        .filter(|r| r.external.is_none())
        .map(|r| vec![r.kind.port()])
        .unwrap_or_default()
}

fn port_list(ports: &[u16]) -> Value {
    json!(ports
        .iter()
        .map(|p| json!({ "protocol": "TCP", "port": p }))
        .collect::<Vec<_>>())
}

fn policy(app: &App, name: &str, item: &str, trace: &str, spec: &Value) -> Object {
    Object {
        path: format!("kubernetes/base/{name}.networkpolicy.yaml"),
        item: item.to_string(),
        trace: trace.to_string(),
        value: json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": { "name": name, "labels": labels(app, name, "network-policy"), "annotations": { "slipway.dev/trace": format!("{item} {trace}") } },
            "spec": spec.clone(),
        }),
    }
}

/// The label that marks a pod as a member of compose network `network`.
fn membership_label(network: &str) -> String {
    let name: String = network
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("slipway.dev/network-{}", name.trim_matches('-'))
}

/// Pod labels with the service's network memberships added.
pub(crate) fn with_membership(app: &App, svc: &Service, mut labels: Value) -> Value {
    if app.networks.is_empty() {
        return labels;
    }
    for n in &svc.networks {
        labels[membership_label(n)] = json!("true");
    }
    labels
}

/// One policy per compose network: members reach each other.
fn network_groups(app: &App, objects: &mut Vec<Object>) {
    for (name, net) in &app.networks {
        let members = json!({ "matchLabels": { membership_label(name): "true" } });
        let spec = json!({
            "podSelector": members,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{ "from": [{ "podSelector": members }] }],
            "egress": [{ "to": [{ "podSelector": members }] }],
        });
        let policy_name = format!(
            "network-{}",
            membership_label(name).trim_start_matches("slipway.dev/network-")
        );
        objects.push(policy(
            app,
            &policy_name,
            &format!("network.{name}"),
            &net.trace.location(),
            &spec,
        ));
    }
}

pub(crate) fn policies(app: &App, objects: &mut Vec<Object>) {
    network_groups(app, objects);
    let app_item = format!("app.{}", app.name);
    let at = app.trace.location();
    objects.push(policy(
        app,
        "default-deny",
        &app_item,
        &at,
        &json!({ "podSelector": {}, "policyTypes": ["Ingress", "Egress"] }),
    ));
    objects.push(policy(
        app,
        "allow-dns",
        &app_item,
        &at,
        &json!({
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{ "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }] }],
        }),
    ));
    let workloads: Vec<(String, String, String, Vec<String>)> = app
        .services
        .values()
        .map(|s| {
            (
                s.name.clone(),
                s.id(),
                s.trace.location(),
                s.depends_on.clone(),
            )
        })
        .chain(
            app.resources
                .values()
                .filter(|r| r.external.is_none())
                .map(|r| (r.name.clone(), r.id(), r.trace.location(), Vec::new())),
        )
        .collect();
    for (name, item, trace, deps) in &workloads {
        let ports = ports_of(app, name);
        let mut ingress = Vec::new();
        let dependents: Vec<&str> = app
            .services
            .values()
            .filter(|s| s.depends_on.contains(name))
            .map(|s| s.name.as_str())
            .collect();
        if !ports.is_empty() {
            for d in &dependents {
                ingress.push(json!({ "from": [{ "podSelector": { "matchLabels": selector(app, d) } }], "ports": port_list(&ports) }));
            }
            if let Some(port) = app
                .services
                .get(name)
                .filter(|s| s.ingress.is_some())
                .and_then(slipway_model::Service::container_port)
            {
                ingress.push(json!({
                    "from": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": INGRESS_NAMESPACE } } }],
                    "ports": port_list(&[port]),
                }));
            }
        }
        let mut egress = Vec::new();
        for dep in deps {
            if let Some(r) = app.resources.get(dep).filter(|r| r.external.is_some()) {
                egress.push(json!({ "ports": port_list(&[r.kind.port()]) }));
                continue;
            }
            let dp = ports_of(app, dep);
            if !dp.is_empty() {
                egress.push(json!({ "to": [{ "podSelector": { "matchLabels": selector(app, dep) } }], "ports": port_list(&dp) }));
            }
        }
        objects.push(policy(
            app,
            name,
            item,
            trace,
            &json!({
                "podSelector": { "matchLabels": selector(app, name) },
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                "egress": egress,
            }),
        ));
    }
}
