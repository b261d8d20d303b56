//! Recovery after a crash. An operation left open by a process that is gone becomes
//! `interrupted`, its audit intents get their outcome (`interrupted`), and it is
//! reconciled against the engine, never re-applied blindly: interrupted before the
//! engine was touched, it failed; interrupted during an apply, it succeeded if the
//! engine runs its release healthy and in sync, else the last good release goes back.

use crate::deploy::{apply_audited, auto_rollback, outcome, runtime_for};
use crate::holder::{now_ms, Holder};
use crate::operation::OpRun;
use crate::ops::{EngineEvent, Ops, OpsError, Outcome};
use serde_json::{json, Value};
use slipway_runtime::{
    compare, desired_services, wait_healthy, ApplyOptions, Runtime, RuntimeError,
};
use slipway_store::{Phase, StoreError};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a reconciliation waits for containers still starting.
const SETTLE: Duration = Duration::from_secs(120);

/// Gives every audit intent of the run's operation that has no outcome one.
fn close_intents(run: &OpRun<'_>, reason: &str) -> Result<(), OpsError> {
    let records = run.store.audit(Some(&run.dep.id), 0, usize::MAX)?;
    let mut open: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.operation_id.as_deref() == Some(run.op.id.as_str()))
    {
        match r.kind.as_str() {
            "intent" => open.entry(r.action.clone()).or_default().push(r.seq),
            "outcome" => {
                if let Some(v) = open.get_mut(&r.action) {
                    v.pop();
                }
            }
            _ => {}
        }
    }
    for (action, seqs) in open {
        for seq in seqs {
            run.audit(
                "outcome",
                &action,
                &json!({ "result": "interrupted", "intent_seq": seq, "reason": reason }),
            )?;
        }
    }
    Ok(())
}

/// The engine side: is the release the operation was putting on healthy and in sync?
fn engine_truth(run: &mut OpRun<'_>, rt: &dyn Runtime, prior: Phase) -> Result<Outcome, OpsError> {
    let detail: Value = serde_json::from_str(&run.op.detail).unwrap_or_else(|_| json!({}));
    let rolling_back = prior == Phase::RollingBack;
    let release_id = if rolling_back {
        detail["rollback_to"]["release"]
            .as_str()
            .map(str::to_string)
    } else {
        run.op.release_id.clone()
    };
    let Some(release_id) = release_id else {
        run.to(
            Phase::Failed,
            Some(&format!(
                "interrupted in phase {} before a release was chosen; the engine was not touched",
                prior.as_str()
            )),
            None,
            None,
        )?;
        return Ok(outcome(run));
    };
    let rel = run
        .store
        .release(&release_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("release {release_id} is missing")))?;
    let doc: Value = serde_json::from_str(&rel.document)
        .map_err(|e| StoreError::Corrupt(format!("release {release_id}: {e}")))?;
    let desired = desired_services(&rt.engine_document(&doc));
    let project = run.dep.project.clone();
    let healthy = wait_healthy(rt, &project, &desired, &[], SETTLE, &mut |p| {
        run.event("progress", json!(p));
    });
    let drift: Vec<_> = compare(&desired, &rt.observe(&project)?)
        .into_iter()
        .filter(|d| !matches!(d.category.as_str(), "health" | "state"))
        .collect();
    let opts = ApplyOptions::default();
    if healthy.is_ok() && drift.is_empty() {
        let note = json!({ "reconciled": "the engine runs this release, healthy and in sync" });
        run.event("reconcile", note);
        run.to(
            if rolling_back {
                Phase::RolledBack
            } else {
                Phase::Succeeded
            },
            None,
            None,
            None,
        )?;
        let mut out = outcome(run);
        out.health = healthy.ok();
        return Ok(out);
    }
    let why = match healthy {
        Err(e) => e.to_string(),
        Ok(_) => format!(
            "{} difference(s) from the release on the engine",
            drift.len()
        ),
    };
    if rolling_back {
        // Finish the rollback that was under way.
        return match apply_audited(run, rt, &rel, &opts, "rollback")? {
            Ok(h) => {
                run.to(Phase::RolledBack, None, None, None)?;
                let mut out = outcome(run);
                out.health = Some(h);
                Ok(out)
            }
            Err(e) => {
                run.to(
                    Phase::Failed,
                    Some(&format!(
                        "the interrupted rollback could not be finished: {e}"
                    )),
                    None,
                    None,
                )?;
                Ok(outcome(run))
            }
        };
    }
    auto_rollback(
        run,
        rt,
        &RuntimeError::Unhealthy(format!(
            "interrupted during {}; afterwards: {why}",
            prior.as_str()
        )),
        &opts,
    )
}

/// Reconciles every open operation whose holder is gone. Returns what it settled.
pub fn reconcile(ops: &Ops, sink: &mut dyn FnMut(&EngineEvent)) -> Result<Vec<Outcome>, OpsError> {
    let me = Holder::current();
    let mut settled = Vec::new();
    for op in ops.store.open_operations()? {
        let lease = ops
            .store
            .lease(&op.target)?
            .filter(|l| l.operation_id == op.id);
        if me.is_alive(&op.holder, lease.as_ref(), now_ms()) {
            continue;
        }
        let Some(dep) = ops.store.deployment(&op.deployment_id)? else {
            continue;
        };
        let prior = op.phase;
        let dead = op.holder.clone();
        let mut detail: Value = serde_json::from_str(&op.detail).unwrap_or_else(|_| json!({}));
        detail["interrupted"] = json!({ "phase": prior.as_str(), "holder": dead, "at": now_ms() });
        let mut run = OpRun::resume(ops.store.clone(), dep, op, &ops.actor, sink);
        match run.to(Phase::Interrupted, None, None, Some(&detail)) {
            Ok(()) => {}
            // Another process got to it first.
            Err(OpsError::Lost(_)) => continue,
            Err(e) => return Err(e),
        }
        close_intents(
            &run,
            &format!(
                "the process running operation {} stopped in phase {}",
                run.op.id,
                prior.as_str()
            ),
        )?;
        run.to(Phase::Reconciling, None, None, None)?;
        if let Err(held) = run.lock(Some(&dead))? {
            run.to(Phase::Failed, Some(&format!("interrupted in phase {}; target {} is now held by operation {}, so the engine was not inspected", prior.as_str(), run.dep.target, held.operation_id)), None, None)?;
            settled.push(run.settle(Ok(outcome(&run)))?);
            continue;
        }
        let out = match prior {
            Phase::Queued | Phase::Locking | Phase::Planning | Phase::Planned => run
                .to(Phase::Failed, Some(&format!("interrupted in phase {} before anything was applied; the engine was not touched", prior.as_str())), None, None)
                .map(|()| outcome(&run)),
            _ => runtime_for(&run.dep.runtime)
                .and_then(|rt| engine_truth(&mut run, rt.as_ref(), prior)),
        };
        // Whoever followed the operation learns how it was settled.
        let out = run.settle(out)?;
        run.unlock();
        settled.push(out);
    }
    Ok(settled)
}
