//! The files under check, found once and parsed once: Dockerfiles, compose files,
//! Kubernetes YAML (multi-document), shell scripts.

use crate::parse::dockerfile::{self, Dockerfile};
use slipway_diagnostics::{Diagnostic, SourceFile, SourceMap};
use slipway_import::yaml::{self, Budget, Node};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub enum Kind {
    Dockerfile(Dockerfile),
    /// `override`: a file layered over a base compose file in the same folder.
    Compose {
        root: Node,
        is_override: bool,
    },
    Kubernetes {
        docs: Vec<Node>,
    },
    /// A GitHub Actions workflow (`.github/workflows/*.yml`).
    Workflow {
        root: Node,
    },
    /// A Terraform file.
    Terraform(crate::parse::hcl::Block),
    /// A Prometheus config, a Prometheus rules file, or an Alertmanager config.
    Monitoring {
        root: Node,
        what: Monitoring,
    },
    Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitoring {
    Prometheus,
    Rules,
    Alertmanager,
}

pub struct File {
    pub source: Arc<SourceFile>,
    pub kind: Kind,
}

#[derive(Default)]
pub struct Tree {
    pub files: Vec<File>,
    /// Files that kustomizations apply as patches (partial objects by design).
    pub patches: std::collections::BTreeSet<String>,
    /// Image names a kustomization pins with `newTag` or `digest`.
    pub kustomize_images: std::collections::BTreeSet<String>,
    /// Where each file (by shown name) is on disk, for tools that read it again.
    pub disk: std::collections::BTreeMap<String, PathBuf>,
    /// Every kustomization file read (its folder's overlays are built by `--deep`).
    pub kustomizations: Vec<Arc<SourceFile>>,
    /// The profile's cost and label settings, for the policy rules.
    pub policy: crate::profile::Policy,
    pub sources: SourceMap,
    /// Files that could not be read or parsed (reported, exit code 2).
    pub problems: Vec<Diagnostic>,
}

const SKIP: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    "vendor",
];
const MAX_FILE: u64 = 4 * 1024 * 1024;

fn has_yaml_ext(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn is_compose_name(name: &str) -> bool {
    (name.starts_with("docker-compose") || name.starts_with("compose")) && has_yaml_ext(name)
}

fn is_dockerfile_name(name: &str) -> bool {
    (name == "Dockerfile"
        || name.starts_with("Dockerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile"))
        && !name.ends_with(".dockerignore")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() {
            if !SKIP.contains(&name.as_str()) {
                walk(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

impl Tree {
    /// Finds and parses every checkable file under `paths`. Names are shown relative
    /// to the path given (`file` in findings).
    #[must_use]
    pub fn load(paths: &[PathBuf]) -> Tree {
        Self::load_filtered(paths, &|_| false)
    }

    /// As `load`, leaving out files whose shown path `exclude` matches.
    #[must_use]
    pub fn load_filtered(paths: &[PathBuf], exclude: &dyn Fn(&str) -> bool) -> Tree {
        let mut tree = Tree::default();
        for root in paths {
            let mut found = Vec::new();
            if root.is_dir() {
                walk(root, &mut found);
            } else if root.is_file() {
                found.push(root.clone());
            } else {
                tree.problems.push(
                    Diagnostic::error("IO001", format!("{} does not exist", root.display()))
                        .help("pass a file or a folder"),
                );
                continue;
            }
            let base = if root.is_dir() {
                root.clone()
            } else {
                root.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            for path in found {
                let shown = path
                    .strip_prefix(&base)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                if !exclude(&shown) {
                    tree.add(&path, &shown);
                }
            }
        }
        tree
    }

    /// The file on disk behind a shown name.
    #[must_use]
    pub fn disk_path(&self, shown: &str) -> Option<PathBuf> {
        self.disk.get(shown).cloned()
    }

    fn add(&mut self, path: &Path, shown: &str) {
        self.disk.insert(shown.to_string(), path.to_path_buf());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let yaml_ext = has_yaml_ext(&name);
        let want = is_dockerfile_name(&name)
            || yaml_ext
            || Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("sh") || e.eq_ignore_ascii_case("tf"));
        if name == "kustomization.yaml" || name == "kustomization.yml" {
            self.read_kustomization(path, shown);
            return;
        }
        if !want || name == "level-11.manifest.yaml" {
            return;
        }
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE => {
                self.problems.push(
                    Diagnostic::error(
                        "IO001",
                        format!("{shown} is larger than {MAX_FILE} bytes; not checked"),
                    )
                    .in_file(shown),
                );
                return;
            }
            _ => {
                if let Ok(Ok(t)) = std::fs::read(path).map(String::from_utf8) {
                    t
                } else {
                    self.problems.push(
                        Diagnostic::error("IO001", format!("{shown} cannot be read as UTF-8 text"))
                            .in_file(shown),
                    );
                    return;
                }
            }
        };
        let base_exists = [
            "docker-compose.yaml",
            "docker-compose.yml",
            "compose.yaml",
            "compose.yml",
        ]
        .iter()
        .any(|b| *b != name && path.with_file_name(b).is_file());
        self.add_text(shown, &name, text, base_exists);
    }

    /// Classifies and parses one file's text (`name` is its file name).
    fn add_text(&mut self, shown: &str, name: &str, text: String, is_override: bool) {
        let source = Arc::new(SourceFile::new(shown, text));
        let kind = if is_dockerfile_name(name) {
            Kind::Dockerfile(dockerfile::parse(&source))
        } else if Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
        {
            Kind::Shell
        } else if Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tf"))
        {
            Kind::Terraform(crate::parse::hcl::parse(&source.text))
        } else {
            let docs = match yaml::parse(&source, Budget::default()) {
                Ok(d) => d,
                Err(d) => {
                    self.sources.add(source);
                    self.problems.push(d);
                    return;
                }
            };
            let workflow = shown.contains(".github/workflows/")
                || docs
                    .first()
                    .is_some_and(|d| d.get("jobs").is_some() && d.get("on").is_some());
            if is_compose_name(name) {
                // An empty compose file is still one (Compose refuses it; CMP001 says so).
                let root = docs.into_iter().next().unwrap_or_else(|| Node {
                    value: yaml::Value::Scalar {
                        text: String::new(),
                        plain: true,
                    },
                    span: slipway_diagnostics::Span::new(0, 0),
                });
                Kind::Compose { root, is_override }
            } else if workflow {
                let Some(root) = docs.into_iter().next() else {
                    return;
                };
                Kind::Workflow { root }
            } else if let Some(what) = docs.first().and_then(|d| {
                if d.get("scrape_configs").is_some()
                    || (d.get("global").is_some() && d.get("rule_files").is_some())
                {
                    Some(Monitoring::Prometheus)
                } else if d
                    .get("groups")
                    .and_then(Node::as_seq)
                    .is_some_and(|g| g.iter().any(|x| x.get("rules").is_some()))
                {
                    Some(Monitoring::Rules)
                } else if d.get("route").is_some() && d.get("receivers").is_some() {
                    Some(Monitoring::Alertmanager)
                } else {
                    None
                }
            }) {
                let Some(root) = docs.into_iter().next() else {
                    return;
                };
                Kind::Monitoring { root, what }
            } else if docs
                .iter()
                .any(|d| d.get("apiVersion").is_some() && d.get("kind").is_some())
            {
                Kind::Kubernetes { docs }
            } else {
                return;
            }
        };
        self.sources.add(source.clone());
        self.files.push(File { source, kind });
    }

    /// A tree of one in-memory file (for tests, fuzzing and editors).
    #[must_use]
    pub fn from_text(name: &str, text: &str) -> Tree {
        let mut tree = Tree::default();
        tree.add_text(name, name, text.to_string(), false);
        tree
    }

    fn read_kustomization(&mut self, path: &Path, shown: &str) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let file = Arc::new(SourceFile::new(shown, text));
        self.sources.add(file.clone());
        self.kustomizations.push(file.clone());
        let Ok(docs) = yaml::parse(&file, Budget::default()) else {
            return;
        };
        let Some(root) = docs.first() else { return };
        let dir = Path::new(shown)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut patch_paths: Vec<String> = Vec::new();
        for p in root.get("patches").and_then(Node::as_seq).unwrap_or(&[]) {
            if let Some(path) = p.get("path").and_then(Node::as_scalar) {
                patch_paths.push(path.to_string());
            }
        }
        for p in root
            .get("patchesStrategicMerge")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
        {
            if let Some(path) = p.as_scalar() {
                patch_paths.push(path.to_string());
            }
        }
        for p in patch_paths {
            self.patches
                .insert(dir.join(p).to_string_lossy().replace('\\', "/"));
        }
        for i in root.get("images").and_then(Node::as_seq).unwrap_or(&[]) {
            let pinned = i.get("newTag").is_some() || i.get("digest").is_some();
            if let (Some(name), true) = (i.get("name").and_then(Node::as_scalar), pinned) {
                self.kustomize_images.insert(name.to_string());
            }
        }
    }

    /// Whether `file` is applied as a kustomize patch.
    #[must_use]
    pub fn is_patch(&self, file: &SourceFile) -> bool {
        self.patches.contains(&file.name)
    }

    pub fn dockerfiles(&self) -> impl Iterator<Item = (&Arc<SourceFile>, &Dockerfile)> {
        self.files.iter().filter_map(|f| match &f.kind {
            Kind::Dockerfile(d) => Some((&f.source, d)),
            _ => None,
        })
    }

    pub fn compose_files(&self) -> impl Iterator<Item = (&Arc<SourceFile>, &Node, bool)> {
        self.files.iter().filter_map(|f| match &f.kind {
            Kind::Compose { root, is_override } => Some((&f.source, root, *is_override)),
            _ => None,
        })
    }

    /// Compose files that stand on their own (not an override of a base beside them).
    pub fn base_compose_files(&self) -> impl Iterator<Item = (&Arc<SourceFile>, &Node)> {
        self.compose_files()
            .filter(|(_, _, is_override)| !is_override)
            .map(|(file, root, _)| (file, root))
    }

    /// Every Kubernetes object with its file.
    pub fn objects(&self) -> impl Iterator<Item = (&Arc<SourceFile>, &Node)> {
        self.files.iter().flat_map(|f| match &f.kind {
            Kind::Kubernetes { docs } => docs
                .iter()
                .filter(|d| d.get("kind").is_some())
                .map(|d| (&f.source, d))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    pub fn workflows(&self) -> impl Iterator<Item = (&Arc<SourceFile>, &Node)> {
        self.files.iter().filter_map(|f| match &f.kind {
            Kind::Workflow { root } => Some((&f.source, root)),
            _ => None,
        })
    }

    pub fn terraform(&self) -> impl Iterator<Item = (&Arc<SourceFile>, &crate::parse::hcl::Block)> {
        self.files.iter().filter_map(|f| match &f.kind {
            Kind::Terraform(b) => Some((&f.source, b)),
            _ => None,
        })
    }

    pub fn monitoring(&self, want: Monitoring) -> impl Iterator<Item = (&Arc<SourceFile>, &Node)> {
        self.files.iter().filter_map(move |f| match &f.kind {
            Kind::Monitoring { root, what } if *what == want => Some((&f.source, root)),
            _ => None,
        })
    }

    pub fn shell_scripts(&self) -> impl Iterator<Item = &Arc<SourceFile>> {
        self.files
            .iter()
            .filter_map(|f| matches!(f.kind, Kind::Shell).then_some(&f.source))
    }
}
