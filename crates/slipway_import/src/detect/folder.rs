//! Read-only access to a source folder for detectors, with a size cap per file.

use std::path::{Path, PathBuf};

const MAX_FILE: u64 = 1024 * 1024;

pub struct Folder {
    pub root: PathBuf,
}

impl Folder {
    #[must_use]
    pub fn open(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    #[must_use]
    pub fn has(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }

    /// Whether `rel` is a regular file (after following links).
    #[must_use]
    pub fn is_file(&self, rel: &str) -> bool {
        self.root.join(rel).is_file()
    }

    /// A file's text, if it exists, is UTF-8 and under the size cap.
    #[must_use]
    pub fn read(&self, rel: &str) -> Option<String> {
        let path = self.root.join(rel);
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        std::fs::read_to_string(path).ok()
    }

    /// The first of `candidates` that exists.
    #[must_use]
    pub fn first<'a>(&self, candidates: &[&'a str]) -> Option<&'a str> {
        candidates
            .iter()
            .copied()
            .find(|c| self.root.join(c).is_file())
    }

    /// Names of the entries of a sub-folder, sorted; files or folders as asked.
    #[must_use]
    pub fn list(&self, rel: &str, dirs: bool) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root.join(rel)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() == dirs))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Files with one of `exts` under `rel`, up to `depth` levels, at most `limit`.
    #[must_use]
    pub fn find(&self, rel: &str, exts: &[&str], depth: usize, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.find_into(rel, exts, depth, limit, &mut out);
        out.sort();
        out
    }

    fn find_into(
        &self,
        rel: &str,
        exts: &[&str],
        depth: usize,
        limit: usize,
        out: &mut Vec<String>,
    ) {
        let join = |n: &str| {
            if rel.is_empty() || rel == "." {
                n.to_string()
            } else {
                format!("{rel}/{n}")
            }
        };
        for f in self.list(rel, false) {
            if out.len() >= limit {
                return;
            }
            if exts.iter().any(|e| f.ends_with(e)) {
                out.push(join(&f));
            }
        }
        if depth == 0 {
            return;
        }
        for d in self.list(rel, true) {
            if d.starts_with('.')
                || matches!(
                    d.as_str(),
                    "node_modules"
                        | "target"
                        | "vendor"
                        | "venv"
                        | ".venv"
                        | "dist"
                        | "__pycache__"
                )
            {
                continue;
            }
            self.find_into(&join(&d), exts, depth - 1, limit, out);
        }
    }
}
