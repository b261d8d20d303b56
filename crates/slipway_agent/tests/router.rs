//! The router in-process (no server, no Docker): the checks every request passes
//! before its handler. Cross-site callers (a `text/plain` body, a foreign `Host` or
//! `Origin`) are refused, a tokenless agent is read-only, the bearer scheme is
//! case-insensitive and 401 carries its challenge, 405 and 414 are problem+json.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;
use slipway_agent::{parse_tokens, AgentConfig, AppState, Scope, Token};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tower::ServiceExt as _;

const DEPLOY: &str = "deploy-token-0123456789abcdef";
const LOCAL: &str = "0123456789abcdef0123456789abcdef";

struct Agent {
    state: Arc<AppState>,
    _dir: tempfile::TempDir,
}

/// An agent on 127.0.0.1:7878 over a fresh SQLite store, ready.
fn agent(edit: impl FnOnce(&mut AgentConfig)) -> Agent {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/state.db", dir.path().display());
    let mut cfg = AgentConfig::new(
        "127.0.0.1:7878".parse().unwrap(),
        dir.path().join("agent"),
        url.clone(),
    );
    edit(&mut cfg);
    let store = slipway_engine::open_store(&url, dir.path()).unwrap();
    let state = AppState::new(cfg, store);
    state.ready.store(true, Ordering::SeqCst);
    Agent { state, _dir: dir }
}

fn with_tokens(cfg: &mut AgentConfig) {
    cfg.tokens = parse_tokens(&format!("ci deploy {DEPLOY}")).unwrap();
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Reply {
    /// Asserts a problem document with this status and code.
    fn problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{}",
            self.body
        );
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert_eq!(self.body["status"], status);
    }

    fn header(&self, name: &header::HeaderName) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

/// Sends `method path` with `headers` (Host 127.0.0.1:7878 unless given) and body.
async fn send(a: &Agent, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req = req.header(header::HOST, "127.0.0.1:7878");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = slipway_agent::router(a.state.clone())
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");
const AUTH: (&str, &str) = ("authorization", "Bearer deploy-token-0123456789abcdef");
const SCAN: &str = r#"{"deployment_id":"nope"}"#;

#[tokio::test]
async fn a_browser_style_text_plain_post_is_refused_with_415() {
    let a = agent(with_tokens);
    for ct in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
    ] {
        send(
            &a,
            "POST",
            "/drift-scan",
            &[AUTH, ("content-type", ct)],
            SCAN,
        )
        .await
        .problem(415, "unsupported_media_type");
    }
    send(&a, "POST", "/generate", &[AUTH], SCAN)
        .await
        .problem(415, "unsupported_media_type");
    // JSON, with or without parameters, gets past the check to the handler.
    for ct in ["application/json", "application/json; charset=utf-8"] {
        send(
            &a,
            "POST",
            "/drift-scan",
            &[AUTH, ("content-type", ct)],
            SCAN,
        )
        .await
        .problem(404, "unknown_deployment");
    }
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_the_agents_own_names_pass() {
    let a = agent(|c| {
        with_tokens(c);
        c.allowed_hosts = vec!["agent.internal".into()];
    });
    for host in [
        "evil.example",
        "evil.example:7878",
        "127.0.0.1.nip.io:7878",
        "10.0.0.5",
    ] {
        send(&a, "GET", "/healthz", &[("host", host)], "")
            .await
            .problem(421, "forbidden_host");
        send(&a, "POST", "/deploy", &[("host", host), JSON, AUTH], SCAN)
            .await
            .problem(421, "forbidden_host");
    }
    for host in [
        "127.0.0.1",
        "127.0.0.1:7878",
        "localhost:7878",
        "[::1]:7878",
        "agent.internal",
    ] {
        let r = send(&a, "GET", "/healthz", &[("host", host)], "").await;
        assert_eq!(r.status, StatusCode::OK, "{host}: {}", r.body);
    }
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_the_same_origin_or_none_passes() {
    let a = agent(with_tokens);
    for origin in [
        "http://evil.example",
        "http://127.0.0.1:3000",
        "null",
        "https://localhost:7878",
    ] {
        send(&a, "GET", "/deployments", &[("origin", origin), AUTH], "")
            .await
            .problem(403, "forbidden_origin");
        send(
            &a,
            "POST",
            "/drift-scan",
            &[("origin", origin), JSON, AUTH],
            SCAN,
        )
        .await
        .problem(403, "forbidden_origin");
    }
    // The dashboard's own calls, and callers without a browser.
    let same = send(
        &a,
        "GET",
        "/deployments",
        &[("origin", "http://127.0.0.1:7878"), AUTH],
        "",
    )
    .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    send(
        &a,
        "POST",
        "/drift-scan",
        &[("origin", "http://127.0.0.1:7878"), JSON, AUTH],
        SCAN,
    )
    .await
    .problem(404, "unknown_deployment");
    let none = send(&a, "GET", "/deployments", &[AUTH], "").await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.body);
}

#[tokio::test]
async fn a_tokenless_agent_serves_reads_and_refuses_mutating_calls_without_the_local_token() {
    let a = agent(|c| c.local_token = Some(Token::new("local", Scope::Deploy, LOCAL)));
    for path in ["/deployments", "/audit", "/events"] {
        let r = send(&a, "GET", path, &[], "").await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    for path in ["/generate", "/deploy", "/rollback", "/drift-scan"] {
        let r = send(&a, "POST", path, &[JSON], SCAN).await;
        r.problem(401, "unauthorized");
        assert_eq!(
            r.header(&header::WWW_AUTHENTICATE),
            r#"Bearer realm="slipway""#
        );
        assert!(
            r.body["hint"].as_str().unwrap().contains("local-token"),
            "{}",
            r.body
        );
    }
    let bearer = format!("Bearer {LOCAL}");
    send(
        &a,
        "POST",
        "/drift-scan",
        &[JSON, ("authorization", &bearer)],
        SCAN,
    )
    .await
    .problem(404, "unknown_deployment");
    // With no local token either (the router without `serve`), nobody deploys.
    let bare = agent(|_| {});
    send(
        &bare,
        "POST",
        "/drift-scan",
        &[JSON, ("authorization", &bearer)],
        SCAN,
    )
    .await
    .problem(401, "unauthorized");
    assert_eq!(
        send(&bare, "GET", "/deployments", &[], "").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_401_carries_its_challenge() {
    let a = agent(with_tokens);
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let auth = format!("{scheme} {DEPLOY}");
        let r = send(&a, "GET", "/deployments", &[("authorization", &auth)], "").await;
        assert_eq!(r.status, StatusCode::OK, "{scheme}: {}", r.body);
    }
    let none = send(&a, "GET", "/deployments", &[], "").await;
    none.problem(401, "unauthorized");
    assert_eq!(
        none.header(&header::WWW_AUTHENTICATE),
        r#"Bearer realm="slipway""#
    );
    let wrong = send(
        &a,
        "GET",
        "/deployments",
        &[("authorization", "bearer wrong-token-0123456789")],
        "",
    )
    .await;
    wrong.problem(401, "unauthorized");
    assert_eq!(
        wrong.header(&header::WWW_AUTHENTICATE),
        r#"Bearer realm="slipway", error="invalid_token""#
    );
    send(
        &a,
        "GET",
        "/deployments",
        &[("authorization", &format!("Basic {DEPLOY}"))],
        "",
    )
    .await
    .problem(401, "unauthorized");
}

#[tokio::test]
async fn method_not_allowed_and_uri_too_long_are_problem_documents() {
    let a = agent(with_tokens);
    let r = send(&a, "GET", "/deploy", &[AUTH], "").await;
    r.problem(405, "method_not_allowed");
    assert_eq!(r.header(&header::ALLOW), "POST");
    let r = send(&a, "DELETE", "/healthz", &[], "").await;
    r.problem(405, "method_not_allowed");
    assert!(r.header(&header::ALLOW).contains("GET"), "{:?}", r.headers);
    let long = format!("/status/{}", "a".repeat(9000));
    send(&a, "GET", &long, &[AUTH], "")
        .await
        .problem(414, "uri_too_long");
    let long_query = format!("/events?deployment_id={}", "a".repeat(9000));
    send(&a, "GET", &long_query, &[AUTH], "")
        .await
        .problem(414, "uri_too_long");
    // Unknown paths stay 404.
    send(&a, "GET", "/nope", &[], "")
        .await
        .problem(404, "not_found");
}
