//! The swarm runtime: `docker stack deploy` with a stack file made from the release.
//! Whether an update worked is read from each service's update status and the health
//! of its tasks' containers, never from the CLI's exit code (which only says the
//! request was accepted). Ports are published in host mode (the ingress mesh needs
//! IPVS, which not every host has), so a published range keeps its first port.

use crate::compose::write_document;
use crate::desired::desired_services;
use crate::docker_api::{encode, DockerApi};
use crate::health::{wait_healthy, HealthReport};
use crate::observe::{containers, ObservedContainer};
use crate::process::run_ok;
use crate::{ApplyOptions, Progress, Runtime, RuntimeError};
use serde_json::{json, Map, Value};
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct SwarmRuntime {
    api: DockerApi,
}

const KEPT: &[&str] = &[
    "image",
    "command",
    "entrypoint",
    "environment",
    "healthcheck",
    "volumes",
    "read_only",
    "tmpfs",
    "cap_drop",
    "cap_add",
    "user",
    "working_dir",
    "labels",
    "secrets",
    "stop_grace_period",
    "init",
];

fn port(p: &Value) -> Option<Value> {
    let spec = match p {
        Value::String(s) => {
            crate::desired::desired_services(&json!({"services": {"x": {"ports": [s]}}}))["x"]
                .ports
                .first()
                .cloned()
        }
        Value::Object(_) => {
            crate::desired::desired_services(&json!({"services": {"x": {"ports": [p]}}}))["x"]
                .ports
                .first()
                .cloned()
        }
        _ => None,
    }?;
    let mut o = json!({ "target": spec.target, "protocol": spec.protocol, "mode": "host" });
    if let Some((first, _)) = spec.published {
        o["published"] = json!(first);
    }
    Some(o)
}

fn service(s: &Value) -> Value {
    let mut o = Map::new();
    for k in KEPT {
        if let Some(v) = s.get(*k) {
            o.insert((*k).to_string(), v.clone());
        }
    }
    let ports: Vec<Value> = s["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(port)
        .collect();
    let host_ports = !ports.is_empty();
    if host_ports {
        o.insert("ports".into(), Value::Array(ports));
    }
    let mut limits = Map::new();
    for (k, v) in s["deploy"]["resources"]["limits"]
        .as_object()
        .into_iter()
        .flatten()
    {
        // Stack files want CPUs as a string.
        let v = if k == "cpus" {
            Value::String(v.to_string().trim_matches('"').to_string())
        } else {
            v.clone()
        };
        limits.insert(k.clone(), v);
    }
    let mut deploy = json!({
        "replicas": s["deploy"]["replicas"].as_u64().unwrap_or(1),
        // A new task may only start beside the old one when no host port is bound.
        "update_config": { "parallelism": 1, "order": if host_ports { "stop-first" } else { "start-first" }, "failure_action": "rollback", "monitor": "15s" },
        "rollback_config": { "parallelism": 1, "order": "stop-first" },
        "restart_policy": { "condition": "any", "delay": "2s" },
    });
    if !limits.is_empty() {
        deploy["resources"] = json!({ "limits": limits });
    }
    o.insert("deploy".into(), deploy);
    Value::Object(o)
}

/// The stack file for a release.
#[must_use]
pub fn stack_document(release: &Value) -> Value {
    let services: Map<String, Value> = release["services"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, s)| (n.clone(), service(s)))
        .collect();
    let mut doc = json!({ "version": "3.8", "services": services });
    for k in ["secrets", "volumes", "x-slipway"] {
        if let Some(v) = release.get(k) {
            doc[k] = v.clone();
        }
    }
    doc
}

impl SwarmRuntime {
    /// Why the service's recent tasks ended, as the swarm recorded it.
    fn task_errors(&self, service_id: &str) -> Option<String> {
        let filters = format!("{{\"service\":[\"{service_id}\"]}}");
        let tasks = self
            .api
            .get(&format!("/tasks?filters={}", encode(&filters)))
            .ok()??;
        let mut why: Vec<String> = tasks
            .as_array()?
            .iter()
            .filter(|t| {
                t["Status"]["Err"].is_string()
                    || t["Status"]["ContainerStatus"]["ExitCode"]
                        .as_i64()
                        .unwrap_or(0)
                        != 0
            })
            .map(|t| {
                format!(
                    "task {}: {} {} (exit code {})",
                    t["ID"].as_str().unwrap_or("").get(..12).unwrap_or(""),
                    t["Status"]["State"].as_str().unwrap_or(""),
                    t["Status"]["Err"]
                        .as_str()
                        .unwrap_or(t["Status"]["Message"].as_str().unwrap_or("")),
                    t["Status"]["ContainerStatus"]["ExitCode"]
                        .as_i64()
                        .unwrap_or(0)
                )
            })
            .collect();
        why.truncate(3);
        (!why.is_empty()).then(|| why.join("; "))
    }

    fn services(&self, project: &str) -> Result<Vec<Value>, RuntimeError> {
        let filters = format!("{{\"label\":[\"com.docker.stack.namespace={project}\"]}}");
        Ok(self
            .api
            .get(&format!("/services?filters={}", encode(&filters)))?
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default())
    }

    /// Fails when the swarm paused or rolled back an update of a service whose spec
    /// changed since `before` (name, version); returns once none is still updating.
    fn wait_updates(
        &self,
        project: &str,
        before: &[(String, u64)],
        deadline: Instant,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), RuntimeError> {
        loop {
            let mut updating = false;
            for s in self.services(project)? {
                let name = s["Spec"]["Name"].as_str().unwrap_or("").to_string();
                let short = name
                    .strip_prefix(&format!("{project}_"))
                    .unwrap_or(&name)
                    .to_string();
                let version = s["Version"]["Index"].as_u64().unwrap_or(0);
                let changed = before
                    .iter()
                    .find(|(n, _)| *n == name)
                    .is_none_or(|(_, v)| *v != version);
                if !changed {
                    continue;
                }
                match s["UpdateStatus"]["State"].as_str() {
                    Some("updating") => updating = true,
                    Some(
                        state @ ("paused" | "rollback_started" | "rollback_paused"
                        | "rollback_completed"),
                    ) => {
                        let mut msg = s["UpdateStatus"]["Message"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        if let Some(why) = self.task_errors(s["ID"].as_str().unwrap_or("")) {
                            msg = format!("{msg}; {why}");
                        }
                        progress(Progress::new(
                            Some(&short),
                            "unhealthy",
                            format!("swarm update {state}: {msg}"),
                        ));
                        return Err(RuntimeError::Unhealthy(format!(
                            "service `{short}`: the swarm reports update {state} ({msg})"
                        )));
                    }
                    _ => {}
                }
            }
            if !updating {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(RuntimeError::Unhealthy(
                    "swarm updates still running at the deadline".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Runtime for SwarmRuntime {
    fn name(&self) -> &'static str {
        "swarm"
    }

    fn engine_document(&self, release: &Value) -> Value {
        stack_document(release)
    }

    fn observe(&self, project: &str) -> Result<Vec<ObservedContainer>, RuntimeError> {
        let prefix = format!("{project}_");
        containers(&self.api, "com.docker.stack.namespace", project, &|c| {
            // Finished tasks stay around as stopped containers; the swarm replaces them.
            if c["State"]["Running"].as_bool() != Some(true)
                && c["State"]["Restarting"].as_bool() != Some(true)
            {
                return None;
            }
            let svc = c["Config"]["Labels"]["com.docker.swarm.service.name"].as_str()?;
            Some(svc.strip_prefix(&prefix).unwrap_or(svc).to_string())
        })
    }

    fn apply(
        &self,
        project: &str,
        release: &Value,
        opts: &ApplyOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<HealthReport, RuntimeError> {
        let info = self.api.get("/info")?.unwrap_or(Value::Null);
        if info["Swarm"]["LocalNodeState"].as_str() != Some("active") {
            return Err(RuntimeError::Engine(
                "this Docker Engine is not in swarm mode; run `docker swarm init` first (or deploy with --runtime compose)".into(),
            ));
        }
        let doc = stack_document(release);
        let file = write_document(project, "stack", &doc)?;
        let before: Vec<(String, u64)> = self
            .services(project)?
            .iter()
            .map(|s| {
                (
                    s["Spec"]["Name"].as_str().unwrap_or("").to_string(),
                    s["Version"]["Index"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        progress(Progress::new(None, "update", "docker stack deploy"));
        run_ok(
            Command::new("docker")
                .args([
                    "stack",
                    "deploy",
                    "--prune",
                    "--resolve-image",
                    "never",
                    "-c",
                ])
                .arg(&file)
                .arg(project),
            opts.call_timeout,
        )?;
        let deadline = Instant::now() + opts.health_deadline;
        let desired = desired_services(&doc);
        self.wait_updates(project, &before, deadline, progress)?;
        let report = wait_healthy(self, project, &desired, &[], opts.health_deadline, progress)?;
        // A rollback the swarm started while the gate waited is a failure too.
        self.wait_updates(project, &before, deadline, progress)?;
        Ok(report)
    }

    fn remove(&self, project: &str, opts: &ApplyOptions) -> Result<(), RuntimeError> {
        run_ok(
            Command::new("docker").args(["stack", "rm", project]),
            opts.call_timeout,
        )?;
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if self
                .api
                .containers_labelled(&format!("com.docker.stack.namespace={project}"))?
                .is_empty()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(RuntimeError::Engine(format!(
            "stack `{project}` still has containers a minute after `docker stack rm`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_release_becomes_a_stack_file_with_host_ports_and_rollback_on_failure() {
        let release = json!({"services": {"app": {
            "image": "hello/app:slipway-1", "pids_limit": 256, "depends_on": {"db": {"condition": "service_healthy"}},
            "ports": ["127.0.0.1:8080-8081:8000/tcp"], "deploy": {"replicas": 1, "resources": {"limits": {"cpus": 0.5, "memory": "128M"}}},
            "environment": {"A": "1"}
        }}, "secrets": {"s": {"file": "/abs/s"}}});
        let doc = super::stack_document(&release);
        let app = &doc["services"]["app"];
        assert_eq!(doc["version"], "3.8");
        assert_eq!(
            app["ports"],
            json!([{"target": 8000, "published": 8080, "protocol": "tcp", "mode": "host"}])
        );
        assert!(app.get("pids_limit").is_none() && app.get("depends_on").is_none());
        assert_eq!(app["deploy"]["resources"]["limits"]["cpus"], "0.5");
        assert_eq!(app["deploy"]["update_config"]["failure_action"], "rollback");
        assert_eq!(app["deploy"]["update_config"]["order"], "stop-first");
        assert_eq!(doc["secrets"]["s"]["file"], "/abs/s");
    }
}
