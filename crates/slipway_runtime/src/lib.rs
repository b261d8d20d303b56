//! Putting a release on a real engine and reading back what is there. `Runtime` is
//! implemented by `ComposeRuntime` (the `docker compose` v2 or `docker-compose` v1 CLI
//! to apply, the Docker Engine API to inspect) and `SwarmRuntime` (`docker stack
//! deploy`, result read from each service's update status). Plans and drift are one
//! comparison of desired state (the release document) with observed containers, shared
//! by every runtime. Runtimes drive engines; they never reimplement one.
//!
//! Depends on no other slipway crate: the engine hands it documents and gets facts back.

mod compare;
mod compose;
mod desired;
pub mod docker_api;
mod health;
mod observe;
mod probe;
pub mod process;
mod release;
mod swarm;
mod yaml_json;

pub use compare::{compare, Difference, Plan, ServiceChange};
pub use compose::{ComposeCli, ComposeRuntime};
pub use desired::{desired_services, DesiredService, GuessedHealth, PortSpec};
pub use health::{summarize as summarize_health, wait_healthy, HealthReport, ServiceHealth};
pub use observe::ObservedContainer;
pub use release::{canonical_json, prepare_release, ReleaseInput};
pub use swarm::SwarmRuntime;

use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` did not finish within {seconds} s and was killed")]
    Timeout {
        command: String,
        seconds: u64,
        stderr: String,
    },
    #[error("`{command}` failed with exit code {code}")]
    Failed {
        command: String,
        code: i32,
        stderr: String,
    },
    #[error("Docker Engine API {path}: {message}")]
    Api { path: String, message: String },
    #[error("{0}")]
    Engine(String),
    #[error("health gate failed: {0}")]
    Unhealthy(String),
}

impl RuntimeError {
    /// The engine's own words (tail of stderr), when there are any.
    #[must_use]
    pub fn engine_output(&self) -> Option<&str> {
        match self {
            RuntimeError::Timeout { stderr, .. } | RuntimeError::Failed { stderr, .. } => {
                Some(stderr)
            }
            _ => None,
        }
    }

    #[must_use]
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            RuntimeError::Failed { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// One step a runtime reports while it works.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// The service it concerns, if one.
    pub service: Option<String>,
    /// `build`, `pull`, `create`, `update`, `wait`, `healthy`, `unhealthy`, `remove`.
    pub step: String,
    pub message: String,
}

impl Progress {
    #[must_use]
    pub fn new(service: Option<&str>, step: &str, message: impl Into<String>) -> Self {
        Progress {
            service: service.map(str::to_string),
            step: step.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// One service at a time in dependency order, each gated on health, start-first
    /// where no fixed host port or container name is in the way (compose);
    /// `parallelism: 1`, start-first where no host port is published (swarm).
    pub rolling: bool,
    /// The longest any single engine call may take before it is killed.
    pub call_timeout: Duration,
    /// How long the health gates may take in total.
    pub health_deadline: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            rolling: false,
            call_timeout: Duration::from_secs(600),
            health_deadline: Duration::from_secs(180),
        }
    }
}

/// An engine slipway can deploy to.
pub trait Runtime: Send + Sync {
    /// `compose` or `swarm`.
    fn name(&self) -> &'static str;
    /// The document this engine is given for a release (compose: the release as is;
    /// swarm: a stack file). Desired state is read from it.
    fn engine_document(&self, release: &Value) -> Value;
    /// The project's containers as the engine reports them.
    fn observe(&self, project: &str) -> Result<Vec<ObservedContainer>, RuntimeError>;
    /// Puts the release on the engine and waits for its health gates.
    fn apply(
        &self,
        project: &str,
        release: &Value,
        opts: &ApplyOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<HealthReport, RuntimeError>;
    /// Removes everything the project put on the engine (volumes are kept).
    fn remove(&self, project: &str, opts: &ApplyOptions) -> Result<(), RuntimeError>;
}

/// The runtime called `name`.
#[must_use]
pub fn runtime(name: &str) -> Option<Box<dyn Runtime>> {
    match name {
        "compose" => Some(Box::new(ComposeRuntime::default())),
        "swarm" => Some(Box::new(SwarmRuntime::default())),
        _ => None,
    }
}

pub const RUNTIMES: &[&str] = &["compose", "swarm"];
