//! One operation as it runs: every phase change is written to the store (compare and
//! set) before the side effect it allows, published as an event, and offered to a
//! test's fault point; the target's lease is taken, renewed on a thread while the
//! operation lives, and given back when it ends.

use crate::holder::{new_id, now_ms, Holder};
use crate::ops::{EngineEvent, OpsError, Outcome};
use serde_json::{json, Value};
use slipway_store::{
    AuditRecord, Deployment, Lease, NewAudit, NewEvent, Operation, Phase, Store, Transition,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The kind of the caller-only event `settle` sends once the target is free.
pub const RELEASED: &str = "released";

/// How long a lease lasts without renewal, and how often it is renewed.
pub const LEASE_TTL_MS: i64 = 30_000;
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// Test hook: `SLIPWAY_FAULT_PAUSE_AT=<phase>` stops the process right after that phase
/// is recorded, so a test can kill it there (`kill -9`) and check the recovery.
fn fault_point(phase: Phase) {
    if std::env::var("SLIPWAY_FAULT_PAUSE_AT").is_ok_and(|p| p == phase.as_str()) {
        eprintln!(
            "slipway: paused at {} (SLIPWAY_FAULT_PAUSE_AT)",
            phase.as_str()
        );
        std::thread::sleep(Duration::from_secs(600));
    }
}

struct Renewal {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Renewal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub struct OpRun<'a> {
    pub store: Arc<dyn Store>,
    pub holder: Holder,
    pub dep: Deployment,
    pub op: Operation,
    pub sink: &'a mut dyn FnMut(&EngineEvent),
    pub actor: String,
    renewal: Option<Renewal>,
    locked: bool,
}

impl<'a> OpRun<'a> {
    /// Records a new operation in `queued`, under `ops.operation_id` when the caller
    /// named it, else a new id.
    pub fn start(
        ops: &crate::Ops,
        dep: Deployment,
        kind: &str,
        sink: &'a mut dyn FnMut(&EngineEvent),
    ) -> Result<OpRun<'a>, OpsError> {
        let (store, actor) = (ops.store.clone(), ops.actor.as_str());
        let holder = Holder::current();
        let now = now_ms();
        let op = Operation {
            id: ops.operation_id.clone().unwrap_or_else(|| new_id("op")),
            deployment_id: dep.id.clone(),
            target: dep.target.clone(),
            kind: kind.into(),
            phase: Phase::Queued,
            holder: holder.id(),
            release_id: None,
            error: None,
            detail: "{}".into(),
            created_at: now,
            updated_at: now,
        };
        store.insert_operation(&op)?;
        let mut run = OpRun {
            store,
            holder,
            dep,
            op,
            sink,
            actor: actor.into(),
            renewal: None,
            locked: false,
        };
        run.event("phase", json!({ "phase": "queued", "kind": kind }));
        Ok(run)
    }

    /// Continues an existing operation (reconciliation after a crash).
    pub fn resume(
        store: Arc<dyn Store>,
        dep: Deployment,
        op: Operation,
        actor: &str,
        sink: &'a mut dyn FnMut(&EngineEvent),
    ) -> OpRun<'a> {
        OpRun {
            store,
            holder: Holder::current(),
            dep,
            op,
            sink,
            actor: actor.into(),
            renewal: None,
            locked: false,
        }
    }

    pub fn event(&mut self, kind: &str, data: Value) {
        let text = data.to_string();
        let at = now_ms();
        // Events are progress, not state: a store hiccup here must not stop an apply.
        let seq = self
            .store
            .append_event(
                &NewEvent {
                    deployment_id: &self.dep.id,
                    operation_id: Some(&self.op.id),
                    kind,
                    data: &text,
                },
                at,
            )
            .unwrap_or(0);
        (self.sink)(&EngineEvent {
            seq,
            at,
            deployment_id: self.dep.id.clone(),
            operation_id: Some(self.op.id.clone()),
            kind: kind.into(),
            data,
        });
    }

    /// Moves to `to` from the phase we are in; fails if someone else moved it.
    pub fn to(
        &mut self,
        to: Phase,
        error: Option<&str>,
        release: Option<&str>,
        detail: Option<&Value>,
    ) -> Result<(), OpsError> {
        let text = detail.map(Value::to_string);
        let moved = self.store.transition(&Transition {
            operation_id: &self.op.id,
            from: &[self.op.phase],
            to,
            at: now_ms(),
            error,
            release_id: release,
            detail: text.as_deref(),
        })?;
        if !moved {
            return Err(OpsError::Lost(self.op.id.clone()));
        }
        self.op.phase = to;
        if let Some(e) = error {
            self.op.error = Some(e.into());
        }
        if let Some(r) = release {
            self.op.release_id = Some(r.into());
        }
        if let Some(t) = text {
            self.op.detail = t;
        }
        let mut data = json!({ "phase": to.as_str() });
        if let Some(e) = error {
            data["error"] = json!(e);
        }
        self.event("phase", data);
        fault_point(to);
        Ok(())
    }

    pub fn audit(&self, kind: &str, action: &str, detail: &Value) -> Result<AuditRecord, OpsError> {
        Ok(self.store.append_audit(
            &NewAudit {
                deployment_id: &self.dep.id,
                operation_id: Some(&self.op.id),
                kind,
                action,
                actor: &self.actor,
                detail: &detail.to_string(),
            },
            now_ms(),
        )?)
    }

    /// Takes the target's lease (replacing `dead_holder` if given); on success a thread
    /// renews it until the operation ends.
    pub fn lock(&mut self, dead_holder: Option<&str>) -> Result<Result<(), Lease>, OpsError> {
        let now = now_ms();
        let lease = Lease {
            target: self.dep.target.clone(),
            holder: self.holder.id(),
            boot_id: self.holder.boot_id.clone(),
            pid: i64::from(self.holder.pid),
            operation_id: self.op.id.clone(),
            deployment_id: self.dep.id.clone(),
            acquired_at: now,
            expires_at: now + LEASE_TTL_MS,
        };
        if let Err(held) = self.store.acquire_lease(&lease, now, dead_holder)? {
            return Ok(Err(held));
        }
        self.locked = true;
        let stop = Arc::new(AtomicBool::new(false));
        let (store, held, flag) = (self.store.clone(), lease.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let mut waited = Duration::ZERO;
            while !flag.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                waited += Duration::from_millis(200);
                if waited >= RENEW_EVERY {
                    waited = Duration::ZERO;
                    let _ = store.renew_lease(&held.as_ref(), now_ms() + LEASE_TTL_MS);
                }
            }
        });
        self.renewal = Some(Renewal {
            stop,
            handle: Some(handle),
        });
        Ok(Ok(()))
    }

    /// Ends the operation with `result`: an error moves an open operation to `failed`;
    /// either way one `result` event (the outcome, or the failure as an outcome)
    /// is stored, so a client following the operation always learns how it ended.
    pub fn settle(&mut self, result: Result<Outcome, OpsError>) -> Result<Outcome, OpsError> {
        let out = match &result {
            Ok(out) => out.clone(),
            Err(e) => {
                if !self.op.phase.is_terminal() {
                    let _ = self.to(Phase::Failed, Some(&e.to_string()), None, None);
                }
                let mut out = crate::deploy::outcome(self);
                out.phase = self.op.phase;
                out.error = Some(e.to_string());
                if let OpsError::Runtime(r) = e {
                    out.engine_output = r.engine_output().map(str::to_string);
                }
                out
            }
        };
        // The target is free before anyone learns the operation ended, so a client
        // acting on the result is never refused by the lease it just saw released.
        self.unlock();
        // Told to the caller only (not stored): whoever keeps its own claim on the
        // target frees it now, before the result is visible.
        (self.sink)(&EngineEvent {
            seq: 0,
            at: now_ms(),
            deployment_id: self.dep.id.clone(),
            operation_id: Some(self.op.id.clone()),
            kind: RELEASED.into(),
            data: Value::Null,
        });
        self.event("result", serde_json::to_value(&out).unwrap_or(Value::Null));
        result
    }

    pub fn unlock(&mut self) {
        self.renewal = None;
        if self.locked {
            let holder = self.holder.id();
            let _ = self.store.release_lease(&slipway_store::LeaseRef {
                target: &self.dep.target,
                holder: &holder,
                operation_id: &self.op.id,
            });
            self.locked = false;
        }
    }
}

impl Drop for OpRun<'_> {
    fn drop(&mut self) {
        self.unlock();
    }
}
