//! Desired state read from the document an engine is given: per service its image
//! (and the image id the release pinned), environment, published ports, replica count
//! and whether it has a health check. Accepts the short and long port syntaxes that
//! Compose v1, v2 and stack files use.

use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortSpec {
    /// Empty: every address.
    pub host_ip: String,
    /// Published range (a single port has `from == to`); `None`: the engine picks.
    pub published: Option<(u16, u16)>,
    pub target: u16,
    pub protocol: String,
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ip = if self.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &self.host_ip
        };
        match self.published {
            Some((a, b)) if a == b => write!(f, "{ip}:{a}->{}/{}", self.target, self.protocol),
            Some((a, b)) => write!(f, "{ip}:{a}-{b}->{}/{}", self.target, self.protocol),
            None => write!(f, "{ip}:*->{}/{}", self.target, self.protocol),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DesiredService {
    pub name: String,
    pub image: String,
    /// `sha256:…`, as pinned by the release.
    pub image_id: Option<String>,
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<PortSpec>,
    pub replicas: u32,
    pub healthcheck: bool,
    pub depends_on: Vec<String>,
    /// An HTTP health path that detection guessed (`x-slipway.guessed_health`): the
    /// gate checks it answers before waiting on the health check.
    pub guessed_health: Option<GuessedHealth>,
}

/// A guessed HTTP health path and the container port it is served on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuessedHealth {
    pub path: String,
    pub port: u16,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => s.parse().ok().map(|p| (p, p)),
    }
}

/// `[ip:][published:]target[/proto]`, with ranges.
fn short_port(s: &str) -> Option<PortSpec> {
    let (rest, protocol) = s.split_once('/').unwrap_or((s, "tcp"));
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let target = parts.first()?.parse().ok()?;
    Some(PortSpec {
        host_ip: parts
            .get(2)
            .map(|s| s.trim_matches(['[', ']']).to_string())
            .unwrap_or_default(),
        published: match parts.get(1) {
            Some(p) if !p.is_empty() => Some(range(p)?),
            _ => None,
        },
        target,
        protocol: protocol.to_string(),
    })
}

fn long_port(v: &Value) -> Option<PortSpec> {
    Some(PortSpec {
        host_ip: v["host_ip"].as_str().unwrap_or("").to_string(),
        published: match scalar(&v["published"]) {
            Some(p) if !p.is_empty() => Some(range(&p)?),
            _ => None,
        },
        target: scalar(&v["target"])?.parse().ok()?,
        protocol: v["protocol"].as_str().unwrap_or("tcp").to_string(),
    })
}

fn environment(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), scalar(v).unwrap_or_default()))
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Every service the document declares, by name.
#[must_use]
pub fn desired_services(doc: &Value) -> BTreeMap<String, DesiredService> {
    let pinned = &doc["x-slipway"]["images"];
    let guessed = &doc["x-slipway"]["guessed_health"];
    let mut out = BTreeMap::new();
    for (name, s) in doc["services"].as_object().into_iter().flatten() {
        let ports = s["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| match p {
                Value::String(s) => short_port(s),
                Value::Number(n) => short_port(&n.to_string()),
                Value::Object(_) => long_port(p),
                _ => None,
            })
            .collect();
        let replicas = s["deploy"]["replicas"]
            .as_u64()
            .or_else(|| s["scale"].as_u64())
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(1);
        let healthcheck =
            s["healthcheck"].is_object() && s["healthcheck"]["disable"] != Value::Bool(true);
        let depends_on = match &s["depends_on"] {
            Value::Object(m) => m.keys().cloned().collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        out.insert(
            name.clone(),
            DesiredService {
                name: name.clone(),
                image: s["image"].as_str().unwrap_or("").to_string(),
                image_id: pinned[name].as_str().map(str::to_string),
                environment: environment(&s["environment"]),
                ports,
                replicas,
                healthcheck,
                depends_on,
                guessed_health: guessed[name]["path"].as_str().and_then(|path| {
                    Some(GuessedHealth {
                        path: path.to_string(),
                        port: u16::try_from(guessed[name]["port"].as_u64()?).ok()?,
                    })
                }),
            },
        );
    }
    out
}

/// Service names with every dependency before its dependents (ties by name).
#[must_use]
pub fn dependency_order(services: &BTreeMap<String, DesiredService>) -> Vec<String> {
    let mut done: Vec<String> = Vec::new();
    while done.len() < services.len() {
        let before = done.len();
        for (name, s) in services {
            if !done.contains(name)
                && s.depends_on
                    .iter()
                    .all(|d| done.contains(d) || !services.contains_key(d))
            {
                done.push(name.clone());
            }
        }
        if done.len() == before {
            // A cycle (the spec reader refuses those): take the rest by name.
            done.extend(
                services
                    .keys()
                    .filter(|n| !done.contains(n))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_v1_short_and_v2_long_ports() {
        let doc = json!({"services": {"api": {
            "image": "shop/api:1",
            "ports": ["127.0.0.1:8000-8001:8000/tcp", {"host_ip": "127.0.0.1", "published": "9000", "target": 90, "protocol": "udp"}, "3000"],
            "deploy": {"replicas": 2},
            "environment": {"A": "1", "B": 2},
            "healthcheck": {"test": ["CMD", "true"]},
            "depends_on": {"db": {"condition": "service_healthy"}}
        }}, "x-slipway": {"images": {"api": "sha256:abc"}}});
        let s = &desired_services(&doc)["api"];
        assert_eq!(s.ports[0].to_string(), "127.0.0.1:8000-8001->8000/tcp");
        assert_eq!(s.ports[1].to_string(), "127.0.0.1:9000->90/udp");
        assert_eq!(s.ports[2].to_string(), "0.0.0.0:*->3000/tcp");
        assert_eq!((s.replicas, s.healthcheck), (2, true));
        assert_eq!(s.environment["B"], "2");
        assert_eq!(s.image_id.as_deref(), Some("sha256:abc"));
        assert_eq!(s.depends_on, vec!["db"]);
        assert_eq!(s.guessed_health, None);
    }

    #[test]
    fn reads_a_guessed_health_path() {
        let doc = json!({"services": {"web": {}}, "x-slipway": {"guessed_health": {"web": {"path": "/health", "port": 3000}}}});
        assert_eq!(
            desired_services(&doc)["web"].guessed_health,
            Some(GuessedHealth {
                path: "/health".into(),
                port: 3000
            })
        );
    }

    #[test]
    fn dependencies_come_first() {
        let doc = json!({"services": {
            "web": {"depends_on": ["api"]}, "api": {"depends_on": ["db", "cache"]}, "db": {}, "cache": {}
        }});
        assert_eq!(
            dependency_order(&desired_services(&doc)),
            vec!["cache", "db", "api", "web"]
        );
    }
}
