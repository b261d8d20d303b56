//! Reading the input: which importer a file needs (by name, or `--from`), reading
//! the file(s) with a size limit, and running the importer. Traces are rewritten to
//! name files relative to the input's folder, so output does not depend on the cwd.

use crate::{EngineError, MAX_SPEC_BYTES};
use slipway_diagnostics::{Diagnostics, SourceFile, SourceMap};
use slipway_import::compose::{import_compose, ComposeOptions};
use slipway_import::spec::parse_spec;
use slipway_model::App;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The input formats `generate` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Spec,
    Compose,
    Score,
    Level10,
}

impl InputKind {
    /// `--from` values.
    pub const NAMES: &[&str] = &["spec", "compose", "score", "level10"];

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "spec" => Some(Self::Spec),
            "compose" => Some(Self::Compose),
            "score" => Some(Self::Score),
            "level10" => Some(Self::Level10),
            _ => None,
        }
    }

    /// The importer a file name implies.
    #[must_use]
    pub fn for_path(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let yaml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if yaml && (name.starts_with("compose") || name.starts_with("docker-compose")) {
            Self::Compose
        } else if yaml && (name.starts_with("score") || name.contains(".score.")) {
            Self::Score
        } else if yaml && name.starts_with("level-10") {
            Self::Level10
        } else {
            Self::Spec
        }
    }
}

/// `compose.override.yaml` (or `.yml`, or `docker-compose.override.*`) beside `main`.
pub(crate) fn compose_override(main: &Path) -> Option<PathBuf> {
    let name = main.file_name()?.to_string_lossy().into_owned();
    let (stem, _) = name.rsplit_once('.')?;
    ["yaml", "yml"]
        .iter()
        .map(|ext| main.with_file_name(format!("{stem}.override.{ext}")))
        .find(|p| p.is_file())
}

pub(crate) fn read_text(path: &Path) -> Result<String, EngineError> {
    let meta = std::fs::metadata(path).map_err(|source| EngineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() > MAX_SPEC_BYTES {
        return Err(EngineError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("larger than the {MAX_SPEC_BYTES}-byte limit"),
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| EngineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| EngineError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        ),
    })
}

/// What reading the input produced.
pub(crate) struct Loaded {
    pub app: Option<App>,
    pub diagnostics: Diagnostics,
    /// The folder paths in the input are relative to.
    pub base_dir: PathBuf,
}

/// Reads `paths` (the first is the main input) with the importer for `kind`.
pub(crate) fn load(
    kind: InputKind,
    paths: &[PathBuf],
    profiles: &[String],
    env_from_shell: bool,
    sources: &mut SourceMap,
) -> Result<Loaded, EngineError> {
    let mut files = Vec::new();
    for p in paths {
        let file = Arc::new(SourceFile::new(
            p.to_string_lossy().into_owned(),
            read_text(p)?,
        ));
        sources.add(file.clone());
        files.push(file);
    }
    let main = &paths[0];
    let base_dir = crate::paths::absolute(
        main.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    );
    let (mut app, diagnostics) = match kind {
        InputKind::Spec => {
            let out = parse_spec(&files[0]);
            (out.app, out.diagnostics)
        }
        InputKind::Compose => {
            // The importer reads `.env` next to the main file; the shell's environment
            // only when the user asks (it would otherwise end up baked into the output).
            let vars = if env_from_shell {
                std::env::vars().collect()
            } else {
                std::collections::BTreeMap::new()
            };
            let default_name = base_dir
                .file_name()
                .map_or_else(|| "app".into(), |n| n.to_string_lossy().into_owned());
            let out = import_compose(
                &files,
                &ComposeOptions {
                    vars,
                    profiles: profiles.to_vec(),
                    default_name,
                    ..ComposeOptions::default()
                },
            );
            for f in out.sources {
                sources.add(f);
            }
            (out.app, out.diagnostics)
        }
        InputKind::Score | InputKind::Level10 => crate::input_more::load(kind, &files, &base_dir),
    };
    if let Some(app) = app.as_mut() {
        rename_traces(app, paths);
    }
    Ok(Loaded {
        app,
        diagnostics,
        base_dir,
    })
}

/// Traces name each input file by its path relative to the main input's folder.
fn rename_traces(app: &mut App, paths: &[PathBuf]) {
    let base = paths[0].parent().map(Path::to_path_buf).unwrap_or_default();
    let short = |shown: &str| -> String {
        let p = Path::new(shown);
        p.strip_prefix(&base).map_or_else(
            |_| {
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            },
            |r| r.to_string_lossy().into_owned(),
        )
    };
    app.trace.file = short(&app.trace.file);
    for s in app.services.values_mut() {
        s.trace.file = short(&s.trace.file);
    }
    for r in app.resources.values_mut() {
        r.trace.file = short(&r.trace.file);
    }
    for n in app.networks.values_mut() {
        n.trace.file = short(&n.trace.file);
    }
}
