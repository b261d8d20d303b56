#![allow(dead_code)] // Each test crate uses part of it.
//! A real `slipway serve` process on 127.0.0.1 for the agent tests, and the raw
//! HTTP/1.1 client they talk to it with.

use super::{copy_tree, root};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DEPLOY_TOKEN: &str = "deploy-token-0123456789abcdef";
pub const READ_TOKEN: &str = "read-token-0123456789abcdef00";
pub const PY: &str = "python:3.11-slim-bookworm";
pub const PY_LOCAL: &str = "slipway-local/python:3.11";

/// PATH with Debian's docker client first: it builds with BuildKit without buildx.
pub fn path_env() -> String {
    format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// One request with `headers` (`Name: value` lines) on a fresh connection.
pub fn request(port: u16, method: &str, path: &str, headers: &[String], body: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    let extra: String = headers.iter().fold(String::new(), |mut s, h| {
        s.push_str(h);
        s.push_str("\r\n");
        s
    });
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Reply {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
        headers: head.to_string(),
        body: body.to_string(),
    }
}

pub fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{}",
        r.headers
    );
    assert_eq!(r.json()["code"], code, "{}", r.body);
}

/// The app's greeting over 127.0.0.1 (waits up to 30 s for it to answer).
pub fn greeting(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = std::panic::catch_unwind(|| request(port, "GET", "/", &[], "")) {
            if r.status == 200 {
                return r.json()["greeting"]
                    .as_str()
                    .unwrap_or_default()
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

/// A running agent; killed (and its compose projects removed) when dropped.
pub struct Agent {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub extra: Vec<String>,
    pub projects: Vec<String>,
}

impl Agent {
    /// An agent on its own SQLite store, or on `database_url`.
    pub fn start(extra: &[&str], database_url: Option<&str>) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_url.map_or_else(
            || format!("sqlite://{}/state.db", dir.path().display()),
            str::to_string,
        );
        let mut a = Agent {
            child: None,
            port: free_port(),
            dir,
            database_url,
            extra: extra.iter().map(ToString::to_string).collect(),
            projects: Vec::new(),
        };
        a.spawn(&[]);
        a
    }

    /// Starts the agent process, with `env` on top of the usual environment.
    pub fn spawn(&mut self, env: &[(&str, &str)]) {
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
        .env("SLIPWAY_DATABASE_URL", &self.database_url)
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
                && request(self.port, "GET", "/readyz", &[], "").status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the agent did not become ready:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// A deploy-scope call with `headers` on top.
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[String],
    ) -> Reply {
        let mut h = vec![format!("Authorization: Bearer {DEPLOY_TOKEN}")];
        h.extend_from_slice(headers);
        request(
            self.port,
            method,
            path,
            &h,
            &body.map(ToString::to_string).unwrap_or_default(),
        )
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.call_with(method, path, body, &[])
    }

    /// A copy of the hello fixture in `app-TAG` as compose project `project` on host
    /// port `port`, greeting `greeting`; returns the spec path.
    pub fn app(&mut self, tag: &str, project: &str, port: u16, greeting: &str) -> String {
        let app = self.dir.path().join(format!("app-{tag}"));
        copy_tree(&root().join("fixtures/deploy/hello"), &app);
        let spec = app.join("slipway.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(
            &spec,
            text.replace("name: hello", &format!("name: {project}"))
                .replace("host_port: 18080", &format!("host_port: {port}"))
                .replace("GREETING: hello", &format!("GREETING: {greeting}")),
        )
        .unwrap();
        if !self.projects.iter().any(|p| p == project) {
            self.projects.push(project.to_string());
        }
        spec.display().to_string()
    }

    /// `POST /generate` for `spec` as deployment `id` (prod, compose, local images).
    pub fn generate(&self, spec: &str, id: &str) -> Reply {
        self.call(
            "POST",
            "/generate",
            Some(&json!({ "deployment_id": id, "environment": "prod", "template_spec": spec, "runtime": "compose", "parameters": { "image_map": { PY: PY_LOCAL } } })),
        )
    }

    /// Every stored event after `after`, oldest first.
    pub fn events(&self, after: u64) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = after;
        loop {
            let r = self.call("GET", &format!("/events?after={cursor}&wait=0s"), None);
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            let batch = v["events"].as_array().cloned().unwrap_or_default();
            let next = v["next_after"].as_u64().unwrap_or(cursor);
            if batch.is_empty() || next == cursor {
                return out;
            }
            out.extend(batch);
            cursor = next;
        }
    }

    /// Operation `op`'s result event (through the long-poll API), within 240 s.
    pub fn wait_result(&self, op: &str) -> Value {
        let mut after = 0;
        let deadline = Instant::now() + Duration::from_secs(240);
        while Instant::now() < deadline {
            let r = self.call("GET", &format!("/events?after={after}&wait=20s"), None);
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            for e in v["events"].as_array().unwrap() {
                if e["kind"] == "result" && e["data"]["operation_id"] == op {
                    return e["data"]["data"].clone();
                }
            }
            after = v["next_after"].as_u64().unwrap_or(after);
        }
        panic!("no result event for {op}:\n{}", self.log());
    }

    pub fn stop(&mut self, signal: &str) {
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
            remove_project(p);
        }
    }
}

/// Removes a compose project's containers, network and images.
pub fn remove_project(p: &str) {
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

/// A PostgreSQL database of its own (dropped when this is dropped), on the cluster
/// the test setup starts.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub fn new(tag: &str) -> PgDatabase {
        let name = format!("slipway_{tag}_{}", std::process::id());
        let psql = |sql: &str| {
            Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "slipway",
                    "-d",
                    "slipway_test",
                    "-qc",
                    sql,
                ])
                .env("PGPASSWORD", "slipway")
                .output()
                .unwrap()
        };
        psql(&format!("DROP DATABASE IF EXISTS {name}"));
        let out = psql(&format!("CREATE DATABASE {name}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PgDatabase {
            url: format!("postgres://slipway:slipway@127.0.0.1:5432/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "slipway",
                "-d",
                "slipway_test",
                "-qc",
            ])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .env("PGPASSWORD", "slipway")
            .output();
    }
}
