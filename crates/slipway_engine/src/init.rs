//! `slipway init`: detect the services under a folder and write a starter spec.

use crate::EngineError;
use slipway_import::detect::{discover, service_name, Detected};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct InitReport {
    pub path: PathBuf,
    pub services: Vec<Detected>,
    pub text: String,
}

/// The starter spec text for what was detected; guessed values are marked.
#[must_use]
pub fn starter_spec(app: &str, services: &[Detected]) -> String {
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# slipway.yaml: written by `slipway init`; edit it freely."
    );
    let _ = writeln!(
        y,
        "# Values marked `guessed` were not found in your files: check them."
    );
    let _ = writeln!(y, "name: {app}");
    let _ = writeln!(y, "environments: [dev, staging, prod]");
    let _ = writeln!(y, "services:");
    for d in services {
        let p = &d.plan;
        let guessed = |f: &str| {
            if p.guessed.iter().any(|g| g == f) {
                "  # guessed"
            } else {
                ""
            }
        };
        let path = if d.path == "." {
            "./".to_string()
        } else {
            format!("./{}", d.path)
        };
        let framework = p
            .framework
            .as_deref()
            .map(|f| format!(", {f}"))
            .unwrap_or_default();
        let _ = writeln!(
            y,
            "  {}:\n    # {} {}{framework} ({})",
            d.name,
            p.language.as_str(),
            p.version,
            p.package_manager
        );
        let _ = writeln!(y, "    path: {path}");
        if p.start.is_empty() {
            // `generate` refuses a service with nothing to run (SPEC020).
            let _ = writeln!(
                y,
                "    # no start command found (`slipway detect` says why): set one\n    # command: [program, arguments]"
            );
        }
        if let Some(port) = p.port {
            let _ = writeln!(y, "    port: {port}{}", guessed("port"));
        }
        if let Some(h) = &p.health_path {
            let _ = writeln!(y, "    health: {h}{}", guessed("health_path"));
        }
        let _ = writeln!(y, "    replicas: {{ dev: 1, prod: 2 }}");
        let _ = writeln!(y, "    resources: {{ cpu: 500m, memory: 512Mi }}");
    }
    let _ = writeln!(y, "targets: [docker, compose, scripts]");
    y
}

/// Detects services under `dir` and writes `dir/slipway.yaml`.
///
/// # Errors
/// When nothing is detected, the spec exists and `force` is off, or it cannot be written.
pub fn init(dir: &Path, force: bool) -> Result<InitReport, EngineError> {
    let path = dir.join("slipway.yaml");
    if path.exists() && !force {
        return Err(EngineError::Exists { path });
    }
    let services = discover(dir);
    if services.is_empty() {
        return Err(EngineError::NothingDetected {
            path: dir.to_path_buf(),
        });
    }
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| service_name(&n.to_string_lossy())))
        .unwrap_or_else(|| "app".into());
    let text = starter_spec(&name, &services);
    std::fs::write(&path, &text).map_err(|source| EngineError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(InitReport {
        path,
        services,
        text,
    })
}
