//! The compose runtime: `docker compose` (v2) or `docker-compose` (v1) applies a
//! release; the Docker Engine API tells what runs (containers labelled with the
//! project). Rolling mode updates one service at a time in dependency order, each
//! gated on its health before the next starts. A changed service that publishes no
//! fixed host port and has no fixed container name is updated start-first: its new
//! containers start beside the old ones, and the old ones are stopped only once the new
//! ones are healthy; if they never are, they are removed and the old ones never stopped.

use crate::desired::{dependency_order, desired_services, DesiredService};
use crate::docker_api::{encode, DockerApi};
use crate::health::{wait_healthy, wait_ready, HealthReport};
use crate::observe::{containers, ObservedContainer};
use crate::process::{run, run_ok};
use crate::{ApplyOptions, Progress, Runtime, RuntimeError};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How compose is invoked on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeCli {
    /// `["docker", "compose"]` or `["docker-compose"]`.
    pub argv: Vec<String>,
}

impl ComposeCli {
    /// Compose v2 when the docker CLI has the plugin, else v1.
    pub fn detect() -> Result<ComposeCli, RuntimeError> {
        let probe = |argv: &[&str]| {
            let mut c = Command::new(argv[0]);
            c.args(&argv[1..]).arg("version");
            run(&mut c, Duration::from_secs(30)).is_ok_and(|o| o.code == 0)
        };
        for argv in [&["docker", "compose"][..], &["docker-compose"][..]] {
            if probe(argv) {
                return Ok(ComposeCli {
                    argv: argv.iter().map(ToString::to_string).collect(),
                });
            }
        }
        Err(RuntimeError::Engine(
            "neither `docker compose` (v2) nor `docker-compose` (v1) is installed".into(),
        ))
    }

    /// `compose -p PROJECT -f FILE… ` run in `dir`.
    #[must_use]
    pub fn command(&self, project: &str, dir: &Path, files: &[String]) -> Command {
        let mut c = Command::new(&self.argv[0]);
        c.args(&self.argv[1..])
            .current_dir(dir)
            .args(["-p", project]);
        for f in files {
            c.args(["-f", f]);
        }
        c.env("COMPOSE_PROJECT_NAME", project);
        c
    }

    #[must_use]
    pub fn is_v1(&self) -> bool {
        self.argv.len() == 1
    }
}

#[derive(Debug, Default)]
pub struct ComposeRuntime {
    api: DockerApi,
}

/// Where the engine document of a release is written for the CLI to read.
pub(crate) fn document_path(project: &str, kind: &str) -> Result<PathBuf, RuntimeError> {
    let dir = std::env::temp_dir().join(format!("slipway-{project}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| RuntimeError::Engine(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir.join(format!("{kind}.json")))
}

pub(crate) fn write_document(
    project: &str,
    kind: &str,
    doc: &Value,
) -> Result<PathBuf, RuntimeError> {
    let path = document_path(project, kind)?;
    std::fs::write(&path, crate::canonical_json(doc))
        .map_err(|e| RuntimeError::Engine(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// Compose on one written document (`file`), run in its folder.
fn on_document(cli: &ComposeCli, project: &str, file: &Path) -> Command {
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    cli.command(project, dir, &[name])
}

fn up(
    cli: &ComposeCli,
    project: &str,
    file: &Path,
    extra: &[&str],
    timeout: Duration,
) -> Result<(), RuntimeError> {
    let mut c = on_document(cli, project, file);
    c.args(["up", "-d", "--no-build"]);
    if !cli.is_v1() {
        c.args(["--pull", "never"]);
    }
    c.args(extra);
    run_ok(&mut c, timeout).map(|_| ())
}

/// A container of one compose service, as a start-first update needs it.
#[derive(Debug)]
struct ServiceContainer {
    id: String,
    name: String,
    state: String,
    /// Compose's hash of the service configuration the container was created from.
    config_hash: String,
}

/// `compose config --hash '*'`: each service's configuration hash, as compose labels
/// the containers it creates (both v1 and v2 print `service hash` lines).
fn config_hashes(
    cli: &ComposeCli,
    file: &Path,
    project: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, RuntimeError> {
    let out = run_ok(
        on_document(cli, project, file).args(["config", "--hash", "*"]),
        timeout,
    )?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, h)| (s.trim().to_string(), h.trim().to_string()))
        .collect())
}

/// Whether `s` can run old and new containers side by side: no fixed host port (two
/// containers cannot both bind it) and no fixed container name.
fn start_first_possible(release: &Value, s: &DesiredService) -> bool {
    s.replicas > 0
        && s.ports.iter().all(|p| p.published.is_none())
        && release["services"][s.name.as_str()]
            .get("container_name")
            .is_none()
}

impl ComposeRuntime {
    fn containers_of(
        &self,
        project: &str,
        service: &str,
    ) -> Result<Vec<ServiceContainer>, RuntimeError> {
        let mut out = Vec::new();
        for c in self
            .api
            .containers_labelled(&format!("com.docker.compose.project={project}"))?
        {
            let labels = &c["Config"]["Labels"];
            if labels["com.docker.compose.service"].as_str() != Some(service)
                || labels["com.docker.compose.oneoff"].as_str() == Some("True")
            {
                continue;
            }
            out.push(ServiceContainer {
                id: c["Id"].as_str().unwrap_or_default().to_string(),
                name: c["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
                state: c["State"]["Status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                config_hash: labels["com.docker.compose.config-hash"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        Ok(out)
    }

    /// Stops (with a grace period) and removes a container.
    fn retire(&self, id: &str, grace_secs: u32) -> Result<(), RuntimeError> {
        self.api
            .post(&format!("/containers/{}/stop?t={grace_secs}", encode(id)))
            .or_else(|e| match &e {
                // 304: already stopped.
                RuntimeError::Api { message, .. } if message.starts_with("HTTP 304") => Ok(()),
                _ => Err(e),
            })?;
        self.api
            .delete(&format!("/containers/{}?force=true", encode(id)))
    }

    /// New containers of `name` start beside `old`; once they are healthy the old ones
    /// are stopped and removed. If they fail their gate, they are removed and the old
    /// ones, never stopped, keep serving.
    #[allow(clippy::too_many_arguments)]
    fn start_first(
        &self,
        cli: &ComposeCli,
        project: &str,
        file: &Path,
        desired: &BTreeMap<String, DesiredService>,
        old: &[ServiceContainer],
        name: &str,
        opts: &ApplyOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), RuntimeError> {
        let replicas = desired[name].replicas;
        progress(Progress::new(
            Some(name),
            "update",
            format!(
                "start-first: {replicas} new container(s) beside the {} old",
                old.len()
            ),
        ));
        let scale = format!("{name}={}", old.len() + replicas as usize);
        let started = up(
            cli,
            project,
            file,
            &["--no-deps", "--no-recreate", "--scale", &scale, name],
            opts.call_timeout,
        );
        let old_ids: BTreeSet<&str> = old.iter().map(|c| c.id.as_str()).collect();
        let new: Vec<ServiceContainer> = self
            .containers_of(project, name)?
            .into_iter()
            .filter(|c| !old_ids.contains(c.id.as_str()))
            .collect();
        let new_names: BTreeSet<String> = new.iter().map(|c| c.name.clone()).collect();
        let gate = started.and_then(|()| {
            wait_ready(
                self,
                project,
                desired,
                &[name.to_string()],
                opts.health_deadline,
                progress,
                &|c: &ObservedContainer| new_names.contains(&c.name),
            )
        });
        if let Err(e) = gate {
            progress(Progress::new(
                Some(name),
                "remove",
                format!(
                    "removing the {} new container(s); the old ones were never stopped",
                    new.len()
                ),
            ));
            for c in &new {
                let _ = self
                    .api
                    .delete(&format!("/containers/{}?force=true", encode(&c.id)));
            }
            return Err(e);
        }
        for c in old {
            progress(Progress::new(
                Some(name),
                "remove",
                format!("stopping the old container {}", c.name),
            ));
            self.retire(&c.id, 10)?;
        }
        Ok(())
    }
}

impl Runtime for ComposeRuntime {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn engine_document(&self, release: &Value) -> Value {
        release.clone()
    }

    fn observe(&self, project: &str) -> Result<Vec<ObservedContainer>, RuntimeError> {
        containers(&self.api, "com.docker.compose.project", project, &|c| {
            let labels = &c["Config"]["Labels"];
            if labels["com.docker.compose.oneoff"].as_str() == Some("True") {
                return None;
            }
            labels["com.docker.compose.service"]
                .as_str()
                .map(str::to_string)
        })
    }

    fn apply(
        &self,
        project: &str,
        release: &Value,
        opts: &ApplyOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<HealthReport, RuntimeError> {
        let cli = ComposeCli::detect()?;
        let file = write_document(project, "release", release)?;
        let desired = desired_services(release);
        if opts.rolling {
            let hashes = config_hashes(&cli, &file, project, opts.call_timeout)?;
            for name in dependency_order(&desired) {
                let old = self.containers_of(project, &name)?;
                let changed = old
                    .iter()
                    .any(|c| c.state != "running" || hashes.get(&name) != Some(&c.config_hash));
                if changed && start_first_possible(release, &desired[&name]) {
                    self.start_first(&cli, project, &file, &desired, &old, &name, opts, progress)?;
                    continue;
                }
                progress(Progress::new(
                    Some(&name),
                    "update",
                    "updating (rolling, one service at a time)",
                ));
                up(
                    &cli,
                    project,
                    &file,
                    &["--no-deps", &name],
                    opts.call_timeout,
                )?;
                wait_healthy(
                    self,
                    project,
                    &desired,
                    std::slice::from_ref(&name),
                    opts.health_deadline,
                    progress,
                )?;
            }
            up(
                &cli,
                project,
                &file,
                &["--remove-orphans", "--no-recreate"],
                opts.call_timeout,
            )?;
        } else {
            progress(Progress::new(
                None,
                "update",
                format!("{} up -d", cli.argv.join(" ")),
            ));
            up(
                &cli,
                project,
                &file,
                &["--remove-orphans"],
                opts.call_timeout,
            )?;
        }
        wait_healthy(self, project, &desired, &[], opts.health_deadline, progress)
    }

    fn remove(&self, project: &str, opts: &ApplyOptions) -> Result<(), RuntimeError> {
        let cli = ComposeCli::detect()?;
        // `version` keeps docker-compose v1 from reading an empty `services` map as
        // the legacy (version 1) format; v2 ignores it.
        let file = write_document(
            project,
            "empty",
            &serde_json::json!({ "version": "3.8", "services": {} }),
        )?;
        run_ok(
            on_document(&cli, project, &file).args(["down", "--remove-orphans", "-t", "5"]),
            opts.call_timeout,
        )
        .map(|_| ())
    }
}
