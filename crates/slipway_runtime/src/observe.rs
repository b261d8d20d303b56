//! Observed state: a project's containers as the Docker Engine API reports them, with
//! the environment the image itself brings told apart from the one set on top of it.

use crate::docker_api::DockerApi;
use crate::RuntimeError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObservedContainer {
    pub name: String,
    pub service: String,
    /// `sha256:…`
    pub image_id: String,
    /// `running`, `exited`, `restarting`, `created`, `paused`, `dead`.
    pub state: String,
    /// `healthy`, `unhealthy`, `starting`; `None` without a health check.
    pub health: Option<String>,
    /// Environment set on the container (keys the image itself sets with the same
    /// value are left out).
    pub environment: BTreeMap<String, String>,
    /// Bound ports: (host ip, host port, container port, protocol).
    pub ports: BTreeSet<(String, u16, u16, String)>,
    pub exit_code: i64,
}

fn env_map(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Containers labelled `label_key=project`; `service_of` maps a container's labels to
/// its service name (or `None` to skip it: one-off containers, finished swarm tasks).
pub fn containers(
    api: &DockerApi,
    label_key: &str,
    project: &str,
    service_of: &dyn Fn(&Value) -> Option<String>,
) -> Result<Vec<ObservedContainer>, RuntimeError> {
    let mut image_env: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for c in api.containers_labelled(&format!("{label_key}={project}"))? {
        let Some(service) = service_of(&c) else {
            continue;
        };
        let image_id = c["Image"].as_str().unwrap_or("").to_string();
        if !image_env.contains_key(&image_id) {
            let env = api
                .get(&format!("/images/{image_id}/json"))?
                .map(|i| env_map(&i["Config"]["Env"]))
                .unwrap_or_default();
            image_env.insert(image_id.clone(), env);
        }
        let from_image = &image_env[&image_id];
        let environment = env_map(&c["Config"]["Env"])
            .into_iter()
            .filter(|(k, v)| from_image.get(k) != Some(v))
            .collect();
        let mut ports = BTreeSet::new();
        for (key, binds) in c["NetworkSettings"]["Ports"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let (target, proto) = key.split_once('/').unwrap_or((key, "tcp"));
            for b in binds.as_array().into_iter().flatten() {
                if let (Ok(t), Some(Ok(h))) =
                    (target.parse(), b["HostPort"].as_str().map(str::parse))
                {
                    let ip = b["HostIp"].as_str().unwrap_or("").to_string();
                    // The engine lists an IPv6 twin of a 0.0.0.0 binding; one is enough.
                    if ip != "::" {
                        ports.insert((ip, h, t, proto.to_string()));
                    }
                }
            }
        }
        out.push(ObservedContainer {
            name: c["Name"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches('/')
                .to_string(),
            service,
            image_id,
            state: c["State"]["Status"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            health: c["State"]["Health"]["Status"].as_str().map(str::to_string),
            environment,
            ports,
            exit_code: c["State"]["ExitCode"].as_i64().unwrap_or(0),
        });
    }
    out.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    Ok(out)
}
