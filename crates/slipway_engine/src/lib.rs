//! The use cases, shared by the CLI and (later) the agent: `init`, `detect` and
//! `generate`. Reading inputs, calling importers and emitters, and writing the output
//! tree safely (atomic files, hand edits kept) happen here. No clap, no HTTP.

mod generate;
mod init;
mod input;
mod input_more;
mod paths;
mod write;

pub use generate::{generate, GenerateOptions, GenerateReport, DEFAULT_OUT};
pub use init::{init, InitReport};
pub use input::InputKind;
pub use slipway_import::detect::{discover, Detected};
pub use write::{FileChange, FileStatus};

use std::path::PathBuf;

/// Problems that are not the user's input being wrong, but the machine refusing.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Templates(#[from] slipway_emit::TemplateError),
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists { path: PathBuf },
    #[error("no service found under {path}: no package.json, pyproject.toml, requirements.txt, go.mod, Cargo.toml or pom.xml")]
    NothingDetected { path: PathBuf },
}

/// Input files larger than this are refused before parsing.
pub const MAX_SPEC_BYTES: u64 = 4 * 1024 * 1024;
