//! The published JSON Schema of `slipway.yaml` (`schemas/slipway.schema.json`), for
//! editors. These types exist only to describe the format; the reader in this module
//! is the one that parses it. A test keeps their keys and the reader's in step.

use schemars::JsonSchema;
use std::collections::BTreeMap;

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(untagged)]
enum OrPerEnv<T> {
    All(T),
    /// Per environment name (or `default`).
    PerEnv(BTreeMap<String, T>),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(untagged)]
enum Scalar {
    Text(String),
    Number(f64),
    Bool(bool),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(untagged)]
enum Command {
    Line(String),
    Argv(Vec<String>),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct LimitsDoc {
    /// CPU: millicores (`500m`) or cores (`1`, `0.5`).
    cpu: Option<Scalar>,
    /// Memory: `256Mi`, `1Gi`.
    memory: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct HealthDoc {
    /// HTTP path answered with a status below 400 when healthy.
    path: Option<String>,
    /// A command run in the container; exit 0 means healthy.
    command: Option<Command>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(untagged)]
enum Health {
    /// An HTTP path such as `/health`.
    Path(String),
    Detailed(HealthDoc),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct IngressDoc {
    host: String,
    path: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ServiceDoc {
    /// Source folder, relative to this file (built with a generated Dockerfile).
    path: Option<String>,
    /// A prebuilt image with an explicit tag or digest.
    image: Option<String>,
    /// The port the service listens on inside its container.
    #[schemars(range(min = 1, max = 65535))]
    port: Option<u16>,
    /// The port published on 127.0.0.1 (defaults to `port`).
    #[schemars(range(min = 1, max = 65535))]
    host_port: Option<u16>,
    /// `false`: not published on the host, reachable only from the other services
    /// (default `true`).
    publish: Option<bool>,
    health: Option<Health>,
    /// Plain configuration. Secrets are rejected here; use `secrets`.
    env: Option<BTreeMap<String, Scalar>>,
    /// Secret names; values are provided at run time, never written by slipway.
    secrets: Option<Vec<String>>,
    /// Services or resources this one waits for (healthy) before it starts.
    depends_on: Option<Vec<String>>,
    replicas: Option<OrPerEnv<u32>>,
    resources: Option<OrPerEnv<LimitsDoc>>,
    ingress: Option<IngressDoc>,
    /// Overrides the detected start command.
    command: Option<Command>,
    /// Numeric uid or uid:gid a prebuilt image runs as (never 0).
    user: Option<Scalar>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ResourceType {
    Postgres,
    Redis,
    Nats,
    Mysql,
    Mongodb,
    Amqp,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ResourceDoc {
    r#type: ResourceType,
    /// Major or exact version (`"16"`, `"7.2"`); never `latest`.
    version: Option<Scalar>,
    /// Host of a managed or external instance: no server is generated, only the
    /// connection settings and secret references.
    external: Option<String>,
    /// Storage for its data (`10Gi`).
    storage: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Target {
    Docker,
    Compose,
    Scripts,
    Kubernetes,
    TerraformAws,
    GithubActions,
    GitlabCi,
    Monitoring,
}

/// slipway.yaml: the native description of an application.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "slipway.yaml")]
pub struct SpecDocument {
    /// Application name: a lowercase DNS label.
    name: String,
    /// Environment names (default: dev, staging, prod).
    environments: Option<Vec<String>>,
    services: Option<BTreeMap<String, ServiceDoc>>,
    resources: Option<BTreeMap<String, ResourceDoc>>,
    targets: Option<Vec<Target>>,
    /// Registry mirror map: image as written -> image to use.
    images: Option<BTreeMap<String, String>>,
    /// Require every base image to resolve to a `@sha256:` digest.
    pin_digests: Option<bool>,
    /// Policy profile for `slipway check`.
    policy: Option<String>,
}

/// The schema as pretty JSON with a trailing newline, as checked in.
#[must_use]
pub fn spec_schema() -> String {
    let schema = schemars::schema_for!(SpecDocument);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
