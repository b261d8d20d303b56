//! Writing a `FileSet` to disk: compare with what is there, keep files edited by hand
//! (their hash differs from the one the last manifest recorded) unless forced, show a
//! unified diff for `--dry-run`, and replace each file atomically (temp + rename).

use crate::EngineError;
use serde::Serialize;
use slipway_emit::{manifest_hashes, FileSet, MANIFEST_PATH};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// New file.
    Written,
    /// Same bytes as on disk; not touched.
    Unchanged,
    /// Generated content changed; the file on disk was ours, so it is replaced.
    Changed,
    /// Edited by hand since the last generation and kept (needs `--force`).
    KeptEdited,
    /// Edited by hand and overwritten because of `--force`.
    Overwritten,
    /// No longer generated and unchanged since; deleted.
    Removed,
}

impl FileStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Written => "written",
            FileStatus::Unchanged => "unchanged",
            FileStatus::Changed => "changed",
            FileStatus::KeptEdited => "kept",
            FileStatus::Overwritten => "overwritten",
            FileStatus::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    pub status: FileStatus,
    #[serde(skip)]
    pub old: Option<String>,
    #[serde(skip)]
    pub new: Option<String>,
}

fn sha(text: &str) -> String {
    slipway_emit::sha256_hex(text.as_bytes())
}

/// What writing `files` under `out` would do.
#[must_use]
pub fn plan(out: &Path, files: &FileSet, force: bool) -> Vec<FileChange> {
    let recorded: BTreeMap<String, String> = std::fs::read_to_string(out.join(MANIFEST_PATH))
        .map(|t| manifest_hashes(&t))
        .unwrap_or_default();
    let mut changes = Vec::new();
    for (path, new) in &files.files {
        let old = std::fs::read(out.join(path))
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let status = match &old {
            None => FileStatus::Written,
            Some(o) if o == new => FileStatus::Unchanged,
            Some(_) if path == MANIFEST_PATH => FileStatus::Changed,
            Some(o) if recorded.get(path).is_some_and(|h| *h == sha(o)) => FileStatus::Changed,
            Some(_) if force => FileStatus::Overwritten,
            Some(_) => FileStatus::KeptEdited,
        };
        changes.push(FileChange {
            path: path.clone(),
            status,
            old,
            new: Some(new.clone()),
        });
    }
    for (path, hash) in &recorded {
        if files.files.contains_key(path) {
            continue;
        }
        let Some(old) = std::fs::read_to_string(out.join(path)).ok() else {
            continue;
        };
        let status = if sha(&old) == *hash || force {
            FileStatus::Removed
        } else {
            FileStatus::KeptEdited
        };
        changes.push(FileChange {
            path: path.clone(),
            status,
            old: Some(old),
            new: None,
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes
}

/// A unified diff of every change, paths shown relative to the output folder.
#[must_use]
pub fn diff(changes: &[FileChange]) -> String {
    let mut out = String::new();
    for c in changes {
        if matches!(c.status, FileStatus::Unchanged | FileStatus::KeptEdited) {
            continue;
        }
        let old = c.old.as_deref().unwrap_or("");
        let new = if c.status == FileStatus::Removed {
            ""
        } else {
            c.new.as_deref().unwrap_or("")
        };
        let a = if c.old.is_some() {
            format!("a/{}", c.path)
        } else {
            "/dev/null".into()
        };
        let b = if c.status == FileStatus::Removed {
            "/dev/null".into()
        } else {
            format!("b/{}", c.path)
        };
        let text = similar::TextDiff::from_lines(old, new);
        out.push_str(
            &text
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string(),
        );
    }
    out
}

/// Applies the changes: atomic replace per file, scripts made executable, the
/// manifest last so an interrupted run is recognised as such next time.
///
/// # Errors
/// The first file that cannot be written or removed.
pub fn apply(out: &Path, changes: &[FileChange]) -> Result<(), EngineError> {
    let (manifest, rest): (Vec<&FileChange>, Vec<&FileChange>) =
        changes.iter().partition(|c| c.path == MANIFEST_PATH);
    for c in rest.into_iter().chain(manifest) {
        let path = out.join(&c.path);
        let fail = |source| EngineError::Write {
            path: path.clone(),
            source,
        };
        match (c.status, &c.new) {
            (FileStatus::Written | FileStatus::Changed | FileStatus::Overwritten, Some(text)) => {
                let dir = path.parent().unwrap_or(out);
                std::fs::create_dir_all(dir).map_err(fail)?;
                let tmp = dir.join(format!(
                    ".{}.slipway-tmp",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ));
                std::fs::write(&tmp, text).map_err(fail)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = if Path::new(&c.path)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
                    {
                        0o755
                    } else {
                        0o644
                    };
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
                        .map_err(fail)?;
                }
                std::fs::rename(&tmp, &path).map_err(fail)?;
            }
            (FileStatus::Removed, _) => std::fs::remove_file(&path).map_err(fail)?,
            _ => {}
        }
    }
    Ok(())
}
