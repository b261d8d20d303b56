//! Every query, written once for both backends. A backend gives transactions over a
//! `Tx` (execute, query, batch) and its migrations; SQL uses `$1` placeholders, which
//! the SQLite backend rewrites to `?1`.

use crate::types::{
    audit_hash, AuditRecord, Deployment, DriftFinding, DriftScan, Event, GenerateRecord,
    IdempotencyRecord, Lease, LeaseRef, NewAudit, NewEvent, Operation, Phase, Release, Transition,
    GENESIS,
};
use crate::{Result, Store, StoreError};
use std::fmt::Write as _;

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

/// A value read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Int(i64),
    Text(String),
    Null,
}

pub type Row = Vec<Cell>;

pub trait Tx {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64>;
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>>;
    fn batch(&mut self, sql: &str) -> Result<()>;
}

pub trait Backend: Send + Sync + 'static {
    const NAME: &'static str;
    /// Schema versions in order; each is one batch.
    const MIGRATIONS: &'static [&'static str];
    /// Runs `f` in one transaction that may write; committed when `f` returns `Ok`.
    fn transaction<T>(&self, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T>;
    /// Serializes writers of `table` until the transaction ends (appends that number
    /// their own rows need it). SQLite's write transactions are serialized already.
    fn lock_table(&self, tx: &mut dyn Tx, table: &str) -> Result<()>;
}

/// The `Store` over any backend.
pub struct SqlStore<B: Backend> {
    db: B,
}

fn i(v: i64) -> Param<'static> {
    Param::Int(Some(v))
}
fn t(v: &str) -> Param<'_> {
    Param::Text(Some(v))
}
fn ot(v: Option<&str>) -> Param<'_> {
    Param::Text(v)
}

fn text(c: &Cell) -> Result<String> {
    match c {
        Cell::Text(s) => Ok(s.clone()),
        other => Err(StoreError::Corrupt(format!(
            "expected text, found {other:?}"
        ))),
    }
}
fn opt_text(c: &Cell) -> Result<Option<String>> {
    match c {
        Cell::Null => Ok(None),
        c => text(c).map(Some),
    }
}
fn int(c: &Cell) -> Result<i64> {
    match c {
        Cell::Int(v) => Ok(*v),
        other => Err(StoreError::Corrupt(format!(
            "expected an integer, found {other:?}"
        ))),
    }
}

const DEPLOYMENT_COLS: &str =
    "id, project, environment, runtime, target, spec_hash, generator, spec_path, out_dir, created_at";
const OPERATION_COLS: &str =
    "id, deployment_id, target, kind, phase, holder, release_id, error, detail, created_at, updated_at";
const LEASE_COLS: &str =
    "target, holder, boot_id, pid, operation_id, deployment_id, acquired_at, expires_at";
const AUDIT_COLS: &str =
    "seq, at, deployment_id, operation_id, kind, action, actor, detail, prev_hash, hash";
const EVENT_COLS: &str = "seq, at, deployment_id, operation_id, kind, data";
const IDEMPOTENCY_COLS: &str = "key, request_hash, operation_id, response, created_at, expires_at";

fn generate_record(r: &Row) -> Result<GenerateRecord> {
    Ok(GenerateRecord {
        deployment_id: text(&r[0])?,
        request_digest: text(&r[1])?,
        request: text(&r[2])?,
        response: text(&r[3])?,
        created_at: int(&r[4])?,
    })
}

fn text_of(c: &Cell) -> Result<String> {
    text(c)
}

fn idempotency(r: &Row) -> Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        key: text(&r[0])?,
        request_hash: text(&r[1])?,
        operation_id: text(&r[2])?,
        response: text(&r[3])?,
        created_at: int(&r[4])?,
        expires_at: int(&r[5])?,
    })
}

fn deployment(r: &Row) -> Result<Deployment> {
    Ok(Deployment {
        id: text(&r[0])?,
        project: text(&r[1])?,
        environment: text(&r[2])?,
        runtime: text(&r[3])?,
        target: text(&r[4])?,
        spec_hash: text(&r[5])?,
        generator: text(&r[6])?,
        spec_path: text(&r[7])?,
        out_dir: text(&r[8])?,
        created_at: int(&r[9])?,
    })
}

fn operation(r: &Row) -> Result<Operation> {
    let phase = text(&r[4])?;
    Ok(Operation {
        id: text(&r[0])?,
        deployment_id: text(&r[1])?,
        target: text(&r[2])?,
        kind: text(&r[3])?,
        phase: Phase::parse(&phase)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown phase `{phase}`")))?,
        holder: text(&r[5])?,
        release_id: opt_text(&r[6])?,
        error: opt_text(&r[7])?,
        detail: text(&r[8])?,
        created_at: int(&r[9])?,
        updated_at: int(&r[10])?,
    })
}

fn lease(r: &Row) -> Result<Lease> {
    Ok(Lease {
        target: text(&r[0])?,
        holder: text(&r[1])?,
        boot_id: text(&r[2])?,
        pid: int(&r[3])?,
        operation_id: text(&r[4])?,
        deployment_id: text(&r[5])?,
        acquired_at: int(&r[6])?,
        expires_at: int(&r[7])?,
    })
}

fn audit(r: &Row) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: int(&r[0])?,
        at: int(&r[1])?,
        deployment_id: text(&r[2])?,
        operation_id: opt_text(&r[3])?,
        kind: text(&r[4])?,
        action: text(&r[5])?,
        actor: text(&r[6])?,
        detail: text(&r[7])?,
        prev_hash: text(&r[8])?,
        hash: text(&r[9])?,
    })
}

fn event(r: &Row) -> Result<Event> {
    Ok(Event {
        seq: int(&r[0])?,
        at: int(&r[1])?,
        deployment_id: text(&r[2])?,
        operation_id: opt_text(&r[3])?,
        kind: text(&r[4])?,
        data: text(&r[5])?,
    })
}

fn first<T>(rows: &[Row], f: impl Fn(&Row) -> Result<T>) -> Result<Option<T>> {
    rows.first().map(f).transpose()
}

fn all<T>(rows: &[Row], f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

/// `'a', 'b'` for an `IN (...)` list of our own phase names (never user text).
fn phase_list(phases: &[Phase]) -> String {
    phases.iter().fold(String::new(), |mut s, p| {
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(s, "'{}'", p.as_str());
        s
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl<B: Backend> SqlStore<B> {
    /// Wraps a backend and brings its schema up to date.
    pub fn new(db: B) -> Result<Self> {
        db.transaction(|tx| {
            db.lock_table(tx, "schema_migrations")?;
            tx.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")?;
            let done = tx.query(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?;
            let done = done.first().map_or(Ok(0), |r| int(&r[0]))?;
            for (n, m) in B::MIGRATIONS.iter().enumerate() {
                let version = i64::try_from(n).unwrap_or(i64::MAX) + 1;
                if version > done {
                    tx.batch(m)?;
                    tx.exec(
                        "INSERT INTO schema_migrations (version) VALUES ($1)",
                        &[i(version)],
                    )?;
                }
            }
            Ok(())
        })?;
        Ok(SqlStore { db })
    }

    fn read<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        f: impl Fn(&[Row]) -> Result<T>,
    ) -> Result<T> {
        self.db.transaction(|tx| f(&tx.query(sql, params)?))
    }
}

impl<B: Backend> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn put_deployment(&self, d: &Deployment) -> Result<Deployment> {
        self.db.transaction(|tx| {
            tx.exec(
                &format!("INSERT INTO deployments ({DEPLOYMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING"),
                &[t(&d.id), t(&d.project), t(&d.environment), t(&d.runtime), t(&d.target), t(&d.spec_hash), t(&d.generator), t(&d.spec_path), t(&d.out_dir), i(d.created_at)],
            )?;
            let rows = tx.query(&format!("SELECT {DEPLOYMENT_COLS} FROM deployments WHERE id = $1"), &[t(&d.id)])?;
            first(&rows, deployment)?.ok_or_else(|| StoreError::Corrupt("deployment vanished".into()))
        })
    }

    fn deployment(&self, id: &str) -> Result<Option<Deployment>> {
        self.read(
            &format!("SELECT {DEPLOYMENT_COLS} FROM deployments WHERE id = $1"),
            &[t(id)],
            |r| first(r, deployment),
        )
    }

    fn deployments(&self) -> Result<Vec<Deployment>> {
        self.read(
            &format!("SELECT {DEPLOYMENT_COLS} FROM deployments ORDER BY created_at DESC, id"),
            &[],
            |r| all(r, deployment),
        )
    }

    fn insert_operation(&self, op: &Operation) -> Result<()> {
        self.db.transaction(|tx| {
            tx.exec(
                &format!("INSERT INTO operations ({OPERATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
                &[t(&op.id), t(&op.deployment_id), t(&op.target), t(&op.kind), t(op.phase.as_str()), t(&op.holder), ot(op.release_id.as_deref()), ot(op.error.as_deref()), t(&op.detail), i(op.created_at), i(op.updated_at)],
            )?;
            Ok(())
        })
    }

    fn transition(&self, tr: &Transition<'_>) -> Result<bool> {
        if tr.from.is_empty() {
            return Ok(false);
        }
        self.db.transaction(|tx| {
            let n = tx.exec(
                &format!("UPDATE operations SET phase = $1, updated_at = $2, error = COALESCE($3, error), release_id = COALESCE($4, release_id), detail = COALESCE($5, detail) WHERE id = $6 AND phase IN ({})", phase_list(tr.from)),
                &[t(tr.to.as_str()), i(tr.at), ot(tr.error), ot(tr.release_id), ot(tr.detail), t(tr.operation_id)],
            )?;
            Ok(n == 1)
        })
    }

    fn operation(&self, id: &str) -> Result<Option<Operation>> {
        self.read(
            &format!("SELECT {OPERATION_COLS} FROM operations WHERE id = $1"),
            &[t(id)],
            |r| first(r, operation),
        )
    }

    fn operations(&self, deployment_id: Option<&str>) -> Result<Vec<Operation>> {
        match deployment_id {
            Some(d) => self.read(
                &format!(
                    "SELECT {OPERATION_COLS} FROM operations WHERE deployment_id = $1 ORDER BY seq"
                ),
                &[t(d)],
                |r| all(r, operation),
            ),
            None => self.read(
                &format!("SELECT {OPERATION_COLS} FROM operations ORDER BY seq"),
                &[],
                |r| all(r, operation),
            ),
        }
    }

    fn open_operations(&self) -> Result<Vec<Operation>> {
        self.read(
            &format!(
                // An apply that stopped at `planned` never got to apply: open too.
                "SELECT {OPERATION_COLS} FROM operations WHERE phase IN ({}) OR (phase = 'planned' AND kind <> 'plan') ORDER BY seq",
                phase_list(&Phase::open())
            ),
            &[],
            |r| all(r, operation),
        )
    }

    fn last_good(&self, target: &str, skip_deployment: Option<&str>) -> Result<Option<Operation>> {
        self.read(
            &format!("SELECT {OPERATION_COLS} FROM operations WHERE target = $1 AND phase = 'succeeded' AND kind IN ('apply', 'rollback') AND release_id IS NOT NULL AND release_id NOT IN (SELECT id FROM releases WHERE deployment_id = $2) ORDER BY updated_at DESC, seq DESC LIMIT 1"),
            &[t(target), t(skip_deployment.unwrap_or(""))],
            |r| first(r, operation),
        )
    }

    fn put_release(&self, r: &Release) -> Result<()> {
        self.db.transaction(|tx| {
            tx.exec(
                "INSERT INTO releases (id, deployment_id, target, document, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                &[t(&r.id), t(&r.deployment_id), t(&r.target), t(&r.document), t(&r.digest), i(r.created_at)],
            )?;
            Ok(())
        })
    }

    fn release(&self, id: &str) -> Result<Option<Release>> {
        self.read(
            "SELECT id, deployment_id, target, document, digest, created_at FROM releases WHERE id = $1",
            &[t(id)],
            |rows| {
                first(rows, |r| {
                    Ok(Release {
                        id: text(&r[0])?,
                        deployment_id: text(&r[1])?,
                        target: text(&r[2])?,
                        document: text(&r[3])?,
                        digest: text(&r[4])?,
                        created_at: int(&r[5])?,
                    })
                })
            },
        )
    }

    fn acquire_lease(
        &self,
        l: &Lease,
        now: i64,
        replacing: Option<&str>,
    ) -> Result<Result<(), Lease>> {
        self.db.transaction(|tx| {
            tx.exec(
                &format!("INSERT INTO leases ({LEASE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (target) DO UPDATE SET holder = excluded.holder, boot_id = excluded.boot_id, pid = excluded.pid, operation_id = excluded.operation_id, deployment_id = excluded.deployment_id, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at WHERE leases.expires_at < $9 OR (leases.holder = $2 AND leases.operation_id = $5) OR leases.holder = $10"),
                &[t(&l.target), t(&l.holder), t(&l.boot_id), i(l.pid), t(&l.operation_id), t(&l.deployment_id), i(l.acquired_at), i(l.expires_at), i(now), t(replacing.unwrap_or(""))],
            )?;
            let rows = tx.query(&format!("SELECT {LEASE_COLS} FROM leases WHERE target = $1"), &[t(&l.target)])?;
            let held = first(&rows, lease)?.ok_or_else(|| StoreError::Corrupt("lease vanished".into()))?;
            Ok(if held.holder == l.holder && held.operation_id == l.operation_id { Ok(()) } else { Err(held) })
        })
    }

    fn renew_lease(&self, held: &LeaseRef<'_>, expires_at: i64) -> Result<bool> {
        self.db.transaction(|tx| {
            Ok(tx.exec(
                "UPDATE leases SET expires_at = $1 WHERE target = $2 AND holder = $3 AND operation_id = $4",
                &[i(expires_at), t(held.target), t(held.holder), t(held.operation_id)],
            )? == 1)
        })
    }

    fn release_lease(&self, held: &LeaseRef<'_>) -> Result<bool> {
        self.db.transaction(|tx| {
            Ok(tx.exec(
                "DELETE FROM leases WHERE target = $1 AND holder = $2 AND operation_id = $3",
                &[t(held.target), t(held.holder), t(held.operation_id)],
            )? == 1)
        })
    }

    fn lease(&self, target: &str) -> Result<Option<Lease>> {
        self.read(
            &format!("SELECT {LEASE_COLS} FROM leases WHERE target = $1"),
            &[t(target)],
            |r| first(r, lease),
        )
    }

    fn put_idempotency(
        &self,
        r: &IdempotencyRecord,
        now: i64,
    ) -> Result<Result<(), IdempotencyRecord>> {
        self.db.transaction(|tx| {
            tx.exec("DELETE FROM idempotency WHERE expires_at <= $1", &[i(now)])?;
            tx.exec(
                &format!("INSERT INTO idempotency ({IDEMPOTENCY_COLS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING"),
                &[t(&r.key), t(&r.request_hash), t(&r.operation_id), t(&r.response), i(r.created_at), i(r.expires_at)],
            )?;
            let rows = tx.query(&format!("SELECT {IDEMPOTENCY_COLS} FROM idempotency WHERE key = $1"), &[t(&r.key)])?;
            let held = first(&rows, idempotency)?
                .ok_or_else(|| StoreError::Corrupt("idempotency record vanished".into()))?;
            Ok(if held == *r { Ok(()) } else { Err(held) })
        })
    }

    fn idempotency(&self, key: &str, now: i64) -> Result<Option<IdempotencyRecord>> {
        self.read(
            &format!(
                "SELECT {IDEMPOTENCY_COLS} FROM idempotency WHERE key = $1 AND expires_at > $2"
            ),
            &[t(key), i(now)],
            |r| first(r, idempotency),
        )
    }

    fn drop_idempotency(&self, key: &str) -> Result<()> {
        self.db.transaction(|tx| {
            tx.exec("DELETE FROM idempotency WHERE key = $1", &[t(key)])?;
            Ok(())
        })
    }

    fn put_generate_record(&self, r: &GenerateRecord) -> Result<Result<(), GenerateRecord>> {
        self.db.transaction(|tx| {
            tx.exec(
                "INSERT INTO generate_requests (deployment_id, request_digest, request, response, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (deployment_id) DO NOTHING",
                &[t(&r.deployment_id), t(&r.request_digest), t(&r.request), t(&r.response), i(r.created_at)],
            )?;
            let rows = tx.query(
                "SELECT deployment_id, request_digest, request, response, created_at FROM generate_requests WHERE deployment_id = $1",
                &[t(&r.deployment_id)],
            )?;
            let held = first(&rows, generate_record)?
                .ok_or_else(|| StoreError::Corrupt("generate record vanished".into()))?;
            Ok(if held == *r { Ok(()) } else { Err(held) })
        })
    }

    fn generate_record(&self, deployment_id: &str) -> Result<Option<GenerateRecord>> {
        self.read(
            "SELECT deployment_id, request_digest, request, response, created_at FROM generate_requests WHERE deployment_id = $1",
            &[t(deployment_id)],
            |r| first(r, generate_record),
        )
    }

    fn append_log(&self, log_ref: &str, text: &str, at: i64) -> Result<()> {
        self.db.transaction(|tx| {
            let old = tx.query("SELECT text FROM logs WHERE ref = $1", &[t(log_ref)])?;
            let mut all = match old.first() {
                Some(r) => text_of(&r[0])?,
                None => String::new(),
            };
            all.push_str(text);
            if all.len() > crate::LOG_MAX_BYTES {
                let mut cut = all.len() - crate::LOG_MAX_BYTES;
                while !all.is_char_boundary(cut) {
                    cut += 1;
                }
                all.drain(..cut);
            }
            tx.exec(
                "INSERT INTO logs (ref, text, updated_at) VALUES ($1, $2, $3) ON CONFLICT (ref) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
                &[t(log_ref), t(&all), i(at)],
            )?;
            Ok(())
        })
    }

    fn log(&self, log_ref: &str) -> Result<Option<String>> {
        self.read("SELECT text FROM logs WHERE ref = $1", &[t(log_ref)], |r| {
            r.first().map(|row| text_of(&row[0])).transpose()
        })
    }

    fn append_audit(&self, a: &NewAudit<'_>, at: i64) -> Result<AuditRecord> {
        self.db.transaction(|tx| {
            self.db.lock_table(tx, "audit")?;
            let last = tx.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])?;
            let (seq, prev) = match last.first() {
                Some(r) => (int(&r[0])? + 1, text(&r[1])?),
                None => (1, GENESIS.to_string()),
            };
            let mut rec = AuditRecord {
                seq,
                at,
                deployment_id: a.deployment_id.to_string(),
                operation_id: a.operation_id.map(str::to_string),
                kind: a.kind.to_string(),
                action: a.action.to_string(),
                actor: a.actor.to_string(),
                detail: a.detail.to_string(),
                prev_hash: prev,
                hash: String::new(),
            };
            rec.hash = audit_hash(&rec.prev_hash, &rec);
            tx.exec(
                &format!("INSERT INTO audit ({AUDIT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                &[i(rec.seq), i(rec.at), t(&rec.deployment_id), ot(rec.operation_id.as_deref()), t(&rec.kind), t(&rec.action), t(&rec.actor), t(&rec.detail), t(&rec.prev_hash), t(&rec.hash)],
            )?;
            Ok(rec)
        })
    }

    fn audit(&self, deployment_id: Option<&str>, after: i64, n: usize) -> Result<Vec<AuditRecord>> {
        match deployment_id {
            Some(d) => self.read(&format!("SELECT {AUDIT_COLS} FROM audit WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"), &[t(d), i(after), i(limit(n))], |r| all(r, audit)),
            None => self.read(&format!("SELECT {AUDIT_COLS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"), &[i(after), i(limit(n))], |r| all(r, audit)),
        }
    }

    fn put_drift_scan(&self, scan: &DriftScan) -> Result<()> {
        self.db.transaction(|tx| {
            tx.exec("INSERT INTO drift_scans (id, deployment_id, at) VALUES ($1, $2, $3)", &[t(&scan.id), t(&scan.deployment_id), i(scan.at)])?;
            for (n, f) in scan.findings.iter().enumerate() {
                tx.exec(
                    "INSERT INTO drift_findings (scan_id, idx, category, subject, field, desired, observed, remediation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[t(&scan.id), i(limit(n)), t(&f.category), t(&f.subject), t(&f.field), t(&f.desired), t(&f.observed), t(&f.remediation)],
                )?;
            }
            Ok(())
        })
    }

    fn latest_drift_scan(&self, deployment_id: &str) -> Result<Option<DriftScan>> {
        self.db.transaction(|tx| {
            let rows = tx.query("SELECT id, at FROM drift_scans WHERE deployment_id = $1 ORDER BY seq DESC LIMIT 1", &[t(deployment_id)])?;
            let Some(r) = rows.first() else { return Ok(None) };
            let id = text(&r[0])?;
            let findings = tx.query("SELECT category, subject, field, desired, observed, remediation FROM drift_findings WHERE scan_id = $1 ORDER BY idx", &[t(&id)])?;
            Ok(Some(DriftScan {
                deployment_id: deployment_id.to_string(),
                at: int(&r[1])?,
                findings: all(&findings, |f| {
                    Ok(DriftFinding {
                        category: text(&f[0])?,
                        subject: text(&f[1])?,
                        field: text(&f[2])?,
                        desired: text(&f[3])?,
                        observed: text(&f[4])?,
                        remediation: text(&f[5])?,
                    })
                })?,
                id,
            }))
        })
    }

    fn append_event(&self, e: &NewEvent<'_>, at: i64) -> Result<i64> {
        self.db.transaction(|tx| {
            self.db.lock_table(tx, "events")?;
            let last = tx.query("SELECT COALESCE(MAX(seq), 0) FROM events", &[])?;
            let seq = last.first().map_or(Ok(0), |r| int(&r[0]))? + 1;
            tx.exec(
                &format!("INSERT INTO events ({EVENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"),
                &[
                    i(seq),
                    i(at),
                    t(e.deployment_id),
                    ot(e.operation_id),
                    t(e.kind),
                    t(e.data),
                ],
            )?;
            Ok(seq)
        })
    }

    fn prune_events(&self, before_ms: i64) -> Result<u64> {
        self.db.transaction(|tx| {
            self.db.lock_table(tx, "events")?;
            tx.exec(
                "DELETE FROM events WHERE at < $1 AND seq < (SELECT MAX(seq) FROM events)",
                &[i(before_ms)],
            )
        })
    }

    fn last_event_seq(&self) -> Result<i64> {
        self.read("SELECT COALESCE(MAX(seq), 0) FROM events", &[], |r| {
            r.first().map_or(Ok(0), |row| int(&row[0]))
        })
    }

    fn events(&self, deployment_id: Option<&str>, after: i64, n: usize) -> Result<Vec<Event>> {
        match deployment_id {
            Some(d) => self.read(&format!("SELECT {EVENT_COLS} FROM events WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"), &[t(d), i(after), i(limit(n))], |r| all(r, event)),
            None => self.read(&format!("SELECT {EVENT_COLS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"), &[i(after), i(limit(n))], |r| all(r, event)),
        }
    }
}
