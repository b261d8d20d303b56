use super::*;

fn read(text: &str) -> SpecOutcome {
    parse_spec(&SourceFile::new("slipway.yaml", text))
}

fn messages(text: &str) -> Vec<String> {
    read(text)
        .diagnostics
        .into_sorted()
        .into_iter()
        .map(|d| format!("{} {}", d.rule_id, d.message))
        .collect()
}

#[test]
fn reads_a_full_spec() {
    let out = read(
        "name: shop\nservices:\n  api:\n    path: ./api\n    port: 8000\n    health: /health\n    env: { LOG_LEVEL: info, WORKERS: 2 }\n    secrets: [API_TOKEN]\n    depends_on: [db]\n    replicas: { dev: 1, prod: 3 }\n    resources: { cpu: 500m, memory: 512Mi }\n    ingress: { host: api.example.com }\nresources:\n  db: { type: postgres, version: 16 }\n",
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let app = out.app.unwrap();
    let api = &app.services["api"];
    assert_eq!(api.replicas.get("prod"), Some(&3));
    assert_eq!(api.replicas.get("staging"), None);
    assert_eq!(api.env["WORKERS"], "2");
    assert_eq!(
        api.resources.get("prod").unwrap().cpu.as_deref(),
        Some("500m")
    );
    assert_eq!(app.resources["db"].version, "16");
    assert_eq!(api.trace.location(), "slipway.yaml:3:3");
}

#[test]
fn reports_every_problem_at_once() {
    let m = messages(
        "name: shop\nservices:\n  api:\n    path: ./api\n    depend_on: [db]\n    port: eighty\n  Web:\n    image: nginx\nresources:\n  db: { type: postgress }\n",
    );
    let joined = m.join("\n");
    assert!(
        joined.contains("SPEC002 unknown key `depend_on`"),
        "{joined}"
    );
    assert!(
        joined.contains("SPEC003 `port` of service `api` has the wrong type"),
        "{joined}"
    );
    assert!(
        joined.contains("SPEC005 service name `Web` has uppercase"),
        "{joined}"
    );
    assert!(
        joined.contains("SPEC009 image `nginx` is not pinned"),
        "{joined}"
    );
    assert!(
        joined.contains("SPEC009 unknown resource type `postgress`"),
        "{joined}"
    );
    assert!(
        read("name: x\nservices:\n  a:\n    path: ./a\n    depend_on: []\n")
            .app
            .is_none()
    );
}

#[test]
fn did_you_mean_for_keys() {
    let out = read("name: shop\nservices:\n  api:\n    path: ./api\n    depend_on: [db]\n");
    let d = out
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "SPEC002")
        .unwrap();
    assert_eq!(d.help.as_deref(), Some("did you mean `depends_on`?"));
}

#[test]
fn references_cycles_and_ports() {
    let m = messages(
        "name: shop\nservices:\n  a: { path: ./a, port: 8000, depends_on: [b] }\n  b: { path: ./b, port: 8000, depends_on: [a, cache] }\n  c: { path: ./c, port: 9000, depends_on: [c] }\n",
    )
    .join("\n");
    assert!(
        m.contains("SPEC006 `b` depends on `cache`, which is not defined"),
        "{m}"
    );
    assert!(m.contains("SPEC007 `depends_on` cycle: a -> b -> a"), "{m}");
    assert!(m.contains("SPEC006 service `c` depends on itself"), "{m}");
    assert!(
        m.contains("SPEC008 services `a` and `b` both publish host port 8000"),
        "{m}"
    );
}

#[test]
fn replicas_publish_consecutive_ports() {
    let m = messages(
        "name: shop\nservices:\n  a: { path: ./a, port: 8000, replicas: { prod: 2 } }\n  b: { path: ./b, port: 8001 }\n",
    )
    .join("\n");
    assert!(m.contains("host port 8001 in `prod`"), "{m}");
}

#[test]
fn unpublished_services_take_no_host_port() {
    // `a` is not published, so `b` may use the port `a` listens on.
    let out = read(
        "name: shop\nservices:\n  a: { path: ./a, port: 8000, publish: false, replicas: { prod: 2 } }\n  b: { path: ./b, port: 8001 }\n",
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let app = out.app.unwrap();
    assert!(app.services["a"].internal);
    assert!(!app.services["b"].internal);
    let m = messages(
        "name: shop\nservices:\n  a: { path: ./a, port: 8000, host_port: 9000, publish: false }\n",
    )
    .join("\n");
    assert!(
        m.contains("SPEC009 service `a` sets `host_port` but `publish: false`"),
        "{m}"
    );
}

#[test]
fn names_that_escape_the_output_folder() {
    let m = messages(
        "name: shop\nservices:\n  ../x: { path: ./a }\n  b: { path: /etc }\n  '': { path: ./c }\n",
    )
    .join("\n");
    assert!(
        m.contains("SPEC005 service name `../x` could escape the output folder"),
        "{m}"
    );
    assert!(
        m.contains("SPEC005 service path `/etc` must stay inside"),
        "{m}"
    );
    assert!(m.contains("SPEC005 service name `` is empty"), "{m}");
}

#[test]
fn plaintext_secrets_in_env_are_refused() {
    let m = messages("name: shop\nservices:\n  a: { path: ./a, env: { DB_PASSWORD: hunter2, TOKEN_FILE: /run/x } }\n").join("\n");
    assert!(
        m.contains("SPEC015 `DB_PASSWORD` looks like a secret"),
        "{m}"
    );
    assert!(!m.contains("TOKEN_FILE"), "{m}");
}

#[test]
fn unknown_environment_in_per_env_values() {
    let m = messages("name: shop\nenvironments: [dev, prod]\nservices:\n  a: { path: ./a, replicas: { prdo: 2 } }\n").join("\n");
    assert!(
        m.contains("SPEC011 `prdo` in `replicas` of service `a` is not a declared environment"),
        "{m}"
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    let out = read("name: shop\nservices: [\n");
    let d = out.diagnostics.iter().next().unwrap();
    assert_eq!(d.rule_id, "SPEC001");
    assert!(d.span.is_some());
}

#[test]
fn schema_and_reader_know_the_same_keys() {
    let schema: serde_json::Value = serde_json::from_str(&spec_schema()).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    let sorted = |s: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = s.iter().map(ToString::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(keys(&schema), sorted(TOP_KEYS));
    assert_eq!(
        keys(&schema["$defs"]["ServiceDoc"]),
        sorted(service::SERVICE_KEYS)
    );
    assert_eq!(keys(&schema["$defs"]["ResourceDoc"]), sorted(RESOURCE_KEYS));
    assert_eq!(
        keys(&schema["$defs"]["LimitsDoc"]),
        sorted(service::LIMIT_KEYS)
    );
    assert_eq!(
        keys(&schema["$defs"]["IngressDoc"]),
        sorted(service::INGRESS_KEYS)
    );
    assert_eq!(
        keys(&schema["$defs"]["HealthDoc"]),
        sorted(service::HEALTH_KEYS)
    );
}
