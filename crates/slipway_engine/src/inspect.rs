//! `slipway status`, `slipway drift` and `slipway history`: what runs, whether it is
//! still what was deployed, and what was done. Health (from the engine now), sync (from
//! the latest drift scan) and the current operation are reported separately.

use crate::deploy::runtime_for;
use crate::generate::{generate, GenerateOptions};
use crate::holder::now_ms;
use crate::operation::OpRun;
use crate::ops::{EngineEvent, Ops, OpsError};
use crate::reconcile::reconcile;
use serde::Serialize;
use serde_json::{json, Value};
use slipway_emit::{manifest_hashes, sha256_hex, MANIFEST_PATH};
use slipway_runtime::{compare, desired_services, Difference, HealthReport, Runtime};
use slipway_store::{
    verify_chain, AuditRecord, Deployment, DriftFinding, DriftScan, Operation, Phase, Release,
};
use std::path::PathBuf;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct OperationView {
    pub id: String,
    pub kind: String,
    pub phase: Phase,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub updated_at: i64,
    /// What may be asked of this deployment now.
    pub allowed_actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SyncView {
    /// `in_sync`, `drifted` or `unknown` (never scanned).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<i64>,
    pub findings: Vec<DriftFinding>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Status {
    pub schema_version: u32,
    pub deployment: Deployment,
    /// The latest operation of this deployment.
    pub operation: Option<OperationView>,
    /// The deployment whose release the engine should be running on this target.
    pub serving_deployment: Option<String>,
    pub serving: bool,
    pub health: Option<HealthReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_error: Option<String>,
    pub sync: SyncView,
    pub recent_audit: Vec<AuditRecord>,
    /// The serving release's services: what each depends on, replicas, published ports.
    #[serde(default)]
    pub topology: Vec<TopologyNode>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TopologyNode {
    pub service: String,
    pub depends_on: Vec<String>,
    pub replicas: u32,
    pub ports: Vec<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DriftReport {
    pub schema_version: u32,
    pub deployment_id: String,
    pub serving_deployment: String,
    pub scan_id: String,
    pub at: i64,
    pub in_sync: bool,
    pub findings: Vec<DriftFinding>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct History {
    pub schema_version: u32,
    pub deployment_id: Option<String>,
    /// Whether every record of the log (not only these) chains to the one before it.
    pub chain_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_error: Option<String>,
    pub records: Vec<AuditRecord>,
}

/// The deployment `id` names, or the one operated on last.
pub(crate) fn resolve(ops: &Ops, id: Option<&str>) -> Result<Deployment, OpsError> {
    if let Some(id) = id {
        return ops
            .store
            .deployment(id)?
            .ok_or_else(|| OpsError::UnknownDeployment(id.to_string()));
    }
    let last = ops
        .store
        .operations(None)?
        .into_iter()
        .last()
        .ok_or(OpsError::NoDeployments)?;
    ops.store
        .deployment(&last.deployment_id)?
        .ok_or(OpsError::NoDeployments)
}

/// The operation and release serving on a target.
fn serving(ops: &Ops, target: &str) -> Result<Option<(Operation, Release)>, OpsError> {
    let Some(op) = ops.store.last_good(target, None)? else {
        return Ok(None);
    };
    let Some(rel) = op
        .release_id
        .as_deref()
        .map(|r| ops.store.release(r))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    Ok(Some((op, rel)))
}

fn desired_of(
    rt: &dyn Runtime,
    rel: &Release,
) -> Result<std::collections::BTreeMap<String, slipway_runtime::DesiredService>, OpsError> {
    let doc: Value = serde_json::from_str(&rel.document)
        .map_err(|e| slipway_store::StoreError::Corrupt(format!("release {}: {e}", rel.id)))?;
    Ok(desired_services(&rt.engine_document(&doc)))
}

/// Reconciles interrupted operations, then reports (see `status_view`).
pub fn status(
    ops: &Ops,
    id: Option<&str>,
    sink: &mut dyn FnMut(&EngineEvent),
) -> Result<Status, OpsError> {
    reconcile(ops, sink)?;
    status_view(ops, id)
}

/// A deployment's status without reconciling first (a long-running agent reconciles
/// when it starts and owns its operations afterwards).
pub fn status_view(ops: &Ops, id: Option<&str>) -> Result<Status, OpsError> {
    let dep = resolve(ops, id)?;
    let rt = runtime_for(&dep.runtime)?;
    let serving = serving(ops, &dep.target)?;
    let (mut health, mut health_error) = (None, None);
    let mut topology = Vec::new();
    if let Some((_, rel)) = &serving {
        let desired = desired_of(rt.as_ref(), rel)?;
        topology = desired
            .values()
            .map(|s| TopologyNode {
                service: s.name.clone(),
                depends_on: s.depends_on.clone(),
                replicas: s.replicas,
                ports: s.ports.iter().map(ToString::to_string).collect(),
            })
            .collect();
        match rt.observe(&dep.project) {
            Ok(observed) => health = Some(slipway_runtime::summarize_health(&desired, &observed)),
            Err(e) => health_error = Some(e.to_string()),
        }
    }
    let serving_deployment = serving.as_ref().map(|(_, r)| r.deployment_id.clone());
    let rollback_possible = ops.store.last_good(&dep.target, Some(&dep.id))?.is_some();
    let operation = ops
        .store
        .operations(Some(&dep.id))?
        .into_iter()
        .last()
        .map(|op| {
            let open = !op.phase.is_terminal() || (op.phase == Phase::Planned && op.kind != "plan");
            let mut allowed: Vec<&str> = if open {
                vec!["wait"]
            } else {
                vec!["deploy", "plan"]
            };
            if !open && serving.is_some() {
                allowed.push("drift-scan");
            }
            if !open && rollback_possible {
                allowed.push("rollback");
            }
            OperationView {
                id: op.id,
                kind: op.kind,
                phase: op.phase,
                error: op.error,
                updated_at: op.updated_at,
                allowed_actions: allowed.into_iter().map(str::to_string).collect(),
            }
        });
    let sync = match ops.store.latest_drift_scan(&dep.id)? {
        Some(scan) => SyncView {
            state: if scan.findings.is_empty() {
                "in_sync"
            } else {
                "drifted"
            }
            .into(),
            scanned_at: Some(scan.at),
            findings: scan.findings,
        },
        None => SyncView {
            state: "unknown".into(),
            scanned_at: None,
            findings: Vec::new(),
        },
    };
    let mut recent_audit = ops.store.audit(Some(&dep.id), 0, usize::MAX)?;
    let keep = recent_audit.len().saturating_sub(10);
    recent_audit.drain(..keep);
    Ok(Status {
        schema_version: SCHEMA_VERSION,
        serving: serving_deployment.as_deref() == Some(dep.id.as_str()),
        serving_deployment,
        deployment: dep,
        operation,
        health,
        health_error,
        sync,
        recent_audit,
        topology,
    })
}

fn remediation(d: &Difference) -> String {
    let s = &d.subject;
    match d.category.as_str() {
        "service" => format!("`slipway deploy` recreates `{s}`"),
        "orphan" => format!("`{s}` is not declared: `slipway deploy` removes it (or declare it in the spec to keep it)"),
        "image" => format!("`slipway deploy` puts the release's image back on `{s}`"),
        "environment" => format!("`slipway deploy` restores `{}` on `{s}`; to keep the new value, set it in the spec and deploy", d.field),
        "ports" => format!("`slipway deploy` restores the published ports of `{s}`"),
        "replicas" => format!("`slipway deploy` scales `{s}` back to {}; to keep {}, change `replicas` in the spec", d.desired, d.observed),
        "state" => format!("`slipway deploy` starts `{s}` again; check `docker logs` for why it stopped"),
        "health" => format!("`{s}` fails its health check: read its logs, then redeploy or `slipway rollback`"),
        _ => "`slipway deploy`".into(),
    }
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Generated files whose bytes differ from what the manifest recorded.
fn file_findings(dep: &Deployment, serving_detail: &Value) -> Result<Vec<DriftFinding>, OpsError> {
    let out_dir = PathBuf::from(&dep.out_dir);
    let Ok(manifest) = std::fs::read_to_string(out_dir.join(MANIFEST_PATH)) else {
        return Ok(vec![DriftFinding {
            category: "file".into(),
            subject: MANIFEST_PATH.into(),
            field: "missing".into(),
            desired: "present".into(),
            observed: "absent".into(),
            remediation: "`slipway deploy --overwrite` writes the generated files again".into(),
        }]);
    };
    let image_map: Vec<(String, String)> =
        serde_json::from_value(serving_detail["image_map"].clone()).unwrap_or_default();
    let regenerated = generate(&GenerateOptions {
        spec: PathBuf::from(&dep.spec_path),
        out: Some(out_dir.clone()),
        environment: Some(dep.environment.clone()),
        image_map,
        dry_run: true,
        ..GenerateOptions::default()
    })?;
    let mut out = Vec::new();
    for (path, recorded) in manifest_hashes(&manifest) {
        let Ok(text) = std::fs::read_to_string(out_dir.join(&path)) else {
            out.push(DriftFinding {
                category: "file".into(),
                subject: path.clone(),
                field: "missing".into(),
                desired: format!("sha256:{}", &recorded[..12.min(recorded.len())]),
                observed: "absent".into(),
                remediation: "`slipway deploy` writes it again".into(),
            });
            continue;
        };
        let actual = sha256_hex(text.as_bytes());
        if actual == recorded || serving_detail["adopted"][&path].as_str() == Some(actual.as_str())
        {
            continue;
        }
        let generated = regenerated
            .changes
            .iter()
            .find(|c| c.path == path)
            .and_then(|c| c.new.clone());
        let whitespace_only = generated.is_some_and(|g| normalize_ws(&g) == normalize_ws(&text));
        out.push(DriftFinding {
            category: "file".into(),
            subject: path.clone(),
            field: if whitespace_only { "whitespace" } else { "content" }.into(),
            desired: format!("sha256:{}", &recorded[..12.min(recorded.len())]),
            observed: format!("sha256:{}{}", &actual[..12], if whitespace_only { " (whitespace only)" } else { " (edited by hand)" }),
            remediation: if whitespace_only {
                "only whitespace changed: harmless; `slipway deploy --overwrite` restores the generated bytes".into()
            } else {
                "review the edit: `slipway deploy --adopt` deploys it as it is, `--overwrite` regenerates the file".into()
            },
        });
    }
    Ok(out)
}

/// Desired against actual, now: the engine's containers and the generated files.
pub fn drift(
    ops: &Ops,
    id: Option<&str>,
    sink: &mut dyn FnMut(&EngineEvent),
) -> Result<DriftReport, OpsError> {
    reconcile(ops, sink)?;
    let dep = resolve(ops, id)?;
    let rt = runtime_for(&dep.runtime)?;
    let Some((op, rel)) = serving(ops, &dep.target)? else {
        return Err(OpsError::NothingToRollBack(format!(
            "nothing has been deployed on {} yet, so there is nothing to compare",
            dep.target
        )));
    };
    let desired = desired_of(rt.as_ref(), &rel)?;
    let observed = rt.observe(&dep.project)?;
    let mut findings: Vec<DriftFinding> = compare(&desired, &observed)
        .into_iter()
        .map(|d| DriftFinding {
            remediation: remediation(&d),
            category: d.category,
            subject: d.subject,
            field: d.field,
            desired: d.desired,
            observed: d.observed,
        })
        .collect();
    let detail: Value = serde_json::from_str(&op.detail).unwrap_or_else(|_| json!({}));
    findings.extend(file_findings(&dep, &detail)?);
    let mut run = OpRun::start(
        &crate::Ops {
            operation_id: None,
            ..ops.clone()
        },
        dep,
        "scan",
        sink,
    )?;
    let at = now_ms();
    ops.store.put_drift_scan(&DriftScan {
        id: run.op.id.clone(),
        deployment_id: run.dep.id.clone(),
        at,
        findings: findings.clone(),
    })?;
    run.event("drift", json!({ "findings": findings.len(), "categories": findings.iter().map(|f| f.category.as_str()).collect::<Vec<_>>() }));
    run.to(
        Phase::Succeeded,
        None,
        None,
        Some(&json!({ "findings": findings.len(), "against_release": rel.id })),
    )?;
    Ok(DriftReport {
        schema_version: SCHEMA_VERSION,
        deployment_id: run.dep.id.clone(),
        serving_deployment: rel.deployment_id,
        scan_id: run.op.id.clone(),
        at,
        in_sync: findings.is_empty(),
        findings,
    })
}

/// The audit log (one deployment's records, or all), with the whole chain verified.
pub fn history(ops: &Ops, id: Option<&str>) -> Result<History, OpsError> {
    if let Some(id) = id {
        ops.store
            .deployment(id)?
            .ok_or_else(|| OpsError::UnknownDeployment(id.to_string()))?;
    }
    let all = ops.store.audit(None, 0, usize::MAX)?;
    let verified = verify_chain(&all);
    let records = all
        .into_iter()
        .filter(|r| id.is_none_or(|d| r.deployment_id == d))
        .collect();
    Ok(History {
        schema_version: SCHEMA_VERSION,
        deployment_id: id.map(str::to_string),
        chain_verified: verified.is_ok(),
        chain_error: verified.err(),
        records,
    })
}
