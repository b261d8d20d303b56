//! `POST /generate` touches nothing until the request is accepted. The output folder
//! must lie inside the agent's data folder or a `--spec-root` (after `..` and symlinks
//! are resolved). The files are first generated into a staging folder beside the
//! real one: a copy of it, with every path inside the files computed for the real
//! folder, at the same depth so relative paths resolve alike. The policy is checked
//! there, and only an accepted request writes the real folder and registers the
//! deployment. A refused request leaves every existing file, manifest and
//! deployment as it was.

use crate::problem::Problem;
use crate::AppState;
use slipway_engine::{DeployOptions, FileStatus, GenerateOptions, OpsError};
use std::path::{Component, Path, PathBuf};

/// The folders output may be written to: the data folder and the spec roots.
fn roots(st: &AppState) -> Vec<PathBuf> {
    std::iter::once(&st.cfg.data_dir)
        .chain(&st.cfg.spec_roots)
        .filter_map(|r| r.canonicalize().ok())
        .collect()
}

/// `path` with its longest existing prefix resolved (symlinks included) and no `..`
/// left; `None` when it climbs out of the filesystem root or is relative.
fn resolve(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?.to_path_buf();
    }
    let mut out = existing.canonicalize().ok()?;
    for part in rest.iter().rev() {
        match Path::new(part).components().next()? {
            Component::Normal(p) => out.push(p),
            _ => return None,
        }
    }
    Some(out)
}

/// The checked output folder for `parameters.out`.
pub fn confine_out(st: &AppState, out: &str) -> Result<PathBuf, Problem> {
    let p = Path::new(out);
    let refuse = || {
        Problem::validation(format!(
            "parameters.out `{}` is not an absolute folder inside the agent's data folder or a --spec-root",
            out.chars().flat_map(char::escape_debug).take(200).collect::<String>()
        ))
    };
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(refuse());
    }
    let real = resolve(p).ok_or_else(refuse)?;
    if roots(st).iter().any(|r| real.starts_with(r) && real != *r) {
        Ok(real)
    } else {
        Err(refuse())
    }
}

/// Removes the staging folder when dropped.
struct Staging(PathBuf);
impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let ty = e.file_type()?;
        let dest = to.join(e.file_name());
        if ty.is_dir() {
            copy_tree(&e.path(), &dest)?;
        } else if ty.is_file() {
            std::fs::copy(e.path(), &dest)?;
        }
    }
    Ok(())
}

/// What a staged generation found: its report and the policy verdict.
pub struct Staged {
    pub spec_hash: String,
    pub project: String,
    pub policy: serde_json::Value,
}

/// Generates `opts` into a staging folder beside `final_out`, as the real folder
/// would become, and checks it with `profile`. Nothing outside the staging folder is
/// written; the staging folder is gone when this returns.
pub fn stage(opts: &DeployOptions, final_out: &Path, profile: &str) -> Result<Staged, OpsError> {
    let parent = final_out.parent().unwrap_or(final_out);
    let name = final_out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let dir = parent.join(format!(".{name}.staging-{}", slipway_engine::new_id("g")));
    let staging = Staging(dir.clone());
    if final_out.is_dir() {
        copy_tree(final_out, &staging.0).map_err(|e| {
            OpsError::Engine(slipway_engine::EngineError::Write {
                path: staging.0.clone(),
                source: e,
            })
        })?;
    }
    let report = slipway_engine::generate(&GenerateOptions {
        spec: opts.spec.clone(),
        out: Some(final_out.to_path_buf()),
        stage_in: Some(dir),
        environment: Some(opts.environment.clone()),
        image_map: opts.image_map.clone(),
        dry_run: false,
        force: opts.overwrite,
        ..GenerateOptions::default()
    })?;
    if report.has_errors() {
        return Err(OpsError::Input(Box::new(report)));
    }
    let edited: Vec<String> = report
        .changes
        .iter()
        .filter(|c| c.status == FileStatus::KeptEdited)
        .map(|c| c.path.clone())
        .collect();
    if !edited.is_empty() && !opts.adopt {
        return Err(OpsError::HandEdited(edited));
    }
    // Findings name the real folder, not the staging one.
    let policy = slipway_engine::policy_check(&staging.0, profile).unwrap_or_default();
    let policy = serde_json::from_str(&policy.to_string().replace(
        &staging.0.display().to_string(),
        &final_out.display().to_string(),
    ))
    .unwrap_or(policy);
    Ok(Staged {
        spec_hash: report.spec_hash,
        project: report.project,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolving_follows_symlinks_and_refuses_climbing() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        std::os::unix::fs::symlink("/etc", real.join("a/link")).unwrap();
        assert_eq!(
            resolve(&real.join("a/new/x")).unwrap(),
            real.join("a/new/x")
        );
        assert_eq!(
            resolve(&real.join("a/link/y")).unwrap(),
            PathBuf::from("/etc/y")
        );
        assert!(resolve(Path::new("relative/x")).is_none());
    }
}
