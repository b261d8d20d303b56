//! The in-memory output tree and the artifact records the manifest is built from.

use std::collections::BTreeMap;

/// One generated artifact: what it is, which model items it traces to, its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub id: String,
    pub kind: String,
    /// Model item ids (`service.api`).
    pub traces: Vec<String>,
    pub definition: String,
    pub paths: Vec<String>,
}

/// Generated files by path (relative, `/`-separated), plus the artifacts they form.
#[derive(Debug, Clone, Default)]
pub struct FileSet {
    pub files: BTreeMap<String, String>,
    pub artifacts: Vec<Artifact>,
}

impl FileSet {
    pub fn add(&mut self, path: impl Into<String>, text: String) {
        self.files.insert(path.into(), text);
    }

    pub fn artifact(
        &mut self,
        id: String,
        kind: &str,
        traces: Vec<String>,
        definition: String,
        paths: Vec<String>,
    ) {
        self.artifacts.push(Artifact {
            id,
            kind: kind.to_string(),
            traces,
            definition,
            paths,
        });
    }
}
