//! Secrets planted in every place a compose project can hide one (environment in
//! both forms, env files, `.env`, commands, entrypoints, health checks, labels, build
//! args, URLs, the environment of the shell that runs `generate`) never reach a
//! generated file, each is reported at its file:line, and nothing that is not a secret
//! is rewritten.

use slipway_engine::{generate, GenerateOptions, GenerateReport};
use std::path::Path;

/// Values that must appear in no generated file.
const PLANTED: &[&str] = &[
    "Pl4nted-Env-Map-9f2c",
    "Pl4nted-Env-List-41aa",
    "ghp_0123456789abcdefABCDEF0123456789abcd",
    "Pl4nted-Url-Pw-77e1",
    "Pl4nted-Cmd-Pw-3b0d",
    "Pl4nted-Requirepass-c9",
    "Pl4nted-DotEnv-Pw-5e5e",
    "Pl4nted-EnvFile-Pw-0d0d",
    "Pl4nted-Build-Arg-88ab",
    "Pl4nted-Label-Tok-1234",
    "AKIAIOSFODNN7PLANTED",
    "Zx9Qm2Lp8Rt4Vw7Ny3Kb6Hc1Jd5Fg0Ss",
    "Pl4nted-Shell-Env-6c6c",
];

const COMPOSE: &str = r#"
services:
  api:
    build:
      context: ./api
      args:
        NPM_TOKEN: Pl4nted-Build-Arg-88ab
        NODE_ENV: production
    environment:
      API_TOKEN: Pl4nted-Env-Map-9f2c
      GITHUB_ACCESS: ghp_0123456789abcdefABCDEF0123456789abcd
      DATABASE_URL: postgres://app:Pl4nted-Url-Pw-77e1@db:5432/app
      SIGNING_SEED: Zx9Qm2Lp8Rt4Vw7Ny3Kb6Hc1Jd5Fg0Ss
      FROM_SHELL: ${SLIPWAY_PLANTED_SHELL_VALUE}
      PUBLIC_URL: http://api:8000/
      APP_ENV: staging
      GREETING: hello world
    env_file: [api.env]
    labels:
      com.example.token: Pl4nted-Label-Tok-1234
      com.example.aws: AKIAIOSFODNN7PLANTED
    command: ["serve", "--password", "Pl4nted-Cmd-Pw-3b0d", "--port", "8000", "--cache", "redis://:${REDIS_PASSWORD}@cache:6379/0"]
    ports: ["8000:8000"]
  cache:
    image: redis:7
    command: redis-server --requirepass=Pl4nted-Requirepass-c9 --appendonly yes
    healthcheck:
      test: ["CMD", "redis-cli", "-a", "${REDIS_PASSWORD}", "ping"]
      interval: 7s
  worker:
    image: example/worker:1
    environment:
      - QUEUE_PASSWORD=Pl4nted-Env-List-41aa
      - QUEUE_HOST=cache
    entrypoint: ["/bin/worker", "--token", "Pl4nted-Env-List-41aa"]
    healthcheck:
      test: ["CMD-SHELL", "check --pass Pl4nted-Env-List-41aa || exit 1"]
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: postgres
      POSTGRES_USER: postgres
    healthcheck:
      test: ["CMD", "/healthchecks/postgres.sh", "-U", "postgres"]
"#;

fn project(dir: &Path) {
    std::fs::write(dir.join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(
        dir.join(".env"),
        "# planted\nREDIS_PASSWORD=\"Pl4nted-DotEnv-Pw-5e5e\" # the cache's password\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("api.env"),
        "export SMTP_PASSWORD='Pl4nted-EnvFile-Pw-0d0d'\nSMTP_HOST=mail\n",
    )
    .unwrap();
}

fn generated(report: &GenerateReport) -> Vec<(String, String)> {
    report
        .changes
        .iter()
        .map(|c| {
            (
                c.path.clone(),
                std::fs::read_to_string(report.out_dir.join(&c.path)).unwrap(),
            )
        })
        .collect()
}

fn messages(report: &GenerateReport) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let line = d
                .span
                .and_then(|s| Some(report.sources.get(d.file.as_deref()?)?.line_col(s.start).0))
                .unwrap_or(0);
            let file = Path::new(d.file.as_deref().unwrap_or(""))
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{file}:{line}: {} {}", d.rule_id, d.message)
        })
        .collect()
}

#[test]
fn planted_secrets_reach_no_generated_file_and_each_is_reported() {
    // The generating shell holds a value the input refers to; without
    // `--env-from-shell` it must not be read.
    std::env::set_var("SLIPWAY_PLANTED_SHELL_VALUE", "Pl4nted-Shell-Env-6c6c");
    let work = tempfile::tempdir().unwrap();
    project(work.path());
    let report = generate(&GenerateOptions {
        spec: work.path().join("compose.yaml"),
        ..Default::default()
    })
    .unwrap();
    let shown = messages(&report);
    assert!(!report.has_errors(), "{shown:#?}");
    let files = generated(&report);
    assert!(files.len() > 20);
    for (path, text) in &files {
        for secret in PLANTED {
            assert!(
                !text.contains(secret),
                "{secret} leaked into {path}:\n{text}"
            );
        }
    }
    // Each planted place is reported at its line.
    for (line, what) in [
        (7, "build arg `NPM_TOKEN`"),
        (10, "`API_TOKEN`"),
        (11, "`GITHUB_ACCESS`"),
        (12, "`DATABASE_URL`"),
        (13, "`SIGNING_SEED`"),
        (14, "variable `SLIPWAY_PLANTED_SHELL_VALUE` is not set"),
        (
            22,
            "the command held a secret (the argument of `--password`)",
        ),
        (
            22,
            "the command held a secret (a password in a URL); it now reads `${REDIS_PASSWORD}`",
        ),
        (
            26,
            "the command held a secret (the argument of `--requirepass`)",
        ),
        (
            27,
            "the healthcheck held a secret (the value of `REDIS_PASSWORD`)",
        ),
        (33, "`QUEUE_PASSWORD`"),
        (35, "the entrypoint held a secret"),
        (36, "the healthcheck held a secret"),
        (40, "the secret `POSTGRES_PASSWORD` is a common word"),
    ] {
        assert!(
            shown
                .iter()
                .any(|m| m.starts_with(&format!("compose.yaml:{line}:")) && m.contains(what)),
            "nothing at compose.yaml:{line} says {what}:\n{shown:#?}"
        );
    }
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("api.env:1:") && m.contains("`SMTP_PASSWORD` (from `api.env`)")),
        "{shown:#?}"
    );
    // What is not a secret is carried as written.
    let base = &files
        .iter()
        .find(|(p, _)| p == "compose/docker-compose.yaml")
        .unwrap()
        .1;
    for kept in [
        "PUBLIC_URL: \"http://api:8000/\"",
        "APP_ENV: staging",
        "GREETING: \"hello world\"",
        "SMTP_HOST: mail",
        "QUEUE_HOST: cache",
        "NODE_ENV: production",
        "POSTGRES_USER: postgres",
        "[\"CMD\",\"/healthchecks/postgres.sh\",\"-U\",\"postgres\"]",
        "\"--port\",\"8000\"",
        "--appendonly",
        "interval: 7s",
    ] {
        assert!(
            base.contains(kept),
            "`{kept}` is not carried as written:\n{base}"
        );
    }
    // The user's APP_ENV is theirs in every environment.
    for (path, text) in &files {
        assert!(
            !(path.contains("overlays/") && path.contains("api.config")),
            "{path} overrides the user's APP_ENV:\n{text}"
        );
    }
    let staging = &files
        .iter()
        .find(|(p, _)| p == "compose/docker-compose.staging.yaml")
        .unwrap()
        .1;
    assert!(!staging.contains("  api:\n    environment"), "{staging}");
    // Secrets are references in both targets.
    assert!(
        base.contains("\"--password\",\"${API_PASSWORD}\""),
        "{base}"
    );
    let k8s = &files
        .iter()
        .find(|(p, _)| p == "kubernetes/base/api.deployment.yaml")
        .unwrap()
        .1;
    assert!(
        k8s.contains("$(API_PASSWORD)") && k8s.contains("secretKeyRef"),
        "{k8s}"
    );
    // The health check's timing is the input's in Kubernetes too.
    let cache_k8s = files
        .iter()
        .find(|(p, _)| {
            p.starts_with("kubernetes/base/cache.")
                && (p.ends_with("deployment.yaml") || p.ends_with("statefulset.yaml"))
        })
        .unwrap();
    assert!(cache_k8s.1.contains("periodSeconds: 7"), "{}", cache_k8s.1);
    let cache = &files
        .iter()
        .find(|(p, _)| {
            p == "kubernetes/base/cache.statefulset.yaml"
                || p == "kubernetes/base/cache.deployment.yaml"
        })
        .unwrap()
        .1;
    assert!(
        cache.contains("exec 'redis-cli' '-a' \\\"${REDIS_PASSWORD}\\\" 'ping'")
            || cache.contains("exec 'redis-cli' '-a' \"${REDIS_PASSWORD}\" 'ping'"),
        "{cache}"
    );
}

#[test]
fn the_shell_is_read_only_when_asked() {
    std::env::set_var("SLIPWAY_ASKED_SHELL_TAG", "9.9.9");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("compose.yaml"),
        "services:\n  app:\n    image: \"example/app:${SLIPWAY_ASKED_SHELL_TAG}\"\n",
    )
    .unwrap();
    let run = |from_shell: bool| {
        let report = generate(&GenerateOptions {
            spec: work.path().join("compose.yaml"),
            env_from_shell: from_shell,
            out: Some(
                work.path()
                    .join(if from_shell { "with" } else { "without" }),
            ),
            ..Default::default()
        })
        .unwrap();
        let base =
            std::fs::read_to_string(report.out_dir.join("compose/docker-compose.yaml")).unwrap();
        (base, messages(&report))
    };
    let (without, shown) = run(false);
    assert!(
        without.contains("image: \"example/app:${SLIPWAY_ASKED_SHELL_TAG}\""),
        "{without}"
    );
    assert!(!without.contains("9.9.9"));
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("compose.yaml:3:") && m.contains("SPEC105")),
        "{shown:#?}"
    );
    let env_example =
        std::fs::read_to_string(work.path().join("without/compose/.env.example")).unwrap();
    assert!(
        env_example.contains("\nSLIPWAY_ASKED_SHELL_TAG=\n"),
        "{env_example}"
    );
    let (with, _) = run(true);
    assert!(with.contains("image: \"example/app:9.9.9\""), "{with}");
}

#[test]
fn a_secret_file_is_read_where_the_input_reads_it() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("compose.yaml"),
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD_FILE: /run/secrets/db-password\n    secrets:\n      - db-password\n      - source: api_key\n        target: key.txt\nsecrets:\n  db-password:\n    file: db/password.txt\n  api_key:\n    environment: API_KEY\n",
    )
    .unwrap();
    let report = generate(&GenerateOptions {
        spec: work.path().join("compose.yaml"),
        ..Default::default()
    })
    .unwrap();
    let shown = messages(&report);
    assert!(!report.has_errors(), "{shown:#?}");
    let read = |p: &str| std::fs::read_to_string(report.out_dir.join(p)).unwrap();
    let base = read("compose/docker-compose.yaml");
    assert!(
        base.contains("      - source: db_password\n        target: db-password\n"),
        "{base}"
    );
    assert!(
        base.contains("      - source: api_key\n        target: key.txt\n"),
        "{base}"
    );
    let k8s = read("kubernetes/base/db.deployment.yaml");
    assert!(
        k8s.contains("path: db-password") && k8s.contains("path: key.txt"),
        "{k8s}"
    );
    // Where the input keeps the value is not where the output reads it: said at its line.
    assert!(
        shown.iter().any(|m| m.starts_with("compose.yaml:11:") && m.contains("from file `db/password.txt`")),
        "{shown:#?}"
    );
}
