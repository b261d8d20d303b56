//! Finding the files under check: ripgrep's walker (the `ignore` crate), so
//! `.gitignore`, `.ignore` and `.git/info/exclude` are respected, symlinks are
//! followed without looping, and every file is listed once however many paths
//! lead to it. Folders that never hold the user's own configuration
//! (`node_modules`, `target`, `.git`, virtualenvs) are not entered. The order is
//! sorted by name, so output is the same on every run. Reads no file contents.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SKIP: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    "vendor",
];

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// `(path on disk, shown path)`: the shown path is relative to the root given
    /// (for a file root: its name).
    pub files: Vec<(PathBuf, String)>,
    /// Paths not followed, and why (a symlink loop, an unreadable folder).
    pub skipped: Vec<String>,
    /// Roots that do not exist.
    pub missing: Vec<PathBuf>,
}

/// Walks every root in order; a file reached twice (through a symlink, or two
/// roots that overlap) is listed the first time only.
#[must_use]
pub fn walk(roots: &[PathBuf]) -> Walked {
    let mut out = Walked::default();
    let mut seen: BTreeSet<Identity> = BTreeSet::new();
    for root in roots {
        if root.is_file() {
            let shown = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if seen.insert(identity(root)) {
                out.files.push((root.clone(), shown));
            }
            continue;
        }
        if !root.is_dir() {
            out.missing.push(root.clone());
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            // `.github/workflows` is hidden and checked.
            .hidden(false)
            // The user's global excludes would make results differ between machines.
            .git_global(false)
            // A `.gitignore` counts whether or not the folder is a git checkout.
            .require_git(false)
            .sort_by_file_name(std::cmp::Ord::cmp)
            .filter_entry(|e| {
                e.depth() == 0
                    || !(e.file_type().is_some_and(|t| t.is_dir())
                        && SKIP.contains(&e.file_name().to_string_lossy().as_ref()))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    let path = e.into_path();
                    if !seen.insert(identity(&path)) {
                        continue;
                    }
                    let shown = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.files.push((path, shown));
                }
                Ok(_) => {}
                Err(e) => out.skipped.push(describe(&e, root)),
            }
        }
    }
    out
}

/// What makes a file the same file however it is reached: its device and inode
/// (one `stat`), elsewhere its resolved path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Identity {
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(p: &Path) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(p) {
            return Identity::Inode(m.dev(), m.ino());
        }
    }
    Identity::Path(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// A walk error in a sentence, with paths shown relative to the root.
fn describe(e: &ignore::Error, root: &Path) -> String {
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    match e {
        ignore::Error::WithPath { path, err } => format!("{}: {}", rel(path), describe(err, root)),
        ignore::Error::WithDepth { err, .. } => describe(err, root),
        ignore::Error::Loop { child, ancestor } => format!(
            "{} is a symlink back to {} (a loop); not followed",
            rel(child),
            if rel(ancestor).is_empty() {
                ".".to_string()
            } else {
                rel(ancestor)
            }
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn loops_end_and_each_file_is_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["a", "b", "real"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("a/deploy.yaml"), "kind: x\n").unwrap();
        std::fs::write(root.join("real/svc.yaml"), "kind: y\n").unwrap();
        std::os::unix::fs::symlink("..", root.join("a/up")).unwrap();
        std::os::unix::fs::symlink("..", root.join("b/up")).unwrap();
        std::os::unix::fs::symlink("real", root.join("current")).unwrap();
        let w = walk(&[root.to_path_buf()]);
        let shown: Vec<&str> = w.files.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(shown, vec!["a/deploy.yaml", "current/svc.yaml"]);
        assert_eq!(w.skipped.len(), 2, "{:?}", w.skipped);
        assert!(
            w.skipped[0].contains("a/up is a symlink back to ."),
            "{:?}",
            w.skipped
        );
        // Overlapping roots do not list a file twice either.
        let again = walk(&[root.to_path_buf(), root.join("a")]);
        assert_eq!(again.files.len(), 2);
    }

    #[test]
    fn gitignored_and_dependency_folders_are_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["node_modules/x", ".github/workflows", "build"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        for f in [
            "node_modules/x/a.yaml",
            ".github/workflows/ci.yml",
            "build/out.yaml",
        ] {
            std::fs::write(root.join(f), "a: 1\n").unwrap();
        }
        let w = walk(&[root.to_path_buf()]);
        let shown: Vec<&str> = w.files.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(shown, vec![".github/workflows/ci.yml", ".gitignore"]);
        assert_eq!(walk(&[root.join("nope")]).missing.len(), 1);
    }
}
