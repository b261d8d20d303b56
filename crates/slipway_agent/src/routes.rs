//! The endpoints. Each checks its token, parses its body strictly (unknown fields are
//! errors), runs the engine on the blocking pool, and answers JSON or problem+json.

use crate::auth::{authorize, Scope};
use crate::events::feed::{pump, Encoding, Feed, Step};
use crate::events::{subscribe, transport};
use crate::problem::Problem;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use slipway_engine::{DeployOptions, OpsError, Phase};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

type S = State<Arc<AppState>>;

pub fn routes(_state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/deployments", get(deployments))
        .route("/generate", post(generate))
        .route("/deploy", post(deploy))
        .route("/rollback", post(rollback))
        .route("/drift-scan", post(drift_scan))
        .route("/status/{deployment_id}", get(status))
        .route("/audit", get(audit))
        .route("/events", get(events))
        .route("/logs/{logs_ref}", get(logs))
        // After every route: it covers the routes above. axum adds `Allow`.
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "this path does not take that method; `Allow` lists those it takes",
            )
        })
        .fallback(|| async { Problem::not_found("no such endpoint; see /openapi.json") })
}

fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The start of every mutating call: a JSON body (what a cross-site browser request
/// cannot send without a preflight), a deploy-scope token within its rate limit,
/// then the body parsed. The token's name (for the audit log) and the request.
fn mutating<T: serde::de::DeserializeOwned>(
    st: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(String, T), Problem> {
    crate::guard::require_json(headers)?;
    let who = crate::auth::authorize_deploy(&st.cfg, headers)?;
    st.rate_limit(&who)?;
    Ok((who, parse(body)?))
}

/// Parses a JSON body strictly; an oversized one is 413, one that stalls 408, a
/// malformed one 422.
fn parse<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, Problem> {
    let bytes = body.map_err(|e| {
        if crate::server::BodyTimeout::caused(&e) {
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The body did not arrive in time",
                e.body_text(),
            )
        } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The body is too large",
                e.body_text(),
            )
        } else {
            Problem::validation(e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Problem::validation(format!("body: {e}"))
            .with("line", json!(e.line()))
            .with("column", json!(e.column()))
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !id.starts_with('.')
}

/// A 422 unless `id` is a well-formed deployment id.
fn check_id(id: &str) -> Result<(), Problem> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(Problem::validation(
            "deployment_id: letters, digits, `-`, `_` and `.`, at most 128",
        ))
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(format!("the engine task failed: {e}")))
}

/// An engine refusal or failure as a problem document.
fn ops_problem(e: &OpsError, logs_ref: Option<&str>) -> Problem {
    match e {
        OpsError::Input(report) => Problem::validation("the spec has errors")
            .with("errors", slipway_engine::diagnostics_json(report)),
        OpsError::IdReused { id, .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "deployment_id_conflict",
            "The deployment id is taken",
            e.to_string(),
        )
        .with("deployment_id", json!(id)),
        OpsError::HandEdited(files) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hand_edited",
            "Generated files were edited by hand",
            e.to_string(),
        )
        .with("files", json!(files)),
        OpsError::UnknownDeployment(_) | OpsError::NoDeployments => Problem::new(
            StatusCode::NOT_FOUND,
            "unknown_deployment",
            "No such deployment",
            e.to_string(),
        ),
        OpsError::NothingToRollBack(_) => Problem::new(
            StatusCode::CONFLICT,
            "not_deployed",
            "Nothing deployed",
            e.to_string(),
        ),
        OpsError::MissingSecret(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_secret",
            "A secret file is missing",
            e.to_string(),
        ),
        OpsError::UnknownRuntime(_) | OpsError::InvalidName { .. } => {
            Problem::validation(e.to_string())
        }
        OpsError::Store(slipway_engine::StoreError::Busy { .. }) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_busy",
            "The state store is busy",
            e.to_string(),
        )
        .retry_after(5),
        OpsError::Runtime(r) => {
            let mut p = Problem::new(
                StatusCode::BAD_GATEWAY,
                "engine_failed",
                "The engine failed",
                e.to_string(),
            );
            if let Some(l) = logs_ref {
                p = p.with("logs_ref", json!(l));
            }
            if let Some(c) = r.exit_code() {
                p = p.with("exit_code", json!(c));
            }
            if let Some(t) = r.engine_output() {
                p = p.with("stderr_tail", json!(t));
            }
            p
        }
        _ => Problem::internal(e.to_string()),
    }
}

/// Replaces the values of the deployment's secret files in engine output.
fn redact(text: &str, out_dir: &str) -> String {
    let mut t = text.to_string();
    if let Ok(dir) = std::fs::read_dir(PathBuf::from(out_dir).join("compose/secrets")) {
        for e in dir.flatten() {
            if let Ok(v) = std::fs::read_to_string(e.path()) {
                let v = v.trim();
                if v.len() >= 6 {
                    t = t.replace(v, "[redacted]");
                }
            }
        }
    }
    t
}

/// Appends to the log of `logs_ref` (the operation id): what failed, then the
/// engine's own output, secrets redacted.
fn write_log(state: &AppState, logs_ref: &str, text: &str, out_dir: &str) {
    if text.trim().is_empty() {
        return;
    }
    let mut line = redact(text, out_dir);
    line.push('\n');
    let _ = state
        .store
        .append_log(logs_ref, &line, slipway_engine::now_ms());
}

/// The dashboard: deployments, status, drift, audit log, live events and a topology
/// picture, from this API (no outside resources; the token stays in the tab).
async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:"),
        ],
        include_str!("dashboard.html"),
    )
        .into_response()
}

/// Every deployment, newest first, with its latest operation.
async fn deployments(State(st): S, headers: HeaderMap) -> Result<Response, Problem> {
    authorize(&st.cfg.tokens, &headers, Scope::Read)?;
    let store = st.store.clone();
    let list = blocking(move || {
        let mut out = Vec::new();
        for d in store.deployments()?.into_iter().take(200) {
            let op = store.operations(Some(&d.id))?.pop();
            out.push(json!({
                "id": d.id, "target": d.target, "environment": d.environment, "runtime": d.runtime,
                "created_at": d.created_at, "kind": op.as_ref().map(|o| o.kind.clone()), "phase": op.map(|o| o.phase),
            }));
        }
        Ok::<_, slipway_engine::StoreError>(out)
    })
    .await?
    .map_err(|e| Problem::internal(e.to_string()))?;
    Ok(Json(json!({ "deployments": list })).into_response())
}

async fn healthz() -> Response {
    json_bytes(StatusCode::OK, Bytes::from_static(b"{\"status\":\"ok\"}"))
}

async fn readyz(State(st): S) -> Response {
    if st.ready.load(Ordering::SeqCst) && !st.draining.load(Ordering::SeqCst) {
        json_bytes(StatusCode::OK, Bytes::from_static(b"{\"ready\":true}"))
    } else {
        let why = if st.draining.load(Ordering::SeqCst) {
            "draining"
        } else {
            "reconciling interrupted operations"
        };
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "Not ready",
            why,
        )
        .retry_after(1)
        .into_response()
    }
}

async fn metrics(State(st): S) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&st.ring),
    )
        .into_response()
}

async fn openapi() -> Response {
    json_bytes(
        StatusCode::OK,
        Bytes::from(crate::openapi::document().to_string()),
    )
}

#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
struct Parameters {
    /// Registry mirror: image FROM is used as TO.
    #[serde(default)]
    image_map: BTreeMap<String, String>,
    project: Option<String>,
    /// Output folder (absolute); default `infrastructure/` next to the spec.
    out: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
struct GenerateRequest {
    deployment_id: Option<String>,
    environment: String,
    /// An absolute path to a spec on the agent's host, or the spec itself (YAML).
    template_spec: String,
    #[serde(default = "compose")]
    runtime: String,
    #[serde(default)]
    parameters: Parameters,
    policy_profile: Option<String>,
}

fn compose() -> String {
    "compose".into()
}

fn digest_of<T: Serialize>(v: &T) -> String {
    hex(&Sha256::digest(serde_json::to_vec(v).unwrap_or_default()))
}

/// The spec a generate request names: a file under a `--spec-root`, or the spec
/// itself, written to `specs/<digest>/slipway.yaml` in the data folder (0600 in 0700
/// folders). An inline spec this request wrote is removed again unless the request
/// is accepted (`keep`), so refused specs, and the values in them, do not pile up.
struct InlineSpec {
    path: PathBuf,
    /// The folder this request created, removed on drop unless kept.
    created: Option<PathBuf>,
}

impl InlineSpec {
    fn new(st: &AppState, template: &str) -> Result<InlineSpec, Problem> {
        let p = std::path::Path::new(template.trim());
        if !template.contains('\n') && p.is_absolute() {
            return Ok(InlineSpec {
                path: rooted_spec(st, template, p)?,
                created: None,
            });
        }
        let specs = st.cfg.data_dir.join("specs");
        let dir = specs.join(&hex(&Sha256::digest(template.as_bytes()))[..16]);
        let path = dir.join("slipway.yaml");
        if path.is_file() {
            return Ok(InlineSpec {
                path,
                created: None,
            });
        }
        let private = |d: &std::path::Path| {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)
        };
        private(&dir).map_err(|_| Problem::internal("cannot store the inline spec"))?;
        let spec = InlineSpec {
            path: path.clone(),
            created: Some(dir),
        };
        {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|_| Problem::internal("cannot store the inline spec"))?;
            f.write_all(template.as_bytes())
                .map_err(|_| Problem::internal("cannot store the inline spec"))?;
        }
        Ok(spec)
    }

    fn keep(mut self) {
        self.created = None;
    }
}

impl Drop for InlineSpec {
    fn drop(&mut self) {
        if let Some(dir) = self.created.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A spec path on the agent's host, which must lie under a `--spec-root`.
fn rooted_spec(st: &AppState, template: &str, p: &std::path::Path) -> Result<PathBuf, Problem> {
    let real = p.canonicalize().map_err(|_| {
        Problem::validation(format!(
            "template_spec `{template}` is not a readable file on the agent's host"
        ))
    })?;
    let allowed = st
        .cfg
        .spec_roots
        .iter()
        .filter_map(|r| r.canonicalize().ok())
        .any(|r| real.starts_with(r));
    if !allowed {
        return Err(Problem::validation(format!(
            "template_spec `{template}` is outside the folders this agent may read (--spec-root)"
        )));
    }
    if real.is_file() {
        return Ok(real);
    }
    Err(Problem::validation(format!(
        "template_spec `{template}` is not a readable file on the agent's host"
    )))
}

fn deploy_options(
    spec: PathBuf,
    environment: &str,
    runtime: &str,
    params: &Parameters,
    st: &AppState,
) -> DeployOptions {
    DeployOptions {
        spec,
        environment: environment.to_string(),
        runtime: runtime.to_string(),
        project: params.project.clone(),
        image_map: params
            .image_map
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect(),
        out: params.out.as_ref().map(PathBuf::from),
        health_timeout: st.cfg.health_timeout,
        call_timeout: st.cfg.engine_timeout,
        ..DeployOptions::default()
    }
}

async fn generate(
    State(st): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (who, req): (String, GenerateRequest) = mutating(&st, &headers, body)?;
    if let Some(id) = &req.deployment_id {
        check_id(id)?;
    }
    if !slipway_engine::RUNTIMES.contains(&req.runtime.as_str()) {
        return Err(Problem::validation(format!(
            "runtime `{}` is not one of {}",
            req.runtime,
            slipway_engine::RUNTIMES.join(", ")
        )));
    }
    let hash = digest_of(&req);
    if let Some(id) = &req.deployment_id {
        let (store, lookup) = (st.store.clone(), id.clone());
        let stored = blocking(move || store.generate_record(&lookup))
            .await?
            .map_err(|e| Problem::internal(e.to_string()))?;
        if let Some(stored) = stored {
            // The deployment id names the request: an identical retry gets the
            // stored answer, from whichever agent on this store first took it.
            if stored.request_digest == hash {
                let mut r = json_bytes(StatusCode::OK, Bytes::from(stored.response));
                r.headers_mut()
                    .insert("idempotent-replay", HeaderValue::from_static("true"));
                return Ok(r);
            }
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "deployment_id_conflict",
                "The deployment id is taken",
                format!("deployment `{id}` was generated from a different request"),
            )
            .with("deployment_id", json!(id)));
        }
    }
    let profile = req
        .policy_profile
        .clone()
        .unwrap_or_else(|| "default".into());
    if !["default", "production-guardrails"].contains(&profile.as_str()) {
        return Err(Problem::validation(format!(
            "policy_profile `{profile}` is not `default` or `production-guardrails`"
        )));
    }
    let out = match &req.parameters.out {
        Some(o) => Some(crate::staging::confine_out(&st, o)?),
        None => None,
    };
    let inline = InlineSpec::new(&st, &req.template_spec)?;
    let mut options = deploy_options(
        inline.path.clone(),
        &req.environment,
        &req.runtime,
        &req.parameters,
        &st,
    );
    options.out = Some(out.unwrap_or_else(|| {
        inline
            .path
            .parent()
            .unwrap_or(&inline.path)
            .join(slipway_engine::DEFAULT_OUT)
    }));
    let span_start = crate::trace::now_ns();
    let ops = st.ops(&who);
    let options2 = DeployOptions {
        deployment_id: req.deployment_id.clone(),
        ..options
    };
    let started = Instant::now();
    let store = st.store.clone();
    let staged = blocking(move || {
        // Names first, then a staged generation and the policy: a refused request
        // writes nothing and registers nothing.
        if let Some(p) = &options2.project {
            slipway_engine::names::project(p)?;
        }
        let final_out = options2.out.clone().unwrap_or_default();
        let staged = crate::staging::stage(&options2, &final_out, &profile)?;
        if let Some(id) = &options2.deployment_id {
            let project = options2
                .project
                .clone()
                .unwrap_or_else(|| staged.project.clone());
            let target = format!("{project}/{}/{}", options2.environment, options2.runtime);
            if let Some(d) = store.deployment(id)? {
                if d.spec_hash != staged.spec_hash || d.target != target {
                    return Err(OpsError::IdReused {
                        id: id.clone(),
                        stored: d.spec_hash,
                        given: staged.spec_hash,
                    });
                }
            }
        }
        let errors = staged.policy["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["severity"] == "error"));
        if errors {
            return Ok((None, staged.policy));
        }
        let reg = slipway_engine::register(&ops, &options2, true)?;
        Ok::<_, OpsError>((Some(reg), staged.policy))
    })
    .await?;
    let (reg, policy) = staged.map_err(|e| {
        st.tracer.span(
            "infra.generate",
            span_start,
            false,
            vec![
                ("environment", req.environment.clone()),
                ("stage", "generate".into()),
            ],
        );
        ops_problem(&e, None)
    })?;
    let findings = policy["findings"].as_array().cloned().unwrap_or_default();
    for f in &findings {
        st.metrics.policy_violations.add(
            &format!(
                "severity=\"{}\"",
                crate::metrics::label(f["severity"].as_str().unwrap_or("unknown"))
            ),
            1,
        );
    }
    let Some(reg) = reg else {
        let errors = findings.iter().filter(|f| f["severity"] == "error").count();
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "policy_failed",
            "The generated files break the policy",
            format!("{errors} finding(s) at error severity; nothing was written or registered"),
        )
        .with("findings", json!(findings))
        .with("deployment_id", json!(req.deployment_id)));
    };
    inline.keep();
    let dep = &reg.deployment;
    st.tracer.span(
        "infra.generate",
        span_start,
        true,
        vec![
            ("deployment_id", dep.id.clone()),
            ("environment", dep.environment.clone()),
            ("stage", "generate".into()),
        ],
    );
    st.log("info", "generated", &json!({ "deployment_id": dep.id, "environment": dep.environment, "stage": "generate", "ms": started.elapsed().as_millis() }));
    let out_dir = PathBuf::from(&dep.out_dir);
    let artifacts: Vec<Value> = reg
        .report
        .changes
        .iter()
        .filter_map(|c| {
            let bytes = std::fs::read(out_dir.join(&c.path)).ok()?;
            Some(json!({ "path": c.path, "sha256": hex(&Sha256::digest(&bytes)), "bytes": bytes.len() }))
        })
        .collect();
    let response = json!({
        "deployment_id": dep.id, "environment": dep.environment, "runtime": dep.runtime, "project": dep.project,
        "build_id": reg.report.build_id, "out_dir": dep.out_dir, "artifacts": artifacts,
        "policy": { "profile": req.policy_profile.clone().unwrap_or_else(|| "default".into()), "passed": true, "findings": findings },
    });
    let record = slipway_engine::GenerateRecord {
        deployment_id: dep.id.clone(),
        request_digest: hash,
        request: json!(req).to_string(),
        response: response.to_string(),
        created_at: slipway_engine::now_ms(),
    };
    let store = st.store.clone();
    let _ = blocking(move || store.put_generate_record(&record)).await?;
    Ok(json_bytes(
        StatusCode::OK,
        Bytes::from(response.to_string()),
    ))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DeployRequest {
    deployment_id: String,
    #[serde(default)]
    plan_only: bool,
    strategy: Option<String>,
    traffic_shift: Option<u32>,
}

fn links(id: &str, op: &str) -> Value {
    json!({ "status": format!("/status/{id}"), "events": format!("/events?deployment_id={id}"), "logs": format!("/logs/{op}"), "audit": format!("/audit?deployment_id={id}") })
}

/// Parameters a deployment was generated with (image map, project, output), as the
/// store keeps them for every agent.
async fn stored_parameters(st: &AppState, id: &str) -> Result<Parameters, Problem> {
    let (store, lookup) = (st.store.clone(), id.to_string());
    let rec = blocking(move || store.generate_record(&lookup))
        .await?
        .map_err(|e| Problem::internal(e.to_string()))?;
    Ok(rec
        .and_then(|r| serde_json::from_str::<Value>(&r.request).ok())
        .and_then(|v| serde_json::from_value(v["parameters"].clone()).ok())
        .unwrap_or_default())
}

async fn deploy(
    State(st): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (who, req): (String, DeployRequest) = mutating(&st, &headers, body)?;
    check_id(&req.deployment_id)?;
    match req.strategy.as_deref() {
        None | Some("recreate" | "rolling") => {}
        Some(s @ ("blue_green" | "canary")) => return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_strategy", "Strategy not available", format!("`{s}` is not implemented by the compose and swarm runtimes; use `rolling` or `recreate`"))),
        Some(other) => return Err(Problem::validation(format!("strategy `{other}` is not one of recreate, rolling, blue_green, canary"))),
    }
    if req.traffic_shift.is_some() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_strategy",
            "Strategy not available",
            "traffic_shift applies to the canary strategy, which is not implemented",
        ));
    }
    let id = req.deployment_id.clone();
    let dep = registered(&st, &id).await?;
    let keyed = crate::idempotency::key_of(&headers, &who, "POST /deploy", &digest_of(&req))?;
    if let Some(k) = &keyed {
        if let Some(replay) = crate::idempotency::prior(&st, k).await? {
            return Ok(replay);
        }
    }
    let op_id = claim(&st, &dep.target)?;
    let params = stored_parameters(&st, &id).await?;
    let mut options = deploy_options(
        PathBuf::from(&dep.spec_path),
        &dep.environment,
        &dep.runtime,
        &params,
        &st,
    );
    options.out = Some(PathBuf::from(&dep.out_dir));
    options.project = Some(dep.project.clone());
    options.deployment_id = Some(id.clone());
    options.plan_only = req.plan_only;
    options.rolling = req.strategy.as_deref() == Some("rolling");
    let plan_only = req.plan_only;
    let call: EngineCall = Box::new(move |ops, sink| slipway_engine::deploy(ops, &options, sink));
    let op_id = start_operation(&st, &who, &dep, &op_id, plan_only, call).await?;
    if plan_only {
        // A plan is answered when it is done.
        let store = st.store.clone();
        let op2 = op_id.clone();
        let op = blocking(move || store.operation(&op2))
            .await?
            .map_err(|e| Problem::internal(e.to_string()))?;
        let detail: Value = op
            .as_ref()
            .and_then(|o| serde_json::from_str(&o.detail).ok())
            .unwrap_or(Value::Null);
        let body = json!({ "deployment_id": id, "operation_id": op_id, "phase": op.map(|o| o.phase), "plan": detail["plan"], "links": links(&id, &op_id) });
        if let Some(k) = &keyed {
            crate::idempotency::remember(&st, k, &op_id, &dep.target, &body).await;
        }
        return Ok(Json(body).into_response());
    }
    if let Some(k) = &keyed {
        let body = json!({ "deployment_id": id, "operation_id": op_id, "phase": "planning", "links": links(&id, &op_id) });
        crate::idempotency::remember(&st, k, &op_id, &dep.target, &body).await;
    }
    Ok(accepted(&id, &op_id, "planning"))
}

/// Puts the last good release before deployment `deployment_id` back on its target.
async fn rollback(
    State(st): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (who, req): (String, DeploymentRef) = mutating(&st, &headers, body)?;
    check_id(&req.deployment_id)?;
    let keyed = crate::idempotency::key_of(&headers, &who, "POST /rollback", &digest_of(&req))?;
    if let Some(k) = &keyed {
        if let Some(replay) = crate::idempotency::prior(&st, k).await? {
            return Ok(replay);
        }
    }
    let id = req.deployment_id;
    let dep = registered(&st, &id).await?;
    let op_id = claim(&st, &dep.target)?;
    let apply = slipway_engine::ApplyOptions {
        rolling: false,
        call_timeout: st.cfg.engine_timeout,
        health_deadline: st.cfg.health_timeout,
    };
    let target = id.clone();
    let call: EngineCall =
        Box::new(move |ops, sink| slipway_engine::rollback(ops, &target, &apply, sink));
    let op_id = start_operation(&st, &who, &dep, &op_id, false, call).await?;
    if let Some(k) = &keyed {
        let body = json!({ "deployment_id": id, "operation_id": op_id, "phase": "applying", "links": links(&id, &op_id) });
        crate::idempotency::remember(&st, k, &op_id, &dep.target, &body).await;
    }
    Ok(accepted(&id, &op_id, "applying"))
}

/// The stored deployment `id`; 404 when there is none.
async fn registered(st: &Arc<AppState>, id: &str) -> Result<slipway_engine::Deployment, Problem> {
    let store = st.store.clone();
    let lookup = id.to_string();
    blocking(move || store.deployment(&lookup))
        .await?
        .map_err(|e| Problem::internal(e.to_string()))?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "unknown_deployment",
                "No such deployment",
                format!("no deployment `{id}`; POST /generate first"),
            )
        })
}

/// 202 with the operation id, its links and `Location: /status/{id}`.
fn accepted(id: &str, op_id: &str, phase: &str) -> Response {
    let mut r = (StatusCode::ACCEPTED, Json(json!({ "deployment_id": id, "operation_id": op_id, "phase": phase, "links": links(id, op_id) }))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/status/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Names a new operation and marks `target` as running it; 409 naming the running
/// operation when this agent already runs one there. Keyed by target, not deployment:
/// two deployments of one project and environment share the engine's containers.
/// (The store's lease serializes operations across processes; this answers at once
/// inside one.)
fn claim(st: &AppState, target: &str) -> Result<String, Problem> {
    let Ok(mut inflight) = st.inflight.lock() else {
        return Err(Problem::internal("state lock"));
    };
    if let Some(op) = inflight.get(target) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "in_progress",
            "An operation is in progress",
            format!("target {target} is running operation {op}"),
        )
        .with("operation_id", json!(op))
        .retry_after(5));
    }
    let op = slipway_engine::new_id("op");
    inflight.insert(target.to_string(), op.clone());
    Ok(op)
}

/// Frees `target` if operation `op` still marks it.
fn unclaim(st: &AppState, target: &str, op: &str) {
    if let Ok(mut m) = st.inflight.lock() {
        if m.get(target).is_some_and(|o| o == op) {
            m.remove(target);
        }
    }
}

/// The engine call an operation makes: deploy or rollback, given the event sink.
type EngineCall = Box<
    dyn FnOnce(
            &slipway_engine::Ops,
            &mut dyn FnMut(&slipway_engine::EngineEvent),
        ) -> Result<slipway_engine::Outcome, OpsError>
        + Send,
>;

/// Runs `call` for deployment `dep` (already claimed) on the blocking pool; the
/// operation id once it holds the target, or the problem that stopped it.
async fn start_operation(
    st: &Arc<AppState>,
    who: &str,
    dep: &slipway_engine::Deployment,
    op_id: &str,
    plan_only: bool,
    call: EngineCall,
) -> Result<String, Problem> {
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<String, Problem>>();
    st.running.fetch_add(1, Ordering::SeqCst);
    st.metrics
        .operations_in_progress
        .fetch_add(1, Ordering::SeqCst);
    let task_state = st.clone();
    let mut ops = st.ops(who);
    ops.operation_id = Some(op_id.to_string());
    let (target, env, out_dir) = (
        dep.target.clone(),
        dep.environment.clone(),
        dep.out_dir.clone(),
    );
    tokio::task::spawn_blocking(move || {
        run_operation(
            &task_state,
            &ops,
            &target,
            plan_only,
            call,
            tx,
            &env,
            &out_dir,
        );
    });
    rx.await
        .map_err(|_| Problem::internal("the operation's task ended without an answer"))?
}

/// Runs one deploy or rollback on the blocking pool; answers `tx` once the operation
/// holds the target (or was refused, or failed before it started).
#[allow(clippy::too_many_arguments)]
fn run_operation(
    st: &Arc<AppState>,
    ops: &slipway_engine::Ops,
    target: &str,
    plan_only: bool,
    call: EngineCall,
    tx: tokio::sync::oneshot::Sender<Result<String, Problem>>,
    env: &str,
    out_dir: &str,
) {
    let started = Instant::now();
    let mut first = Some(tx);
    let mut held: Option<Result<String, Problem>> = None;
    let mut plan_start: u128 = 0;
    let mut apply_start: Option<u128> = None;
    let op_id = ops.operation_id.clone().unwrap_or_default();
    // Events reach the ring through the store (relay.rs).
    let result = call(ops, &mut |e| {
        if e.kind == slipway_engine::RELEASED && e.operation_id.as_deref() == Some(op_id.as_str()) {
            // Free the target before the result reaches anyone (see OpRun::settle).
            unclaim(st, target, &op_id);
            // Every deployment on the target may have changed (which one serves):
            // no cached status outlives the operation.
            invalidate_status(st);
        }
        if e.kind != "phase" || e.operation_id.is_none() {
            return;
        }
        let phase = e.data["phase"].as_str().unwrap_or("");
        let attrs = || {
            vec![
                ("deployment_id", e.deployment_id.clone()),
                ("environment", env.to_string()),
                ("operation_id", e.operation_id.clone().unwrap_or_default()),
                ("stage", phase.to_string()),
            ]
        };
        match phase {
            "planning" => plan_start = crate::trace::now_ns(),
            "planned" => st.tracer.span("infra.plan", plan_start, true, attrs()),
            "applying" => apply_start = Some(crate::trace::now_ns()),
            "succeeded" | "failed" | "rolled_back" => {
                if let Some(start) = apply_start.take() {
                    st.tracer
                        .span("infra.apply", start, phase == "succeeded", attrs());
                } else if plan_start > 0 && phase == "failed" {
                    st.tracer.span("infra.plan", plan_start, false, attrs());
                }
            }
            _ => {}
        }
        st.log("info", "phase", &json!({ "deployment_id": e.deployment_id, "operation_id": e.operation_id, "environment": env, "stage": phase }));
        // An apply holds the target once it plans; a rollback once it applies.
        let answer_now = if plan_only {
            matches!(phase, "planned" | "failed")
        } else {
            matches!(phase, "planning" | "applying" | "failed")
        };
        if answer_now && held.is_none() && first.is_some() {
            let op = e.operation_id.clone().unwrap_or_default();
            let err = e.data["error"].as_str().unwrap_or("");
            let answer = if phase == "failed" && err.starts_with("refused") {
                Err(Problem::new(
                    StatusCode::CONFLICT,
                    "in_progress",
                    "The target is locked",
                    err.to_string(),
                )
                .with("operation_id", json!(op))
                .retry_after(5))
            } else if phase == "failed" {
                let logs_ref = op.clone();
                write_log(st, &logs_ref, err, out_dir);
                Err(Problem::new(
                    StatusCode::BAD_GATEWAY,
                    "engine_failed",
                    "The engine failed",
                    err.to_string(),
                )
                .with("logs_ref", json!(logs_ref))
                .with("operation_id", json!(op)))
            } else {
                Ok(op)
            };
            // A plan is answered once the operation is over and the target free;
            // an apply as soon as it holds the target.
            if plan_only {
                held = Some(answer);
            } else if let Some(tx) = first.take() {
                let _ = tx.send(answer);
            }
        }
    });
    let id = ops_deployment(&result, st, &op_id);
    match &result {
        Ok(outcome) => {
            let failed = !matches!(outcome.phase, Phase::Succeeded | Phase::Planned);
            if failed && outcome.refused_by.is_none() {
                // Every failed or rolled-back operation leaves its log: what failed,
                // the engine's output and the failing containers' last lines.
                let text = format!(
                    "{} {}: {}\n{}",
                    outcome.operation_id,
                    outcome.phase.as_str(),
                    outcome.error.as_deref().unwrap_or(""),
                    outcome.engine_output.as_deref().unwrap_or("")
                );
                write_log(st, &outcome.operation_id, &text, out_dir);
            } else if let Some(text) = &outcome.engine_output {
                write_log(st, &outcome.operation_id, text, out_dir);
            }
            if !plan_only {
                st.metrics
                    .apply_duration
                    .observe(started.elapsed().as_secs_f64());
            }
            st.log("info", "operation finished", &json!({ "deployment_id": id, "operation_id": outcome.operation_id, "environment": env, "stage": outcome.phase }));
        }
        Err(e) => {
            let engine = match e {
                OpsError::Runtime(r) => r.engine_output().unwrap_or(""),
                _ => "",
            };
            write_log(
                st,
                &op_id,
                &format!("{op_id} failed: {e}\n{engine}"),
                out_dir,
            );
            if held.is_none() && first.is_some() {
                held = Some(Err(ops_problem(e, Some(&op_id))));
            }
            st.log(
                "error",
                &e.to_string(),
                &json!({ "deployment_id": id, "operation_id": op_id, "environment": env, "stage": "deploy" }),
            );
        }
    }
    unclaim(st, target, &op_id);
    invalidate_status(st);
    st.running.fetch_sub(1, Ordering::SeqCst);
    st.metrics
        .operations_in_progress
        .fetch_sub(1, Ordering::SeqCst);
    if let Some(tx) = first.take() {
        let _ = tx.send(held.unwrap_or(Ok(op_id)));
    }
}

/// The deployment an operation ran for: from its outcome, else from the store.
fn ops_deployment(
    result: &Result<slipway_engine::Outcome, OpsError>,
    st: &AppState,
    op_id: &str,
) -> String {
    match result {
        Ok(o) => o.deployment_id.clone(),
        Err(_) => st
            .store
            .operation(op_id)
            .ok()
            .flatten()
            .map(|o| o.deployment_id)
            .unwrap_or_default(),
    }
}

/// At shutdown: operations still running are recorded as interrupted, so the next
/// start reconciles them.
pub fn persist_interrupted(st: &AppState) {
    let Ok(inflight) = st.inflight.lock() else {
        return;
    };
    for op in inflight.values() {
        let moved = st.store.transition(&slipway_engine::Transition {
            operation_id: op,
            from: &Phase::open(),
            to: Phase::Interrupted,
            at: slipway_engine::now_ms(),
            error: None,
            release_id: None,
            detail: None,
        });
        st.log(
            "warn",
            "operation left running at shutdown; recorded as interrupted",
            &json!({ "operation_id": op, "stage": "shutdown", "recorded": moved.is_ok() }),
        );
    }
    st.ring.close();
}

/// Forgets every cached status, and any render still under way.
fn invalidate_status(st: &AppState) {
    if let Ok(mut c) = st.status_cache.lock() {
        st.status_epoch.fetch_add(1, Ordering::SeqCst);
        c.clear();
    }
}

/// Renders a deployment's status (engine state, health from the engine) and caches it.
async fn render_status(st: &Arc<AppState>, id: &str) -> Result<Bytes, Problem> {
    let epoch = st.status_epoch.load(Ordering::SeqCst);
    let ops = st.ops("agent");
    let lookup = id.to_string();
    let status = blocking(move || slipway_engine::status_view(&ops, Some(&lookup)))
        .await?
        .map_err(|e| ops_problem(&e, None))?;
    let mut v = serde_json::to_value(&status).map_err(|e| Problem::internal(e.to_string()))?;
    if let Some(op) = &status.operation {
        v["links"] = links(id, &op.id);
    }
    // What it was generated with (image map, project, output), from the store, so
    // every agent on it shows the same.
    v["parameters"] = json!(stored_parameters(st, id).await?);
    let body = Bytes::from(v.to_string());
    if let Ok(mut c) = st.status_cache.lock() {
        if c.len() > 10_000 {
            c.clear();
        }
        if st.status_epoch.load(Ordering::SeqCst) == epoch {
            c.insert(id.to_string(), (Instant::now(), body.clone(), false));
        } else {
            c.remove(id);
        }
    }
    Ok(body)
}

/// At most a second old: a stale body is served while one request refreshes it in
/// the background, so readers never queue behind the engine.
async fn status(
    State(st): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    authorize(&st.cfg.tokens, &headers, Scope::Read)?;
    if !valid_id(&id) {
        return Err(Problem::not_found("no such deployment"));
    }
    let cached = st.status_cache.lock().ok().and_then(|mut c| {
        let entry = c.get_mut(&id)?;
        if entry.0.elapsed() >= Duration::from_secs(1) && !entry.2 {
            entry.2 = true;
            let (st2, id2) = (st.clone(), id.clone());
            tokio::spawn(async move {
                if render_status(&st2, &id2).await.is_err() {
                    if let Ok(mut c) = st2.status_cache.lock() {
                        c.remove(&id2);
                    }
                }
            });
        }
        Some(entry.1.clone())
    });
    let body = match cached {
        Some(b) => b,
        None => render_status(&st, &id).await?,
    };
    Ok(json_bytes(StatusCode::OK, body))
}

/// A request naming one deployment (`POST /drift-scan`, `POST /rollback`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DeploymentRef {
    deployment_id: String,
}

async fn drift_scan(
    State(st): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let (who, req): (String, DeploymentRef) = mutating(&st, &headers, body)?;
    check_id(&req.deployment_id)?;
    let span_start = crate::trace::now_ns();
    let ops = st.ops(&who);
    let id = req.deployment_id.clone();
    let report = blocking(move || slipway_engine::drift(&ops, Some(&id), &mut |_| {})).await?;
    st.tracer.span(
        "infra.drift-scan",
        span_start,
        report.is_ok(),
        vec![
            ("deployment_id", req.deployment_id.clone()),
            ("stage", "drift-scan".into()),
        ],
    );
    match report {
        Ok(r) => {
            for f in &r.findings {
                st.metrics.drift_events.add(
                    &format!("category=\"{}\"", crate::metrics::label(&f.category)),
                    1,
                );
            }
            if let Ok(mut c) = st.status_cache.lock() {
                c.remove(&req.deployment_id);
            }
            Ok(Json(r).into_response())
        }
        Err(e) => {
            let logs_ref = format!("drift-{}-{}", req.deployment_id, slipway_engine::now_ms());
            if let OpsError::Runtime(r) = &e {
                write_log(
                    &st,
                    &logs_ref,
                    &format!("{e}\n{}", r.engine_output().unwrap_or("")),
                    "",
                );
            }
            Err(ops_problem(&e, Some(&logs_ref)))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
    deployment_id: Option<String>,
}

async fn audit(
    State(st): S,
    headers: HeaderMap,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    authorize(&st.cfg.tokens, &headers, Scope::Read)?;
    let Query(q) = q.map_err(|e| Problem::validation(e.body_text()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let store = st.store.clone();
    let dep = q.deployment_id.clone();
    let records = blocking(move || store.audit(dep.as_deref(), q.after.max(0), limit))
        .await?
        .map_err(|e| Problem::internal(e.to_string()))?;
    let next = if records.len() == limit {
        records.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(Json(json!({ "records": records, "next_cursor": next })).into_response())
}

async fn logs(
    State(st): S,
    headers: HeaderMap,
    Path(r): Path<String>,
) -> Result<Response, Problem> {
    authorize(&st.cfg.tokens, &headers, Scope::Read)?;
    if !valid_id(&r) {
        return Err(Problem::not_found("no such log"));
    }
    let store = st.store.clone();
    let text = blocking(move || store.log(&r))
        .await?
        .map_err(|e| Problem::internal(e.to_string()))?
        .ok_or_else(|| Problem::not_found("no such log"))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    after: Option<u64>,
    /// `25s`, `500ms` or seconds; at most 30 s.
    wait: Option<String>,
    deployment_id: Option<String>,
    limit: Option<usize>,
}

fn wait_of(s: Option<&str>) -> Result<Duration, Problem> {
    let Some(s) = s else {
        return Ok(Duration::ZERO);
    };
    let d = if let Some(ms) = s.strip_suffix("ms") {
        ms.parse().map(Duration::from_millis)
    } else {
        s.trim_end_matches('s').parse().map(Duration::from_secs)
    }
    .map_err(|_| {
        Problem::validation(format!("wait `{s}` is not a duration such as 25s or 500ms"))
    })?;
    Ok(d.min(Duration::from_secs(30)))
}

/// `/events`: SSE (`Last-Event-ID`), WebSocket or long-poll, all after a store sequence
/// (`after=` or `Last-Event-ID`; from now without one). See events.rs.
async fn events(State(st): S, req: Request) -> Result<Response, Problem> {
    let (mut parts, _body) = req.into_parts();
    authorize(&st.cfg.tokens, &parts.headers, Scope::Read)?;
    let Query(q) = Query::<EventsQuery>::try_from_uri(&parts.uri)
        .map_err(|e| Problem::validation(e.body_text()))?;
    let wait = wait_of(q.wait.as_deref())?;
    let last_id = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let feed = Feed::new(
        st.ring.clone(),
        st.store.clone(),
        q.deployment_id.clone(),
        q.after.or(last_id),
    )
    .await
    .map_err(|e| Problem::internal(e.to_string()))?;
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let sse = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !upgrade && !sse {
        let limit = q.limit.unwrap_or(500).clamp(1, 5000);
        return long_poll(&st, feed, wait, limit).await;
    }
    let slot = subscribe(&st.ring).ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_subscribers",
            "Too many subscribers",
            format!("at most {} subscribers", st.ring.config().max_subscribers),
        )
        .retry_after(5)
    })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1024);
    let stall = st.cfg.subscriber_stall;
    if upgrade {
        let ws = axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &st)
            .await
            .map_err(|e| Problem::validation(e.body_text()))?;
        tokio::spawn(pump(feed, slot, tx, Encoding::Json, stall));
        let ping = st.ring.config().ping_every;
        return Ok(ws.on_upgrade(move |socket| transport::websocket(socket, rx, ping, stall)));
    }
    tokio::spawn(pump(feed, slot, tx, Encoding::Sse, stall));
    Ok(transport::sse(rx))
}

/// The REST fallback: events after the cursor, waiting up to `wait` for one. A gap
/// is answered on its own (`"gap": true`, `"lost"`); the events follow on the next call.
async fn long_poll(
    st: &AppState,
    mut feed: Feed,
    wait: Duration,
    limit: usize,
) -> Result<Response, Problem> {
    let mut latest = st.ring.watch();
    let deadline = Instant::now() + wait;
    let (frames, gap) = loop {
        latest.borrow_and_update();
        match feed
            .next(limit)
            .await
            .map_err(|e| Problem::internal(e.to_string()))?
        {
            Step::Gap(g) => break (Vec::new(), Some(g)),
            Step::Frames(f) if !f.is_empty() => break (f, None),
            Step::Frames(_) => {}
            Step::Idle if Instant::now() >= deadline => break (Vec::new(), None),
            // A timeout just means "look once more, then answer".
            Step::Idle => {
                let _ = tokio::time::timeout(deadline - Instant::now(), latest.changed()).await;
            }
        }
    };
    let head = match gap {
        Some(g) => json!({ "gap": true, "lost": { "count": g.lost, "from": g.from, "to": g.to }, "next_after": feed.cursor() }),
        None => json!({ "gap": false, "next_after": feed.cursor() }),
    }
    .to_string();
    let mut body = Vec::with_capacity(64 + frames.iter().map(|f| f.json.len() + 1).sum::<usize>());
    body.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    body.extend_from_slice(b",\"events\":[");
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&f.json);
    }
    body.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, Bytes::from(body)))
}
