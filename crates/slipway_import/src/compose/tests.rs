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
