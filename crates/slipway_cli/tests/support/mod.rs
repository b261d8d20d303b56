//! Shared by the full-run tests: the repository root and copying a project folder
//! (without generated output or dependency folders) into a scratch area.

use std::path::{Path, PathBuf};

pub mod agent;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if [
            "infrastructure",
            "node_modules",
            "dist",
            "__pycache__",
            "target",
        ]
        .contains(&name.to_string_lossy().as_ref())
        {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
