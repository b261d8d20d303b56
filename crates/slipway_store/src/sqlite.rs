//! The SQLite backend: one file, WAL journal, `synchronous = FULL` (fsync on every
//! commit), write transactions begun IMMEDIATE so writers queue on the busy timeout
//! instead of failing.
//!
//! Several processes (CLI runs, an agent) share one file. SQLite's busy handler covers
//! most waits, but not all: switching a new file to WAL, WAL recovery after a crash and
//! a schema change seen mid-statement can still answer `SQLITE_BUSY` at once. So every
//! open and every transaction is retried on busy with jittered backoff until
//! [`BUSY_WAIT`] has passed; a process that still cannot get the store gets
//! [`StoreError::Busy`], naming the lease holders, never a raw `database is locked`.

use crate::sql::{Backend, Cell, Param, Row, Tx};
use crate::{Result, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one open or one transaction waits for other writers in total.
pub const BUSY_WAIT: Duration = Duration::from_secs(60);
/// What SQLite's own busy handler waits per attempt, before we back off and retry.
const HANDLER_WAIT: Duration = Duration::from_secs(5);

pub struct SqliteDb {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Whether `e` is SQLite saying another connection holds a lock we need.
fn is_busy(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// A few milliseconds, growing with the attempt, spread by the clock's nanoseconds and
/// the pid so processes that collided once do not collide again.
fn backoff(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let spread = (nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 20;
    Duration::from_millis(u64::from(attempt.min(10)) * 10 + u64::from(spread) + 1)
}

/// Runs `f` until it succeeds, fails with something other than busy, or `BUSY_WAIT`
/// has passed (then the last busy error is returned).
fn retry_busy<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if is_busy(&e) && started.elapsed() < BUSY_WAIT => {
                attempt += 1;
                std::thread::sleep(backoff(attempt));
            }
            other => return other,
        }
    }
}

impl SqliteDb {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let conn = retry_busy(|| open_conn(path)).map_err(|e| refusal(e, path, None))?;
        restrict(path);
        Ok(SqliteDb {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(HANDLER_WAIT)?;
    // Switching a new file to WAL needs an exclusive lock and does not always wait for
    // it: `retry_busy` around the whole open covers that.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "{} stays in journal mode `{mode}`; slipway needs WAL",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// The store's folder is private to its owner (0700).
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// The database and its WAL files are readable by their owner only (0600): the audit
/// log and the operations' details are nobody else's business.
fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// A busy error that outlasted `BUSY_WAIT` becomes a refusal naming who holds the
/// targets' leases, read without taking the write lock (WAL readers never wait for
/// writers); other errors pass through.
fn refusal(e: StoreError, path: &Path, conn: Option<&Connection>) -> StoreError {
    if !is_busy(&e) {
        return e;
    }
    let holders = conn
        .and_then(|c| {
            let mut stmt = c
                .prepare("SELECT target, operation_id, holder FROM leases ORDER BY target")
                .ok()?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(format!(
                        "{} (operation {}, process {})",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?
                    ))
                })
                .ok()?;
            Some(rows.filter_map(std::result::Result::ok).collect::<Vec<_>>())
        })
        .unwrap_or_default();
    StoreError::Busy {
        store: path.display().to_string(),
        waited_ms: u64::try_from(BUSY_WAIT.as_millis()).unwrap_or(u64::MAX),
        holders,
    }
}

fn bind(params: &[Param<'_>]) -> Vec<Value> {
    params
        .iter()
        .map(|p| match *p {
            Param::Int(Some(v)) => Value::Integer(v),
            Param::Text(Some(s)) => Value::Text(s.to_string()),
            Param::Int(None) | Param::Text(None) => Value::Null,
        })
        .collect()
}

/// `$1` -> `?1`: SQLite's numbered parameters.
fn placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let n = self
            .0
            .execute(&placeholders(sql), rusqlite::params_from_iter(bind(params)))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let mut stmt = self.0.prepare(&placeholders(sql))?;
        let cols = stmt.column_count();
        let rows = stmt.query_map(rusqlite::params_from_iter(bind(params)), |r| {
            (0..cols)
                .map(|c| {
                    Ok(match r.get::<_, Value>(c)? {
                        Value::Integer(v) => Cell::Int(v),
                        Value::Text(s) => Cell::Text(s),
                        _ => Cell::Null,
                    })
                })
                .collect::<rusqlite::Result<Row>>()
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<Row>>>()?)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.execute_batch(sql)?)
    }
}

impl Backend for SqliteDb {
    const NAME: &'static str = "sqlite";
    const MIGRATIONS: &'static [&'static str] = &[
        include_str!("migrations/sqlite/001_initial.sql"),
        include_str!("migrations/sqlite/002_idempotency.sql"),
        include_str!("migrations/sqlite/003_agent_records.sql"),
    ];

    fn transaction<T>(&self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let result = retry_busy(|| {
            // A busy error anywhere (begin, a statement, commit) rolls the whole
            // transaction back when `tx` drops; the retry starts it afresh.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&mut SqliteTx(&tx))?;
            tx.commit()?;
            Ok(out)
        });
        result.map_err(|e| refusal(e, &self.path, Some(&conn)))
    }

    fn lock_table(&self, _tx: &mut dyn Tx, _table: &str) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_errors_are_told_apart_from_others() {
        let busy = StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(5),
            Some("database is locked".into()),
        ));
        assert!(is_busy(&busy));
        let constraint = StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(19),
            None,
        ));
        assert!(!is_busy(&constraint));
    }

    #[test]
    fn a_retried_call_returns_once_the_store_frees_up() {
        let mut calls = 0;
        let out = retry_busy(|| {
            calls += 1;
            if calls < 3 {
                Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(5),
                    None,
                )))
            } else {
                Ok(calls)
            }
        })
        .unwrap();
        assert_eq!(out, 3);
    }

    #[test]
    fn store_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.db");
        let _db = SqliteDb::open(&path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
}
