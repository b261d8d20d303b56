//! The use cases, shared by the CLI and (later) the agent: `init`, `detect`,
//! `generate`, and on a real engine `deploy` (plan, apply, rollback), `status`,
//! `drift`, `history` and reconciliation after a crash. Reading inputs, calling
//! importers and emitters, writing the output tree safely (atomic files, hand edits
//! kept), and recording every operation in the state store happen here. No clap, no HTTP.

mod deploy;
mod generate;
mod holder;
mod init;
mod input;
mod input_more;
mod inspect;
pub mod names;
mod operation;
mod ops;
mod paths;
mod reconcile;
mod write;

pub use deploy::{deploy, register, rollback, DeployOptions, Registered};
pub use inspect::{
    drift, history, status, status_view, DriftReport, History, OperationView, Status, SyncView,
    TopologyNode,
};
pub use ops::{database_url, local_actor, EngineEvent, Ops, OpsError, Outcome};
pub use reconcile::reconcile;

/// The policy verdict on a generated tree: `slipway check` with a profile, as the
/// JSON report (`findings` with rule ids, severities and locations). `None` when the
/// profile is not a built-in one.
#[must_use]
pub fn policy_check(out_dir: &std::path::Path, profile: &str) -> Option<serde_json::Value> {
    let profile = slipway_checks::Profile::parse(profile)?;
    let report = slipway_checks::check(&[out_dir.to_path_buf()], &profile);
    Some(slipway_checks::report::to_json(
        &report.findings,
        &report.sources,
        report.files_checked,
    ))
}
pub use holder::{new_id, now_ms};
pub use operation::RELEASED;
pub use slipway_runtime::process::cancel_all as cancel_engine_calls;
pub use slipway_runtime::{ApplyOptions, HealthReport, Plan, RUNTIMES};
pub use slipway_store::{
    verify_chain, AuditRecord, Deployment, GenerateRecord, IdempotencyRecord, NewEvent, Phase,
    Store, StoreError, Transition,
};

/// Opens the state store a URL names (relative SQLite paths from `base`).
pub fn open_store(
    url: &str,
    base: &std::path::Path,
) -> Result<std::sync::Arc<dyn Store>, OpsError> {
    Ok(std::sync::Arc::from(slipway_store::open(url, base)?))
}

/// A report's diagnostics as JSON items (rule id, severity, message, file, line,
/// column, expected, help).
#[must_use]
pub fn diagnostics_json(report: &GenerateReport) -> serde_json::Value {
    slipway_diagnostics::render_json(&report.diagnostics, &report.sources)["diagnostics"].take()
}

pub use generate::{generate, GenerateOptions, GenerateReport, DEFAULT_OUT};
pub use init::{init, InitReport};
pub use input::InputKind;
pub use slipway_import::detect::{discover, Detected};
pub use write::{FileChange, FileStatus};

use std::path::PathBuf;

/// Problems that are not the user's input being wrong, but the machine refusing.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Templates(#[from] slipway_emit::TemplateError),
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists { path: PathBuf },
    #[error("no service found under {path}: no package.json, pyproject.toml, requirements.txt, go.mod, Cargo.toml or pom.xml")]
    NothingDetected { path: PathBuf },
}

/// Input files larger than this are refused before parsing.
pub const MAX_SPEC_BYTES: u64 = 4 * 1024 * 1024;
