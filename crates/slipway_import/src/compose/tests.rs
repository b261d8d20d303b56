use super::*;
use slipway_model::{Health, ServiceSource, VolumeKind};

fn import(files: &[(&str, &str)], vars: &[(&str, &str)]) -> ComposeOutcome {
    let files: Vec<Arc<SourceFile>> = files
        .iter()
        .map(|(n, t)| Arc::new(SourceFile::new(*n, *t)))
        .collect();
    let opts = ComposeOptions {
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        profiles: vec!["debug".into()],
        default_name: "My_Project".into(),
        access: FileAccess::Memory(BTreeMap::new()),
    };
    import_compose(&files, &opts)
}

fn messages(out: &ComposeOutcome) -> String {
    out.diagnostics
        .iter()
        .map(|d| format!("{} {}", d.rule_id, d.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn converts_the_common_keys() {
    let out = import(
        &[(
            "compose.yaml",
            r#"
services:
  web:
    build: { context: ./web, dockerfile: Dockerfile.prod, target: runtime, args: { NODE_ENV: production } }
    ports: ["127.0.0.1:8080:3000", { target: 9229, published: "9230" }]
    expose: [9000]
    environment:
      API_URL: http://api:${API_PORT:-8000}
      RAW: "$$HOME"
    depends_on:
      api: { condition: service_healthy }
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- localhost:3000 || exit 1"]
  api:
    image: example/api:1.2.3
    command: uvicorn main:app --host "0.0.0.0"
    volumes: [data:/var/lib/api, "./conf:/etc/api:ro", /cache]
    tmpfs: /run
    deploy:
      replicas: 3
      resources: { limits: { cpus: "0.25", memory: 256M } }
    user: "1000:1000"
    healthcheck: { test: ["CMD", "curl", "-f", "http://localhost/health"] }
volumes:
  data: {}
"#,
        )],
        &[],
    );
    let m = messages(&out);
    let app = out.app.expect(&m);
    assert_eq!(app.name, "my-project");
    let web = &app.services["web"];
    assert!(
        matches!(&web.source, ServiceSource::Dockerfile { context, dockerfile: Some(d), target: Some(t), args } if context == "./web" && d == "Dockerfile.prod" && t == "runtime" && args["NODE_ENV"] == "production")
    );
    assert_eq!((web.port, web.host_port), (Some(3000), Some(8080)));
    assert_eq!(web.extra_ports, vec![9229, 9000]);
    assert_eq!(web.env["API_URL"], "http://api:8000");
    assert_eq!(web.env["RAW"], "$HOME");
    assert_eq!(web.depends_on, vec!["api"]);
    assert_eq!(
        web.health,
        Some(Health::Command {
            command: vec![
                "sh".into(),
                "-c".into(),
                "wget -qO- localhost:3000 || exit 1".into()
            ]
        })
    );
    let api = &app.services["api"];
    assert_eq!(
        api.command.as_deref(),
        Some(
            &[
                "uvicorn".to_string(),
                "main:app".into(),
                "--host".into(),
                "0.0.0.0".into()
            ][..]
        )
    );
    let kinds: Vec<(VolumeKind, &str)> = api
        .volumes
        .iter()
        .map(|v| (v.kind, v.target.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (VolumeKind::Named, "/var/lib/api"),
            (VolumeKind::Bind, "/etc/api"),
            (VolumeKind::Tmpfs, "/cache"),
            (VolumeKind::Tmpfs, "/run")
        ]
    );
    assert!(api.volumes[1].read_only);
    assert_eq!(api.replicas.get("prod"), Some(&3));
    let limits = api.resources.get("prod").unwrap();
    assert_eq!(
        (limits.cpu.as_deref(), limits.memory.as_deref()),
        (Some("250m"), Some("256Mi"))
    );
    assert_eq!(api.user.as_deref(), Some("1000:1000"));
    assert!(api.trace.location().starts_with("compose.yaml:"));
}

#[test]
fn secrets_in_environment_become_references() {
    let out = import(
        &[(
            "compose.yaml",
            "services:\n  db:\n    image: mariadb:10.6\n    environment:\n      - MYSQL_ROOT_PASSWORD=db-57xsl\n      - MYSQL_DATABASE=example\n      - DATABASE_URL=mysql://root:hunter2@db/x\n      - MYSQL_PASSWORD_FILE=/run/secrets/db-password\n    secrets: [db-password]\n",
        )],
        &[],
    );
    let app = out.app.unwrap();
    let db = &app.services["db"];
    assert_eq!(
        db.secret_env,
        vec![
            "DATABASE_URL".to_string(),
            "MYSQL_ROOT_PASSWORD".to_string()
        ]
    );
    assert!(!db
        .env
        .values()
        .any(|v| v.contains("db-57xsl") || v.contains("hunter2")));
    assert_eq!(db.env["MYSQL_PASSWORD_FILE"], "/run/secrets/db-password");
    assert_eq!(db.secrets, vec!["DB_PASSWORD".to_string()]);
    assert_eq!(
        out.diagnostics
            .iter()
            .filter(|d| d.rule_id == "CMP009")
            .count(),
        2
    );
}

#[test]
fn unsupported_keys_are_reported_and_the_rest_converts() {
    let out = import(
        &[(
            "compose.yaml",
            "services:\n  agent:\n    image: portainer/agent:2.19.4\n    privileged: true\n    network_mode: host\n    cap_add: [NET_ADMIN]\n    sysctls: { net.ipv4.ip_forward: 1 }\n    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n    restrat: always\n  app:\n    image: nginx:1.27\n",
        )],
        &[],
    );
    let m = messages(&out);
    assert!(out.app.is_some(), "{m}");
    for want in [
        "SPEC103 `privileged`",
        "SPEC103 `network_mode`",
        "SPEC103 `cap_add`",
        "SPEC103 `sysctls`",
        "CMP007 mounting the Docker socket",
    ] {
        assert!(m.contains(want), "{want} missing in:\n{m}");
    }
    let typo = out
        .diagnostics
        .iter()
        .find(|d| d.message.contains("`restrat`"))
        .unwrap();
    assert_eq!(typo.help.as_deref(), Some("did you mean `restart`?"));
    assert!(out.app.unwrap().services["agent"].volumes.is_empty());
}

#[test]
fn wasm_platform_is_an_error_with_its_location() {
    let out = import(
        &[(
            "compose.yml",
            "services:\n  b:\n    image: demo\n    platform: wasi/wasm\n",
        )],
        &[],
    );
    assert!(out.app.is_none());
    let d = out
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "SPEC109")
        .unwrap();
    assert_eq!(
        d.span.map(|s| s.start),
        Some("services:\n  b:\n    image: demo\n    platform: ".len())
    );
}

#[test]
fn files_merge_in_order_and_profiles_filter() {
    let base = "services:\n  api:\n    image: example/api:1.0\n    environment: { A: \"1\", B: \"1\" }\n    ports: [\"8000:8000\"]\n  debug:\n    image: busybox:1.36\n    profiles: [debug]\n  tools:\n    image: busybox:1.36\n    profiles: [tools]\n";
    let over = "services:\n  api:\n    image: example/api:2.0\n    environment: { B: \"2\" }\n";
    let out = import(
        &[("compose.yaml", base), ("compose.override.yaml", over)],
        &[],
    );
    let app = out.app.unwrap();
    let api = &app.services["api"];
    assert_eq!(
        api.source,
        ServiceSource::Image {
            image: "example/api:2.0".into()
        }
    );
    assert_eq!((api.env["A"].as_str(), api.env["B"].as_str()), ("1", "2"));
    assert!(app.services.contains_key("debug"));
    assert!(!app.services.contains_key("tools"));
}

#[test]
fn interpolation_errors_and_missing_variables() {
    let out = import(&[("compose.yaml", "services:\n  a:\n    image: \"x:${TAG:?TAG must be set}\"\n  b:\n    image: \"y:${MISSING}1\"\n")], &[]);
    let m = messages(&out);
    assert!(
        m.contains("SPEC106 interpolation failed: variable `TAG` is required: TAG must be set"),
        "{m}"
    );
    assert!(m.contains("SPEC105 variable `MISSING` is not set"), "{m}");
    let ok = import(
        &[("compose.yaml", "services:\n  a:\n    image: \"x:${TAG}\"\n")],
        &[("TAG", "1.2")],
    );
    assert_eq!(
        ok.app.unwrap().services["a"].source,
        ServiceSource::Image {
            image: "x:1.2".into()
        }
    );
}

#[test]
fn bad_input_is_located() {
    let out = import(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x:1\n    ports: [\"eighty\"]\n  b: {}\n",
        )],
        &[],
    );
    let m = messages(&out);
    assert!(m.contains("SPEC102 not a port mapping"), "{m}");
    assert!(
        m.contains("SPEC102 service `b` has neither `image` nor `build`"),
        "{m}"
    );
    assert!(import(&[("compose.yaml", "services: [\n")], &[])
        .app
        .is_none());
}

/// Imports `main` with every other file readable in memory.
fn project(main: &str, files: &[(&str, &str)]) -> ComposeOutcome {
    let mut mem: BTreeMap<String, String> = files
        .iter()
        .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
        .collect();
    let text = mem.remove(main).expect("the main file");
    let opts = ComposeOptions {
        default_name: "p".into(),
        access: FileAccess::Memory(mem),
        ..ComposeOptions::default()
    };
    import_compose(&[Arc::new(SourceFile::new(main, text))], &opts)
}

/// `CODE file:line message` of every diagnostic, with lines computed from `files`.
fn located(out: &ComposeOutcome, files: &[(&str, &str)]) -> Vec<String> {
    out.diagnostics
        .iter()
        .map(|d| {
            let file = d.file.clone().unwrap_or_default();
            let line = d
                .span
                .and_then(|s| {
                    let text = files.iter().find(|(n, _)| *n == file)?.1;
                    Some(text[..s.start].matches('\n').count() + 1)
                })
                .unwrap_or(0);
            format!("{} {file}:{line} {}", d.rule_id, d.message)
        })
        .collect()
}

#[test]
fn dotenv_is_read_as_compose_reads_it() {
    let files = [
        ("w/compose.yaml", "services:\n  app:\n    image: \"example/app:${TAG}\"\n    environment:\n      URL: ${URL}\n      QUOTED: ${QUOTED}\n      RAW: ${RAW}\n"),
        ("w/.env", "TAG=\"1.2.0\" # c\nexport HOST=api\nURL=http://${HOST}:8000/\nQUOTED=\"a\\tb\"\nRAW='${HOST}'\n"),
    ];
    let out = project("w/compose.yaml", &files);
    let app = out.app.expect("converts");
    let svc = &app.services["app"];
    assert_eq!(
        svc.source,
        ServiceSource::Image {
            image: "example/app:1.2.0".into()
        }
    );
    assert_eq!(svc.env["URL"], "http://api:8000/");
    assert_eq!(svc.env["QUOTED"], "a\tb");
    assert_eq!(svc.env["RAW"], "${HOST}");
    assert!(out.sources.iter().any(|s| s.name == "w/.env"));
}

#[test]
fn dotenv_errors_are_located_in_the_env_file() {
    let files = [
        ("compose.yaml", "services:\n  app:\n    image: x:1\n"),
        (".env", "OK=1\nBAD KEY=2\nOPEN=\"never closed\n"),
    ];
    let out = project("compose.yaml", &files);
    let shown = located(&out, &files);
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("SPEC120 .env:2 ") && m.contains("blank")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("SPEC120 .env:3 ") && m.contains("unterminated")),
        "{shown:#?}"
    );
    assert!(
        out.app.is_none(),
        "Compose refuses such a file; so does slipway"
    );
}

#[test]
fn caller_variables_win_over_dotenv_and_the_process_environment_is_not_read() {
    let files = [
        (
            "compose.yaml",
            "services:\n  app:\n    image: \"x:${TAG}\"\n    environment: [\"HOME_DIR=${HOME}\"]\n",
        ),
        (".env", "TAG=from-file\n"),
    ];
    let mut mem: BTreeMap<String, String> = BTreeMap::new();
    mem.insert(".env".into(), files[1].1.into());
    let opts = ComposeOptions {
        vars: BTreeMap::from([("TAG".to_string(), "from-caller".to_string())]),
        access: FileAccess::Memory(mem),
        ..ComposeOptions::default()
    };
    let out = import_compose(
        &[Arc::new(SourceFile::new("compose.yaml", files[0].1))],
        &opts,
    );
    let app = out.app.unwrap();
    let svc = &app.services["app"];
    assert_eq!(
        svc.source,
        ServiceSource::Image {
            image: "x:from-caller".into()
        }
    );
    // HOME is set in every test process; it is not read.
    assert_eq!(svc.env["HOME_DIR"], "${HOME}");
    assert_eq!(app.deploy_vars, vec!["HOME".to_string()]);
}

#[test]
fn extends_in_the_same_file_and_another_merges_as_compose() {
    let files = [
        (
            "w/compose.yaml",
            r#"services:
  web:
    extends: { file: base/common.yaml, service: base }
    environment: { LEVEL: debug, EXTRA: "1" }
    ports: ["8080:80"]
    command: ["serve", "--fast"]
    healthcheck: { interval: 5s }
  worker:
    extends: web
    command: !reset
"#,
        ),
        (
            "w/base/common.yaml",
            r#"services:
  base:
    build: ./app
    environment: { LEVEL: info, KEEP: "yes" }
    env_file: [base.env]
    ports: ["9090:90"]
    volumes: ["./data:/data"]
    command: ["serve"]
    healthcheck: { test: ["CMD", "true"], retries: 9 }
"#,
        ),
        ("w/base/base.env", "FROM_FILE=1\n"),
    ];
    let out = project("w/compose.yaml", &files);
    let shown = located(&out, &files);
    let app = out.app.unwrap_or_else(|| panic!("{shown:#?}"));
    let web = &app.services["web"];
    assert!(
        matches!(&web.source, ServiceSource::Dockerfile { context, .. } if context == "./base/app"),
        "{:?}",
        web.source
    );
    assert_eq!(web.env["LEVEL"], "debug");
    assert_eq!(
        (
            web.env["KEEP"].as_str(),
            web.env["EXTRA"].as_str(),
            web.env["FROM_FILE"].as_str()
        ),
        ("yes", "1", "1")
    );
    let published: Vec<(u16, Option<u16>)> = web
        .published
        .iter()
        .map(|p| (p.container, p.host))
        .collect();
    assert_eq!(published, vec![(90, Some(9090)), (80, Some(8080))]);
    assert_eq!(web.volumes[0].source, "./base/data");
    assert_eq!(
        web.command.as_deref(),
        Some(&["serve".to_string(), "--fast".into()][..])
    );
    assert_eq!(
        (web.health_timing.interval_ms, web.health_timing.retries),
        (Some(5_000), Some(9))
    );
    assert_eq!(web.trace.location(), "w/compose.yaml:2:3");
    let worker = &app.services["worker"];
    assert_eq!(worker.command, None, "`!reset` drops the inherited command");
    assert_eq!(worker.env["LEVEL"], "debug");
}

#[test]
fn extends_cycles_and_missing_bases_are_located() {
    let files = [
        ("compose.yaml", "services:\n  a:\n    image: x:1\n    extends: b\n  b:\n    extends: { service: c, file: other.yaml }\n  self:\n    extends: self\n  lost:\n    extends: { service: nowhere }\n"),
        ("other.yaml", "services:\n  c:\n    extends: { service: a, file: compose.yaml }\n"),
    ];
    let out = project("compose.yaml", &files);
    let shown = located(&out, &files);
    let cycle: Vec<&String> = shown
        .iter()
        .filter(|m| m.contains("`extends` cycle"))
        .collect();
    assert_eq!(cycle.len(), 2, "{shown:#?}");
    assert!(
        cycle
            .iter()
            .any(|m| m.starts_with("SPEC122 compose.yaml:8 ")
                && m.contains("`self` (compose.yaml:8)")),
        "{cycle:#?}"
    );
    assert!(
        cycle
            .iter()
            .any(|m| m
                .contains("`a` (compose.yaml:4) -> `b` (compose.yaml:6) -> `c` (other.yaml:3)")),
        "{cycle:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("SPEC122 compose.yaml:10 ") && m.contains("`nowhere`")),
        "{shown:#?}"
    );
    assert!(out.app.is_none());
}

#[test]
fn include_reads_relative_to_the_included_file_and_reports_conflicts() {
    let files = [
        ("w/compose.yaml", "include:\n  - sub/part.yaml\n  - path: [other/one.yaml]\nservices:\n  app:\n    image: app:1\n"),
        ("w/sub/part.yaml", "services:\n  db:\n    image: \"postgres:${PG}\"\n    volumes: [\"./init:/docker-entrypoint-initdb.d\"]\n    env_file: [db.env]\n"),
        ("w/sub/.env", "PG=16\n"),
        ("w/sub/db.env", "POSTGRES_DB=shop\n"),
        ("w/other/one.yaml", "services:\n  cache:\n    image: redis:7\n"),
    ];
    let out = project("w/compose.yaml", &files);
    let shown = located(&out, &files);
    let app = out.app.unwrap_or_else(|| panic!("{shown:#?}"));
    let db = &app.services["db"];
    assert_eq!(
        db.source,
        ServiceSource::Image {
            image: "postgres:16".into()
        }
    );
    assert_eq!(db.volumes[0].source, "./sub/init");
    assert_eq!(db.env["POSTGRES_DB"], "shop");
    assert_eq!(db.trace.file, "w/sub/part.yaml");
    assert!(app.services.contains_key("cache"));

    let conflict = [
        (
            "compose.yaml",
            "include:\n  - part.yaml\nservices:\n  db:\n    image: mine:1\n",
        ),
        ("part.yaml", "services:\n  db:\n    image: theirs:1\n"),
    ];
    let out = project("compose.yaml", &conflict);
    let shown = located(&out, &conflict);
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("SPEC121 compose.yaml:4 ")
                && m.contains("service `db` is defined both")),
        "{shown:#?}"
    );
    assert_eq!(
        out.diagnostics
            .iter()
            .find(|d| d.rule_id == "SPEC121")
            .unwrap()
            .labels[0]
            .file,
        "part.yaml"
    );

    let cycle = [
        (
            "compose.yaml",
            "include: [a.yaml]\nservices:\n  x:\n    image: x:1\n",
        ),
        (
            "a.yaml",
            "include:\n  - compose.yaml\nservices:\n  y:\n    image: y:1\n",
        ),
    ];
    let shown = located(&project("compose.yaml", &cycle), &cycle);
    assert!(
        shown.iter().any(|m| m.starts_with("SPEC121 a.yaml:2 ")
            && m.contains("include cycle: compose.yaml -> a.yaml -> compose.yaml")),
        "{shown:#?}"
    );

    let missing = [(
        "compose.yaml",
        "include: [gone.yaml]\nservices:\n  x:\n    image: x:1\n",
    )];
    let shown = located(&project("compose.yaml", &missing), &missing);
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("SPEC121 compose.yaml:1 ")
                && m.contains("`gone.yaml` cannot be read")),
        "{shown:#?}"
    );
}

#[test]
fn healthcheck_timing_every_port_networks_and_not_carried_keys() {
    let files = [(
        "compose.yaml",
        r#"services:
  web:
    image: nginx:1.27
    ports: ["80:80", "127.0.0.1:8443:443", "53:53/udp", { target: 9000, published: "19000", host_ip: 0.0.0.0 }]
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      timeout: 3s
      retries: 7
      start_period: 500ms
    networks:
      front:
        aliases: [www]
    container_name: the-web
    logging: { driver: syslog }
    labels: { a: b }
  db:
    image: postgres:16
    networks: [back]
  api:
    image: example/api:1
    environment: { DB: "postgres://db:5432/x", APP_ENV: staging, URL: "http://web/" }
    networks: [back, front]
    depends_on: [db]
networks:
  front: {}
  back: { internal: true, driver: overlay, ipam: { config: [] } }
"#,
    )];
    let out = project("compose.yaml", &files);
    let shown = located(&out, &files);
    let app = out.app.unwrap_or_else(|| panic!("{shown:#?}"));
    let web = &app.services["web"];
    let ports: Vec<(u16, Option<u16>, Option<&str>, bool)> = web
        .published
        .iter()
        .map(|p| (p.container, p.host, p.host_ip.as_deref(), p.udp))
        .collect();
    assert_eq!(
        ports,
        vec![
            (80, Some(80), None, false),
            (443, Some(8443), Some("127.0.0.1"), false),
            (53, Some(53), None, true),
            (9000, Some(19000), Some("0.0.0.0"), false)
        ]
    );
    assert_eq!(web.ports(), vec![80, 443, 53, 9000]);
    let t = web.health_timing;
    assert_eq!(
        (t.interval_ms, t.timeout_ms, t.retries, t.start_period_ms),
        (Some(90_000), Some(3_000), Some(7), Some(500))
    );
    assert_eq!(web.networks, vec!["front".to_string()]);
    assert_eq!(app.services["api"].env["URL"], "http://web/");
    assert_eq!(app.services["api"].env["APP_ENV"], "staging");
    assert_eq!(
        app.services["api"].depends_on_condition["db"],
        "service_started"
    );
    assert!(app.networks["back"].internal);
    assert_eq!(
        app.networks.keys().collect::<Vec<_>>(),
        vec!["back", "front"]
    );
    // db declares no port; api reaches it by name: the official image's port.
    assert_eq!(
        (app.services["db"].port, app.services["db"].internal),
        (Some(5432), true)
    );
    for (code, line, what) in [
        ("SPEC123", 13, "aliases on network `front`"),
        ("SPEC123", 14, "`container_name` `the-web`"),
        ("SPEC123", 15, "`logging`"),
        ("SPEC123", 16, "`labels`"),
        ("SPEC124", 4, "127.0.0.1 only"),
        ("SPEC125", 17, "port 5432, its image's known port"),
        ("SPEC123", 27, "`ipam` is not carried"),
    ] {
        assert!(shown.iter().any(|m| m.starts_with(&format!("{code} compose.yaml:{line} ")) && m.contains(what)), "{code} at {line}: {what}\n{shown:#?}");
    }
}

#[test]
fn an_unknown_network_is_refused_at_its_line() {
    let files = [(
        "compose.yaml",
        "services:\n  a:\n    image: x:1\n    networks: [nope]\n",
    )];
    let out = project("compose.yaml", &files);
    let shown = located(&out, &files);
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("SPEC102 compose.yaml:4 ") && m.contains("`nope`")),
        "{shown:#?}"
    );
}

#[test]
fn a_profile_no_service_declares_is_a_warning_with_the_nearest_name() {
    let files = vec![Arc::new(SourceFile::new(
        "compose.yaml",
        "services:\n  api:\n    image: example/api:1.0\n  debug:\n    image: busybox:1.36\n    profiles: [debug]\n",
    ))];
    let opts = ComposeOptions {
        profiles: vec!["debgu".into()],
        default_name: "p".into(),
        access: FileAccess::Memory(BTreeMap::new()),
        ..ComposeOptions::default()
    };
    let out = import_compose(&files, &opts);
    let d = out
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "SPEC113")
        .expect("SPEC113");
    assert_eq!(d.severity, slipway_diagnostics::Severity::Warning);
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `debug`?"),
        "{d:?}"
    );
    // Compose selects nothing with it: the app converts without the debug service.
    let app = out.app.expect("converts");
    assert!(!app.services.contains_key("debug"));
}
