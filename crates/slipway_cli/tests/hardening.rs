//! Hardening that does not break images, proven on a real Docker Engine (the full
//! test command starts it and builds the local base images: `slipway-local/*` stand
//! in for the official images, with the same users and entrypoints that start as
//! root, fix ownership and drop to their own user).
//!
//! - An awesome-compose sample with a database (`nginx-golang-postgres`: postgres,
//!   an nginx proxy and a built backend) and a compose project with redis, rabbitmq,
//!   nats, mysql (a MariaDB stand-in: Debian has no MySQL) and a postgres started
//!   as root are imported and deployed with
//!   `slipway deploy --env prod`. Every container turns healthy (or, without a
//!   healthcheck, serves), with exactly its profile in place: `docker inspect` shows
//!   `cap_drop: [ALL]`, the profile's `cap_add`, a read-only root and the profile's
//!   tmpfs mounts. After `docker restart` (the entrypoints' second-start path, which
//!   reads folders their own user made private) they turn healthy again.
//! - The same images with every capability dropped and none added fail the way the
//!   report describes (`setresuid failed: Operation not permitted`, or a `find`
//!   denied the folder its server made private): the profiles' capabilities are
//!   needed, not decoration. (No mongo: Debian packages no MongoDB server, so that
//!   profile rests on reading the official entrypoint.)
//! - The Kubernetes side of each profile runs on the same engine as its generated
//!   pod would run it: the pod's numeric user and fsGroup, every capability dropped,
//!   a read-only root with its emptyDirs, nginx's port sysctl; each turns ready.

mod support;

use serde_json::Value;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::root;

/// PATH with Debian's docker client first: it builds with `BuildKit` without buildx.
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

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The awesome-compose corpus beside the checkout (`../shared/corpus`), if present.
fn corpus_sample(name: &str) -> Option<PathBuf> {
    let p = root()
        .join("../shared/corpus/awesome-compose")
        .join(name)
        .join("compose.yaml");
    p.is_file().then_some(p)
}

/// One imported project in a scratch folder, deployed as its own compose project;
/// its containers, volumes, network and built images go when it is dropped.
struct Project {
    dir: tempfile::TempDir,
    name: String,
}

impl Project {
    fn new(tag: &str) -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
            name: format!("hard{tag}{}", std::process::id()),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, body: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    fn slipway(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(args)
            .current_dir(self.path())
            .env("PATH", path_env())
            .env("NO_COLOR", "1")
            .env(
                "SLIPWAY_DATABASE_URL",
                format!("sqlite://{}/state.db", self.path().display()),
            )
            .output()
            .unwrap()
    }

    /// `generate`, then the user's own secret files (every compose secret slipway
    /// does not create), then `deploy --env prod` with the image map.
    fn deploy(&self, image_map: &[(&str, &str)], secret: &str) -> Value {
        self.deploy_input("compose.yaml", image_map, secret)
    }

    /// `deploy` for any input file (a compose file or a slipway spec).
    fn deploy_input(&self, input: &str, image_map: &[(&str, &str)], secret: &str) -> Value {
        let out = self.slipway(&["generate", input]);
        assert!(out.status.success(), "generate: {}", text(&out));
        let compose = self.path().join("infrastructure/compose");
        let base = std::fs::read_to_string(compose.join("docker-compose.yaml")).unwrap();
        for line in base.lines() {
            if let Some(file) = line.trim().strip_prefix("file: ") {
                let file = compose.join(file.trim_matches('"'));
                if !file.exists() {
                    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                    std::fs::write(&file, secret).unwrap();
                }
            }
        }
        let mut args = vec![
            "deploy".to_string(),
            input.into(),
            "--env".into(),
            "prod".into(),
            "--project".into(),
            self.name.clone(),
            "--health-timeout".into(),
            "240".into(),
            "--format".into(),
            "json".into(),
        ];
        for (from, to) in image_map {
            args.push("--image-map".into());
            args.push(format!("{from}={to}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.slipway(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.trim().lines().last().unwrap_or("");
        let v: Value = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("deploy printed no JSON ({e}):\n{}", text(&out)));
        assert!(
            out.status.success() && v["result"]["phase"] == "succeeded",
            "deploy failed:\n{}\n{}",
            text(&out),
            self.logs()
        );
        v
    }

    /// The container of one service.
    fn container(&self, service: &str) -> String {
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        let id = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_else(|| panic!("no container for service `{service}`"))
            .to_string();
        id
    }

    fn inspect(&self, service: &str) -> Value {
        let out = docker(&["inspect", &self.container(service)]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0].clone()
    }

    /// Every container's last log lines, for failure messages.
    fn logs(&self) -> String {
        let out = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        let mut all = String::new();
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let name = docker(&["inspect", "-f", "{{.Name}} {{.State.Status}}", id]);
            let logs = docker(&["logs", "--tail", "15", id]);
            let _ = write!(all, "--- {}{}", text(&name), text(&logs));
        }
        all
    }

    /// Waits until the service's container reports healthy (or, without a
    /// healthcheck, runs); fails on a restart or an exit.
    fn wait_healthy(&self, service: &str) {
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let c = self.inspect(service);
            let state = &c["State"];
            let health = state["Health"]["Status"].as_str();
            if state["Running"] == true && health.is_none_or(|h| h == "healthy") {
                return;
            }
            assert!(
                state["Running"] == true && c["RestartCount"] == 0 && Instant::now() < deadline,
                "service `{service}` is not healthy: {state}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn restart_all(&self, services: &[&str]) {
        for s in services {
            let out = docker(&["restart", "-t", "20", &self.container(s)]);
            assert!(out.status.success(), "restart {s}: {}", text(&out));
        }
        for s in services {
            self.wait_healthy(s);
        }
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let out = docker(&["ps", "-aq", "--filter", &label]);
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            docker(&["rm", "-f", "-v", id]);
        }
        let out = docker(&["volume", "ls", "-q", "--filter", &label]);
        for v in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            docker(&["volume", "rm", v]);
        }
        docker(&["network", "rm", &format!("{}_default", self.name)]);
        // Untag by name, never by id: other tests may share image ids.
        let images = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        for name in String::from_utf8_lossy(&images.stdout).split_whitespace() {
            if name.starts_with(&format!("{}/", self.name)) {
                docker(&["rmi", name]);
            }
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(|s| s.trim_start_matches("CAP_").to_string()))
        .collect();
    out.sort();
    out
}

/// What `docker inspect` must show for a service hardened by a profile (or fully,
/// for what slipway builds: no capability added, `/tmp` only).
fn assert_hardened(p: &Project, service: &str, cap_add: &[&str], tmpfs: &[&str]) {
    let c = p.inspect(service);
    let host = &c["HostConfig"];
    assert_eq!(strings(&host["CapDrop"]), ["ALL"], "{service}: {host}");
    assert_eq!(strings(&host["CapAdd"]), cap_add, "{service}: {host}");
    assert_eq!(host["ReadonlyRootfs"], true, "{service}: {host}");
    let mut mounted: Vec<&str> = host["Tmpfs"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    mounted.sort_unstable();
    assert_eq!(mounted, tmpfs, "{service}: {host}");
    assert!(
        strings(&host["SecurityOpt"]).contains(&"no-new-privileges:true".to_string()),
        "{service}: {host}"
    );
}

/// One HTTP/1.0 GET on 127.0.0.1, retried until it answers 200 or time runs out.
fn http_get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
            last.clear();
            let _ = s.read_to_string(&mut last);
            if last.starts_with("HTTP/1.1 200") {
                return last;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("GET 127.0.0.1:{port}{path} never answered 200; last answer: {last}")
}

const POSTGRES_CAPS: &[&str] = &["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"];
const ENTRYPOINT_CAPS: &[&str] = &["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"];
const NGINX_CAPS: &[&str] = &["CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"];

/// The backend the sample builds (its Go code is not in the corpus): a small HTTP
/// server on 8000 that answers 200 only while it reaches the database.
const BACKEND_DOCKERFILE: &str = "FROM slipway-local/python:3.11 AS builder\nCOPY app.py /app/app.py\nEXPOSE 8000\nCMD [\"python3\", \"/app/app.py\"]\n";
const BACKEND_APP: &str = r#"import http.server, socket

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            socket.create_connection(("db", 5432), timeout=3).close()
            code, body = 200, b"backend: db reachable\n"
        except OSError as e:
            code, body = 503, f"backend: db unreachable: {e}\n".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"#;
const PROXY_CONF: &str =
    "server {\n  listen 80;\n  location / {\n    proxy_pass http://backend:8000;\n  }\n}\n";

#[test]
#[ignore = "needs docker"]
fn an_awesome_compose_sample_with_postgres_and_nginx_deploys_healthy_and_hardened() {
    let Some(sample) = corpus_sample("nginx-golang-postgres") else {
        eprintln!("skipped: ../shared/corpus/awesome-compose is not beside this checkout");
        return;
    };
    let p = Project::new("ngp");
    let port = free_port();
    // The sample as it is, but for the host port (80 may be taken on a test
    // machine) and its secret's name: the importer mounts a secret named
    // `db-password` at /run/secrets/db_password while the sample's
    // POSTGRES_PASSWORD_FILE names /run/secrets/db-password (reported in issue 11's
    // secrets part; drop this replacement when that is fixed).
    let compose = std::fs::read_to_string(sample).unwrap();
    assert!(compose.contains("- 80:80"), "the sample changed: {compose}");
    p.write(
        "compose.yaml",
        &compose
            .replace("- 80:80", &format!("- {port}:80"))
            .replace("db-password", "db_password"),
    );
    p.write("backend/Dockerfile", BACKEND_DOCKERFILE);
    p.write("backend/app.py", BACKEND_APP);
    p.write("proxy/nginx.conf", PROXY_CONF);
    p.write("db/password.txt", "s3cret-db-pass\n");
    p.deploy(
        &[
            ("postgres", "slipway-local/postgres:15"),
            ("nginx", "slipway-local/nginx:1"),
        ],
        "s3cret-db-pass\n",
    );
    for s in ["db", "backend", "proxy"] {
        p.wait_healthy(s);
    }
    assert_eq!(p.inspect("db")["State"]["Health"]["Status"], "healthy");
    // The sample says `user: postgres`: started as its own user, the database needs
    // no capability; started as root (the importer cannot carry a named user), it
    // gets the profile's.
    let db_user = p.inspect("db")["Config"]["User"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let db_caps: &[&str] = if db_user.is_empty() || db_user == "root" {
        POSTGRES_CAPS
    } else {
        &[]
    };
    assert_hardened(&p, "db", db_caps, &["/tmp", "/var/run/postgresql"]);
    assert_hardened(
        &p,
        "proxy",
        NGINX_CAPS,
        &["/tmp", "/var/cache/nginx", "/var/run"],
    );
    assert_hardened(&p, "backend", &[], &["/tmp"]);
    // nginx -> backend -> postgres, through the published port.
    assert!(http_get(port, "/").contains("backend: db reachable"));

    // The second start: the entrypoint's `find` reads the 0700 data folder as root.
    p.restart_all(&["db", "backend", "proxy"]);
    assert!(http_get(port, "/").contains("backend: db reachable"));
}

#[test]
#[ignore = "needs docker"]
fn redis_rabbitmq_nats_and_postgres_started_as_root_deploy_healthy_and_hardened() {
    let p = Project::new("brk");
    p.write(
        "compose.yaml",
        r#"services:
  cache:
    image: redis:7-bookworm
    command: ["redis-server", "--appendonly", "yes"]
    volumes: [cache-data:/data]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
  queue:
    image: rabbitmq:3.13
    volumes: [queue-data:/var/lib/rabbitmq]
    healthcheck:
      test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
      timeout: 30s
  bus:
    image: nats:2.10
    command: ["--jetstream", "--store_dir", "/data", "--http_port", "8222"]
    volumes: [bus-data:/data]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"]
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    secrets: [db_password]
    volumes: [db-data:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
  sql:
    image: mysql:8.4
    environment:
      MYSQL_ROOT_PASSWORD_FILE: /run/secrets/db_password
      MYSQL_DATABASE: app
    secrets: [db_password]
    volumes: [sql-data:/var/lib/mysql]
    healthcheck:
      test: ["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]
secrets:
  db_password:
    file: ./db_password.txt
volumes:
  cache-data:
  queue-data:
  bus-data:
  db-data:
  sql-data:
"#,
    );
    p.write("db_password.txt", "s3cret-db-pass\n");
    p.deploy(
        &[
            ("redis:7-bookworm", "slipway-local/redis:7"),
            ("rabbitmq:3.13", "slipway-local/rabbitmq:3"),
            ("nats:2.10", "slipway-local/nats:2"),
            ("postgres:16", "slipway-local/postgres:15"),
            ("mysql:8.4", "slipway-local/mysql:8"),
        ],
        "s3cret-db-pass\n",
    );
    let services = ["cache", "queue", "bus", "db", "sql"];
    for s in services {
        p.wait_healthy(s);
        assert_eq!(p.inspect(s)["State"]["Health"]["Status"], "healthy", "{s}");
    }
    assert_hardened(&p, "cache", ENTRYPOINT_CAPS, &["/tmp"]);
    assert_hardened(&p, "queue", ENTRYPOINT_CAPS, &["/tmp", "/var/log/rabbitmq"]);
    assert_hardened(&p, "bus", &[], &["/tmp"]);
    assert_hardened(&p, "db", POSTGRES_CAPS, &["/tmp", "/var/run/postgresql"]);
    assert_hardened(
        &p,
        "sql",
        POSTGRES_CAPS,
        &["/tmp", "/var/lib/mysql-files", "/var/run/mysqld"],
    );
    // Each server dropped root itself: its main process runs as its own user.
    for (s, uid) in [
        ("cache", "999"),
        ("queue", "999"),
        ("db", "999"),
        ("sql", "999"),
    ] {
        let out = docker(&["exec", &p.container(s), "sh", "-c", "stat -c %u /proc/1"]);
        assert_eq!(text(&out).trim(), uid, "{s}");
    }

    // The second start reads what the servers made private (redis's 0700
    // appendonlydir, postgres's 0700 data folder, rabbitmq's 0400 cookie, the
    // 0750 secure-file-priv folder).
    p.restart_all(&services);
    for s in services {
        assert_eq!(p.inspect(s)["State"]["Health"]["Status"], "healthy", "{s}");
    }
}

/// The backing resources a slipway spec declares (not an imported project): each
/// starts healthy on its image with the password slipway's secret file holds. RabbitMQ
/// 3.9 and later refuse `RABBITMQ_DEFAULT_PASS_FILE`, so its password is read from the
/// file at start; the broker then accepts the app's user with exactly that password.
#[test]
#[ignore = "needs docker"]
fn a_specs_backing_resources_start_healthy_with_their_secret_files() {
    let p = Project::new("res");
    support::copy_tree(&root().join("fixtures/deploy/hello"), p.path());
    let spec = std::fs::read_to_string(p.path().join("slipway.yaml")).unwrap();
    let spec = spec
        .replace("name: hello", &format!("name: {}", p.name))
        .replace("host_port: 18080", &format!("host_port: {}", free_port()))
        .replace(
            "    env:",
            "    depends_on: [db, cache, queue, bus, sql]\n    env:",
        );
    p.write(
        "slipway.yaml",
        &format!(
            "{spec}resources:\n  db: {{ type: postgres, version: \"15\" }}\n  cache: {{ type: redis, version: \"7\" }}\n  queue: {{ type: amqp, version: \"3.13\" }}\n  bus: {{ type: nats, version: \"2.10\" }}\n  sql: {{ type: mysql, version: \"8.4\" }}\n"
        ),
    );
    let secret = "Res0urce-pass-7f3a";
    p.deploy_input(
        "slipway.yaml",
        &[
            (support::agent::PY, support::agent::PY_LOCAL),
            ("postgres:15-bookworm", "slipway-local/postgres:15"),
            ("redis:7-bookworm", "slipway-local/redis:7"),
            ("rabbitmq:3.13", "slipway-local/rabbitmq:3"),
            ("nats:2.10-alpine", "slipway-local/nats:2"),
            ("mysql:8.4", "slipway-local/mysql:8"),
        ],
        secret,
    );
    for s in ["app", "db", "cache", "queue", "bus", "sql"] {
        p.wait_healthy(s);
    }
    let env = strings(&p.inspect("queue")["Config"]["Env"]);
    assert!(
        !env.iter().any(|e| e.starts_with("RABBITMQ_DEFAULT_PASS")),
        "{env:?}"
    );
    let auth = docker(&[
        "exec",
        &p.container("queue"),
        "rabbitmqctl",
        "authenticate_user",
        &p.name,
        secret,
    ]);
    assert!(auth.status.success(), "rabbitmq: {}", text(&auth));
    let wrong = docker(&[
        "exec",
        &p.container("queue"),
        "rabbitmqctl",
        "authenticate_user",
        &p.name,
        "not-the-password",
    ]);
    assert!(!wrong.status.success(), "rabbitmq took any password");
    let sql = docker(&[
        "exec",
        &p.container("sql"),
        "mysql",
        "-h",
        "127.0.0.1",
        "-u",
        &p.name,
        &format!("-p{secret}"),
        "-e",
        "select 1",
    ]);
    assert!(sql.status.success(), "mysql: {}", text(&sql));
}

#[test]
#[ignore = "needs docker"]
fn without_the_profiles_capabilities_the_images_fail_as_reported() {
    // What the importer used to generate: every capability dropped, none added.
    for (image, args) in [
        (
            "slipway-local/postgres:15",
            &["-e", "POSTGRES_PASSWORD=x"][..],
        ),
        ("slipway-local/redis:7", &[][..]),
        ("slipway-local/rabbitmq:3", &[][..]),
        (
            "slipway-local/mysql:8",
            &["-e", "MYSQL_ROOT_PASSWORD=x"][..],
        ),
    ] {
        let mut a = vec![
            "run",
            "--rm",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges:true",
        ];
        a.extend_from_slice(args);
        a.push(image);
        let out = docker(&a);
        assert!(
            !out.status.success(),
            "{image} started without capabilities"
        );
        // Root without capabilities can neither read what the server user made
        // private nor become that user.
        let t = text(&out);
        assert!(
            t.contains("setresuid failed: Operation not permitted")
                || t.contains("Permission denied"),
            "{image}: {t}"
        );
    }
}

/// A parsed YAML node as JSON (scalars as strings), for reading generated manifests.
fn yaml_json(n: &slipway_import::yaml::Node) -> Value {
    if let Some(map) = n.as_map() {
        return Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_scalar().unwrap_or_default().to_string(), yaml_json(v)))
                .collect(),
        );
    }
    if let Some(items) = n.as_seq() {
        return Value::Array(items.iter().map(yaml_json).collect());
    }
    n.as_scalar()
        .map_or(Value::Null, |s| Value::String(s.to_string()))
}

fn manifest(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    let file = slipway_diagnostics::SourceFile::new(name, text);
    let docs = slipway_import::yaml::parse(&file, slipway_import::yaml::Budget::default()).ok()?;
    docs.first().map(yaml_json)
}

/// Containers and volumes of the Kubernetes emulation, removed when dropped.
#[derive(Default)]
struct Pods {
    containers: Vec<String>,
    volumes: Vec<String>,
}

impl Drop for Pods {
    fn drop(&mut self) {
        for c in &self.containers {
            docker(&["rm", "-f", c]);
        }
        for v in &self.volumes {
            docker(&["volume", "rm", v]);
        }
    }
}

/// `docker run` arguments that run `service`'s container as its generated pod runs
/// it: the pod's uid/gid and fsGroup, its sysctls, the container's capabilities and
/// read-only root, emptyDirs as empty 0777 folders (a tmpfs would copy the image
/// folder's owner and mode, which an emptyDir does not), volume claims as volumes
/// prepared the way the kubelet applies `fsGroup` (group-owned, group-writable,
/// setgid).
fn pod_run_args(
    base: &Path,
    scratch: &Path,
    service: &str,
    pods: &mut Pods,
) -> (Vec<String>, Value) {
    let workload = manifest(base, &format!("{service}.statefulset.yaml"))
        .or_else(|| manifest(base, &format!("{service}.deployment.yaml")))
        .unwrap_or_else(|| panic!("no workload for `{service}`"));
    let pod = &workload["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let psc = &pod["securityContext"];
    let image = c["image"].as_str().unwrap().to_string();
    let (uid, gid, fs) = (
        psc["runAsUser"].as_str().unwrap(),
        psc["runAsGroup"].as_str().unwrap(),
        psc["fsGroup"].as_str().unwrap(),
    );
    assert_eq!(psc["runAsNonRoot"], "true", "{service}");
    let sc = &c["securityContext"];
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{service}"
    );
    assert_eq!(sc["allowPrivilegeEscalation"], "false", "{service}");
    let name = format!("hard-k8s-{service}-{}", std::process::id());
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        &name,
        "--user",
        &format!("{uid}:{gid}"),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    args.extend([
        "--group-add".into(),
        fs.to_string(),
        "--cap-drop".into(),
        "ALL".into(),
    ]);
    args.extend(["--security-opt".into(), "no-new-privileges:true".into()]);
    if sc["readOnlyRootFilesystem"] == "true" {
        args.push("--read-only".into());
    }
    for s in psc["sysctls"].as_array().into_iter().flatten() {
        args.extend([
            "--sysctl".into(),
            format!(
                "{}={}",
                s["name"].as_str().unwrap(),
                s["value"].as_str().unwrap()
            ),
        ]);
    }
    let config = manifest(base, &format!("{service}.configmap.yaml")).unwrap();
    for (k, v) in config["data"].as_object().into_iter().flatten() {
        args.extend([
            "-e".into(),
            format!("{k}={}", v.as_str().unwrap_or_default()),
        ]);
    }
    // Variables from the one Secret the user creates: a value of the test's.
    for e in c["env"].as_array().into_iter().flatten() {
        if e["valueFrom"].get("secretKeyRef").is_some() {
            args.extend([
                "-e".into(),
                format!("{}=s3cret-pass", e["name"].as_str().unwrap()),
            ]);
        }
    }
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    for m in c["volumeMounts"].as_array().into_iter().flatten() {
        let (vname, path) = (
            m["name"].as_str().unwrap(),
            m["mountPath"].as_str().unwrap(),
        );
        let vol = volumes.iter().find(|v| v["name"] == vname);
        if vol.is_some_and(|v| v.get("emptyDir").is_some()) {
            let dir = scratch.join(format!("emptydir-{service}-{vname}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .unwrap();
            args.extend(["-v".into(), format!("{}:{path}", dir.display())]);
        } else if vol.is_none() {
            // A volume claim: a fresh volume, filled from the image and then given
            // to fsGroup as the kubelet does.
            let docker_vol = format!("{name}-{vname}");
            pods.volumes.push(docker_vol.clone());
            let prep = format!("chgrp -R {fs} {path} && chmod -R g+rwX {path} && chmod g+s {path}");
            let out = docker(&[
                "run",
                "--rm",
                "-v",
                &format!("{docker_vol}:{path}"),
                "--entrypoint",
                "sh",
                &image,
                "-c",
                &prep,
            ]);
            assert!(out.status.success(), "{service}: {}", text(&out));
            args.extend(["-v".into(), format!("{docker_vol}:{path}")]);
        }
    }
    let command: Vec<String> = c["command"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    if let Some(first) = command.first() {
        args.extend(["--entrypoint".into(), first.clone()]);
    }
    args.push(image);
    args.extend(command.into_iter().skip(1));
    args.extend(
        c["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string)),
    );
    pods.containers.push(name);
    (args, workload)
}

#[test]
#[ignore = "needs docker"]
fn the_kubernetes_profiles_run_as_their_pods_would() {
    let p = Project::new("k8s");
    p.write(
        "compose.yaml",
        r#"services:
  cache:
    image: redis:7-bookworm
    command: ["redis-server", "--appendonly", "yes"]
    volumes: [cache-data:/data]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
  queue:
    image: rabbitmq:3.13
    volumes: [queue-data:/var/lib/rabbitmq]
    healthcheck:
      test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
  bus:
    image: nats:2.10
    command: ["--jetstream", "--store_dir", "/data", "--http_port", "8222"]
    volumes: [bus-data:/data]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"]
  db:
    image: postgres:16
    environment:
      POSTGRES_HOST_AUTH_METHOD: trust
    volumes: [db-data:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
  sql:
    image: mysql:8.4
    environment:
      MYSQL_ROOT_PASSWORD: example
    volumes: [sql-data:/var/lib/mysql]
    healthcheck:
      test: ["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]
  web:
    image: nginx:1.27
    ports: ["8080:80"]
volumes:
  cache-data:
  queue-data:
  bus-data:
  db-data:
  sql-data:
"#,
    );
    let out = p.slipway(&[
        "generate",
        "compose.yaml",
        "--image-map",
        "redis:7-bookworm=slipway-local/redis:7",
        "--image-map",
        "rabbitmq:3.13=slipway-local/rabbitmq:3",
        "--image-map",
        "nats:2.10=slipway-local/nats:2",
        "--image-map",
        "postgres:16=slipway-local/postgres:15",
        "--image-map",
        "nginx:1.27=slipway-local/nginx:1",
        "--image-map",
        "mysql:8.4=slipway-local/mysql:8",
    ]);
    assert!(out.status.success(), "generate: {}", text(&out));
    let base = p.path().join("infrastructure/kubernetes/base");
    let mut pods = Pods::default();
    // (service, uid the pod runs as, readiness: a command, or a TCP port)
    let cases: [(&str, &str, Option<u16>); 6] = [
        ("cache", "999", None),
        ("queue", "999", None),
        ("bus", "1000", None),
        ("db", "999", None),
        ("sql", "999", None),
        ("web", "101", Some(80)),
    ];
    let mut started = Vec::new();
    for (service, uid, port) in cases {
        let (args, workload) = pod_run_args(&base, p.path(), service, &mut pods);
        let pod = &workload["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsUser"], uid, "{service}");
        assert_eq!(
            pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"], "true",
            "{service}"
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = docker(&args);
        assert!(out.status.success(), "{service}: {}", text(&out));
        let probe: Vec<String> = pod["containers"][0]["readinessProbe"]["exec"]["command"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        started.push((
            service,
            uid,
            probe,
            port,
            pods.containers.last().unwrap().clone(),
        ));
    }
    for (service, uid, probe, port, name) in &started {
        let mut exec: Vec<String> = vec!["exec".into(), name.clone()];
        match port {
            Some(port) => exec.extend(["bash".into(), "-c".into(), format!("exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '")]),
            None => exec.extend(probe.iter().cloned()),
        }
        let exec: Vec<&str> = exec.iter().map(String::as_str).collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if docker(&exec).status.success() {
                break;
            }
            let state = docker(&["inspect", "-f", "{{.State.Status}}", name]);
            assert!(
                Instant::now() < deadline && text(&state).trim() == "running",
                "{service} never turned ready as its pod would run it ({}):\n{}",
                text(&state).trim(),
                text(&docker(&["logs", "--tail", "20", name]))
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        let out = docker(&["exec", name, "sh", "-c", "stat -c %u /proc/1"]);
        assert_eq!(text(&out).trim(), *uid, "{service}");
    }
}
