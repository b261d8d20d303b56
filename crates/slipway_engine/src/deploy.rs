//! `slipway deploy` and `slipway rollback`: generate, build and pin a release, plan it
//! against what the engine runs, apply it behind the target's lease, gate on health,
//! and roll back to the last good release when a gate fails. Every phase is stored
//! before the step it allows; every engine action has an audit intent before it and an
//! outcome after it.

use crate::generate::{generate, GenerateOptions};
use crate::operation::OpRun;
use crate::ops::{EngineEvent, Ops, OpsError, Outcome};
use crate::paths::absolute;
use crate::reconcile::reconcile;
use crate::write::FileStatus;
use crate::EngineError;
use serde_json::{json, Value};
use slipway_emit::{sha256_hex, GENERATOR};
use slipway_runtime::docker_api::DockerApi;
use slipway_runtime::{
    canonical_json, compare, desired_services, prepare_release, ApplyOptions, ComposeCli,
    HealthReport, Plan, ReleaseInput, Runtime, RuntimeError,
};
use slipway_store::{Deployment, Phase, Release};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Mirrors `slipway deploy`'s flags (hence the several switches).
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub spec: PathBuf,
    pub environment: String,
    pub runtime: String,
    /// Show what would change; apply nothing.
    pub plan_only: bool,
    pub rolling: bool,
    pub deployment_id: Option<String>,
    /// The engine project (default: the spec's `name`).
    pub project: Option<String>,
    pub image_map: Vec<(String, String)>,
    pub out: Option<PathBuf>,
    /// Deploy files edited by hand as they are.
    pub adopt: bool,
    /// Regenerate files edited by hand.
    pub overwrite: bool,
    pub health_timeout: Duration,
    pub call_timeout: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        let a = ApplyOptions::default();
        DeployOptions {
            spec: PathBuf::from("slipway.yaml"),
            environment: "prod".into(),
            runtime: "compose".into(),
            plan_only: false,
            rolling: false,
            deployment_id: None,
            project: None,
            image_map: Vec::new(),
            out: None,
            adopt: false,
            overwrite: false,
            health_timeout: a.health_deadline,
            call_timeout: a.call_timeout,
        }
    }
}

impl DeployOptions {
    fn apply_options(&self) -> ApplyOptions {
        ApplyOptions {
            rolling: self.rolling,
            call_timeout: self.call_timeout,
            health_deadline: self.health_timeout,
        }
    }
}

pub(crate) fn runtime_for(name: &str) -> Result<Box<dyn Runtime>, OpsError> {
    slipway_runtime::runtime(name).ok_or_else(|| OpsError::UnknownRuntime(name.to_string()))
}

pub(crate) fn outcome(run: &OpRun<'_>) -> Outcome {
    Outcome {
        deployment_id: run.dep.id.clone(),
        operation_id: run.op.id.clone(),
        kind: run.op.kind.clone(),
        phase: run.op.phase,
        target: run.dep.target.clone(),
        project: run.dep.project.clone(),
        runtime: run.dep.runtime.clone(),
        plan: None,
        health: None,
        error: run.op.error.clone(),
        engine_output: None,
        engine_exit_code: None,
        rolled_back_to: None,
        refused_by: None,
        up_to_date: false,
        adopted: Vec::new(),
    }
}

/// Writes a random value into every missing secret file slipway owns (resource
/// passwords), as `scripts/start.sh` does: folder 0700, files readable by the
/// containers' non-root users.
fn ensure_secrets(compose_dir: &Path, names: &[String]) -> Result<(), OpsError> {
    if names.is_empty() {
        return Ok(());
    }
    let dir = compose_dir.join("secrets");
    let werr = |path: &Path, source| EngineError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(|e| werr(&dir, e))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| werr(&dir, e))?;
    for n in names {
        let p = dir.join(n);
        if std::fs::metadata(&p).is_ok_and(|m| m.len() > 0) {
            continue;
        }
        let value =
            crate::holder::random_hex(32).map_err(|e| werr(Path::new("/dev/urandom"), e))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&p)
            .map_err(|e| werr(&p, e))?;
        f.write_all(value.as_bytes()).map_err(|e| werr(&p, e))?;
        f.sync_all().map_err(|e| werr(&p, e))?;
    }
    Ok(())
}

/// Puts `release` on the engine with an audit intent before and outcome after; the
/// operation moves to `verifying` when the health gates start.
pub(crate) fn apply_audited(
    run: &mut OpRun<'_>,
    rt: &dyn Runtime,
    release: &Release,
    opts: &ApplyOptions,
    action: &str,
) -> Result<Result<HealthReport, RuntimeError>, OpsError> {
    run.audit("intent", action, &json!({ "release": release.id, "digest": release.digest, "of_deployment": release.deployment_id }))?;
    let doc: Value = serde_json::from_str(&release.document)
        .map_err(|e| slipway_store::StoreError::Corrupt(format!("release {}: {e}", release.id)))?;
    let mut lost = None;
    let project = run.dep.project.clone();
    let result = rt.apply(&project, &doc, opts, &mut |p| {
        if p.step == "wait" && run.op.phase == Phase::Applying {
            if let Err(e) = run.to(Phase::Verifying, None, None, None) {
                lost.get_or_insert(e);
            }
        }
        run.event("progress", json!(p));
    });
    let mut detail = json!({ "release": release.id, "result": if result.is_ok() { "succeeded" } else { "failed" } });
    if let Err(e) = &result {
        detail["error"] = json!(e.to_string());
    }
    run.audit("outcome", action, &detail)?;
    if let Some(e) = lost {
        return Err(e);
    }
    Ok(result)
}

fn failure_fields(out: &mut Outcome, e: &RuntimeError) {
    out.engine_output = e.engine_output().map(str::to_string);
    out.engine_exit_code = e.exit_code();
}

/// The last lines of every container of `project` that is not running healthy (for
/// the failure log; `None` when all are fine or the engine cannot say).
fn failing_logs(rt: &dyn Runtime, project: &str) -> Option<String> {
    use std::fmt::Write as _;
    let containers = rt.observe(project).ok()?;
    let mut text = String::new();
    for c in containers
        .iter()
        .filter(|c| c.state != "running" || c.health.as_deref().is_some_and(|h| h != "healthy"))
    {
        let out = slipway_runtime::process::run(
            std::process::Command::new("docker").args(["logs", "--tail", "30", &c.name]),
            Duration::from_secs(15),
        )
        .ok()?;
        let _ = writeln!(
            text,
            "--- {} ({}, {}, exit code {}): last lines\n{}{}",
            c.name,
            c.state,
            c.health.as_deref().unwrap_or("no health check"),
            c.exit_code,
            out.stdout,
            out.stderr
        );
    }
    (!text.is_empty()).then(|| slipway_runtime::process::tail(&text))
}

fn join_output(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b),
    }
}

/// After a failed gate: the last good release on the target goes back on.
pub(crate) fn auto_rollback(
    run: &mut OpRun<'_>,
    rt: &dyn Runtime,
    failure: &RuntimeError,
    opts: &ApplyOptions,
) -> Result<Outcome, OpsError> {
    let msg = failure.to_string();
    // Read before anything is replaced or removed: the failing containers' last words.
    let logs = failing_logs(rt, &run.dep.project);
    let prev = run.store.last_good(&run.dep.target, None)?;
    let Some(rel_id) = prev.and_then(|p| p.release_id) else {
        // A first release that fails its gate is taken down: nothing good ran here
        // before, and containers that crash-loop help nobody.
        let removed = match rt.remove(&run.dep.project, opts) {
            Ok(()) => "its containers were removed".to_string(),
            Err(e) => format!("removing its containers failed too ({e}); remove them with `docker-compose -p {} down`", run.dep.project),
        };
        run.to(
            Phase::Failed,
            Some(&format!(
                "{msg}; nothing to roll back to (no earlier good deployment on {}), so {removed}",
                run.dep.target
            )),
            None,
            None,
        )?;
        let mut out = outcome(run);
        failure_fields(&mut out, failure);
        out.engine_output = join_output(out.engine_output.take(), logs);
        return Ok(out);
    };
    // The deployment whose release goes back on (not the operation that last put it
    // there, which may have been a rollback under another deployment's id).
    let rel = run.store.release(&rel_id)?.ok_or_else(|| {
        slipway_store::StoreError::Corrupt(format!("release {rel_id} is missing"))
    })?;
    let mut detail: Value = serde_json::from_str(&run.op.detail).unwrap_or_else(|_| json!({}));
    detail["rollback_to"] = json!({ "release": rel_id, "deployment_id": rel.deployment_id });
    run.to(Phase::RollingBack, Some(&msg), None, Some(&detail))?;
    let back = apply_audited(run, rt, &rel, opts, "rollback")?;
    let mut out = match back {
        Ok(health) => {
            run.to(Phase::RolledBack, None, None, None)?;
            let mut out = outcome(run);
            out.health = Some(health);
            out.rolled_back_to = Some(rel.deployment_id.clone());
            out.engine_output = join_output(failure.engine_output().map(str::to_string), logs);
            out
        }
        Err(e2) => {
            run.to(
                Phase::Failed,
                Some(&format!(
                    "{msg}; the rollback to {} failed too: {e2}",
                    rel.deployment_id
                )),
                None,
                None,
            )?;
            outcome(run)
        }
    };
    failure_fields(&mut out, failure);
    Ok(out)
}

fn deployment_id(spec_hash: &str, runtime: &str, project: &str) -> String {
    let h = sha256_hex(format!("{spec_hash}\n{runtime}\n{project}").as_bytes());
    format!("d-{}", &h[..16])
}

/// What `register` found: the stored deployment, the generator's report, and the
/// generated files edited by hand (allowed only with `adopt`).
pub struct Registered {
    pub deployment: Deployment,
    pub report: crate::GenerateReport,
    pub edited: Vec<String>,
}

/// Reads and checks the spec, and records the deployment it describes (its id
/// derived from the spec unless given). With `write`, the files are generated too.
/// Refuses an id already used for another spec, and hand-edited files unless adopted.
pub fn register(state: &Ops, opts: &DeployOptions, write: bool) -> Result<Registered, OpsError> {
    // Names are checked before anything is generated, written or stored.
    if let Some(p) = &opts.project {
        crate::names::project(p)?;
    }
    if let Some(id) = &opts.deployment_id {
        crate::names::deployment_id(id)?;
    }
    let gen = generate_options(opts, !write);
    let report = generate(&gen)?;
    if report.has_errors() {
        return Err(OpsError::Input(Box::new(report)));
    }
    let edited: Vec<String> = report
        .changes
        .iter()
        .filter(|c| c.status == FileStatus::KeptEdited)
        .map(|c| c.path.clone())
        .collect();
    if !edited.is_empty() && !opts.adopt {
        return Err(OpsError::HandEdited(edited));
    }
    let project = opts
        .project
        .clone()
        .unwrap_or_else(|| report.project.clone());
    crate::names::project(&project)?;
    let target = format!("{project}/{}/{}", opts.environment, opts.runtime);
    let dep = Deployment {
        id: opts
            .deployment_id
            .clone()
            .unwrap_or_else(|| deployment_id(&report.spec_hash, &opts.runtime, &project)),
        project,
        environment: opts.environment.clone(),
        runtime: opts.runtime.clone(),
        target,
        spec_hash: report.spec_hash.clone(),
        generator: GENERATOR.to_string(),
        spec_path: absolute(&opts.spec).display().to_string(),
        out_dir: report.out_dir.display().to_string(),
        created_at: crate::holder::now_ms(),
    };
    let stored = state.store.put_deployment(&dep)?;
    if stored.spec_hash != dep.spec_hash || stored.target != dep.target {
        return Err(OpsError::IdReused {
            id: dep.id,
            stored: stored.spec_hash,
            given: dep.spec_hash,
        });
    }
    Ok(Registered {
        deployment: stored,
        report,
        edited,
    })
}

fn generate_options(opts: &DeployOptions, dry_run: bool) -> GenerateOptions {
    GenerateOptions {
        spec: opts.spec.clone(),
        out: opts.out.clone(),
        environment: Some(opts.environment.clone()),
        image_map: opts.image_map.clone(),
        dry_run,
        force: opts.overwrite,
        ..GenerateOptions::default()
    }
}

/// Takes the target's lease for `run`; when another operation holds it, the run ends
/// `failed` naming the holder and that outcome is returned.
fn lock_or_refuse(run: &mut OpRun<'_>) -> Result<Option<Outcome>, OpsError> {
    let Err(held) = run.lock(None)? else {
        return Ok(None);
    };
    let msg = if held.deployment_id == run.dep.id {
        format!(
            "refused: deployment {} already has operation {} in progress",
            run.dep.id, held.operation_id
        )
    } else {
        format!(
            "refused: target {} is locked by operation {} of deployment {}",
            run.dep.target, held.operation_id, held.deployment_id
        )
    };
    run.to(
        Phase::Failed,
        Some(&msg),
        None,
        Some(&json!({ "refused_by": held })),
    )?;
    let mut out = outcome(run);
    out.refused_by = Some(held);
    Ok(Some(out))
}

/// Deploys (or, with `plan_only`, plans) the spec on its target.
pub fn deploy(
    state: &Ops,
    opts: &DeployOptions,
    sink: &mut dyn FnMut(&EngineEvent),
) -> Result<Outcome, OpsError> {
    let rt = runtime_for(&opts.runtime)?;
    reconcile(state, sink)?;
    let Registered {
        deployment: stored,
        edited,
        ..
    } = register(state, opts, false)?;
    let gen = generate_options(opts, true);
    let mut run = OpRun::start(
        state,
        stored,
        if opts.plan_only { "plan" } else { "apply" },
        sink,
    )?;
    let result = lock_plan_apply(&mut run, rt.as_ref(), opts, &gen, edited);
    run.settle(result)
}

fn lock_plan_apply(
    run: &mut OpRun<'_>,
    rt: &dyn Runtime,
    opts: &DeployOptions,
    gen: &GenerateOptions,
    edited: Vec<String>,
) -> Result<Outcome, OpsError> {
    run.to(Phase::Locking, None, None, None)?;
    if let Some(refused) = lock_or_refuse(run)? {
        return Ok(refused);
    }
    run.to(Phase::Planning, None, None, None)?;
    plan_and_apply(run, rt, opts, gen, edited)
}

fn plan_and_apply(
    run: &mut OpRun<'_>,
    rt: &dyn Runtime,
    opts: &DeployOptions,
    gen: &GenerateOptions,
    adopted: Vec<String>,
) -> Result<Outcome, OpsError> {
    let written = generate(&GenerateOptions {
        dry_run: false,
        ..gen.clone()
    })?;
    if written.has_errors() {
        return Err(OpsError::Input(Box::new(written)));
    }
    let mut adopted_hashes = serde_json::Map::new();
    for path in &adopted {
        let hash = sha256_hex(&std::fs::read(written.out_dir.join(path)).unwrap_or_default());
        run.audit("note", "adopt", &json!({ "file": path, "sha256": hash }))?;
        adopted_hashes.insert(path.clone(), json!(hash));
    }
    let compose_dir = written.out_dir.join("compose");
    ensure_secrets(&compose_dir, &written.generated_secrets)?;
    let mut files = vec!["docker-compose.yaml".to_string()];
    let overlay = format!("docker-compose.{}.yaml", opts.environment);
    if compose_dir.join(&overlay).is_file() {
        files.push(overlay);
    }
    let project = run.dep.project.clone();
    let prepared = ComposeCli::detect().and_then(|cli| {
        let input = ReleaseInput {
            compose_dir: &compose_dir,
            files: &files,
            project: &project,
            timeout: opts.call_timeout,
        };
        let mut progress = |p: slipway_runtime::Progress| run.event("progress", json!(p));
        prepare_release(&cli, &DockerApi::default(), &input, &mut progress)
    });
    let mut doc = match prepared {
        Ok(doc) => doc,
        Err(e) => {
            run.to(
                Phase::Failed,
                Some(&format!("preparing the release failed: {e}")),
                None,
                None,
            )?;
            let mut out = outcome(run);
            failure_fields(&mut out, &e);
            return Ok(out);
        }
    };
    for (name, s) in doc["secrets"].as_object().into_iter().flatten() {
        if let Some(file) = s["file"].as_str() {
            if !Path::new(file).is_file() {
                return Err(OpsError::MissingSecret(format!("{file} (secret `{name}`)")));
            }
        }
    }
    // Health paths detection guessed: the gate asks for them first (a 404 fails at once).
    for (svc, (path, port)) in &written.guessed_health {
        doc["x-slipway"]["guessed_health"][svc] = json!({ "path": path, "port": port });
    }
    let text = canonical_json(&doc);
    let release = Release {
        id: run.op.id.clone(),
        deployment_id: run.dep.id.clone(),
        target: run.dep.target.clone(),
        digest: format!("sha256:{}", sha256_hex(text.as_bytes())),
        document: text,
        created_at: crate::holder::now_ms(),
    };
    run.store.put_release(&release)?;
    let desired = desired_services(&rt.engine_document(&doc));
    let observed = rt.observe(&run.dep.project)?;
    let plan = Plan::from_differences(&desired, &compare(&desired, &observed));
    let detail = json!({
        "plan": plan, "digest": release.digest, "image_map": opts.image_map,
        "strategy": if opts.rolling { "rolling" } else { "recreate" }, "adopted": adopted_hashes,
    });
    run.event("plan", json!(plan));
    run.to(Phase::Planned, None, Some(&release.id), Some(&detail))?;
    let mut out;
    if opts.plan_only {
        run.unlock();
        out = outcome(run);
    } else if serving_digest(run)?.as_deref() == Some(release.digest.as_str()) && plan.is_empty() {
        run.to(Phase::Succeeded, None, None, None)?;
        out = outcome(run);
        out.up_to_date = true;
    } else {
        run.to(Phase::Applying, None, Some(&release.id), None)?;
        let apply = opts.apply_options();
        out = match apply_audited(run, rt, &release, &apply, "apply")? {
            Ok(health) => {
                if run.op.phase == Phase::Applying {
                    run.to(Phase::Verifying, None, None, None)?;
                }
                run.to(Phase::Succeeded, None, None, None)?;
                let mut out = outcome(run);
                out.health = Some(health);
                out
            }
            Err(e) => auto_rollback(run, rt, &e, &apply)?,
        };
    }
    out.plan = Some(plan);
    out.adopted = adopted;
    Ok(out)
}

/// The digest of the release serving on the run's target now.
fn serving_digest(run: &OpRun<'_>) -> Result<Option<String>, OpsError> {
    let Some(rel) = run
        .store
        .last_good(&run.dep.target, None)?
        .and_then(|o| o.release_id)
    else {
        return Ok(None);
    };
    Ok(run.store.release(&rel)?.map(|r| r.digest))
}

/// Puts the last good release before deployment `id` back on its target.
pub fn rollback(
    state: &Ops,
    id: &str,
    apply: &ApplyOptions,
    sink: &mut dyn FnMut(&EngineEvent),
) -> Result<Outcome, OpsError> {
    reconcile(state, sink)?;
    let dep = state
        .store
        .deployment(id)?
        .ok_or_else(|| OpsError::UnknownDeployment(id.to_string()))?;
    let rt = runtime_for(&dep.runtime)?;
    let prev = state.store.last_good(&dep.target, Some(&dep.id))?;
    let Some(rel_id) = prev.and_then(|p| p.release_id) else {
        return Err(OpsError::NothingToRollBack(format!(
            "no good deployment other than {} has run on {}",
            dep.id, dep.target
        )));
    };
    let mut run = OpRun::start(state, dep, "rollback", sink)?;
    let result = lock_and_roll_back(&mut run, rt.as_ref(), &rel_id, apply);
    run.settle(result)
}

fn lock_and_roll_back(
    run: &mut OpRun<'_>,
    rt: &dyn Runtime,
    rel_id: &str,
    apply: &ApplyOptions,
) -> Result<Outcome, OpsError> {
    run.to(Phase::Locking, None, None, None)?;
    if let Some(refused) = lock_or_refuse(run)? {
        return Ok(refused);
    }
    let rel = run.store.release(rel_id)?.ok_or_else(|| {
        slipway_store::StoreError::Corrupt(format!("release {rel_id} is missing"))
    })?;
    run.to(
        Phase::Applying,
        None,
        Some(&rel.id),
        Some(&json!({ "rollback_to": { "release": rel.id, "deployment_id": rel.deployment_id } })),
    )?;
    let mut out = match apply_audited(run, rt, &rel, apply, "rollback")? {
        Ok(health) => {
            if run.op.phase == Phase::Applying {
                run.to(Phase::Verifying, None, None, None)?;
            }
            run.to(Phase::Succeeded, None, None, None)?;
            let mut out = outcome(run);
            out.health = Some(health);
            out
        }
        Err(e) => {
            run.to(
                Phase::Failed,
                Some(&format!(
                    "the rollback to {} failed: {e}",
                    rel.deployment_id
                )),
                None,
                None,
            )?;
            let mut out = outcome(run);
            failure_fields(&mut out, &e);
            out
        }
    };
    out.rolled_back_to = Some(rel.deployment_id);
    Ok(out)
}
