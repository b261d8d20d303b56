//! `slipway deploy` of a service whose health path detection guessed, on a real Docker
//! Engine: when the app answers 404 there, the deploy fails naming the path, the
//! service and the key to set, with the container's last log lines, rather than after
//! the health check's retries with only "reports unhealthy". The gate's deadline is
//! set far beyond those retries, so only the preflight can produce this message.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::{copy_tree, root};

const PY: &str = "python:3.11-slim-bookworm=slipway-local/python:3.11";

/// PATH with Debian's docker client first (as the other deploy tests).
fn path_env() -> String {
    format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default())
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("PATH", path_env())
        .output()
        .unwrap()
}

/// A copy of `fixtures/deploy/guessed-health` as its own project, removed when dropped.
struct App {
    dir: tempfile::TempDir,
    project: String,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&root().join("fixtures/deploy/guessed-health"), dir.path());
        let project = format!("guessed{}", std::process::id());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let app = App { dir, project };
        app.edit(|s| {
            s.replace("name: guessed", &format!("name: {}", app.project))
                .replace("host_port: 18081", &format!("host_port: {port}"))
        });
        app
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn edit(&self, f: impl Fn(&str) -> String) {
        let spec = self.path().join("slipway.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(&spec, f(&text)).unwrap();
    }

    /// `slipway deploy --format json`: exit code and the result line.
    fn deploy(&self) -> (i32, Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args([
                "deploy",
                "--env",
                "prod",
                "--image-map",
                PY,
                "--health-timeout",
                "900",
                "--format",
                "json",
            ])
            .current_dir(self.path())
            .env("PATH", path_env())
            .env(
                "SLIPWAY_DATABASE_URL",
                format!("sqlite://{}/state.db", self.path().display()),
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let last = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .unwrap_or_else(|| panic!("no JSON in:\n{stdout}\n{stderr}"));
        (
            out.status.code().unwrap_or(-1),
            last,
            format!("{stdout}\n{stderr}"),
        )
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
        ]);
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            docker(&["rm", "-f", id]);
        }
        docker(&["network", "rm", &format!("{}_default", self.project)]);
        let repo = format!("{}/app", self.project);
        let images = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &repo]);
        for name in String::from_utf8_lossy(&images.stdout).split_whitespace() {
            if !name.ends_with(":<none>") {
                docker(&["rmi", name]);
            }
        }
    }
}

#[test]
#[ignore = "needs docker"]
fn a_guessed_health_path_that_answers_404_fails_the_deploy_with_the_reason() {
    let app = App::new();
    let (code, v, all) = app.deploy();
    assert_eq!(code, 1, "{all}");
    let result = &v["result"];
    let error = result["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("GET /health answered 404 in service app; set `health:`"),
        "the error names the path, the service and the key:\n{all}"
    );
    assert!(
        result["engine_output"]
            .as_str()
            .unwrap_or_default()
            .contains("no route for GET /health"),
        "the container's last log lines come with it:\n{all}"
    );
    assert_eq!(result["phase"], "failed", "{all}");

    // Setting the path the message asks for makes the same app deploy.
    app.edit(|s| s.replace("    port: 8000\n", "    port: 8000\n    health: /\n"));
    let (code, v, all) = app.deploy();
    assert_eq!(code, 0, "{all}");
    assert_eq!(v["result"]["phase"], "succeeded", "{all}");
}
