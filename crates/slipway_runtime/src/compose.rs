//! The compose runtime: `docker compose` (v2) or `docker-compose` (v1) applies a
//! release; the Docker Engine API tells what runs (containers labelled with the
//! project). Rolling mode updates one service at a time in dependency order, each
//! gated on its health before the next starts.

use crate::desired::{dependency_order, desired_services};
use crate::docker_api::DockerApi;
use crate::health::{wait_healthy, HealthReport};
use crate::observe::{containers, ObservedContainer};
use crate::process::{run, run_ok};
use crate::{ApplyOptions, Progress, Runtime, RuntimeError};
use serde_json::Value;
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

fn up(
    cli: &ComposeCli,
    project: &str,
    file: &Path,
    extra: &[&str],
    timeout: Duration,
) -> Result<(), RuntimeError> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut c = cli.command(project, dir, &[name]);
    c.args(["up", "-d", "--no-build"]);
    if !cli.is_v1() {
        c.args(["--pull", "never"]);
    }
    c.args(extra);
    run_ok(&mut c, timeout).map(|_| ())
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
            for name in dependency_order(&desired) {
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
        let file = write_document(project, "empty", &serde_json::json!({ "services": {} }))?;
        let dir = file.parent().unwrap_or(Path::new("."));
        run_ok(
            cli.command(project, dir, &["empty.json".into()]).args([
                "down",
                "--remove-orphans",
                "-t",
                "5",
            ]),
            opts.call_timeout,
        )
        .map(|_| ())
    }
}
