//! `Idempotency-Key` for `POST /deploy` and `POST /rollback`, after the IETF
//! httpapi-idempotency-key-header draft: the client names a request; a retry with the
//! same key and the same body gets the first request's own answer (a plan included)
//! instead of a second operation. The same key with another body is 422; a retry while
//! the first still runs is 409. Records live in the state store, scoped by caller and
//! endpoint, for `TTL`, so every agent on one store answers a retry alike.
//!
//! A replay happens only while the first request's outcome is still the truth: an
//! apply or rollback that succeeded and whose release still serves on the target, or
//! a plan made against the release that still serves. A failed operation, or one whose
//! release was replaced since, is forgotten and the retry runs anew, so fixing a
//! cause and retrying works, and a replay never reports a release that is not running.
//! Without the header nothing is replayed: every request runs.

use crate::problem::Problem;
use crate::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use slipway_engine::{IdempotencyRecord, Phase};
use std::sync::Arc;

/// How long a key is remembered.
pub const TTL_MS: i64 = 24 * 3600 * 1000;

/// A request that carries a key.
#[derive(Debug, Clone)]
pub struct Keyed {
    /// `CALLER METHOD PATH KEY`.
    pub key: String,
    pub request_hash: String,
}

/// The request's key, scoped to `who` and `endpoint`; `None` without the header.
pub fn key_of(
    headers: &HeaderMap,
    who: &str,
    endpoint: &str,
    request_hash: &str,
) -> Result<Option<Keyed>, Problem> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v.to_str().unwrap_or("");
    // The draft makes the key a quoted string; accept it bare too.
    let k = k.trim().trim_matches('"');
    if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::validation(
            "Idempotency-Key: 1 to 255 visible ASCII characters (a UUID is a good key)",
        ));
    }
    Ok(Some(Keyed {
        key: format!("{who} {endpoint} {k}"),
        request_hash: request_hash.to_string(),
    }))
}

/// What serves on `target` now: the release of its last good operation.
fn serving_release(st: &AppState, target: &str) -> Result<Option<String>, Problem> {
    Ok(st
        .store
        .last_good(target, None)
        .map_err(|e| Problem::internal(e.to_string()))?
        .and_then(|o| o.release_id))
}

/// The answer to a keyed request seen before: `Some(replay)`, a 409/422 problem, or
/// `None` when the request should run (new key, or the old outcome is stale).
pub async fn prior(st: &Arc<AppState>, k: &Keyed) -> Result<Option<Response>, Problem> {
    let (st2, k2) = (st.clone(), k.clone());
    tokio::task::spawn_blocking(move || prior_blocking(&st2, &k2))
        .await
        .map_err(|e| Problem::internal(e.to_string()))?
}

fn prior_blocking(st: &AppState, k: &Keyed) -> Result<Option<Response>, Problem> {
    let now = slipway_engine::now_ms();
    let internal = |e: slipway_engine::StoreError| Problem::internal(e.to_string());
    let Some(rec) = st.store.idempotency(&k.key, now).map_err(internal)? else {
        return Ok(None);
    };
    if rec.request_hash != k.request_hash {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "The Idempotency-Key was used for another request",
            "this key was first sent with a different body; use a new key for a new request",
        )
        .with("operation_id", json!(rec.operation_id)));
    }
    let Some(op) = st.store.operation(&rec.operation_id).map_err(internal)? else {
        st.store.drop_idempotency(&k.key).map_err(internal)?;
        return Ok(None);
    };
    let plan_done = op.kind == "plan" && op.phase == Phase::Planned;
    if !op.phase.is_terminal() || (op.phase == Phase::Planned && !plan_done) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "in_progress",
            "The first request with this key is still running",
            format!("operation {} is still running; retry after it ends", op.id),
        )
        .with("operation_id", json!(op.id))
        .retry_after(5));
    }
    let stored: Value = serde_json::from_str(&rec.response).unwrap_or(Value::Null);
    let serving = serving_release(st, &op.target)?;
    let truth = if plan_done {
        stored["basis"].as_str() == serving.as_deref()
    } else {
        op.phase == Phase::Succeeded && op.release_id.is_some() && op.release_id == serving
    };
    if !truth {
        st.store.drop_idempotency(&k.key).map_err(internal)?;
        return Ok(None);
    }
    let mut body = stored["body"].clone();
    body["replayed"] = json!(true);
    body["phase"] = json!(op.phase);
    let mut r = Json(body).into_response();
    r.headers_mut()
        .insert("idempotent-replay", HeaderValue::from_static("true"));
    Ok(Some(r))
}

/// Remembers the answer `body` given to a keyed request that started `operation_id`
/// (for a plan, against the release serving on `target` now).
pub async fn remember(
    st: &Arc<AppState>,
    k: &Keyed,
    operation_id: &str,
    target: &str,
    body: &Value,
) {
    let (st2, k2) = (st.clone(), k.clone());
    let (op, target, body) = (operation_id.to_string(), target.to_string(), body.clone());
    let _ = tokio::task::spawn_blocking(move || {
        let basis = serving_release(&st2, &target).ok().flatten();
        let now = slipway_engine::now_ms();
        let rec = IdempotencyRecord {
            key: k2.key,
            request_hash: k2.request_hash,
            operation_id: op,
            response: json!({ "body": body, "basis": basis }).to_string(),
            created_at: now,
            expires_at: now + TTL_MS,
        };
        let _ = st2.store.put_idempotency(&rec, now);
    })
    .await;
}
