//! The PostgreSQL backend, for several agents side by side. Appends that number their
//! own rows (audit, events) take an exclusive table lock for their transaction;
//! migrations take an advisory lock so two processes never migrate at once.

use crate::sql::{Backend, Cell, Param, Row, Tx};
use crate::{Result, StoreError};
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls};
use std::sync::Mutex;

pub struct PostgresDb {
    client: Mutex<Client>,
}

impl PostgresDb {
    pub fn connect(url: &str) -> Result<Self> {
        Ok(PostgresDb {
            client: Mutex::new(Client::connect(url, NoTls)?),
        })
    }
}

fn bind(params: &[Param<'_>]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match *p {
                Param::Int(v) => Box::new(v),
                Param::Text(s) => Box::new(s.map(str::to_string)),
            }
        })
        .collect()
}

struct PgTx<'a, 'b>(&'a mut postgres::Transaction<'b>);

impl Tx for PgTx<'_, '_> {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let owned = bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(AsRef::as_ref).collect();
        Ok(self.0.execute(sql, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
        let owned = bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(AsRef::as_ref).collect();
        let rows = self.0.query(sql, &refs)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|c| {
                        let ty = r.columns()[c].type_();
                        Ok(if *ty == Type::INT8 {
                            r.get::<_, Option<i64>>(c).map_or(Cell::Null, Cell::Int)
                        } else if *ty == Type::INT4 {
                            r.get::<_, Option<i32>>(c)
                                .map_or(Cell::Null, |v| Cell::Int(i64::from(v)))
                        } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                            r.get::<_, Option<String>>(c).map_or(Cell::Null, Cell::Text)
                        } else if *ty == Type::VOID {
                            Cell::Null
                        } else {
                            return Err(StoreError::Corrupt(format!(
                                "unexpected column type {ty}"
                            )));
                        })
                    })
                    .collect::<Result<Row>>()
            })
            .collect()
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.batch_execute(sql)?)
    }
}

impl Backend for PostgresDb {
    const NAME: &'static str = "postgres";
    const MIGRATIONS: &'static [&'static str] = &[
        include_str!("migrations/postgres/001_initial.sql"),
        include_str!("migrations/postgres/002_idempotency.sql"),
        include_str!("migrations/postgres/003_agent_records.sql"),
    ];

    fn transaction<T>(&self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut client = self.client.lock().map_err(|_| StoreError::Poisoned)?;
        let mut tx = client.transaction()?;
        let out = f(&mut PgTx(&mut tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn lock_table(&self, tx: &mut dyn Tx, table: &str) -> Result<()> {
        if table == "schema_migrations" {
            // The table may not exist yet: lock a number instead (0x5117_3a7 = "slipway").
            tx.query("SELECT pg_advisory_xact_lock(85291943)", &[])?;
            return Ok(());
        }
        tx.batch(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))
    }
}
