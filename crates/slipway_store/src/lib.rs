//! Durable state for deployments: the `Store` trait and its two backends, SQLite (one
//! file, WAL, fsync on every commit; the default) and PostgreSQL (several agents side
//! by side). A URL picks the backend (`sqlite://PATH` or `postgres://…`).
//!
//! What is kept: deployments, operations (one attempt to plan, apply, roll back or
//! scan, moving through explicit phases), releases (the desired state an apply put on
//! the engine), leases (locks with holder, boot id, expiry and renewal), an
//! append-only audit log whose records are hash-chained, drift scans and events.
//!
//! Both backends share every query (`sql.rs`); each supplies only a connection, its
//! transactions and its migrations. Depends on nothing internal: no engine, no HTTP.

mod postgres;
mod sql;
mod sqlite;
mod types;

pub use sql::SqlStore;
pub use types::*;

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("cannot create {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is not a database URL slipway knows (expected sqlite://PATH or postgres://USER@HOST/DB)")]
    Url(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the state store {store} stayed busy for {} s: other processes kept its write lock{}", waited_ms / 1000, if holders.is_empty() { String::new() } else { format!("; targets held: {}", holders.join(", ")) })]
    Busy {
        store: String,
        waited_ms: u64,
        /// `target (operation, process)` of each lease held when we gave up.
        holders: Vec<String>,
    },
    #[error("the state store lock was poisoned by a panic")]
    Poisoned,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The server's own words (`password authentication failed for user "x"`, with its
/// SQLSTATE), or the client error and its causes: never a bare "db error".
fn postgres_message(e: &::postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} (SQLSTATE {})", db.message(), db.code().code());
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// How much of one operation's log is kept (its newest part).
pub const LOG_MAX_BYTES: usize = 256 * 1024;

/// The default store: a SQLite file under `.slipway/` in the working folder.
pub const DEFAULT_URL: &str = "sqlite://.slipway/state.db";

/// What the engine needs from durable state. Every method is one transaction.
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Records a deployment, or returns the one already stored under its id.
    fn put_deployment(&self, d: &Deployment) -> Result<Deployment>;
    fn deployment(&self, id: &str) -> Result<Option<Deployment>>;
    /// Newest first.
    fn deployments(&self) -> Result<Vec<Deployment>>;

    fn insert_operation(&self, op: &Operation) -> Result<()>;
    /// Moves an operation to `to` only when its phase is one of `from` (compare and
    /// set); returns whether it moved. `error` and `release_id` are kept when `None`.
    fn transition(&self, t: &Transition<'_>) -> Result<bool>;
    fn operation(&self, id: &str) -> Result<Option<Operation>>;
    /// Oldest first; all of them when `deployment_id` is `None`.
    fn operations(&self, deployment_id: Option<&str>) -> Result<Vec<Operation>>;
    /// Operations not in a terminal phase (and applies that stopped at `planned`).
    fn open_operations(&self) -> Result<Vec<Operation>>;
    /// The newest operation on `target` that left a release serving (a succeeded
    /// apply, rollback or reconcile), optionally skipping every operation that put
    /// one deployment's releases on (whichever deployment's id it ran under).
    fn last_good(&self, target: &str, skip_deployment: Option<&str>) -> Result<Option<Operation>>;

    fn put_release(&self, r: &Release) -> Result<()>;
    fn release(&self, id: &str) -> Result<Option<Release>>;

    /// Takes the lease on `lease.target` when it is free, expired, already this
    /// operation's (same holder and operation id: one process runs many operations),
    /// or held by `replacing` (a holder found dead). Returns the current holder
    /// otherwise.
    fn acquire_lease(
        &self,
        lease: &Lease,
        now: i64,
        replacing: Option<&str>,
    ) -> Result<Result<(), Lease>>;
    /// Extends this operation's lease; false when it is no longer its.
    fn renew_lease(&self, held: &LeaseRef<'_>, expires_at: i64) -> Result<bool>;
    /// Gives this operation's lease back; another operation's lease is never touched.
    fn release_lease(&self, held: &LeaseRef<'_>) -> Result<bool>;
    fn lease(&self, target: &str) -> Result<Option<Lease>>;

    /// Appends one record, chained to the previous one.
    fn append_audit(&self, rec: &NewAudit<'_>, at: i64) -> Result<AuditRecord>;
    /// Records with `seq > after`, oldest first, at most `limit`.
    fn audit(
        &self,
        deployment_id: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>>;

    fn put_drift_scan(&self, scan: &DriftScan) -> Result<()>;
    fn latest_drift_scan(&self, deployment_id: &str) -> Result<Option<DriftScan>>;

    /// Stores `rec` unless an unexpired record holds its key; the holder otherwise.
    /// Expired records are removed on the way.
    fn put_idempotency(
        &self,
        rec: &IdempotencyRecord,
        now: i64,
    ) -> Result<Result<(), IdempotencyRecord>>;
    /// The unexpired record of `key`.
    fn idempotency(&self, key: &str, now: i64) -> Result<Option<IdempotencyRecord>>;
    /// Forgets `key` (its outcome is no longer the truth, so the next request runs).
    fn drop_idempotency(&self, key: &str) -> Result<()>;

    /// Stores the request deployment `rec.deployment_id` was generated from, unless
    /// one is stored already; the stored one otherwise.
    fn put_generate_record(&self, rec: &GenerateRecord) -> Result<Result<(), GenerateRecord>>;
    fn generate_record(&self, deployment_id: &str) -> Result<Option<GenerateRecord>>;
    /// Appends `text` to the log `log_ref` (an operation id), keeping its last
    /// `LOG_MAX_BYTES`.
    fn append_log(&self, log_ref: &str, text: &str, at: i64) -> Result<()>;
    fn log(&self, log_ref: &str) -> Result<Option<String>>;

    fn append_event(&self, e: &NewEvent<'_>, at: i64) -> Result<i64>;
    fn events(&self, deployment_id: Option<&str>, after: i64, limit: usize) -> Result<Vec<Event>>;
    /// The newest event's sequence number (0 when there is none).
    fn last_event_seq(&self) -> Result<i64>;
    /// Deletes events written before `before_ms`, always keeping the newest one so
    /// sequence numbers never restart; how many were deleted.
    fn prune_events(&self, before_ms: i64) -> Result<u64>;
}

/// Opens (creating and migrating as needed) the store a URL names. Relative SQLite
/// paths are resolved against `base`.
pub fn open(url: &str, base: &Path) -> Result<Box<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let p = Path::new(path);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        };
        Ok(Box::new(SqlStore::new(sqlite::SqliteDb::open(&p)?)?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(SqlStore::new(postgres::PostgresDb::connect(
            url,
        )?)?))
    } else {
        Err(StoreError::Url(url.to_string()))
    }
}

/// Checks that each audit record's hash covers its content and the previous record's
/// hash. Returns the first record that breaks the chain.
pub fn verify_chain(records: &[AuditRecord]) -> Result<(), String> {
    let mut prev = GENESIS.to_string();
    for r in records {
        if r.prev_hash != prev {
            return Err(format!(
                "record {} does not follow the record before it",
                r.seq
            ));
        }
        if r.hash != audit_hash(&prev, r) {
            return Err(format!("record {} was altered after it was written", r.seq));
        }
        prev.clone_from(&r.hash);
    }
    Ok(())
}
