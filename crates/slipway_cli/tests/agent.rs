//! `slipway serve` as a real process on 127.0.0.1, with a real Docker Engine behind
//! it (full test run): every endpoint and every error code, the event stream (SSE
//! with resume, long-poll), idempotent retries, concurrent identical deploys, a hung
//! engine, and a kill -9 during an apply followed by a restart.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{copy_tree, root};

const DEPLOY_TOKEN: &str = "deploy-token-0123456789abcdef";
const READ_TOKEN: &str = "read-token-0123456789abcdef00";
const PY: &str = "python:3.11-slim-bookworm";
const PY_LOCAL: &str = "slipway-local/python:3.11";

fn path_env() -> String {
    format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

fn call(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_string(),
        body: body.to_string(),
    }
}

/// A running agent; killed (and its containers removed) when dropped.
struct Agent {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    projects: Vec<String>,
}

impl Agent {
    fn start(extra: &[&str]) -> Agent {
        Agent::start_env(extra, &[])
    }

    /// An agent whose environment has `env` on top of the usual (e.g. another
    /// agent's `SLIPWAY_DATABASE_URL`).
    fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Agent {
            child: None,
            port: free_port(),
            dir,
            extra: extra.iter().map(ToString::to_string).collect(),
            projects: Vec::new(),
        };
        a.spawn(env);
        a
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}/state.db", self.dir.path().display())
    }

    fn spawn(&mut self, env: &[(&str, &str)]) {
        let mut c = Command::new(env!("CARGO_BIN_EXE_slipway"));
        c.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", self.port),
            "--data-dir",
        ])
        .arg(self.dir.path().join("agent"))
        .arg("--spec-root")
        .arg(self.dir.path())
        .args(&self.extra)
        .env("SLIPWAY_DATABASE_URL", self.database_url())
        .env(
            "SLIPWAY_AGENT_TOKENS",
            format!("ci deploy {DEPLOY_TOKEN};viewer read {READ_TOKEN}"),
        )
        .env("PATH", path_env())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.path().join("agent.log"))
                .unwrap(),
        ));
        for (k, v) in env {
            c.env(k, v);
        }
        self.child = Some(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && call(self.port, "GET", "/readyz", None, None).status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the agent did not become ready:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        call(
            self.port,
            method,
            path,
            Some(DEPLOY_TOKEN),
            body.map(ToString::to_string).as_deref(),
        )
    }

    /// A copy of the hello fixture with its own project and port; returns the spec
    /// path and the port.
    fn hello(&mut self, tag: &str, greeting: &str) -> (String, u16) {
        let app = self.dir.path().join(format!("app-{tag}"));
        copy_tree(&root().join("fixtures/deploy/hello"), &app);
        let project = format!("agent{tag}{}", std::process::id());
        let port = free_port();
        let spec = app.join("slipway.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(
            &spec,
            text.replace("name: hello", &format!("name: {project}"))
                .replace("host_port: 18080", &format!("host_port: {port}"))
                .replace("GREETING: hello", &format!("GREETING: {greeting}")),
        )
        .unwrap();
        self.projects.push(project);
        (spec.display().to_string(), port)
    }

    fn stop(&mut self, signal: &str) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args([signal, &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if c.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop("-KILL");
        for p in &self.projects {
            let out = Command::new("docker")
                .args([
                    "ps",
                    "-aq",
                    "--filter",
                    &format!("label=com.docker.compose.project={p}"),
                ])
                .output()
                .unwrap();
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
            let _ = Command::new("docker")
                .args(["network", "rm", &format!("{p}_default")])
                .output();
            let _ = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "docker images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' '{p}/app' | grep -v ':<none>$' | xargs -r docker rmi"
                ))
                .output();
        }
    }
}

fn greeting(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = std::panic::catch_unwind(|| call(port, "GET", "/", None, None));
        if let Ok(r) = r {
            if r.status == 200 {
                return serde_json::from_str::<Value>(&r.body).unwrap()["greeting"]
                    .as_str()
                    .unwrap()
                    .to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing answers on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn generate_body(spec: &str, id: &str) -> Value {
    json!({ "deployment_id": id, "environment": "prod", "template_spec": spec, "runtime": "compose", "parameters": { "image_map": { PY: PY_LOCAL } }, "policy_profile": "production-guardrails" })
}

/// Waits for operation `op`'s final phase through the long-poll event API.
fn wait_result(agent: &Agent, id: &str, op: &str) -> Value {
    let mut after = 0;
    let deadline = Instant::now() + Duration::from_secs(240);
    while Instant::now() < deadline {
        let r = agent.call(
            "GET",
            &format!("/events?after={after}&wait=20s&deployment_id={id}"),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        for e in v["events"].as_array().unwrap() {
            if e["kind"] == "result" && e["data"]["operation_id"] == op {
                return e["data"]["data"].clone();
            }
        }
        after = v["next_after"].as_u64().unwrap();
    }
    panic!("no result event for {id}:\n{}", agent.log());
}

fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{}",
        r.headers
    );
    let v = r.json();
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["status"], status);
    assert!(v["title"].is_string() && v["type"].is_string());
}

/// Opens a WebSocket on /events and returns a thread that yields the first text
/// message.
fn ws_first_message(port: u16, query: &str) -> std::thread::JoinHandle<String> {
    let mut s = ws_open(port, query);
    std::thread::spawn(move || {
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        ws_text(&mut s).to_string()
    })
}

/// A minimal OTLP/HTTP collector on 127.0.0.1: keeps every body POSTed to it.
fn collector() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = bodies.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0;
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 2 {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            keep.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        }
    });
    (port, bodies)
}

#[test]
#[ignore = "needs docker"]
fn the_agent_keeps_the_contract_end_to_end() {
    let (otlp_port, spans) = collector();
    let otlp = format!("http://127.0.0.1:{otlp_port}");
    let mut agent = Agent::start(&[
        "--max-body-bytes",
        "65536",
        "--rate-limit",
        "1000",
        "--otlp-endpoint",
        &otlp,
    ]);
    let port = agent.port;
    // Probes and documents.
    assert_eq!(call(port, "GET", "/healthz", None, None).status, 200);
    assert_eq!(call(port, "GET", "/readyz", None, None).status, 200);
    let doc = call(port, "GET", "/openapi.json", None, None).json();
    for p in [
        "/",
        "/deployments",
        "/generate",
        "/deploy",
        "/status/{deployment_id}",
        "/drift-scan",
        "/logs/{logs_ref}",
        "/audit",
        "/events",
        "/metrics",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from /openapi.json"
        );
    }
    // Auth: none, wrong, read-only.
    let (spec, app_port) = agent.hello("e2e", "hello");
    let body = generate_body(&spec, "shop-1").to_string();
    assert_problem(
        &call(port, "POST", "/generate", None, Some(&body)),
        401,
        "unauthorized",
    );
    assert_problem(
        &call(
            port,
            "POST",
            "/generate",
            Some("not-a-valid-token-at-all"),
            Some(&body),
        ),
        401,
        "unauthorized",
    );
    assert_problem(
        &call(port, "POST", "/generate", Some(READ_TOKEN), Some(&body)),
        403,
        "forbidden",
    );
    assert_problem(
        &call(port, "GET", "/status/shop-1", None, None),
        401,
        "unauthorized",
    );
    // Bad bodies.
    assert_problem(
        &call(
            port,
            "POST",
            "/generate",
            Some(DEPLOY_TOKEN),
            Some(&"x".repeat(70_000)),
        ),
        413,
        "payload_too_large",
    );
    assert_problem(
        &call(
            port,
            "POST",
            "/generate",
            Some(DEPLOY_TOKEN),
            Some("{\"environment\": "),
        ),
        422,
        "validation_failed",
    );
    assert_problem(
        &agent.call(
            "POST",
            "/generate",
            Some(&json!({ "environment": "prod", "template_spec": spec, "colour": 1 })),
        ),
        422,
        "validation_failed",
    );
    let bad = agent.call("POST", "/generate", Some(&json!({ "environment": "prod", "template_spec": "name: x\nservices:\n  app:\n    imagee: nginx:1\n" })));
    assert_problem(&bad, 422, "validation_failed");
    let errors = bad.json()["errors"].clone();
    let unknown = errors
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rule_id"] == "SPEC002")
        .unwrap_or_else(|| panic!("{errors}"));
    assert_eq!(
        (unknown["line"].as_u64(), unknown["column"].as_u64()),
        (Some(4), Some(5)),
        "{errors}"
    );
    assert_eq!(unknown["help"], "did you mean `image`?");
    assert_problem(
        &agent.call(
            "POST",
            "/deploy",
            Some(&json!({ "deployment_id": "shop-1", "strategy": "canary", "traffic_shift": 10 })),
        ),
        422,
        "unsupported_strategy",
    );
    assert_problem(
        &agent.call("POST", "/deploy", Some(&json!({ "deployment_id": "nope" }))),
        404,
        "unknown_deployment",
    );
    let outside = agent.call(
        "POST",
        "/generate",
        Some(&json!({ "environment": "prod", "template_spec": "/etc/passwd" })),
    );
    assert_problem(&outside, 422, "validation_failed");
    assert!(outside.json()["detail"]
        .as_str()
        .unwrap()
        .contains("--spec-root"));

    // Generate: artifacts with digests and the policy verdict; an identical retry
    // replays; the same id for another request is refused.
    let g = agent.call("POST", "/generate", Some(&generate_body(&spec, "shop-1")));
    assert_eq!(g.status, 200, "{}", g.body);
    let gv = g.json();
    assert_eq!(gv["policy"]["passed"], true, "{gv}");
    let artifacts = gv["artifacts"].as_array().unwrap();
    assert!(
        artifacts
            .iter()
            .any(|a| a["path"] == "compose/docker-compose.yaml"
                && a["sha256"].as_str().unwrap().len() == 64),
        "{gv}"
    );
    let again = agent.call("POST", "/generate", Some(&generate_body(&spec, "shop-1")));
    assert_eq!(
        (again.status, again.header("idempotent-replay").as_deref()),
        (200, Some("true"))
    );
    assert_eq!(again.json(), gv);
    let mut other = generate_body(&spec, "shop-1");
    other["environment"] = json!("dev");
    assert_problem(
        &agent.call("POST", "/generate", Some(&other)),
        422,
        "deployment_id_conflict",
    );

    // SSE subscriber from the start, to check resume afterwards.
    let mut sse = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(sse, "GET /events?deployment_id=shop-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer {READ_TOKEN}\r\n\r\n").unwrap();

    let ws = ws_first_message(port, "?deployment_id=shop-1");
    // Plan, then apply (202, then the result arrives on the event stream).
    let plan = agent.call(
        "POST",
        "/deploy",
        Some(&json!({ "deployment_id": "shop-1", "plan_only": true })),
    );
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(plan.json()["plan"]["create"], json!(["app"]));
    let keyed = |key: &str| {
        support::agent::request(
            port,
            "POST",
            "/deploy",
            &[
                format!("Authorization: Bearer {DEPLOY_TOKEN}"),
                format!("Idempotency-Key: {key}"),
            ],
            &json!({ "deployment_id": "shop-1" }).to_string(),
        )
    };
    let d = keyed("shop-1-first");
    assert_eq!(d.status, 202, "{}", d.body);
    let dv = d.json();
    let op = dv["operation_id"].as_str().unwrap().to_string();
    assert_eq!(dv["links"]["status"], "/status/shop-1");
    let busy = agent.call(
        "POST",
        "/deploy",
        Some(&json!({ "deployment_id": "shop-1" })),
    );
    assert_problem(&busy, 409, "in_progress");
    assert_eq!(busy.header("retry-after").as_deref(), Some("5"));
    let result = wait_result(&agent, "shop-1", &op);
    assert_eq!(result["phase"], "succeeded", "{result}\n{}", agent.log());
    assert_eq!(greeting(app_port), "hello");
    let replay = keyed("shop-1-first");
    assert_eq!(
        (replay.status, replay.json()["operation_id"].as_str()),
        (200, Some(op.as_str())),
        "a retry with the same Idempotency-Key returns the stored result"
    );

    let st = call(port, "GET", "/status/shop-1", Some(READ_TOKEN), None).json();
    assert_eq!(st["operation"]["phase"], "succeeded", "{st}");
    assert_eq!(st["health"]["healthy"], true, "{st}");
    assert!(st["operation"]["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("drift-scan")));
    assert!(!st["recent_audit"].as_array().unwrap().is_empty());
    assert_problem(
        &call(port, "GET", "/status/unknown-id", Some(READ_TOKEN), None),
        404,
        "unknown_deployment",
    );

    assert_eq!(st["topology"][0]["service"], "app", "{st}");
    let list = call(port, "GET", "/deployments", Some(READ_TOKEN), None).json();
    assert!(
        list["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "shop-1" && d["phase"] == "succeeded"),
        "{list}"
    );
    let page = call(port, "GET", "/", None, None);
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    for needle in [
        "/deployments",
        "/status/",
        "/drift-scan",
        "/events?after=",
        "topology",
    ] {
        assert!(
            page.body.contains(needle),
            "the dashboard does not use {needle}"
        );
    }
    assert!(
        !page.body.contains("src=\"http"),
        "the dashboard loads nothing from elsewhere"
    );
    // The page itself, in headless Chromium against this agent: it lists the deployment, shows
    // its status, topology, audit and live events, and its scan button scans.
    let venv = std::env::var("SLIPWAY_TOOLS_VENV").unwrap_or_else(|_| "/opt/slipway-tools".into());
    let out = Command::new("node")
        .arg(root().join("crates/slipway_cli/tests/support/dashboard-browser.js"))
        .args([&format!("http://127.0.0.1:{port}"), DEPLOY_TOKEN, "shop-1"])
        .env("NODE_PATH", format!("{venv}/node/node_modules"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(seen["deployments"].as_u64() >= Some(1), "{seen}");
    assert!(
        seen["title"].as_str().unwrap().starts_with("shop-1 — "),
        "{seen}"
    );
    let status = seen["status"].as_str().unwrap();
    assert!(
        status.contains("operation: scan succeeded")
            && status.contains("serving: yes")
            && status.contains("health: app 1/1")
            && status.contains("sync: in_sync"),
        "{seen}"
    );
    assert_eq!(seen["topology"], json!(["app ×1"]), "{seen}");
    assert_eq!(seen["topology_boxes"], json!([130]), "laid out: {seen}");
    assert!(seen["audit_rows"].as_u64() > Some(0), "{seen}");
    assert!(seen["event_lines"].as_u64() > Some(0), "{seen}");
    assert_eq!(
        (seen["drift_before"].as_str(), seen["drift_after"].as_str()),
        (Some(""), Some("in sync")),
        "never scanned, then scanned by the button: {seen}"
    );
    assert_eq!(seen["errors"], json!([]), "{seen}");
    let drift = agent.call(
        "POST",
        "/drift-scan",
        Some(&json!({ "deployment_id": "shop-1" })),
    );
    assert_eq!(
        (drift.status, drift.json()["in_sync"].clone()),
        (200, json!(true)),
        "{}",
        drift.body
    );

    // The audit log pages with a cursor, and every mutating call names its token.
    let page = agent.call("GET", "/audit?limit=1", None).json();
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_i64().unwrap();
    let page2 = agent
        .call("GET", &format!("/audit?after={next}&limit=100"), None)
        .json();
    assert!(page2["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["seq"].as_i64().unwrap() > next));
    assert!(
        page2["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["actor"] == "ci"),
        "{page2}"
    );
    assert!(!page2.to_string().contains(DEPLOY_TOKEN));

    // The SSE subscriber saw the operation's phases with ids; resuming after one of
    // them replays exactly what followed.
    sse.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(sse);
    let mut ids = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(id) = line.trim().strip_prefix("id: ") {
            ids.push(id.parse::<u64>().unwrap());
        }
        if line.contains("\"kind\":\"result\"") {
            break;
        }
        line.clear();
    }
    assert!(ids.len() >= 5, "SSE delivered {ids:?}");
    let resume = agent
        .call(
            "GET",
            &format!("/events?after={}&deployment_id=shop-1", ids[2]),
            None,
        )
        .json();
    let seqs: Vec<u64> = resume["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs.first().copied(),
        Some(ids[3]),
        "resume continues right after the cursor"
    );

    let first: Value = serde_json::from_str(&ws.join().unwrap()).unwrap();
    assert_eq!(
        (first["kind"].as_str(), first["deployment_id"].as_str()),
        (Some("phase"), Some("shop-1")),
        "WebSocket: the same envelope: {first}"
    );
    assert!(first["seq"].as_u64().is_some());
    let metrics = call(port, "GET", "/metrics", None, None).body;
    for m in [
        "infra_apply_duration_seconds_count 1",
        "infra_policy_violations_total",
        "infra_drift_events_total",
        "http_requests_total{",
        "infra_events_published_total",
        "infra_event_subscribers",
    ] {
        assert!(metrics.contains(m), "{m} missing:\n{metrics}");
    }
    assert!(
        !metrics.contains("shop-1"),
        "a deployment id leaked into a metric label"
    );
    // The spans reached the collector as OTLP/HTTP JSON, with the deployment id.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = spans.lock().unwrap().join("\n");
        let all = [
            "infra.generate",
            "infra.plan",
            "infra.apply",
            "infra.drift-scan",
        ]
        .iter()
        .all(|n| got.contains(&format!("\"name\":\"{n}\"")));
        if all && got.contains("\"stringValue\":\"shop-1\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "spans missing from the collector: {got}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The CLI through the agent: the same commands, the same output.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(args)
            .args([
                "--agent",
                &format!("http://127.0.0.1:{port}"),
                "--token",
                DEPLOY_TOKEN,
            ])
            .env("PATH", path_env())
            .output()
            .unwrap()
    };
    let out = cli(&["status", "shop-1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("serving     yes"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = cli(&["history", "shop-1", "--format", "json"]);
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["chain_verified"], true, "{h}");
    assert_eq!(cli(&["drift", "shop-1"]).status.code(), Some(0));
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("GREETING: hello", "GREETING: remote")).unwrap();
    let out = cli(&[
        "deploy",
        &spec,
        "--env",
        "prod",
        "--image-map",
        &format!("{PY}={PY_LOCAL}"),
    ]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(": succeeded"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(greeting(app_port), "remote");

    // Rollback: through the CLI, then the API (each goes back to the other release).
    let list = call(port, "GET", "/deployments", Some(READ_TOKEN), None).json();
    let remote_id = list["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] != "shop-1")
        .and_then(|d| d["id"].as_str())
        .unwrap()
        .to_string();
    let out = cli(&["rollback", &remote_id]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains(": succeeded"),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(greeting(app_port), "hello");
    assert_problem(
        &call(
            port,
            "POST",
            "/rollback",
            Some(READ_TOKEN),
            Some(r#"{"deployment_id":"shop-1"}"#),
        ),
        403,
        "forbidden",
    );
    assert_problem(
        &agent.call(
            "POST",
            "/rollback",
            Some(&json!({ "deployment_id": "nope" })),
        ),
        404,
        "unknown_deployment",
    );
    let r = agent.call(
        "POST",
        "/rollback",
        Some(&json!({ "deployment_id": "shop-1" })),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/status/shop-1"));
    let op = r.json()["operation_id"].as_str().unwrap().to_string();
    let back = wait_result(&agent, "shop-1", &op);
    assert_eq!(back["phase"], "succeeded", "{back}");
    assert_eq!(back["rolled_back_to"].as_str(), Some(remote_id.as_str()));
    assert_eq!(greeting(app_port), "remote");

    let _ = &mut agent;
}

#[test]
#[ignore = "needs docker"]
fn a_hundred_identical_deploys_run_once_and_rate_limits_apply() {
    let mut agent = Agent::start(&["--rate-limit", "1000"]);
    let (spec, app_port) = agent.hello("many", "once");
    assert_eq!(
        agent
            .call("POST", "/generate", Some(&generate_body(&spec, "many-1")))
            .status,
        200
    );
    let port = agent.port;
    let replies: Vec<(u16, String)> = (0..100)
        .map(|_| {
            std::thread::spawn(move || {
                let r = call(
                    port,
                    "POST",
                    "/deploy",
                    Some(DEPLOY_TOKEN),
                    Some("{\"deployment_id\":\"many-1\"}"),
                );
                (r.status, r.body)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let statuses: Vec<u16> = replies.iter().map(|r| r.0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [202, 409, 200].contains(s)),
        "{statuses:?}"
    );
    let accepted: Value =
        serde_json::from_str(&replies.iter().find(|r| r.0 == 202).unwrap().1).unwrap();
    let op = accepted["operation_id"].as_str().unwrap().to_string();
    for (status, body) in &replies {
        if *status == 409 {
            let v: Value = serde_json::from_str(body).unwrap();
            assert!(
                v["operation_id"].is_null() || v["operation_id"] == op.as_str(),
                "a refusal names the running operation: {v}"
            );
        }
    }
    let result = wait_result(&agent, "many-1", &op);
    assert_eq!(result["phase"], "succeeded");
    assert_eq!(greeting(app_port), "once");
    let audit = agent
        .call("GET", "/audit?limit=1000&deployment_id=many-1", None)
        .json();
    let applies = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "intent" && r["action"] == "apply")
        .count();
    assert_eq!(applies, 1, "exactly one execution");
    drop(agent);

    let agent = Agent::start(&["--rate-limit", "2"]);
    let codes: Vec<u16> = (0..6)
        .map(|_| {
            agent
                .call(
                    "POST",
                    "/drift-scan",
                    Some(&json!({ "deployment_id": "x" })),
                )
                .status
        })
        .collect();
    assert!(codes.contains(&429), "{codes:?}");
    let limited = (0..6)
        .map(|_| {
            agent.call(
                "POST",
                "/drift-scan",
                Some(&json!({ "deployment_id": "x" })),
            )
        })
        .find(|r| r.status == 429)
        .unwrap();
    assert_problem(&limited, 429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
}

#[test]
#[ignore = "needs docker"]
fn a_hung_engine_call_ends_in_502_with_logs_and_frees_the_target() {
    // A compose CLI that never answers `build`, standing in for a hung engine.
    let shim = tempfile::tempdir().unwrap();
    let script = shim.path().join("docker-compose");
    std::fs::write(&script, "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = build ] && exec sleep 600; done\nexec /usr/bin/docker-compose \"$@\"\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut agent = Agent::start(&["--engine-timeout", "3"]);
    agent.stop("-KILL");
    let path = format!("{}:{}", shim.path().display(), path_env());
    agent.spawn(&[("PATH", &path)]);
    let (spec, _) = agent.hello("hung", "stuck");
    assert_eq!(
        agent
            .call("POST", "/generate", Some(&generate_body(&spec, "hung-1")))
            .status,
        200
    );
    let r = agent.call(
        "POST",
        "/deploy",
        Some(&json!({ "deployment_id": "hung-1", "plan_only": true })),
    );
    assert_problem(&r, 502, "engine_failed");
    let v = r.json();
    assert!(v["detail"].as_str().unwrap().contains("killed"), "{v}");
    let logs_ref = v["logs_ref"].as_str().unwrap();
    let log = agent.call("GET", &format!("/logs/{logs_ref}"), None);
    assert_eq!(log.status, 200);
    assert!(
        log.body.contains("did not finish within 3 s"),
        "{}",
        log.body
    );
    // No lease was left behind: the next plan is not refused as locked.
    let again = agent.call(
        "POST",
        "/deploy",
        Some(&json!({ "deployment_id": "hung-1", "plan_only": true, "strategy": "rolling" })),
    );
    assert_problem(&again, 502, "engine_failed");
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&ps.stdout).contains("sleep 600"),
        "the hung engine call was not killed"
    );
}

#[test]
#[ignore = "needs docker"]
fn killed_during_an_apply_the_agent_restarts_and_reports_the_reconciled_truth() {
    let mut agent = Agent::start(&[]);
    let (spec, app_port) = agent.hello("crash", "before");
    assert_eq!(
        agent
            .call("POST", "/generate", Some(&generate_body(&spec, "crash-1")))
            .status,
        200
    );
    agent.stop("-KILL");
    // Restart with a fault point: the apply pauses once its containers are up.
    agent.spawn(&[("SLIPWAY_FAULT_PAUSE_AT", "verifying")]);
    let d = agent.call(
        "POST",
        "/deploy",
        Some(&json!({ "deployment_id": "crash-1" })),
    );
    assert_eq!(d.status, 202, "{}", d.body);
    let deadline = Instant::now() + Duration::from_secs(240);
    while !agent.log().contains("paused at verifying") {
        assert!(Instant::now() < deadline, "{}", agent.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let audit_before = agent.call("GET", "/audit?limit=1000", None).json()["records"]
        .as_array()
        .unwrap()
        .len();
    agent.stop("-KILL");
    agent.spawn(&[]);
    let st = agent.call("GET", "/status/crash-1", None).json();
    assert_eq!(
        st["operation"]["phase"], "succeeded",
        "reconciled: the release is up and healthy: {st}"
    );
    assert_eq!(greeting(app_port), "before");
    let records = agent.call("GET", "/audit?limit=1000", None).json()["records"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        records.len() > audit_before,
        "the reconciliation is audited"
    );
    for r in records.iter().filter(|r| r["kind"] == "intent") {
        assert!(
            records.iter().any(|o| o["kind"] == "outcome"
                && o["action"] == r["action"]
                && o["operation_id"] == r["operation_id"]),
            "intent without outcome: {r}"
        );
    }
    // SIGTERM: readiness turns false while draining, and the agent exits.
    agent.stop("-TERM");
    assert!(
        agent.log().contains("\"msg\":\"draining\""),
        "{}",
        agent.log()
    );
    assert!(Path::new(&agent.dir.path().join("state.db")).exists());
}

/// The kinds and phases of a deployment's events as an agent streams them.
fn phases(agent: &Agent, id: &str) -> Vec<String> {
    let r = agent.call("GET", &format!("/events?after=0&deployment_id={id}"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "phase")
        .map(|e| {
            e["data"]["data"]["phase"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[test]
#[ignore = "needs docker"]
fn agents_on_one_store_stream_each_others_events_and_the_clis() {
    let mut first = Agent::start(&[]);
    let url = first.database_url();
    let second = Agent::start_env(&[], &[("SLIPWAY_DATABASE_URL", &url)]);
    let (spec, app_port) = first.hello("fan", "fanned");
    let g = first.call("POST", "/generate", Some(&generate_body(&spec, "fan-1")));
    assert_eq!(g.status, 200, "{}", g.body);
    let d = first.call(
        "POST",
        "/deploy",
        Some(&json!({ "deployment_id": "fan-1" })),
    );
    assert_eq!(d.status, 202, "{}", d.body);
    let op = d.json()["operation_id"].as_str().unwrap().to_string();
    // The second agent ran nothing, yet streams the first one's operation to its end.
    let result = wait_result(&second, "fan-1", &op);
    assert_eq!(result["phase"], "succeeded", "{result}");
    assert_eq!(wait_result(&first, "fan-1", &op), result);
    assert_eq!(greeting(app_port), "fanned");
    let (seen_first, seen_second) = (phases(&first, "fan-1"), phases(&second, "fan-1"));
    assert_eq!(
        seen_first, seen_second,
        "the same events, once each, in the same order"
    );
    assert_eq!(
        (
            seen_first.first().map(String::as_str),
            seen_first.last().map(String::as_str)
        ),
        (Some("queued"), Some("succeeded")),
        "{seen_first:?}"
    );
    // A drift scan from the CLI on the same store shows on both streams.
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["drift", "fan-1", "--format", "json"])
        .env("SLIPWAY_DATABASE_URL", &url)
        .env("PATH", path_env())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for agent in [&first, &second] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = agent.call("GET", "/events?after=0&deployment_id=fan-1", None);
            let drift = r.json()["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "drift");
            if drift {
                break;
            }
            assert!(Instant::now() < deadline, "no drift event:\n{}", r.body);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Schemathesis (from PyPI, installed by the setup script) generates requests from
/// `/openapi.json`: no 500s, and every response fits the documented statuses,
/// content types and schemas. `/events` is left out: its long-poll holds requests
/// open for up to 30 s (the API test above covers it).
#[test]
#[ignore = "needs the full test setup (schemathesis)"]
fn schemathesis_finds_no_server_errors_or_schema_breaks() {
    let bin = std::env::var("SLIPWAY_SCHEMATHESIS")
        .unwrap_or_else(|_| "/opt/slipway-schemathesis/bin/schemathesis".into());
    let mut agent = Agent::start(&["--rate-limit", "100000"]);
    // A deployment to find, so /status and /deploy are reached beyond their 404s.
    let (spec, _) = agent.hello("schema", "hi");
    assert_eq!(
        agent
            .call("POST", "/generate", Some(&generate_body(&spec, "schema-1")))
            .status,
        200
    );
    let out = Command::new(&bin)
        .args(["run", &format!("http://127.0.0.1:{}/openapi.json", agent.port)])
        .args(["-H", &format!("Authorization: Bearer {DEPLOY_TOKEN}")])
        .args(["--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"])
        .args(["--exclude-path", "/events", "--max-examples", "40", "--phases", "examples,coverage,fuzzing", "--request-timeout", "60"])
        .current_dir(agent.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin} (scripts/setup-test-env.sh installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{text}\n{}",
        agent.log()
    );
    assert!(text.contains("passed"), "{text}");
}

/// The dashboard's script parses (node from the test setup checks its syntax).
#[test]
#[ignore = "needs the full test setup (node)"]
fn the_dashboard_script_parses() {
    let page =
        std::fs::read_to_string(root().join("crates/slipway_agent/src/dashboard.html")).unwrap();
    let script = &page[page.find("<script>").unwrap() + 8..page.find("</script>").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.js");
    std::fs::write(&file, script).unwrap();
    let out = Command::new("node")
        .arg("--check")
        .arg(&file)
        .output()
        .expect("node (scripts/setup-test-env.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The soft limit on open files of process `pid` (from /proc).
fn open_files_limit(pid: u32) -> usize {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line["Max open files".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Sets process `pid`'s open-files limit (soft and hard) with util-linux `prlimit`.
fn set_open_files_limit(pid: u32, n: usize) {
    let out = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={n}:{n}")])
        .output()
        .expect("prlimit (util-linux)");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(open_files_limit(pid), n);
}

/// GET /healthz on a fresh connection, bounded so a lockout fails instead of hanging.
fn healthz(port: u16) -> (u16, Duration) {
    let started = Instant::now();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(10)) else {
        return (0, started.elapsed());
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

/// Issue 16 item 7: 2,000 idle connections against an agent limited to 1,024 open
/// files. The connection cap closes the idlest to make room, so the agent never
/// runs out of descriptors and `/healthz` keeps answering. The header timeout is
/// set long, so what keeps it answering is the cap, not the timeout.
#[test]
fn two_thousand_idle_connections_neither_exhaust_descriptors_nor_lock_out_healthz() {
    if open_files_limit(std::process::id()) < 4096 {
        set_open_files_limit(std::process::id(), 4096);
    }
    let agent = Agent::start(&["--header-timeout-secs", "600"]);
    let pid = agent.child.as_ref().unwrap().id();
    set_open_files_limit(pid, 1024);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], agent.port));
    let mut idle = Vec::new();
    for i in 0..2000 {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connection {i} was not accepted: {e}\n{}", agent.log()));
        idle.push(s);
    }
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let (status, took) = healthz(agent.port);
        assert_eq!(status, 200, "with 2,000 idle connections:\n{}", agent.log());
        latencies.push(took);
    }
    latencies.sort();
    println!(
        "/healthz with 2,000 idle connections at a 1,024 fd limit: median {:?}, max {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    // Real work still goes through, and the agent never hit its descriptor limit.
    let r = agent.call("GET", "/deployments", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let log = agent.log();
    assert!(!log.contains("accept failed"), "{log}");
    let mut closed = 0;
    for s in &mut idle {
        s.set_nonblocking(true).unwrap();
        closed += usize::from(matches!(s.read(&mut [0u8; 1]), Ok(0)));
    }
    println!("{closed} of 2,000 idle connections closed by the agent to stay under its cap");
}

/// Issue 16 item 7: a body shorter than its Content-Length ends in 408 after the
/// body timeout instead of holding the request forever, and a connection that
/// sends nothing is closed after the header timeout.
#[test]
fn a_stalled_body_gets_408_and_a_silent_connection_is_closed() {
    let agent = Agent::start(&["--body-timeout-secs", "2", "--header-timeout-secs", "2"]);
    let mut s = TcpStream::connect(("127.0.0.1", agent.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "POST /drift-scan HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {DEPLOY_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"deployment_id\"").unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let read = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    println!("stalled body answered after {:?}", started.elapsed());
    assert!(read.is_ok(), "no answer to a stalled body: {read:?} {text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let r = Reply {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
        headers: head.to_string(),
        body: body.to_string(),
    };
    assert_problem(&r, 408, "request_timeout");

    let mut silent = TcpStream::connect(("127.0.0.1", agent.port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = silent.read_to_end(&mut rest);
    println!("silent connection closed after {:?}", started.elapsed());
    assert!(read.is_ok(), "a silent connection stayed open: {read:?}");

    // A request head sent a byte at a time (slowloris) is cut off too: the byte
    // trickle does not count as a request in flight.
    let mut slow = TcpStream::connect(("127.0.0.1", agent.port)).unwrap();
    let started = Instant::now();
    let mut cut = false;
    for b in
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    {
        if slow.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    if !cut {
        slow.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        cut = slow.read_to_end(&mut rest).is_ok()
            && !String::from_utf8_lossy(&rest).contains("200 OK");
    }
    println!("slow request head cut off after {:?}", started.elapsed());
    assert!(cut, "a request head trickled over 20 s was served");
}

/// Issue 16 item 3: without tokens the agent writes a local deploy token (0600 in a
/// 0700 data dir), shows it once, keeps it across restarts, refuses mutating calls
/// without it, and the CLI's `--agent` client on this machine sends it.
#[test]
fn a_tokenless_agent_writes_a_private_local_token_once_and_the_cli_sends_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = |log: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_slipway"));
        c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path())
            .env_remove("SLIPWAY_AGENT_TOKENS")
            .env(
                "SLIPWAY_DATABASE_URL",
                format!("sqlite://{}/state.db", dir.path().display()),
            )
            .env("PATH", path_env())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join(log)).unwrap(),
            ));
        let child = c.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || call(port, "GET", "/readyz", None, None).status != 200
        {
            assert!(Instant::now() < deadline, "the agent did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        child
    };
    let stop = |mut child: Child| {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    };
    let first = start("first.log");
    let data = dir.path().join(".slipway/agent");
    let file = data.join("local-token");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&data), 0o700);
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(
        token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    let log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    assert_eq!(log.matches(&token).count(), 1, "{log}");

    // Reads for everyone; mutating calls only with the token.
    assert_eq!(call(port, "GET", "/deployments", None, None).status, 200);
    let scan = r#"{"deployment_id":"nope"}"#;
    assert_problem(
        &call(port, "POST", "/drift-scan", None, Some(scan)),
        401,
        "unauthorized",
    );
    assert_problem(
        &call(port, "POST", "/drift-scan", Some(&token), Some(scan)),
        404,
        "unknown_deployment",
    );
    let cli = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args([
            "rollback",
            "nope",
            "--agent",
            &format!("http://127.0.0.1:{port}"),
        ])
        .current_dir(dir.path())
        .env_remove("SLIPWAY_AGENT_TOKEN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&cli.stderr);
    assert!(
        err.contains("unknown_deployment") && !err.contains("unauthorized"),
        "{err}"
    );

    // A restart keeps the token and does not show it again.
    stop(first);
    let second = start("second.log");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
    let log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(!log.contains(&token), "{log}");
    assert!(log.contains("local-token"), "{log}");
    assert_problem(
        &call(port, "POST", "/drift-scan", Some(&token), Some(scan)),
        404,
        "unknown_deployment",
    );
    stop(second);
}

/// The timeouts bound reading a request, never a response that streams: with both
/// at 1 s, a 3 s long-poll answers, and an SSE stream and a WebSocket stay open.
#[test]
fn streams_outlive_the_header_and_body_timeouts() {
    let agent = Agent::start(&["--body-timeout-secs", "1", "--header-timeout-secs", "1"]);
    let poll = call(agent.port, "GET", "/events?wait=3s", Some(READ_TOKEN), None);
    assert_eq!(poll.status, 200, "{}", poll.body);
    assert!(poll.json()["events"].is_array(), "{}", poll.body);
    let open = |head: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", agent.port)).unwrap();
        write!(s, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {READ_TOKEN}\r\n{head}\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut first = [0u8; 12];
        s.read_exact(&mut first).unwrap();
        (s, String::from_utf8_lossy(&first).into_owned())
    };
    let (mut sse, sse_status) = open("Accept: text/event-stream\r\n");
    assert_eq!(sse_status, "HTTP/1.1 200");
    let (mut ws, ws_status) = open("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    assert_eq!(ws_status, "HTTP/1.1 101");
    std::thread::sleep(Duration::from_secs(3));
    for (name, s) in [("SSE", &mut sse), ("WebSocket", &mut ws)] {
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 4096];
        let still_open = loop {
            match s.read(&mut buf) {
                Ok(0) => break false,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                Err(e) => panic!("{name}: {e}"),
            }
        };
        assert!(still_open, "the {name} stream was closed by a timeout");
    }
}
// ---- The event stream's ids are store sequences: resume, bursts, closed slots ----

/// An SSE subscription to `/events`, read through HTTP/1.1 chunked encoding.
struct Sse {
    r: BufReader<TcpStream>,
    pending: String,
}

/// One SSE frame: its id (none for `gap`), event name and data.
struct SseFrame {
    id: Option<u64>,
    event: String,
    data: Value,
}

impl Sse {
    fn open(port: u16, query: &str, last_event_id: Option<u64>) -> Sse {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let resume = last_event_id
            .map(|n| format!("Last-Event-ID: {n}\r\n"))
            .unwrap_or_default();
        write!(s, "GET /events{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer {READ_TOKEN}\r\n{resume}\r\n").unwrap();
        let mut r = BufReader::new(s);
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            assert!(r.read_line(&mut head).unwrap() > 0, "{head}");
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        Sse {
            r,
            pending: String::new(),
        }
    }

    /// The next frame; keep-alive comments are skipped, but not for 30 s.
    fn next(&mut self) -> SseFrame {
        let quiet_since = Instant::now();
        loop {
            assert!(
                quiet_since.elapsed() < Duration::from_secs(30),
                "no event for 30 s, only keep-alives"
            );
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name).map(str::to_string))
                };
                let Some(data) = field("data: ") else {
                    continue;
                };
                return SseFrame {
                    id: field("id: ").map(|v| v.parse().unwrap()),
                    event: field("event: ").unwrap_or_default(),
                    data: serde_json::from_str(&data).unwrap(),
                };
            }
            let mut size = String::new();
            self.r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16)
                .unwrap_or_else(|_| panic!("not a chunk: {size:?}"));
            assert!(n > 0, "the stream ended");
            let mut chunk = vec![0u8; n + 2];
            self.r.read_exact(&mut chunk).unwrap();
            self.pending
                .push_str(std::str::from_utf8(&chunk[..n]).unwrap());
        }
    }

    /// The next event's id (a gap fails the test).
    fn event_id(&mut self) -> u64 {
        let f = self.next();
        f.id.unwrap_or_else(|| panic!("not an event: {} {}", f.event, f.data))
    }
}

fn store_of(agent: &Agent) -> std::sync::Arc<dyn slipway_engine::Store> {
    slipway_engine::open_store(&agent.database_url(), agent.dir.path()).unwrap()
}

/// Appends `n` progress events to the store, as the engine or the CLI would; their
/// sequence numbers.
fn append(store: &dyn slipway_engine::Store, deployment_id: &str, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let data = json!({ "n": i }).to_string();
            let e = slipway_engine::NewEvent {
                deployment_id,
                operation_id: None,
                kind: "progress",
                data: &data,
            };
            u64::try_from(store.append_event(&e, slipway_engine::now_ms()).unwrap()).unwrap()
        })
        .collect()
}

/// Opens a WebSocket on /events (raw handshake).
fn ws_open(port: u16, query: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /events{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {READ_TOKEN}\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// The next text message on a WebSocket; server pings are answered, as a browser does.
fn ws_text(s: &mut TcpStream) -> Value {
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).unwrap();
        let len = match h[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                s.read_exact(&mut l).unwrap();
                usize::from(u16::from_be_bytes(l))
            }
            127 => {
                let mut l = [0u8; 8];
                s.read_exact(&mut l).unwrap();
                usize::try_from(u64::from_be_bytes(l)).unwrap()
            }
            n => usize::from(n),
        };
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).unwrap();
        if h[0] == 0x81 {
            return serde_json::from_slice(&body).unwrap();
        }
        assert_eq!(h[0], 0x89, "a text frame or a ping");
        // A pong, masked with a zero key, echoing the ping's (short) payload.
        let mut pong = vec![0x8a, 0x80 | u8::try_from(body.len()).unwrap(), 0, 0, 0, 0];
        pong.extend_from_slice(&body);
        s.write_all(&pong).unwrap();
    }
}

/// The `infra_event_subscribers` gauge.
fn subscribers(port: u16) -> u64 {
    let m = call(port, "GET", "/metrics", Some(READ_TOKEN), None).body;
    m.lines()
        .find_map(|l| l.strip_prefix("infra_event_subscribers "))
        .unwrap_or_else(|| panic!("no subscriber gauge:\n{m}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits up to `within` for the subscriber gauge to read `n`.
fn wait_subscribers(port: u16, n: u64, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while subscribers(port) != n {
        assert!(
            Instant::now() < deadline,
            "{what}: {} subscribers after {within:?}, not {n}",
            subscribers(port)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_resume_across_a_kill_9_restart_gets_every_event_after_its_id_or_a_gap() {
    let mut agent = Agent::start(&[]);
    let store = store_of(&agent);
    let mut sse = Sse::open(agent.port, "?deployment_id=resume-1", None);
    let before = append(&*store, "resume-1", 5);
    let seen: Vec<u64> = (0..5).map(|_| sse.event_id()).collect();
    assert_eq!(seen, before, "event ids are the store's sequence numbers");
    let cursor = before[4];

    agent.stop("-KILL");
    let after = append(&*store, "resume-1", 5);
    agent.spawn(&[]);
    let mut sse = Sse::open(agent.port, "?deployment_id=resume-1", Some(cursor));
    let resumed: Vec<u64> = (0..5).map(|_| sse.event_id()).collect();
    assert_eq!(
        resumed, after,
        "every event after Last-Event-ID, across the restart"
    );
    // Long-poll and WebSocket resume from `after=` the same way.
    let page = agent
        .call(
            "GET",
            &format!("/events?after={cursor}&deployment_id=resume-1"),
            None,
        )
        .json();
    let seqs: Vec<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!((seqs, &page["gap"]), (after.clone(), &json!(false)));
    let mut ws = ws_open(
        agent.port,
        &format!("?after={cursor}&deployment_id=resume-1"),
    );
    assert_eq!(ws_text(&mut ws)["seq"], after[0]);

    // Retention pruned all but the newest event: a gap says how many were lost.
    store.prune_events(i64::MAX).unwrap();
    let newest = after[4];
    let mut sse = Sse::open(agent.port, "?deployment_id=resume-1", Some(cursor));
    let gap = sse.next();
    assert_eq!((gap.id, gap.event.as_str()), (None, "gap"), "{}", gap.data);
    assert_eq!(
        (&gap.data["data"]["lost"], &gap.data["data"]["to"]),
        (&json!(newest - cursor - 1), &json!(newest - 1)),
        "{}",
        gap.data
    );
    assert_eq!(sse.event_id(), newest);
    let page = agent
        .call("GET", &format!("/events?after={cursor}"), None)
        .json();
    assert_eq!(
        (&page["gap"], &page["lost"]["count"], &page["next_after"]),
        (
            &json!(true),
            &json!(newest - cursor - 1),
            &json!(newest - 1)
        ),
        "{page}"
    );
}

/// Commits `n` progress events in one SQLite transaction: a burst that reaches the
/// agent's relay at once, however slowly the machine appends one event at a time
/// (`Store::append_event` commits each). Their sequence numbers.
fn burst(agent: &Agent, deployment_id: &str, n: u64) -> Vec<u64> {
    let mut db = rusqlite::Connection::open(agent.dir.path().join("state.db")).unwrap();
    db.busy_timeout(Duration::from_secs(60)).unwrap();
    let tx = db
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let base: u64 = tx
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))
        .unwrap();
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
         INSERT INTO events (seq, at, deployment_id, operation_id, kind, data)
         SELECT ?1 + i, ?2, ?4, NULL, 'progress', '{\"n\":' || i || '}' FROM n",
        rusqlite::params![base, slipway_engine::now_ms(), n, deployment_id],
    )
    .unwrap();
    tx.commit().unwrap();
    (base + 1..=base + n).collect()
}

#[test]
fn a_30000_event_burst_is_delivered_whole_or_its_loss_signalled() {
    // A publish limit and a ring well below the burst, so both are crossed.
    let agent = Agent::start(&["--publish-rate", "5000", "--ring-events", "5000"]);
    let mut sse = Sse::open(agent.port, "?deployment_id=burst-1", None);
    let written = burst(&agent, "burst-1", 30_000);
    let (mut got, mut lost) = (Vec::new(), 0);
    while got.len() + lost < 30_000 {
        let f = sse.next();
        if let Some(id) = f.id {
            got.push(id);
        } else {
            assert_eq!(f.event, "gap", "{}", f.data);
            lost += usize::try_from(
                f.data["data"]["lost"]
                    .as_u64()
                    .expect("a gap says how many were lost"),
            )
            .unwrap();
        }
    }
    assert_eq!(
        lost, 0,
        "nothing was pruned from the store, so nothing may be lost"
    );
    assert_eq!(got, written, "every event once, in store order");
    let metrics = call(agent.port, "GET", "/metrics", Some(READ_TOKEN), None).body;
    let delayed: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("infra_events_delayed_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(
        delayed > 0,
        "the burst crossed the publish limit:\n{metrics}"
    );
}

#[test]
fn closed_event_subscribers_free_their_slots_within_5_s_on_an_idle_agent() {
    let agent = Agent::start(&[]);
    let port = agent.port;
    let within = Duration::from_secs(5);
    // A WebSocket the client closes with a Close frame (masked, empty).
    let mut ws = ws_open(port, "");
    wait_subscribers(port, 1, within, "a WebSocket opened");
    ws.write_all(&[0x88, 0x80, 0, 0, 0, 0]).unwrap();
    wait_subscribers(port, 0, within, "a WebSocket closed with a Close frame");
    // One whose client just goes, and an SSE stream likewise.
    let ws = ws_open(port, "");
    let sse = Sse::open(port, "", None);
    wait_subscribers(port, 2, within, "a WebSocket and an SSE stream opened");
    drop(ws);
    drop(sse);
    wait_subscribers(port, 0, within, "connections dropped by their clients");
}
