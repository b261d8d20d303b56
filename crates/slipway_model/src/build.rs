//! What language detection found out about a service's source folder: enough for an
//! emitter to write a Dockerfile without reading the folder again.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Node,
    Go,
    Rust,
    Java,
}

impl Language {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Node => "node",
            Language::Go => "go",
            Language::Rust => "rust",
            Language::Java => "java",
        }
    }
}

/// A serialisable build plan, as nixpacks calls it: detectors fill it in, the Docker
/// emitter turns it into a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct BuildPlan {
    pub language: Language,
    /// `fastapi`, `django`, `flask`, `express`, `next`, `spring-boot`, ...
    pub framework: Option<String>,
    /// `pip`, `poetry`, `uv`, `pipenv`, `npm`, `pnpm`, `yarn`, `bun`, `go`, `cargo`,
    /// `maven`, `gradle`.
    pub package_manager: String,
    /// Toolchain version used for the base image tag (`3.12`, `20`, `1.22`).
    pub version: String,
    /// Dependency manifests copied before the source so their layer caches.
    pub manifests: Vec<String>,
    /// Extra manifests for dev/test dependencies (`requirements-dev.txt`).
    pub dev_manifests: Vec<String>,
    /// The production start command (argv); empty when none was found (`notes` says
    /// why, and the service needs `command:`).
    pub start: Vec<String>,
    /// A development start command with reload, when the framework has one.
    pub dev_start: Option<Vec<String>>,
    /// Whether a build step exists (`npm run build`).
    pub build: bool,
    /// The test command (argv), when tests are set up.
    pub test: Option<Vec<String>>,
    pub port: Option<u16>,
    pub health_path: Option<String>,
    /// Binary, package or artifact to build: cargo bin, Go package, jar file name.
    pub entry: Option<String>,
    /// Workspace member folders (Rust) whose manifests the dependency layer needs.
    pub members: Vec<String>,
    /// Names of the fields above that were guessed rather than read from a file.
    pub guessed: Vec<String>,
    /// What detection decided and why, where a user would otherwise wonder: the file a
    /// value came from, or why there is no start command.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
