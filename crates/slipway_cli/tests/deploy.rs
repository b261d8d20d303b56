//! `slipway deploy`, `status`, `drift`, `rollback` and `history` on a real Docker
//! Engine (the full test command starts one and builds the local base images). Each
//! test works on its own copy of a fixture with its own compose project, host port
//! and SQLite state file, and removes its containers and images afterwards.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{copy_tree, root};

const PY: &str = "python:3.11-slim-bookworm=slipway-local/python:3.11";

/// PATH with Debian's docker client first: it builds with BuildKit without buildx.
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

/// Two free ports in a row (a port range for two replicas).
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < 65000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("PATH", path_env())
        .output()
        .unwrap()
}

/// GET on 127.0.0.1; the JSON body, or None while nothing answers.
fn get(port: u16, path: &str) -> Option<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.split_once("\r\n\r\n")?.1).ok()
}

fn greeting(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = get(port, "/") {
            return v["greeting"].as_str().unwrap_or_default().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "nothing answers on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A copy of `fixtures/deploy/hello` as its own project, removed when dropped.
struct Hello {
    dir: tempfile::TempDir,
    project: String,
    port: u16,
    runtime: &'static str,
}

impl Hello {
    fn new(tag: &str, replicas: u32, runtime: &'static str) -> Hello {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&root().join("fixtures/deploy/hello"), dir.path());
        let project = format!("hello{tag}{}", std::process::id());
        let port = if replicas > 1 {
            free_port_pair()
        } else {
            free_port()
        };
        let h = Hello {
            dir,
            project,
            port,
            runtime,
        };
        h.edit(|s| {
            s.replace("name: hello", &format!("name: {}", h.project))
                .replace("host_port: 18080", &format!("host_port: {port}"))
                .replace("prod: 1 }", &format!("prod: {replicas} }}"))
        });
        h
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn edit(&self, f: impl Fn(&str) -> String) {
        let spec = self.path().join("slipway.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(&spec, f(&text)).unwrap();
    }

    fn greeting(&self, g: &str) {
        self.edit(|s| {
            let start = s.find("GREETING: ").unwrap();
            let end = start + s[start..].find('\n').unwrap();
            format!("{}GREETING: {g}{}", &s[..start], &s[end..])
        });
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_slipway"));
        c.args(args)
            .current_dir(self.path())
            .env("PATH", path_env())
            .env(
                "SLIPWAY_DATABASE_URL",
                format!("sqlite://{}/state.db", self.path().display()),
            );
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn deploy(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "deploy",
            "--env",
            "prod",
            "--image-map",
            PY,
            "--runtime",
            self.runtime,
            "--health-timeout",
            "90",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The JSON printed by a `--format json` command (the `result` line for deploys).
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--format", "json"]);
        let out = self.run(&a);
        (out.status.code().unwrap_or(-1), last_json(&out))
    }

    fn compose(&self, args: &[&str]) -> Output {
        Command::new("docker-compose")
            .args([
                "-p",
                &self.project,
                "-f",
                "docker-compose.yaml",
                "-f",
                "docker-compose.prod.yaml",
            ])
            .args(args)
            .current_dir(self.path().join("infrastructure/compose"))
            .env("PATH", path_env())
            .output()
            .unwrap()
    }

    fn containers(&self) -> Vec<String> {
        let label = if self.runtime == "swarm" {
            "com.docker.stack.namespace"
        } else {
            "com.docker.compose.project"
        };
        let out = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label={label}={}", self.project),
        ]);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        if self.runtime == "swarm" {
            docker(&["stack", "rm", &self.project]);
            std::thread::sleep(Duration::from_secs(3));
        }
        let label = if self.runtime == "swarm" {
            "com.docker.stack.namespace"
        } else {
            "com.docker.compose.project"
        };
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label={label}={}", self.project),
        ]);
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            docker(&["rm", "-f", id]);
        }
        docker(&["network", "rm", &format!("{}_default", self.project)]);
        // Untag by name, never `rmi -f ID`: the tests build the same app, so projects
        // share image ids, and removing an id would untag every other test's images.
        let repo = format!("{}/app", self.project);
        let images = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &repo]);
        for name in String::from_utf8_lossy(&images.stdout).split_whitespace() {
            if !name.ends_with(":<none>") {
                docker(&["rmi", name]);
            }
        }
    }
}

fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = stdout.trim();
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(text.lines().last().unwrap_or("")))
        .unwrap_or_else(|e| {
            panic!(
                "no JSON ({e}) in:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn ok(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every audit intent has an outcome after it, and the hash chain verifies.
fn audit_is_whole(h: &Hello) {
    let (code, hist) = h.json(&["history"]);
    assert_eq!(code, 0, "{hist}");
    assert_eq!(hist["chain_verified"], true, "{hist}");
    let recs = hist["records"].as_array().unwrap();
    for r in recs.iter().filter(|r| r["kind"] == "intent") {
        let closed = recs.iter().any(|o| {
            o["kind"] == "outcome"
                && o["action"] == r["action"]
                && o["operation_id"] == r["operation_id"]
                && o["seq"].as_i64() > r["seq"].as_i64()
        });
        assert!(closed, "intent without an outcome: {r}");
    }
}

#[test]
#[ignore = "needs docker"]
fn deploy_plan_apply_and_an_automatic_rollback_when_the_new_release_fails_its_gate() {
    let h = Hello::new("rb", 1, "compose");
    let (code, first) = h.json(&[
        "deploy",
        "--env",
        "prod",
        "--image-map",
        PY,
        "--health-timeout",
        "90",
    ]);
    assert_eq!(code, 0, "{first}");
    let first_id = first["result"]["deployment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(first["result"]["phase"], "succeeded");
    assert_eq!(
        first["result"]["plan"]["create"],
        serde_json::json!(["app"])
    );
    assert_eq!(greeting(h.port), "hello");

    let (_, st) = h.json(&["status"]);
    assert_eq!(st["health"]["healthy"], true, "{st}");
    assert_eq!(st["serving"], true);
    assert_eq!(st["operation"]["phase"], "succeeded");

    // Deploying the same spec again changes nothing.
    let (code, again) = h.json(&["deploy", "--env", "prod", "--image-map", PY]);
    assert_eq!(
        (code, again["result"]["up_to_date"].clone()),
        (0, Value::Bool(true)),
        "{again}"
    );

    // An environment change: the plan shows exactly that field, and nothing is applied.
    h.greeting("hi");
    let (code, plan) = h.json(&["deploy", "--env", "prod", "--image-map", PY, "--plan"]);
    assert_eq!(code, 0, "{plan}");
    let p = &plan["result"]["plan"];
    assert_eq!(p["create"], serde_json::json!([]));
    assert_eq!(p["remove"], serde_json::json!([]));
    let fields = p["change"][0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 1, "{p}");
    assert_eq!(
        (fields[0]["category"].as_str(), fields[0]["field"].as_str()),
        (Some("environment"), Some("GREETING"))
    );
    assert_eq!(
        (
            fields[0]["observed"].as_str(),
            fields[0]["desired"].as_str()
        ),
        (Some("hello"), Some("hi"))
    );
    assert_eq!(plan["result"]["phase"], "planned");
    assert_eq!(greeting(h.port), "hello", "--plan applied nothing");

    // Applied one service at a time, each gated on health.
    let (code, second) = h.json(&[
        "deploy",
        "--env",
        "prod",
        "--image-map",
        PY,
        "--health-timeout",
        "90",
        "--strategy",
        "rolling",
    ]);
    assert_eq!(code, 0, "{second}");
    let second_id = second["result"]["deployment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        first_id, second_id,
        "a different spec is a different deployment"
    );
    assert_eq!(greeting(h.port), "hi");
    let (_, st) = h.json(&["status", &second_id]);
    assert_eq!(
        (st["serving"].clone(), st["health"]["healthy"].clone()),
        (Value::Bool(true), Value::Bool(true)),
        "{st}"
    );

    // A release that crashes on start: the gate fails, the last good one comes back.
    h.edit(|s| {
        s.replace(
            "GREETING: hi",
            "GREETING: broken\n      CRASH_ON_START: \"1\"",
        )
    });
    let (code, bad) = h.json(&[
        "deploy",
        "--env",
        "prod",
        "--image-map",
        PY,
        "--health-timeout",
        "90",
    ]);
    assert_eq!(code, 1, "{bad}");
    assert_eq!(bad["result"]["phase"], "rolled_back", "{bad}");
    assert_eq!(
        bad["result"]["rolled_back_to"].as_str(),
        Some(second_id.as_str())
    );
    assert!(
        bad["result"]["error"]
            .as_str()
            .unwrap()
            .contains("health gate failed"),
        "{bad}"
    );
    assert_eq!(greeting(h.port), "hi", "the old version serves again");
    let (_, st) = h.json(&["status"]);
    assert_eq!(st["serving_deployment"].as_str(), Some(second_id.as_str()));
    assert_eq!(st["health"]["healthy"], true);

    // A manual rollback of the serving deployment goes back to the first one.
    let (code, back) = h.json(&["rollback", &second_id, "--health-timeout", "90"]);
    assert_eq!(
        (code, back["result"]["phase"].as_str()),
        (0, Some("succeeded")),
        "{back}"
    );
    assert_eq!(greeting(h.port), "hello");
    audit_is_whole(&h);
}

#[test]
#[ignore = "needs docker"]
fn input_errors_reused_ids_and_hand_edits_are_refused_before_the_engine_is_touched() {
    let h = Hello::new("in", 1, "compose");
    ok(&h.deploy(&["--deployment-id", "mine"]));
    // The same id with a different spec.
    h.greeting("changed");
    let out = h.deploy(&["--deployment-id", "mine"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already exists for a different spec"), "{err}");
    assert_eq!(greeting(h.port), "hello");
    // An environment the spec does not declare: a located diagnostic, exit 2.
    let out = h.run(&["deploy", "--env", "prd", "--image-map", PY]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SPEC011") && err.contains("did you mean `prod`"),
        "{err}"
    );
    // A generated file edited by hand is refused, then adopted.
    h.greeting("hello");
    let compose = h.path().join("infrastructure/compose/docker-compose.yaml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace("GREETING: hello", "GREETING: edited"),
    )
    .unwrap();
    let out = h.deploy(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("edited by hand")
            && err.contains("compose/docker-compose.yaml")
            && err.contains("--adopt"),
        "{err}"
    );
    ok(&h.deploy(&["--adopt"]));
    assert_eq!(greeting(h.port), "edited", "the adopted edit is what runs");
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 0, "an adopted edit is not drift: {d}");
    ok(&h.deploy(&["--overwrite"]));
    assert_eq!(greeting(h.port), "hello");
}

fn finding<'a>(report: &'a Value, category: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category"] == category)
        .unwrap_or_else(|| panic!("no `{category}` finding in {report}"))
}

#[test]
#[ignore = "needs docker"]
fn drift_is_quiet_when_in_sync_and_finds_each_change_on_the_first_scan() {
    let h = Hello::new("dr", 2, "compose");
    ok(&h.deploy(&[]));
    for n in 0..20 {
        let (code, d) = h.json(&["drift"]);
        assert_eq!(
            (code, d["in_sync"].clone()),
            (0, Value::Bool(true)),
            "scan {n}: {d}"
        );
    }

    // 1. An environment change made with compose itself.
    let over = h.path().join("infrastructure/compose/tamper.yaml");
    std::fs::write(
        &over,
        "services:\n  app:\n    environment:\n      GREETING: tampered\n",
    )
    .unwrap();
    let out = Command::new("docker-compose")
        .args([
            "-p",
            &h.project,
            "-f",
            "docker-compose.yaml",
            "-f",
            "docker-compose.prod.yaml",
            "-f",
            "tamper.yaml",
            "up",
            "-d",
            "--no-build",
            "--no-deps",
            "app",
        ])
        .current_dir(h.path().join("infrastructure/compose"))
        .env("PATH", path_env())
        .output()
        .unwrap();
    ok(&out);
    std::fs::remove_file(&over).unwrap();
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 1, "{d}");
    let f = finding(&d, "environment");
    assert_eq!(
        (
            f["field"].as_str(),
            f["desired"].as_str(),
            f["observed"].as_str()
        ),
        (Some("GREETING"), Some("hello"), Some("tampered")),
        "{d}"
    );
    assert!(f["remediation"]
        .as_str()
        .unwrap()
        .contains("slipway deploy"));
    ok(&h.deploy(&[]));
    assert_eq!(h.json(&["drift"]).1["in_sync"], true);

    // 2. A stopped container.
    let containers = h.containers();
    assert_eq!(containers.len(), 2);
    assert!(docker(&["stop", "-t", "2", &containers[0]])
        .status
        .success());
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 1);
    let f = finding(&d, "state");
    assert_eq!(
        (f["field"].as_str(), f["desired"].as_str()),
        (Some("state"), Some("running"))
    );
    assert!(f["observed"].as_str().unwrap().starts_with("exited"), "{f}");
    assert!(docker(&["start", &containers[0]]).status.success());

    // 3. A scaled service.
    ok(&h.compose(&[
        "up",
        "-d",
        "--no-build",
        "--no-recreate",
        "--scale",
        "app=1",
    ]));
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 1);
    let f = finding(&d, "replicas");
    assert_eq!(
        (
            f["field"].as_str(),
            f["desired"].as_str(),
            f["observed"].as_str()
        ),
        (Some("replicas"), Some("2"), Some("1")),
        "{d}"
    );
    ok(&h.deploy(&[]));

    // 4. Generated files edited by hand, a real edit and a whitespace-only one.
    let compose = h.path().join("infrastructure/compose/docker-compose.yaml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace("GREETING: hello", "GREETING: by-hand"),
    )
    .unwrap();
    let script = h.path().join("infrastructure/scripts/healthcheck.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, format!("{text}\n\n")).unwrap();
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 1);
    let files: Vec<&Value> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "file")
        .collect();
    assert_eq!(files.len(), 2, "{d}");
    let by = |p: &str| {
        files
            .iter()
            .find(|f| f["subject"] == p)
            .unwrap_or_else(|| panic!("{p} not reported: {d}"))
    };
    assert_eq!(by("compose/docker-compose.yaml")["field"], "content");
    assert_eq!(by("scripts/healthcheck.sh")["field"], "whitespace");
    assert_eq!(
        d["findings"].as_array().unwrap().len(),
        2,
        "the engine itself did not drift: {d}"
    );
    let (_, st) = h.json(&["status"]);
    assert_eq!(
        st["sync"]["state"], "drifted",
        "status reports the latest scan: {st}"
    );
}

/// Starts a deploy that pauses at `phase` (a fault point), kills it with SIGKILL
/// there, and returns once it is dead.
fn kill_at(h: &Hello, phase: &str) {
    let mut child = h
        .command(&[
            "deploy",
            "--env",
            "prod",
            "--image-map",
            PY,
            "--health-timeout",
            "90",
        ])
        .env("SLIPWAY_FAULT_PAUSE_AT", phase)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let want = format!("paused at {phase}");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&want) {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(240))
        .unwrap_or_else(|_| panic!("the deploy never reached {phase}"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
#[ignore = "needs docker"]
fn a_deploy_killed_at_any_point_is_reconciled_to_the_truth() {
    let h = Hello::new("kill", 1, "compose");
    ok(&h.deploy(&[]));
    // (phase killed in, greeting after, phase the operation is reconciled to)
    let cases = [
        ("planning", "v1", "hello", "failed"),
        ("applying", "v2", "hello", "rolled_back"),
        ("verifying", "v3", "v3", "succeeded"),
    ];
    for (phase, g, serving, settled) in cases {
        h.greeting(g);
        kill_at(&h, phase);
        let (code, st) = h.json(&["status"]);
        assert_eq!(code, 0, "{st}");
        let op = &st["operation"];
        assert_eq!(
            op["phase"].as_str(),
            Some(settled),
            "killed in {phase}: {st}"
        );
        assert!(
            !op["allowed_actions"]
                .as_array()
                .unwrap()
                .contains(&Value::from("wait")),
            "the lease was left behind: {st}"
        );
        assert_eq!(greeting(h.port), serving, "killed in {phase}");
        audit_is_whole(&h);
    }
    // Killed while rolling back a release that crashes: the rollback is finished.
    h.edit(|s| s.replace("GREETING: v3", "GREETING: bad\n      CRASH_ON_START: \"1\""));
    kill_at(&h, "rolling_back");
    let (_, st) = h.json(&["status"]);
    assert_eq!(st["operation"]["phase"], "rolled_back", "{st}");
    assert_eq!(greeting(h.port), "v3");
    audit_is_whole(&h);
    // And the target is free: the next deploy goes through.
    h.edit(|s| s.replace("GREETING: bad\n      CRASH_ON_START: \"1\"", "GREETING: v4"));
    ok(&h.deploy(&[]));
    assert_eq!(greeting(h.port), "v4");
}

#[test]
#[ignore = "needs docker"]
fn twenty_concurrent_deploys_of_one_id_apply_once() {
    let h = Hello::new("race", 1, "compose");
    let children: Vec<_> = (0..20)
        .map(|_| {
            h.command(&[
                "deploy",
                "--env",
                "prod",
                "--image-map",
                PY,
                "--health-timeout",
                "90",
                "--format",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let results: Vec<(i32, Value)> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (out.status.code().unwrap_or(-1), last_json(&out))
        })
        .collect();
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(c, _)| *c == 0)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = winners[0]["result"]["operation_id"].as_str().unwrap();
    for (code, v) in results.iter().filter(|(c, _)| *c != 0) {
        assert_eq!(*code, 1, "{v}");
        assert_eq!(
            v["result"]["refused_by"]["operation_id"].as_str(),
            Some(winner),
            "{v}"
        );
        assert!(
            v["result"]["error"].as_str().unwrap().contains(winner),
            "the refusal names the running operation: {v}"
        );
    }
    let (_, hist) = h.json(&["history"]);
    let applies = hist["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "intent" && r["action"] == "apply")
        .count();
    assert_eq!(applies, 1, "exactly one apply reached the engine");
    assert_eq!(greeting(h.port), "hello");
}

/// Fifty CLI processes at once (plans, status, drift, history) on one new SQLite file,
/// twenty rounds: every process ends with a defined outcome (JSON on stdout, exit 0,
/// 1 or 2) and none with `database is locked`. Each round starts from a fresh file,
/// so creating and migrating the store races too.
#[test]
#[ignore = "needs docker"]
fn fifty_concurrent_cli_processes_never_see_a_locked_store() {
    let h = Hello::new("contend", 1, "compose");
    // Build once so the plans below only inspect.
    ok(&h.deploy(&["--plan"]));
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..20 {
        let url = format!("sqlite://{}/round-{round}.db", h.path().display());
        let children: Vec<_> = (0..50)
            .map(|n| {
                let args: &[&str] = match n % 5 {
                    0 => &["deploy", "--env", "prod", "--image-map", PY, "--plan"],
                    1 => &["status"],
                    2 => &["drift"],
                    _ => &["history"],
                };
                let mut c = h.command(args);
                c.args(["--format", "json"])
                    .env("SLIPWAY_DATABASE_URL", &url)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                (args[0], c.spawn().unwrap())
            })
            .collect();
        for (what, c) in children {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = out.status.code().unwrap_or(-1);
            assert!(
                !stderr.contains("locked") && !stderr.contains("busy"),
                "round {round}: `{what}` met a busy store:\n{stderr}"
            );
            assert!(
                (0..=2).contains(&code),
                "round {round}: `{what}` exited {code}:\n{stderr}"
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.trim().is_empty() && code != 0 || !stdout.trim().is_empty(),
                "round {round}: `{what}` succeeded without output"
            );
            *outcomes.entry(format!("{what} exit {code}")).or_default() += 1;
        }
    }
    eprintln!("outcomes over 20 rounds of 50: {outcomes:?}");
}

/// Removes a compose project's containers, network and volumes.
struct Down(String);
impl Drop for Down {
    fn drop(&mut self) {
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.0),
        ]);
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            docker(&["rm", "-f", id]);
        }
        docker(&["network", "rm", &format!("{}_default", self.0)]);
        for v in ["db-data", "cache-data"] {
            docker(&["volume", "rm", &format!("{}_{v}", self.0)]);
        }
    }
}

/// Leaves swarm mode if the test turned it on.
struct Leave(bool);
impl Drop for Leave {
    fn drop(&mut self) {
        if self.0 {
            docker(&["swarm", "leave", "--force"]);
        }
    }
}

#[test]
#[ignore = "needs docker"]
fn shop_deploys_and_plans_exactly_an_environment_change() {
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root().join("examples/shop"), work.path());
    let project = format!("shopdeploy{}", std::process::id());
    let db = format!("sqlite://{}/state.db", work.path().display());
    let maps = [
        "python:3.11-slim-bookworm=slipway-local/python:3.11",
        "node:18-bookworm-slim=slipway-local/node:18",
        "postgres:15-bookworm=slipway-local/postgres:15",
        "redis:7-bookworm=slipway-local/redis:7",
    ];
    let run = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_slipway"));
        c.args([
            "deploy",
            "--env",
            "prod",
            "--project",
            &project,
            "--health-timeout",
            "240",
            "--format",
            "json",
        ]);
        for m in maps {
            c.args(["--image-map", m]);
        }
        let out = c
            .args(extra)
            .current_dir(work.path())
            .env("PATH", path_env())
            .env("SLIPWAY_DATABASE_URL", &db)
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), last_json(&out))
    };
    let _down = Down(project.clone());
    let (code, first) = run(&[]);
    assert_eq!(code, 0, "{first}");
    let health = &first["result"]["health"];
    assert_eq!(health["healthy"], true, "{first}");
    assert_eq!(health["services"].as_array().unwrap().len(), 4);
    let status = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["status", "--format", "json"])
        .current_dir(work.path())
        .env("SLIPWAY_DATABASE_URL", &db)
        .output()
        .unwrap();
    let st = last_json(&status);
    assert_eq!(st["health"]["healthy"], true, "{st}");

    let spec = work.path().join("slipway.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug")).unwrap();
    let (code, plan) = run(&["--plan"]);
    assert_eq!(code, 0, "{plan}");
    let p = &plan["result"]["plan"];
    assert_eq!(p["change"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["change"][0]["service"], "api");
    let fields = p["change"][0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 1, "{p}");
    assert_eq!(
        (
            fields[0]["field"].as_str(),
            fields[0]["observed"].as_str(),
            fields[0]["desired"].as_str()
        ),
        (Some("LOG_LEVEL"), Some("info"), Some("debug"))
    );
    assert_eq!(p["unchanged"], serde_json::json!(["cache", "db", "web"]));

    let (code, second) = run(&[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(second["result"]["health"]["healthy"], true);
    let api = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "label=com.docker.compose.service=api",
    ]);
    let ids: Vec<String> = String::from_utf8_lossy(&api.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 2, "two api replicas in prod");
    for id in ids {
        let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &id]);
        assert!(String::from_utf8_lossy(&env.stdout).contains("LOG_LEVEL=debug"));
    }
}

#[test]
#[ignore = "needs docker"]
fn swarm_deploys_rolls_an_update_and_rolls_back() {
    let info = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    let was_active = String::from_utf8_lossy(&info.stdout).trim() == "active";
    if !was_active {
        ok(&docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]));
    }
    let _leave = Leave(!was_active);
    let h = Hello::new("sw", 1, "swarm");
    let (code, first) = h.json(&[
        "deploy",
        "--env",
        "prod",
        "--image-map",
        PY,
        "--runtime",
        "swarm",
        "--health-timeout",
        "120",
    ]);
    assert_eq!(code, 0, "{first}");
    let first_id = first["result"]["deployment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(greeting(h.port), "hello");
    let (_, st) = h.json(&["status"]);
    assert_eq!(st["health"]["healthy"], true, "{st}");

    h.greeting("rolled");
    let (code, second) = h.json(&[
        "deploy",
        "--env",
        "prod",
        "--image-map",
        PY,
        "--runtime",
        "swarm",
        "--strategy",
        "rolling",
        "--health-timeout",
        "120",
    ]);
    assert_eq!(code, 0, "{second}");
    let second_id = second["result"]["deployment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(greeting(h.port), "rolled");
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 0, "{d}");

    let (code, back) = h.json(&["rollback", &second_id, "--health-timeout", "120"]);
    assert_eq!(code, 0, "{back}");
    assert_eq!(
        back["result"]["rolled_back_to"].as_str(),
        Some(first_id.as_str())
    );
    assert_eq!(greeting(h.port), "hello");
    audit_is_whole(&h);
}

/// The ids of the project's running containers that report healthy.
fn healthy_ids(project: &str) -> Vec<String> {
    let out = docker(&[
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "health=healthy",
    ]);
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    ids.sort();
    ids
}

/// Samples the number of healthy containers until stopped; `min()` is the fewest seen.
struct Watch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<usize>>,
}

impl Watch {
    fn start(project: &str) -> Watch {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, project) = (stop.clone(), project.to_string());
        let handle = std::thread::spawn(move || {
            let mut min = usize::MAX;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                min = min.min(healthy_ids(&project).len());
                std::thread::sleep(Duration::from_millis(100));
            }
            min
        });
        Watch {
            stop,
            handle: Some(handle),
        }
    }

    fn min(mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

#[test]
#[ignore = "needs docker"]
fn compose_rolling_starts_new_containers_before_the_old_stop() {
    // Not published on the host: old and new containers can run side by side.
    let h = Hello::new("sf", 2, "compose");
    h.edit(|s| {
        let start = s.find("host_port: ").unwrap();
        let end = start + s[start..].find('\n').unwrap();
        format!("{}publish: false{}", &s[..start], &s[end..])
    });
    let rolling = ["--strategy", "rolling"];
    ok(&h.deploy(&[]));
    let first = healthy_ids(&h.project);
    assert_eq!(first.len(), 2, "{first:?}");

    // A new greeting: two new containers start, turn healthy, then the old two stop.
    h.greeting("hi");
    let watch = Watch::start(&h.project);
    let out = ok(&h.deploy(&rolling)).clone();
    let fewest = watch.min();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("start-first"), "{text}");
    assert!(
        fewest >= 2,
        "at one point only {fewest} healthy container(s)"
    );
    let second = healthy_ids(&h.project);
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(second.iter().all(|id| !first.contains(id)), "replaced");
    for id in &second {
        let env = docker(&["inspect", "-f", "{{json .Config.Env}}", id]);
        assert!(
            String::from_utf8_lossy(&env.stdout).contains("GREETING=hi"),
            "{}",
            String::from_utf8_lossy(&env.stdout)
        );
    }
    let (code, d) = h.json(&["drift"]);
    assert_eq!(code, 0, "in sync after a start-first update: {d}");

    // A release that crashes: its containers are removed and the old ones were never
    // stopped (same ids, same start times).
    let started = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                let o = docker(&["inspect", "-f", "{{.State.StartedAt}}", id]);
                String::from_utf8_lossy(&o.stdout).trim().to_string()
            })
            .collect()
    };
    let before = started(&second);
    h.edit(|s| {
        s.replace(
            "GREETING: hi",
            "GREETING: broken\n      CRASH_ON_START: \"1\"",
        )
    });
    let watch = Watch::start(&h.project);
    let mut args = vec!["deploy", "--env", "prod", "--image-map", PY];
    args.extend_from_slice(&["--health-timeout", "60", "--strategy", "rolling"]);
    let (code, bad) = h.json(&args);
    let fewest = watch.min();
    assert_eq!(code, 1, "{bad}");
    assert_eq!(bad["result"]["phase"], "rolled_back", "{bad}");
    assert!(
        fewest >= 2,
        "at one point only {fewest} healthy container(s)"
    );
    assert_eq!(
        healthy_ids(&h.project),
        second,
        "the old containers serve on"
    );
    assert_eq!(started(&second), before, "and were never restarted");
    let all = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={}", h.project),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&all.stdout)
            .split_whitespace()
            .count(),
        2,
        "the crashed containers are gone"
    );
    audit_is_whole(&h);
}
