//! The records the store keeps. Plain data with serde; times are Unix milliseconds.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The phases an operation moves through. Each is written before the side effect it
/// allows; `interrupted` marks an operation whose holder died, `reconciling` one being
/// checked against the engine after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Queued,
    Locking,
    Planning,
    Planned,
    Applying,
    Verifying,
    RollingBack,
    Succeeded,
    Failed,
    RolledBack,
    Interrupted,
    Reconciling,
}

pub const PHASES: [Phase; 12] = [
    Phase::Queued,
    Phase::Locking,
    Phase::Planning,
    Phase::Planned,
    Phase::Applying,
    Phase::Verifying,
    Phase::RollingBack,
    Phase::Succeeded,
    Phase::Failed,
    Phase::RolledBack,
    Phase::Interrupted,
    Phase::Reconciling,
];

impl Phase {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Locking => "locking",
            Phase::Planning => "planning",
            Phase::Planned => "planned",
            Phase::Applying => "applying",
            Phase::Verifying => "verifying",
            Phase::RollingBack => "rolling_back",
            Phase::Succeeded => "succeeded",
            Phase::Failed => "failed",
            Phase::RolledBack => "rolled_back",
            Phase::Interrupted => "interrupted",
            Phase::Reconciling => "reconciling",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Phase> {
        PHASES.into_iter().find(|p| p.as_str() == s)
    }

    /// Succeeded, failed, rolled back, or a plan that is done (`planned`).
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Phase::Succeeded | Phase::Failed | Phase::RolledBack | Phase::Planned
        )
    }

    /// Every phase that is not terminal.
    #[must_use]
    pub fn open() -> Vec<Phase> {
        PHASES.into_iter().filter(|p| !p.is_terminal()).collect()
    }
}

/// One version of desired state for one target: the canonical spec, environment,
/// runtime and generator version it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub project: String,
    pub environment: String,
    pub runtime: String,
    /// `project/environment/runtime`: what a lease locks.
    pub target: String,
    pub spec_hash: String,
    pub generator: String,
    /// The spec file and output folder, as absolute paths.
    pub spec_path: String,
    pub out_dir: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    pub deployment_id: String,
    pub target: String,
    /// `plan`, `apply`, `rollback` or `scan`.
    pub kind: String,
    pub phase: Phase,
    /// Who runs it: `host:pid:start`, matching the lease.
    pub holder: String,
    /// The release this operation puts (or put) on the engine.
    pub release_id: Option<String>,
    pub error: Option<String>,
    /// Free-form JSON text: the plan, the strategy, the outcome.
    pub detail: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A compare-and-set phase change.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub operation_id: &'a str,
    pub from: &'a [Phase],
    pub to: Phase,
    pub at: i64,
    pub error: Option<&'a str>,
    pub release_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// The exact document an apply hands to the engine (a resolved compose file with images
/// pinned by id), kept so a rollback can put it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub id: String,
    pub deployment_id: String,
    pub target: String,
    pub document: String,
    pub digest: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub target: String,
    pub holder: String,
    pub boot_id: String,
    pub pid: i64,
    pub operation_id: String,
    pub deployment_id: String,
    pub acquired_at: i64,
    pub expires_at: i64,
}

/// Which lease: a target as held by one operation of one process.
#[derive(Debug, Clone, Copy)]
pub struct LeaseRef<'a> {
    pub target: &'a str,
    pub holder: &'a str,
    pub operation_id: &'a str,
}

impl Lease {
    #[must_use]
    pub fn as_ref(&self) -> LeaseRef<'_> {
        LeaseRef {
            target: &self.target,
            holder: &self.holder,
            operation_id: &self.operation_id,
        }
    }
}

/// An audit record before it is chained.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub deployment_id: &'a str,
    pub operation_id: Option<&'a str>,
    /// `intent` (before an action), `outcome` (after it) or `note`.
    pub kind: &'a str,
    pub action: &'a str,
    pub actor: &'a str,
    /// JSON text.
    pub detail: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub deployment_id: String,
    pub operation_id: Option<String>,
    pub kind: String,
    pub action: String,
    pub actor: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// sha256 over the previous hash and every field of the record but its own hash.
#[must_use]
pub fn audit_hash(prev: &str, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &r.seq.to_string(),
        &r.at.to_string(),
        &r.deployment_id,
        r.operation_id.as_deref().unwrap_or(""),
        &r.kind,
        &r.action,
        &r.actor,
        &r.detail,
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One difference between desired and observed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftFinding {
    /// `image`, `environment`, `ports`, `replicas`, `health`, `orphan`, `file`.
    pub category: String,
    /// The service (or file) it concerns.
    pub subject: String,
    /// The field: an environment key, `published`, a file path, ...
    pub field: String,
    pub desired: String,
    pub observed: String,
    pub remediation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftScan {
    pub id: String,
    pub deployment_id: String,
    pub at: i64,
    pub findings: Vec<DriftFinding>,
}

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub deployment_id: &'a str,
    pub operation_id: Option<&'a str>,
    pub kind: &'a str,
    /// JSON text.
    pub data: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub at: i64,
    pub deployment_id: String,
    pub operation_id: Option<String>,
    pub kind: String,
    pub data: String,
}

/// What an `Idempotency-Key` stands for: the request it came with, the operation that
/// request started and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Scoped by the caller and the endpoint (`NAME POST /deploy KEY`).
    pub key: String,
    pub request_hash: String,
    pub operation_id: String,
    /// The first response's body (JSON).
    pub response: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The request a deployment was generated from through the agent, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateRecord {
    pub deployment_id: String,
    /// sha256 of the request body, for telling a retry from another request.
    pub request_digest: String,
    /// The request (JSON): its `parameters` are what later deploys use.
    pub request: String,
    /// The answer (JSON), replayed to an identical retry.
    pub response: String,
    pub created_at: i64,
}
