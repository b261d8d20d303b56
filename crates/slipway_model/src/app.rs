//! The application, its services and its backing resources.

use crate::BuildPlan;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a model item came from: a file position and, for level-10 input, an item id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct Trace {
    pub file: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl Trace {
    #[must_use]
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A value that may differ per environment: one default and per-environment overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PerEnv<T> {
    pub default: Option<T>,
    pub by_env: BTreeMap<String, T>,
}

impl<T> Default for PerEnv<T> {
    fn default() -> Self {
        Self {
            default: None,
            by_env: BTreeMap::new(),
        }
    }
}

impl<T> PerEnv<T> {
    #[must_use]
    pub fn all(value: T) -> Self {
        Self {
            default: Some(value),
            by_env: BTreeMap::new(),
        }
    }

    /// The value for `env`, falling back to the default.
    #[must_use]
    pub fn get(&self, env: &str) -> Option<&T> {
        self.by_env.get(env).or(self.default.as_ref())
    }
}

/// CPU and memory in Kubernetes units (`500m`, `512Mi`), validated by the importer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct Limits {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// An HTTP GET on the service's port that must answer below 400.
    Http { path: String },
    /// A command run inside the container; exit 0 means healthy.
    Command { command: Vec<String> },
}

/// A health check's timing as the input states it; emitters use their own defaults for
/// what is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct HealthTiming {
    pub interval_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub retries: Option<u32>,
    pub start_period_ms: Option<u64>,
}

impl HealthTiming {
    #[must_use]
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }
}

/// A container port published on the host, as the input states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PublishedPort {
    pub container: u16,
    /// The host port; the container port when unset.
    pub host: Option<u16>,
    /// The host address; `127.0.0.1` when unset.
    pub host_ip: Option<String>,
    pub udp: bool,
}

/// A network services join (compose `networks:`): services reach each other only
/// through a network they share.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct Network {
    /// Created outside the project (compose `external: true`); its name.
    pub external: Option<String>,
    /// No route outside the network (compose `internal: true`).
    pub internal: bool,
    pub trace: Trace,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Ingress {
    pub host: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceSource {
    /// Built from source at `path` (relative to the spec's folder) with a generated
    /// Dockerfile.
    Build {
        path: String,
        plan: Option<Box<BuildPlan>>,
    },
    /// Built with the project's own Dockerfile (imported from compose `build:`).
    Dockerfile {
        context: String,
        dockerfile: Option<String>,
        target: Option<String>,
        args: BTreeMap<String, String>,
    },
    /// A prebuilt image.
    Image { image: String },
}

impl Default for ServiceSource {
    fn default() -> Self {
        ServiceSource::Image {
            image: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeKind {
    /// Durable data: a named volume in compose, a PersistentVolumeClaim in Kubernetes.
    Named,
    /// A host folder (compose only; reported when converting to Kubernetes).
    Bind,
    /// Scratch space in memory.
    Tmpfs,
}

/// A configuration file with inline content, mounted read-only at `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FileMount {
    pub target: String,
    pub content: String,
}

/// A filesystem mounted into a service's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct VolumeMount {
    pub kind: VolumeKind,
    /// Volume name (named) or host path (bind); empty for tmpfs.
    pub source: String,
    pub target: String,
    pub read_only: bool,
    /// Requested size (`10Gi`), when known.
    pub size: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct Service {
    pub name: String,
    pub source: ServiceSource,
    pub port: Option<u16>,
    /// The port published on the host (127.0.0.1); defaults to `port`.
    pub host_port: Option<u16>,
    /// Not published on the host: reachable only from the project's other services
    /// (`publish: false`). Such a service can be updated start-first.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
    pub health: Option<Health>,
    pub env: BTreeMap<String, String>,
    /// Secret names only; values never enter the model. Delivered as files
    /// (`/run/secrets/<name>`, announced by `<NAME>_FILE`).
    pub secrets: Vec<String>,
    /// The file name under `/run/secrets` of a secret of `secrets`, where the input
    /// names it otherwise than the secret's own file name (compose mounts
    /// `secrets: [db-password]` at `/run/secrets/db-password`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_files: BTreeMap<String, String>,
    /// Environment variables whose value is a secret, for images that read it from
    /// the variable itself: set from a Secret (Kubernetes) or from `.env` (compose),
    /// never written.
    pub secret_env: Vec<String>,
    pub depends_on: Vec<String>,
    pub replicas: PerEnv<u32>,
    pub resources: PerEnv<Limits>,
    pub ingress: Option<Ingress>,
    /// Overrides the detected start command.
    pub command: Option<Vec<String>>,
    /// Replaces the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Further container ports besides `port`.
    pub extra_ports: Vec<u16>,
    pub volumes: Vec<VolumeMount>,
    /// The user the container runs as (`1000`, `1000:1000`), when the input says.
    pub user: Option<String>,
    /// Small configuration files placed into the container (never secrets).
    pub files: Vec<FileMount>,
    /// Timing of `health` as the input states it.
    #[serde(skip_serializing_if = "HealthTiming::is_unset")]
    pub health_timing: HealthTiming,
    /// Every port published on the host, when the input lists them (compose
    /// `ports:`); otherwise `port` is published on `host_port`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<PublishedPort>,
    /// When to start after a dependency, where the input says (compose
    /// `service_started`, `service_healthy`, `service_completed_successfully`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on_condition: BTreeMap<String, String>,
    /// The app's networks this service joins (names of `App::networks`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<String>,
    pub trace: Trace,
}

impl Service {
    #[must_use]
    pub fn id(&self) -> String {
        format!("service.{}", self.name)
    }

    #[must_use]
    pub fn plan(&self) -> Option<&BuildPlan> {
        match &self.source {
            ServiceSource::Build { plan, .. } => plan.as_deref(),
            _ => None,
        }
    }

    /// Keeps data in named volumes: a StatefulSet rather than a Deployment.
    #[must_use]
    pub fn is_stateful(&self) -> bool {
        self.volumes.iter().any(|v| v.kind == VolumeKind::Named)
    }

    /// Every container port, `port` first.
    #[must_use]
    pub fn ports(&self) -> Vec<u16> {
        let mut out: Vec<u16> = self.container_port().into_iter().collect();
        for p in &self.extra_ports {
            if !out.contains(p) {
                out.push(*p);
            }
        }
        out
    }

    /// The port inside the container: the spec's, else the detected one.
    #[must_use]
    pub fn container_port(&self) -> Option<u16> {
        self.port.or_else(|| self.plan().and_then(|p| p.port))
    }

    /// The health check: the spec's, else an HTTP check on the detected path.
    #[must_use]
    pub fn effective_health(&self) -> Option<Health> {
        self.health.clone().or_else(|| {
            self.plan()
                .and_then(|p| p.health_path.clone())
                .map(|path| Health::Http { path })
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Postgres,
    Redis,
    Nats,
    Mysql,
    Mongodb,
    Amqp,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::Postgres,
        ResourceKind::Redis,
        ResourceKind::Nats,
        ResourceKind::Mysql,
        ResourceKind::Mongodb,
        ResourceKind::Amqp,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Postgres => "postgres",
            ResourceKind::Redis => "redis",
            ResourceKind::Nats => "nats",
            ResourceKind::Mysql => "mysql",
            ResourceKind::Mongodb => "mongodb",
            ResourceKind::Amqp => "amqp",
        }
    }

    #[must_use]
    pub fn default_version(self) -> &'static str {
        match self {
            ResourceKind::Postgres => "16",
            ResourceKind::Redis => "7",
            ResourceKind::Nats => "2.10",
            ResourceKind::Mysql => "8.4",
            ResourceKind::Mongodb => "7.0",
            ResourceKind::Amqp => "3.13",
        }
    }

    #[must_use]
    pub fn port(self) -> u16 {
        match self {
            ResourceKind::Postgres => 5432,
            ResourceKind::Redis => 6379,
            ResourceKind::Nats => 4222,
            ResourceKind::Mysql => 3306,
            ResourceKind::Mongodb => 27017,
            ResourceKind::Amqp => 5672,
        }
    }
}

/// A backing resource (database, cache, message bus).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Resource {
    pub name: String,
    pub kind: ResourceKind,
    pub version: String,
    /// A managed or external instance at this host: only connection settings and
    /// secret references are generated for it, no server.
    pub external: Option<String>,
    /// Storage requested for its data (`10Gi`).
    pub storage: Option<String>,
    pub trace: Trace,
}

impl Resource {
    #[must_use]
    pub fn id(&self) -> String {
        format!("resource.{}", self.name)
    }
}

/// The whole application.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
pub struct App {
    pub name: String,
    pub environments: Vec<String>,
    pub services: BTreeMap<String, Service>,
    pub resources: BTreeMap<String, Resource>,
    pub targets: Vec<String>,
    /// Registry mirror map: image reference as written -> reference to use.
    pub images: BTreeMap<String, String>,
    /// Every base image must resolve to a `@sha256:` digest.
    pub pin_digests: bool,
    pub policy: Option<String>,
    /// Networks services join; empty: one network that every service shares.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    /// Variables filled in when the output is deployed, not when it is generated
    /// (secrets moved out of commands and build args, variables the input left
    /// unset). Their `${NAME}` in a command, entrypoint, image, build arg or
    /// environment value is a reference, not text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deploy_vars: Vec<String>,
    pub trace: Trace,
}

impl App {
    /// An image reference after the mirror map.
    #[must_use]
    pub fn image(&self, reference: &str) -> String {
        self.images
            .get(reference)
            .cloned()
            .unwrap_or_else(|| reference.to_string())
    }
}
