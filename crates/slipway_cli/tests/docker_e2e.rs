//! End to end on a real Docker Engine (run by the full test command, which installs
//! and starts the engine and builds local base images first): generate the shop
//! example with an image map onto local images, `docker build` every Dockerfile's
//! `prod` target, bring the stack up with the generated `scripts/start.sh`, and talk
//! to the API and the web front end through ports published on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{copy_tree, root};

/// The local images `scripts/build-base-images.sh` builds, standing in for the
/// registry images the generated files name.
pub const IMAGE_MAP: &[(&str, &str)] = &[
    ("python:3.11-slim-bookworm", "slipway-local/python:3.11"),
    ("node:18-bookworm-slim", "slipway-local/node:18"),
    ("postgres:15-bookworm", "slipway-local/postgres:15"),
    ("redis:7-bookworm", "slipway-local/redis:7"),
];

/// PATH with Debian's docker client first: it builds with `BuildKit` without buildx.
fn path_env() -> String {
    format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .env("PATH", path_env())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One HTTP/1.0 exchange on 127.0.0.1; returns status and body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let body = body.unwrap_or("");
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn wait_http(port: u16, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = std::panic::catch_unwind(|| http(port, "GET", path, None)) {
            if r.0 == 200 || Instant::now() > deadline {
                return r;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no answer on 127.0.0.1:{port}{path}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Tears the project down (containers, networks, volumes) even when the test fails.
struct Stack {
    dir: PathBuf,
    project: String,
}

impl Stack {
    fn compose(&self, args: &[&str]) -> Command {
        let v2 = Command::new("docker")
            .args(["compose", "version"])
            .env("PATH", path_env())
            .output()
            .is_ok_and(|o| o.status.success());
        let mut c = if v2 {
            let mut c = Command::new("docker");
            c.arg("compose");
            c
        } else {
            Command::new("docker-compose")
        };
        c.current_dir(&self.dir)
            .env("COMPOSE_PROJECT_NAME", &self.project);
        c.args([
            "-f",
            "docker-compose.yaml",
            "-f",
            "docker-compose.prod.yaml",
        ])
        .args(args);
        c
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::env::var_os("SLIPWAY_E2E_KEEP").is_none() {
            let _ = self
                .compose(&["down", "-v", "--remove-orphans", "-t", "5"])
                .env("PATH", path_env())
                .output();
        }
    }
}

#[test]
#[ignore = "needs docker"]
fn shop_builds_starts_healthy_and_serves_through_postgres_and_redis() {
    let work = tempfile::tempdir().unwrap();
    let shop = work.path().join("shop");
    copy_tree(&root().join("examples/shop"), &shop);
    let mut args = vec![
        "generate".to_string(),
        "slipway.yaml".into(),
        "--env".into(),
        "prod".into(),
    ];
    for (from, to) in IMAGE_MAP {
        args.push("--image-map".into());
        args.push(format!("{from}={to}"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(&args)
        .current_dir(&shop)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let infra = shop.join("infrastructure");

    // Every Dockerfile's prod target builds on this engine, tagged as compose names it.
    for svc in ["api", "web"] {
        run(Command::new("docker")
            .args([
                "build",
                "--target",
                "prod",
                "-t",
                &format!("shop/{svc}:local"),
                "-f",
            ])
            .arg(infra.join(format!("docker/{svc}/Dockerfile")))
            .arg(shop.join(svc))
            .env("DOCKER_BUILDKIT", "1"));
        let user = run(Command::new("docker").args([
            "image",
            "inspect",
            "-f",
            "{{.Config.User}}",
            &format!("shop/{svc}:local"),
        ]));
        assert_eq!(
            user.trim(),
            "10001:10001",
            "{svc} must run as a numeric non-root user"
        );
    }

    let project = format!("slipwaye2e{}", std::process::id());
    let stack = Stack {
        dir: infra.join("compose"),
        project: project.clone(),
    };
    // The generated start script: secrets, build, up, wait for every healthcheck.
    let started = Command::new(infra.join("scripts/start.sh"))
        .arg("prod")
        .env("COMPOSE_PROJECT_NAME", &project)
        .env("SLIPWAY_HEALTH_TIMEOUT", "240")
        .env("PATH", path_env())
        .output()
        .unwrap();
    let logs = || {
        String::from_utf8_lossy(
            &stack
                .compose(&["logs", "--no-color"])
                .env("PATH", path_env())
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned()
    };
    assert!(
        started.status.success(),
        "start.sh failed:\n{}{}\n{}",
        String::from_utf8_lossy(&started.stdout),
        String::from_utf8_lossy(&started.stderr),
        logs()
    );
    let secret = std::fs::read_to_string(stack.dir.join("secrets/db_password")).unwrap();
    assert!(secret.len() >= 32, "a random database password is created");
    for f in walk(&infra) {
        assert!(
            !std::fs::read_to_string(&f)
                .unwrap_or_default()
                .contains(&secret),
            "the secret value leaked into {}",
            f.display()
        );
    }

    // The API is published on 127.0.0.1 from a port range (2 replicas in prod).
    let port_line = run(&mut stack.compose(&["port", "--index", "1", "api", "8000"]));
    let port: u16 = port_line
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(port_line.starts_with("127.0.0.1:"), "{port_line}");
    let (status, body) = wait_http(port, "/health");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(port, "POST", "/items", Some(r#"{"name":"slipway-e2e"}"#));
    assert!(
        status == 200 || status == 201,
        "POST /items: {status} {body}\n{}",
        logs()
    );
    let (status, body) = http(port, "GET", "/items", None);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("slipway-e2e"),
        "row read back from PostgreSQL: {body}"
    );
    assert!(
        body.contains("\"created_total\":"),
        "counter from Redis: {body}"
    );
    let (status, body) = http(port, "GET", "/ready", None);
    assert_eq!(status, 200, "readiness checks PostgreSQL and Redis: {body}");

    // The web front end proxies to the API over the compose network.
    let (status, body) = wait_http(8080, "/health");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(8080, "GET", "/api/items", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("slipway-e2e"), "{body}");

    // Databases are never published.
    let ps = run(Command::new("docker").args([
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--format",
        "{{.Names}} {{.Ports}}",
    ]));
    for line in ps
        .lines()
        .filter(|l| l.contains("db") || l.contains("cache"))
    {
        assert!(!line.contains("->"), "backing resource published: {line}");
    }
    drop(stack);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "secrets") {
                out.extend(walk(&p));
            }
        } else {
            out.push(p);
        }
    }
    out
}

/// Removes a container and an image even when the test fails.
struct Cleanup(Vec<Vec<String>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for args in &self.0 {
            let _ = Command::new("docker")
                .args(args)
                .env("PATH", path_env())
                .output();
        }
    }
}

/// Go and Rust: generate, build the `test` and `prod` targets on local toolchain
/// images, run `prod`, wait for its HEALTHCHECK (bash `/dev/tcp`, no curl) to say
/// healthy, call it, and check that no compiler is left in the image.
#[test]
#[ignore = "needs docker"]
fn go_and_rust_services_build_test_and_report_healthy() {
    /// Fixture folder, image map, compilers that must not be in the prod image.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "go-hello",
            &[
                ("golang:1.23-bookworm", "slipway-local/golang:1.23"),
                ("debian:bookworm-slim", "slipway-local/debian:bookworm-slim"),
            ],
            &["go", "gcc"],
        ),
        (
            "rust-hello",
            &[
                ("rust:1.96-slim-bookworm", "slipway-local/rust:1"),
                ("debian:bookworm-slim", "slipway-local/debian:bookworm-slim"),
            ],
            &["cargo", "rustc", "gcc"],
        ),
    ];
    for (case, map, compilers) in cases {
        let work = tempfile::tempdir().unwrap();
        copy_tree(
            &root().join("fixtures/e2e").join(case),
            &work.path().join("app"),
        );
        std::fs::write(work.path().join("slipway.yaml"), "name: hello\nservices:\n  app:\n    path: ./app\n    port: 8080\n    health: /health\n").unwrap();
        let mut args = vec!["generate".to_string()];
        for (from, to) in *map {
            args.push("--image-map".into());
            args.push(format!("{from}={to}"));
        }
        let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(&args)
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dockerfile = work.path().join("infrastructure/docker/app/Dockerfile");
        let tag = format!("slipway-e2e-{case}:{}", std::process::id());
        let name = format!("slipway-e2e-{case}-{}", std::process::id());
        let _cleanup = Cleanup(vec![
            vec!["rm".into(), "-f".into(), name.clone()],
            vec!["image".into(), "rm".into(), "-f".into(), tag.clone()],
        ]);
        for target in ["test", "prod"] {
            run(Command::new("docker")
                .args(["build", "--target", target, "-t", &tag, "-f"])
                .arg(&dockerfile)
                .arg(work.path().join("app"))
                .env("DOCKER_BUILDKIT", "1"));
        }
        for compiler in *compilers {
            let found = Command::new("docker")
                .args([
                    "run",
                    "--rm",
                    "--entrypoint",
                    "bash",
                    &tag,
                    "-c",
                    &format!("command -v {compiler}"),
                ])
                .env("PATH", path_env())
                .output()
                .unwrap();
            assert!(
                !found.status.success(),
                "{case}: `{compiler}` is in the prod image"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        run(Command::new("docker").args([
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            &format!("127.0.0.1:{port}:8080"),
            &tag,
        ]));
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let status = run(Command::new("docker").args([
                "inspect",
                "-f",
                "{{.State.Health.Status}}",
                &name,
            ]));
            if status.trim() == "healthy" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{case}: not healthy after 90 s ({})",
                status.trim()
            );
            std::thread::sleep(Duration::from_secs(1));
        }
        let (status, body) = http(port, "GET", "/health", None);
        assert_eq!(status, 200, "{case}: {body}");
        let user = run(Command::new("docker").args(["inspect", "-f", "{{.Config.User}}", &tag]));
        assert_eq!(user.trim(), "10001:10001");
    }
}
