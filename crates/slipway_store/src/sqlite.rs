//! The SQLite backend: one file, WAL journal, `synchronous = FULL` (fsync on every
//! commit), write transactions begun IMMEDIATE so writers queue on the busy timeout
//! instead of failing.

use crate::sql::{Backend, Cell, Param, Row, Tx};
use crate::{Result, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

pub struct SqliteDb {
    conn: Mutex<Connection>,
}

impl SqliteDb {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(SqliteDb {
            conn: Mutex::new(conn),
        })
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
    const MIGRATIONS: &'static [&'static str] =
        &[include_str!("migrations/sqlite/001_initial.sql")];

    fn transaction<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&mut SqliteTx(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn lock_table(&self, _tx: &mut dyn Tx, _table: &str) -> Result<()> {
        Ok(())
    }
}
