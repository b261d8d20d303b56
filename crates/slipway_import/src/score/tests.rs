use super::*;

fn import(texts: &[&str]) -> ScoreOutcome {
    let files: Vec<Arc<SourceFile>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Arc::new(SourceFile::new(format!("score{i}.yaml"), *t)))
        .collect();
    import_score(&files)
}

const WEB: &str = r#"
apiVersion: score.dev/v1b1
metadata:
  name: web_app
  annotations: { team: payments }
service:
  ports:
    www: { port: 80, targetPort: 8080 }
containers:
  main:
    image: ghcr.io/example/web:1.4.0
    command: ["/bin/web"]
    args: ["--listen", ":8080"]
    variables:
      DB_HOST: ${resources.db.host}
      DB_PORT: ${resources.db.port}
      DB_URL: postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}/${resources.db.name}
      TEAM: ${metadata.annotations.team}
      NAME: ${metadata.name}
      LITERAL: $${not.a.placeholder}
    files:
      - target: /etc/web/config.yaml
        content: |
          cache: ${resources.cache.host}
    volumes:
      - source: ${resources.data}
        target: /var/lib/web
    resources:
      limits: { cpu: 250m, memory: 128Mi }
    readinessProbe:
      httpGet: { path: /ready, port: 8080 }
  sidecar:
    image: envoyproxy/envoy:v1.31.0
resources:
  db: { type: postgres }
  cache: { type: redis }
  data: { type: volume }
  dns: { type: dns }
  route:
    type: route
    params: { host: "${resources.dns.host}", path: /, port: 80 }
"#;

#[test]
fn converts_a_workload_with_resources() {
    let out = import(&[WEB]);
    let msgs: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.rule_id, d.message))
        .collect();
    let app = out.app.unwrap_or_else(|| panic!("{}", msgs.join("\n")));
    let web = &app.services["web-app"];
    assert_eq!(
        web.source,
        ServiceSource::Image {
            image: "ghcr.io/example/web:1.4.0".into()
        }
    );
    assert_eq!(
        web.entrypoint.as_deref(),
        Some(&["/bin/web".to_string()][..])
    );
    assert_eq!(web.port, Some(8080));
    assert_eq!(web.env["DB_HOST"], "db");
    assert_eq!(web.env["DB_PORT"], "5432");
    assert_eq!(web.env["TEAM"], "payments");
    assert_eq!(web.env["NAME"], "web-app");
    assert_eq!(web.env["LITERAL"], "${not.a.placeholder}");
    assert_eq!(web.secret_env, vec!["DB_URL".to_string()]);
    assert!(!web.env.contains_key("DB_URL"));
    assert_eq!(web.files[0].content, "cache: cache\n");
    assert_eq!(web.volumes[0].source, "data");
    assert_eq!(
        web.health,
        Some(Health::Http {
            path: "/ready".into()
        })
    );
    assert_eq!(
        web.ingress.as_ref().map(|i| i.host.as_str()),
        Some("web-app.example.com")
    );
    assert_eq!(web.depends_on, vec!["db".to_string(), "cache".to_string()]);
    assert_eq!(app.resources["db"].kind, ResourceKind::Postgres);
    assert!(
        msgs.iter().any(|m| m.starts_with("SCORE008")),
        "sidecar reported: {msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.starts_with("SCORE009")),
        "secret reported: {msgs:?}"
    );
}

#[test]
fn several_files_share_resources_and_unknown_placeholders_fail() {
    let worker = "apiVersion: score.dev/v1b1\nmetadata: { name: worker }\ncontainers:\n  w:\n    image: example/worker:2.0\n    variables: { DB: \"${resources.db.host}\" }\nresources:\n  db: { type: postgres }\n";
    let out = import(&[WEB, worker]);
    let app = out.app.unwrap();
    assert_eq!(app.services.len(), 2);
    assert_eq!(app.resources.len(), 2);
    let bad = import(&["apiVersion: score.dev/v1b1\nmetadata: { name: w }\ncontainers:\n  c:\n    image: x:1\n    variables: { A: \"${resources.nope.host}\" }\n"]);
    assert!(bad.app.is_none());
    let d = bad
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "SCORE010")
        .unwrap();
    assert!(d.message.contains("resources.nope.host"));
    assert!(d.span.is_some());
    let wrong = import(&["apiVersion: score.dev/v2\nmetadata: { name: w }\n"]);
    assert!(wrong.diagnostics.iter().any(|d| d.rule_id == "SCORE002"));
}
