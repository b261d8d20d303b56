//! One comparison of desired with observed state, used for both the plan (what an
//! apply would change) and drift (what changed behind slipway's back). Values of
//! secret-looking keys are shown as hashes, never as themselves.

use crate::desired::{DesiredService, PortSpec};
use crate::observe::ObservedContainer;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Difference {
    /// `service`, `orphan`, `image`, `environment`, `ports`, `replicas`, `state`, `health`.
    pub category: String,
    pub subject: String,
    pub field: String,
    pub desired: String,
    pub observed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ServiceChange {
    pub service: String,
    pub fields: Vec<Difference>,
}

/// What an apply would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Plan {
    pub create: Vec<String>,
    pub change: Vec<ServiceChange>,
    pub remove: Vec<String>,
    pub unchanged: Vec<String>,
}

impl Plan {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.change.is_empty() && self.remove.is_empty()
    }

    /// Groups differences by service; running state and health are not changes a
    /// plan makes (an apply restarts what is down either way).
    #[must_use]
    pub fn from_differences(
        desired: &BTreeMap<String, DesiredService>,
        diffs: &[Difference],
    ) -> Plan {
        let mut plan = Plan::default();
        for name in desired.keys() {
            let mine: Vec<Difference> = diffs
                .iter()
                .filter(|d| {
                    &d.subject == name && !matches!(d.category.as_str(), "state" | "health")
                })
                .cloned()
                .collect();
            if mine.iter().any(|d| d.category == "service") {
                plan.create.push(name.clone());
            } else if mine.is_empty() {
                plan.unchanged.push(name.clone());
            } else {
                plan.change.push(ServiceChange {
                    service: name.clone(),
                    fields: mine,
                });
            }
        }
        plan.remove = diffs
            .iter()
            .filter(|d| d.category == "orphan")
            .map(|d| d.subject.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        plan
    }
}

const SECRET_WORDS: &[&str] = &[
    "PASS",
    "SECRET",
    "TOKEN",
    "KEY",
    "CREDENTIAL",
    "PRIVATE",
    "AUTH",
    "CERT",
];

/// The value as shown in plans and drift reports: secret-looking keys as a hash.
#[must_use]
pub fn shown(key: &str, value: Option<&str>) -> String {
    let Some(value) = value else {
        return "(unset)".into();
    };
    let upper = key.to_ascii_uppercase();
    if SECRET_WORDS.iter().any(|w| upper.contains(w)) && !upper.ends_with("_FILE") {
        let h = Sha256::digest(value.as_bytes())
            .iter()
            .take(6)
            .fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            });
        format!("sha256:{h}")
    } else {
        value.to_string()
    }
}

fn diff(
    category: &str,
    subject: &str,
    field: &str,
    desired: String,
    observed: String,
) -> Difference {
    Difference {
        category: category.into(),
        subject: subject.into(),
        field: field.into(),
        desired,
        observed,
    }
}

fn port_matches(p: &PortSpec, (ip, host, target, proto): &(String, u16, u16, String)) -> bool {
    let want_ip = if p.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        p.host_ip.as_str()
    };
    p.target == *target
        && p.protocol == *proto
        && want_ip == ip
        && p.published.is_none_or(|(a, b)| (a..=b).contains(host))
}

fn ports(s: &DesiredService, running: &[&ObservedContainer], out: &mut Vec<Difference>) {
    if running.is_empty() {
        return;
    }
    let bound: BTreeSet<_> = running
        .iter()
        .flat_map(|c| c.ports.iter().cloned())
        .collect();
    let stray = bound
        .iter()
        .any(|b| !s.ports.iter().any(|p| port_matches(p, b)));
    let unbound = s
        .ports
        .iter()
        .any(|p| !bound.iter().any(|b| port_matches(p, b)));
    if stray || unbound {
        let want: Vec<String> = s.ports.iter().map(ToString::to_string).collect();
        let have: Vec<String> = bound
            .iter()
            .map(|(ip, h, t, pr)| format!("{ip}:{h}->{t}/{pr}"))
            .collect();
        out.push(diff(
            "ports",
            &s.name,
            "published",
            want.join(", "),
            have.join(", "),
        ));
    }
}

fn environment(s: &DesiredService, containers: &[&ObservedContainer], out: &mut Vec<Difference>) {
    let mut seen = BTreeSet::new();
    for c in containers {
        let keys: BTreeSet<&String> = s.environment.keys().chain(c.environment.keys()).collect();
        for k in keys {
            let want = s.environment.get(k).map(String::as_str);
            let have = c.environment.get(k).map(String::as_str);
            if want != have && seen.insert(k.clone()) {
                out.push(diff(
                    "environment",
                    &s.name,
                    k,
                    shown(k, want),
                    shown(k, have),
                ));
            }
        }
    }
}

/// Every difference between what the release declares and what the engine runs.
#[must_use]
pub fn compare(
    desired: &BTreeMap<String, DesiredService>,
    observed: &[ObservedContainer],
) -> Vec<Difference> {
    let mut out = Vec::new();
    for (name, s) in desired {
        let mine: Vec<&ObservedContainer> =
            observed.iter().filter(|c| &c.service == name).collect();
        if mine.is_empty() {
            out.push(diff(
                "service",
                name,
                "present",
                "present".into(),
                "absent".into(),
            ));
            continue;
        }
        if let Some(want) = &s.image_id {
            let have: BTreeSet<&str> = mine.iter().map(|c| c.image_id.as_str()).collect();
            if have.iter().any(|h| h != want) {
                out.push(diff(
                    "image",
                    name,
                    "image_id",
                    format!("{} ({want})", s.image),
                    have.into_iter().collect::<Vec<_>>().join(", "),
                ));
            }
        }
        environment(s, &mine, &mut out);
        let running: Vec<&ObservedContainer> = mine
            .iter()
            .copied()
            .filter(|c| c.state == "running")
            .collect();
        ports(s, &running, &mut out);
        if u32::try_from(mine.len()).unwrap_or(u32::MAX) != s.replicas {
            out.push(diff(
                "replicas",
                name,
                "replicas",
                s.replicas.to_string(),
                mine.len().to_string(),
            ));
        }
        for c in &mine {
            if c.state != "running" {
                out.push(diff(
                    "state",
                    name,
                    "state",
                    "running".into(),
                    format!(
                        "{} (container {}, exit code {})",
                        c.state, c.name, c.exit_code
                    ),
                ));
            } else if s.healthcheck && c.health.as_deref() == Some("unhealthy") {
                out.push(diff(
                    "health",
                    name,
                    "health",
                    "healthy".into(),
                    format!("unhealthy (container {})", c.name),
                ));
            }
        }
    }
    let orphans: BTreeSet<&str> = observed
        .iter()
        .filter(|c| !desired.contains_key(&c.service))
        .map(|c| c.service.as_str())
        .collect();
    for o in orphans {
        let n = observed.iter().filter(|c| c.service == o).count();
        out.push(diff(
            "orphan",
            o,
            "service",
            "(not declared)".into(),
            format!("{n} container(s)"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::desired_services;
    use serde_json::json;

    fn container(service: &str, env: &[(&str, &str)]) -> ObservedContainer {
        ObservedContainer {
            name: format!("p-{service}-1"),
            service: service.into(),
            image_id: "sha256:1".into(),
            state: "running".into(),
            health: Some("healthy".into()),
            environment: env
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            ports: [("127.0.0.1".to_string(), 8000, 8000, "tcp".to_string())].into(),
            exit_code: 0,
        }
    }

    fn doc() -> BTreeMap<String, DesiredService> {
        desired_services(&json!({"services": {"api": {
            "image": "a", "environment": {"GREETING": "hi", "API_TOKEN": "s3cret"},
            "ports": ["127.0.0.1:8000:8000"], "healthcheck": {"test": "true"}
        }}, "x-slipway": {"images": {"api": "sha256:1"}}}))
    }

    #[test]
    fn in_sync_means_no_difference_and_an_empty_plan() {
        let obs = vec![container(
            "api",
            &[("GREETING", "hi"), ("API_TOKEN", "s3cret")],
        )];
        let d = compare(&doc(), &obs);
        assert!(d.is_empty(), "{d:?}");
        assert!(Plan::from_differences(&doc(), &d).is_empty());
    }

    #[test]
    fn an_environment_change_is_exactly_one_field_and_secrets_are_hashed() {
        let obs = vec![container(
            "api",
            &[("GREETING", "hello"), ("API_TOKEN", "other")],
        )];
        let d = compare(&doc(), &obs);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(
            (
                d[0].field.as_str(),
                d[0].desired.as_str(),
                d[0].observed.as_str()
            ),
            (
                "API_TOKEN",
                shown("API_TOKEN", Some("s3cret")).as_str(),
                shown("API_TOKEN", Some("other")).as_str()
            )
        );
        assert!(d[0].desired.starts_with("sha256:") && !d[0].desired.contains("s3cret"));
        assert_eq!(
            (
                d[1].field.as_str(),
                d[1].desired.as_str(),
                d[1].observed.as_str()
            ),
            ("GREETING", "hi", "hello")
        );
        let plan = Plan::from_differences(&doc(), &d);
        assert_eq!(plan.change.len(), 1);
        assert_eq!(plan.change[0].fields.len(), 2);
    }

    #[test]
    fn missing_services_stopped_containers_scale_and_orphans() {
        let mut stopped = container("api", &[("GREETING", "hi"), ("API_TOKEN", "s3cret")]);
        stopped.state = "exited".into();
        let extra = container("api", &[("GREETING", "hi"), ("API_TOKEN", "s3cret")]);
        let orphan = container("old", &[]);
        let d = compare(&doc(), &[stopped, extra, orphan]);
        let cats: Vec<&str> = d.iter().map(|d| d.category.as_str()).collect();
        assert_eq!(cats, vec!["replicas", "state", "orphan"], "{d:?}");
        let plan = Plan::from_differences(&doc(), &compare(&doc(), &[]));
        assert_eq!(plan.create, vec!["api"]);
    }
}
