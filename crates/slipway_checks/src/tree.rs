//! The files under check, found once and parsed once: Dockerfiles, compose files,
//! Kubernetes YAML (multi-document), workflows, Terraform, monitoring configs,
//! shell scripts. Files are found by `walk` and read and parsed on every core; the
//! result is in walk order whatever the scheduling.

use crate::kustomize::{is_kustomization_name, Kustomization};
use crate::parse::dockerfile::{self, Dockerfile};
use rayon::prelude::*;
use slipway_diagnostics::{Diagnostic, SourceFile, SourceMap};
use slipway_import::yaml::{self, Budget, Node};
use std::collections::{BTreeMap, BTreeSet};
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
    pub patches: BTreeSet<String>,
    /// Image names a kustomization pins with `newTag` or `digest`.
    pub kustomize_images: BTreeSet<String>,
    /// `(kind, name)` of the objects kustomize generators create.
    pub generated: BTreeSet<(String, String)>,
    /// Where each file (by shown name) is on disk, for tools that read it again.
    pub disk: BTreeMap<String, PathBuf>,
    /// Every kustomization file read (its folder's overlays are built by `--deep`).
    pub kustomizations: Vec<Kustomization>,
    /// The profile's cost and label settings, for the policy rules.
    pub policy: crate::profile::Policy,
    pub sources: SourceMap,
    /// Files that could not be read or parsed (reported, exit code 2).
    pub problems: Vec<Diagnostic>,
    /// What the walk did not follow (symlink loops), said to the user as notes.
    pub skipped: Vec<String>,
}

const MAX_FILE: u64 = 4 * 1024 * 1024;
const COMPOSE_BASES: &[&str] = &[
    "docker-compose.yaml",
    "docker-compose.yml",
    "compose.yaml",
    "compose.yml",
];

fn has_ext(name: &str, exts: &[&str]) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn has_yaml_ext(name: &str) -> bool {
    has_ext(name, &["yaml", "yml"])
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

/// Whether a file of this name may be checked (its content decides the rest).
fn wanted(name: &str) -> bool {
    (is_dockerfile_name(name) || has_yaml_ext(name) || has_ext(name, &["sh", "tf"]))
        && name != "level-11.manifest.yaml"
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One file read and classified, before it joins the tree.
enum Loaded {
    Skip,
    File(File),
    Problem(Option<Arc<SourceFile>>, Diagnostic),
}

/// Top-level keys of a Prometheus server config, and those only it has.
const PROMETHEUS_KEYS: &[&str] = &[
    "global",
    "scrape_configs",
    "scrape_config_files",
    "rule_files",
    "alerting",
    "remote_write",
    "remote_read",
    "storage",
    "tracing",
    "otlp",
    "runtime",
];
const PROMETHEUS_ONLY: &[&str] = &[
    "scrape_configs",
    "scrape_config_files",
    "rule_files",
    "remote_write",
    "remote_read",
];
const PROMETHEUS_GLOBAL: &[&str] = &[
    "scrape_interval",
    "scrape_timeout",
    "evaluation_interval",
    "external_labels",
];
/// Top-level keys of an Alertmanager config, and those only it has.
const ALERTMANAGER_KEYS: &[&str] = &[
    "global",
    "route",
    "receivers",
    "inhibit_rules",
    "templates",
    "time_intervals",
    "mute_time_intervals",
];
const ALERTMANAGER_ONLY: &[&str] = &[
    "route",
    "receivers",
    "inhibit_rules",
    "time_intervals",
    "mute_time_intervals",
];
const ALERTMANAGER_GLOBAL: &[&str] = &[
    "resolve_timeout",
    "smtp_smarthost",
    "smtp_from",
    "slack_api_url",
    "pagerduty_url",
    "opsgenie_api_url",
    "http_config",
];

/// Which monitoring file a document is, by its content: every top-level key
/// belongs to the format and at least one is the format's own (`scrape_configs`,
/// `remote_write`, `route`, ...; or a `global:` with that format's settings).
fn monitoring_kind(doc: &Node) -> Option<Monitoring> {
    let keys: Vec<&str> = doc
        .as_map()?
        .iter()
        .filter_map(|(k, _)| k.as_scalar())
        .collect();
    let global_has = |names: &[&str]| {
        doc.get("global").and_then(Node::as_map).is_some_and(|g| {
            g.iter()
                .any(|(k, _)| k.as_scalar().is_some_and(|k| names.contains(&k)))
        })
    };
    let fits = |all: &[&str], only: &[&str], global: &[&str]| {
        !keys.is_empty()
            && keys.iter().all(|k| all.contains(k))
            && (keys.iter().any(|k| only.contains(k)) || global_has(global))
    };
    if keys.contains(&"scrape_configs") || fits(PROMETHEUS_KEYS, PROMETHEUS_ONLY, PROMETHEUS_GLOBAL)
    {
        Some(Monitoring::Prometheus)
    } else if doc
        .get("groups")
        .and_then(Node::as_seq)
        .is_some_and(|g| g.iter().any(|x| x.get("rules").is_some()))
    {
        Some(Monitoring::Rules)
    } else if (keys.contains(&"route") && keys.contains(&"receivers"))
        || fits(ALERTMANAGER_KEYS, ALERTMANAGER_ONLY, ALERTMANAGER_GLOBAL)
    {
        Some(Monitoring::Alertmanager)
    } else {
        None
    }
}

/// Reads one file from disk and classifies it.
fn load(path: &Path, shown: &str) -> Loaded {
    let name = file_name(path);
    let text = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE => {
            return Loaded::Problem(
                None,
                Diagnostic::error(
                    "IO001",
                    format!("{shown} is larger than {MAX_FILE} bytes; not checked"),
                )
                .in_file(shown),
            );
        }
        _ => {
            if let Ok(Ok(t)) = std::fs::read(path).map(String::from_utf8) {
                t
            } else {
                return Loaded::Problem(
                    None,
                    Diagnostic::error("IO001", format!("{shown} cannot be read as UTF-8 text"))
                        .in_file(shown),
                );
            }
        }
    };
    let is_override = is_compose_name(&name)
        && COMPOSE_BASES
            .iter()
            .any(|b| *b != name && path.with_file_name(b).is_file());
    classify(shown, &name, text, is_override)
}

/// Classifies and parses one file's text (`name` is its file name).
fn classify(shown: &str, name: &str, text: String, is_override: bool) -> Loaded {
    let source = Arc::new(SourceFile::new(shown, text));
    let kind = if is_dockerfile_name(name) {
        Kind::Dockerfile(dockerfile::parse(&source))
    } else if has_ext(name, &["sh"]) {
        Kind::Shell
    } else if has_ext(name, &["tf"]) {
        Kind::Terraform(crate::parse::hcl::parse(&source.text))
    } else {
        let docs = match yaml::parse(&source, Budget::default()) {
            Ok(d) => d,
            Err(d) => return Loaded::Problem(Some(source), d),
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
                return Loaded::Skip;
            };
            Kind::Workflow { root }
        } else if let Some(what) = docs.first().and_then(monitoring_kind) {
            let Some(root) = docs.into_iter().next() else {
                return Loaded::Skip;
            };
            Kind::Monitoring { root, what }
        } else if docs
            .iter()
            .any(|d| d.get("apiVersion").is_some() && d.get("kind").is_some())
        {
            Kind::Kubernetes { docs }
        } else {
            return Loaded::Skip;
        }
    };
    Loaded::File(File { source, kind })
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
        let walked = crate::walk::walk(paths);
        for root in &walked.missing {
            tree.problems.push(
                Diagnostic::error("IO001", format!("{} does not exist", root.display()))
                    .help("pass a file or a folder"),
            );
        }
        tree.skipped = walked.skipped;
        let mut todo = Vec::new();
        for (path, shown) in walked.files {
            if exclude(&shown) {
                continue;
            }
            let name = file_name(&path);
            if is_kustomization_name(&name) {
                tree.read_kustomization(&path, &shown);
            } else if wanted(&name) {
                tree.disk.insert(shown.clone(), path.clone());
                todo.push((path, shown));
            }
        }
        // Reading and parsing is most of the work: on every core, kept in walk order.
        let loaded: Vec<Loaded> = todo.par_iter().map(|(p, s)| load(p, s)).collect();
        for l in loaded {
            tree.push(l);
        }
        tree
    }

    fn push(&mut self, loaded: Loaded) {
        match loaded {
            Loaded::Skip => {}
            Loaded::File(f) => {
                self.sources.add(f.source.clone());
                self.files.push(f);
            }
            Loaded::Problem(source, d) => {
                if let Some(s) = source {
                    self.sources.add(s);
                }
                self.problems.push(d);
            }
        }
    }

    /// The file on disk behind a shown name.
    #[must_use]
    pub fn disk_path(&self, shown: &str) -> Option<PathBuf> {
        self.disk.get(shown).cloned()
    }

    /// A tree of one in-memory file (for tests, fuzzing and editors).
    #[must_use]
    pub fn from_text(name: &str, text: &str) -> Tree {
        let mut tree = Tree::default();
        tree.push(classify(name, name, text.to_string(), false));
        tree
    }

    fn read_kustomization(&mut self, path: &Path, shown: &str) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        self.disk.insert(shown.to_string(), path.to_path_buf());
        let file = Arc::new(SourceFile::new(shown, text));
        self.sources.add(file.clone());
        let k = Kustomization::read(file);
        let slash = |p: &PathBuf| p.to_string_lossy().replace('\\', "/");
        self.patches.extend(k.patches.iter().map(slash));
        self.kustomize_images
            .extend(k.pinned_images.iter().cloned());
        self.generated.extend(
            k.generated
                .iter()
                .map(|(kind, n)| ((*kind).to_string(), n.clone())),
        );
        self.kustomizations.push(k);
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
        self.files.iter().flat_map(|f| {
            let docs: &[Node] = match &f.kind {
                Kind::Kubernetes { docs } => docs,
                _ => &[],
            };
            docs.iter()
                .filter(|d| d.get("kind").is_some())
                .map(move |d| (&f.source, d))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn what(text: &str) -> Option<Monitoring> {
        let tree = Tree::from_text("config.yaml", text);
        tree.files.first().and_then(|f| match f.kind {
            Kind::Monitoring { what, .. } => Some(what),
            _ => None,
        })
    }

    #[test]
    fn monitoring_files_are_recognised_by_content() {
        // A Prometheus config that forwards to remote storage and scrapes nothing
        // itself (no `scrape_configs`), under a name that says nothing.
        assert_eq!(
            what("global:\n  scrape_interval: 30s\n  external_labels: { cluster: eu-1 }\nremote_write:\n  - url: http://mimir:9009/api/v1/push\n"),
            Some(Monitoring::Prometheus)
        );
        assert_eq!(
            what("global:\n  evaluation_interval: 1m\nrule_files: [rules/*.yml]\n"),
            Some(Monitoring::Prometheus)
        );
        assert_eq!(
            what("global:\n  resolve_timeout: 5m\nroute:\n  receiver: team\ninhibit_rules: []\n"),
            Some(Monitoring::Alertmanager)
        );
        assert_eq!(
            what(
                "groups:\n  - name: api\n    rules:\n      - alert: Down\n        expr: up == 0\n"
            ),
            Some(Monitoring::Rules)
        );
        // Other YAML with one shared word is not a monitoring config.
        assert_eq!(what("global:\n  debug: true\nstorage: s3\n"), None);
        assert_eq!(what("route: /api\nhandler: x\n"), None);
    }
}
