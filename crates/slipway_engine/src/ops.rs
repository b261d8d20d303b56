//! What the deploy use cases share: the state store they open (and reconcile on
//! opening), their events, outcomes and errors.

use crate::{EngineError, GenerateReport};
use serde::Serialize;
use serde_json::Value;
use slipway_runtime::{HealthReport, Plan, RuntimeError};
use slipway_store::{Lease, Phase, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// One thing that happened during an operation, as stored and as shown live.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct EngineEvent {
    pub seq: i64,
    pub at: i64,
    pub deployment_id: String,
    pub operation_id: Option<String>,
    /// `phase`, `progress`, `plan`, `audit`, `reconcile`.
    pub kind: String,
    pub data: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("the spec has errors")]
    Input(Box<GenerateReport>),
    #[error("generated files were edited by hand since the last generation: {}", .0.join(", "))]
    HandEdited(Vec<String>),
    #[error("deployment `{id}` already exists for a different spec (stored spec hash {stored}, this one {given})")]
    IdReused {
        id: String,
        stored: String,
        given: String,
    },
    #[error("no deployment `{0}` in the state store")]
    UnknownDeployment(String),
    #[error("no deployment in the state store yet")]
    NoDeployments,
    #[error("{what} `{value}` is not valid: expected {expected}")]
    InvalidName {
        what: &'static str,
        value: String,
        expected: String,
    },
    #[error("unknown runtime `{0}` (expected one of compose, swarm)")]
    UnknownRuntime(String),
    #[error("operation {0} was taken over by another process (its lease expired)")]
    Lost(String),
    #[error("{0}")]
    NothingToRollBack(String),
    #[error("secret file {0} is missing: write its value there (one value, no newline needed), then deploy again")]
    MissingSecret(String),
}

impl OpsError {
    /// What to do next, for the CLI's error line.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            OpsError::HandEdited(_) => Some("review them with `slipway generate --dry-run`; deploy with --adopt to keep the edits or --overwrite to regenerate them"),
            OpsError::IdReused { .. } => Some("leave --deployment-id out to get an id derived from the spec, or pick a new one"),
            OpsError::UnknownDeployment(_) | OpsError::NoDeployments => Some("`slipway history` lists what the store holds; `slipway deploy` creates a deployment"),
            OpsError::Store(StoreError::Busy { .. }) => Some("other slipway processes hold the store; retry when they finish"),
            OpsError::Store(_) => Some("check SLIPWAY_DATABASE_URL (default sqlite://.slipway/state.db in the current folder)"),
            _ => None,
        }
    }
}

/// The result of a deploy, rollback or reconciliation.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub deployment_id: String,
    pub operation_id: String,
    pub kind: String,
    pub phase: Phase,
    pub target: String,
    pub project: String,
    pub runtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The tail of the engine's output when it failed (secrets never reach it: values
    /// live in files the engine reads itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_exit_code: Option<i32>,
    /// The deployment serving again after an automatic rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_to: Option<String>,
    /// The lease holder that refused this operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<Lease>,
    /// Nothing to do: this release already serves and nothing drifted.
    pub up_to_date: bool,
    /// Hand-edited files deployed as they are (`--adopt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<String>,
}

impl Outcome {
    /// Exit code: 0 succeeded or planned, 1 failed, rolled back or refused.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self.phase {
            Phase::Succeeded | Phase::Planned => 0,
            _ => 1,
        }
    }
}

/// The state store and who acts on it.
#[derive(Clone)]
pub struct Ops {
    pub store: Arc<dyn Store>,
    /// Recorded with every audit entry.
    pub actor: String,
    /// The id the next deploy or rollback through these `Ops` takes. The agent names
    /// an operation before it starts, so every answer (a 409 too) can carry it.
    pub operation_id: Option<String>,
}

/// The store URL: `SLIPWAY_DATABASE_URL`, else the SQLite file in `.slipway/`.
#[must_use]
pub fn database_url() -> String {
    std::env::var("SLIPWAY_DATABASE_URL").unwrap_or_else(|_| slipway_store::DEFAULT_URL.to_string())
}

impl Ops {
    /// Opens the store; relative SQLite paths are taken from `base`.
    pub fn open(url: &str, base: &Path, actor: &str) -> Result<Ops, OpsError> {
        let store: Arc<dyn Store> = Arc::from(slipway_store::open(url, base)?);
        Ok(Ops {
            store,
            actor: actor.to_string(),
            operation_id: None,
        })
    }
}

/// `USER@host` of this process, for the audit log.
#[must_use]
pub fn local_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!("{user}@{host}")
}
