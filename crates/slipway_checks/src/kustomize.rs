//! What `check` reads from a `kustomization.yaml`: the resources it builds on, the
//! files it applies as patches, the images it pins, the ConfigMaps and Secrets its
//! generators create, and its name prefix and suffix. Read once by `tree`, used by
//! the Kubernetes rules (patches are partial objects, generated ConfigMaps exist)
//! and by `--deep` (tracing a rendered object back to its source file). Pure: no
//! I/O, no kustomize binary.

use slipway_diagnostics::SourceFile;
use slipway_import::yaml::{self, Budget, Node};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// One kustomization file, with every path made relative to the checked root.
#[derive(Debug, Clone)]
pub struct Kustomization {
    pub file: Arc<SourceFile>,
    /// The folder it builds (`overlays/prod`); empty for the checked root.
    pub dir: PathBuf,
    /// `resources:` entries, joined to `dir` and normalized (files or folders).
    pub resources: Vec<PathBuf>,
    /// Files applied as patches (`patches[].path`, `patchesStrategicMerge`).
    pub patches: Vec<PathBuf>,
    /// Image names pinned with `newTag` or `digest`.
    pub pinned_images: Vec<String>,
    /// `(kind, name)` of every object a `configMapGenerator` or `secretGenerator`
    /// creates, as other objects refer to it (the name before prefix, suffix and
    /// content hash are added; kustomize rewrites the references).
    pub generated: Vec<(&'static str, String)>,
    pub name_prefix: String,
    pub name_suffix: String,
}

/// Whether `name` is a kustomization file kustomize reads.
#[must_use]
pub fn is_kustomization_name(name: &str) -> bool {
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

impl Kustomization {
    /// Reads one kustomization (`file.name` is its shown path). A file that is not
    /// YAML is kept with nothing in it: `--deep` reports that it does not build.
    #[must_use]
    pub fn read(file: Arc<SourceFile>) -> Kustomization {
        let dir = Path::new(&file.name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut k = Kustomization {
            file,
            dir,
            resources: Vec::new(),
            patches: Vec::new(),
            pinned_images: Vec::new(),
            generated: Vec::new(),
            name_prefix: String::new(),
            name_suffix: String::new(),
        };
        let Ok(docs) = yaml::parse(&k.file, Budget::default()) else {
            return k;
        };
        let Some(root) = docs.first() else { return k };
        let seq = |key: &str| root.get(key).and_then(Node::as_seq).unwrap_or(&[]);
        let text = |n: Option<&Node>| n.and_then(Node::as_scalar).unwrap_or("").to_string();
        k.name_prefix = text(root.get("namePrefix"));
        k.name_suffix = text(root.get("nameSuffix"));
        let mut resources: Vec<&str> = Vec::new();
        for key in ["resources", "bases", "components"] {
            resources.extend(seq(key).iter().filter_map(Node::as_scalar));
        }
        // Remote bases (`github.com/...`, `https://...`) are not in the tree.
        k.resources = resources
            .into_iter()
            .filter(|r| !r.contains("://") && !r.starts_with("github.com/"))
            .map(|r| normalize(&k.dir.join(r)))
            .collect();
        let patch_paths = seq("patches")
            .iter()
            .chain(seq("patchesStrategicMerge"))
            .chain(seq("patchesJson6902"))
            .filter_map(|p| p.get("path").and_then(Node::as_scalar).or(p.as_scalar()))
            // An inline patch is YAML text, not a path.
            .filter(|p| !p.contains('\n'));
        k.patches = patch_paths.map(|p| normalize(&k.dir.join(p))).collect();
        for i in seq("images") {
            let pinned = i.get("newTag").is_some() || i.get("digest").is_some();
            if let (Some(name), true) = (i.get("name").and_then(Node::as_scalar), pinned) {
                k.pinned_images.push(name.to_string());
            }
        }
        for (key, kind) in [
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ] {
            for g in seq(key) {
                if let Some(name) = g.get("name").and_then(Node::as_scalar) {
                    k.generated.push((kind, name.to_string()));
                    // What the object is called once built, for references from
                    // files outside this kustomization.
                    if !k.name_prefix.is_empty() || !k.name_suffix.is_empty() {
                        k.generated
                            .push((kind, format!("{}{name}{}", k.name_prefix, k.name_suffix)));
                    }
                }
            }
        }
        k
    }

    /// Whether `shown` (a checked file) is one of this kustomization's resources,
    /// directly or through a folder it lists (that folder's own kustomization).
    #[must_use]
    pub fn lists(&self, shown: &Path, all: &[Kustomization]) -> bool {
        let mut seen = Vec::new();
        self.lists_inner(shown, all, &mut seen)
    }

    fn lists_inner<'a>(
        &'a self,
        shown: &Path,
        all: &'a [Kustomization],
        seen: &mut Vec<&'a Path>,
    ) -> bool {
        if seen.contains(&self.dir.as_path()) {
            return false;
        }
        seen.push(&self.dir);
        self.resources.iter().any(|r| {
            r == shown
                || all
                    .iter()
                    .filter(|k| k.dir == *r)
                    .any(|k| k.lists_inner(shown, all, seen))
        })
    }

    /// Every patch file applied when building `self`: its own, and those of the
    /// kustomizations it builds on.
    #[must_use]
    pub fn applied_patches<'a>(&'a self, all: &'a [Kustomization]) -> Vec<&'a Path> {
        let mut seen: Vec<&Path> = Vec::new();
        let mut out = Vec::new();
        let mut todo = vec![self];
        while let Some(k) = todo.pop() {
            if seen.contains(&k.dir.as_path()) {
                continue;
            }
            seen.push(&k.dir);
            out.extend(k.patches.iter().map(PathBuf::as_path));
            todo.extend(all.iter().filter(|b| k.resources.contains(&b.dir)));
        }
        out
    }

    /// The name prefixes and suffixes applied on the way from `self` down to the
    /// kustomization in `dir` (outermost first), when `dir` is reachable.
    #[must_use]
    pub fn affixes_to(&self, dir: &Path, all: &[Kustomization]) -> Option<(String, String)> {
        let mut seen = Vec::new();
        self.affixes_inner(dir, all, &mut seen)
    }

    fn affixes_inner<'a>(
        &'a self,
        dir: &Path,
        all: &'a [Kustomization],
        seen: &mut Vec<&'a Path>,
    ) -> Option<(String, String)> {
        if self.dir == dir {
            return Some((self.name_prefix.clone(), self.name_suffix.clone()));
        }
        if seen.contains(&self.dir.as_path()) {
            return None;
        }
        seen.push(&self.dir);
        all.iter()
            .filter(|k| self.resources.contains(&k.dir))
            .find_map(|k| k.affixes_inner(dir, all, seen))
            .map(|(p, s)| {
                (
                    format!("{}{p}", self.name_prefix),
                    format!("{s}{}", self.name_suffix),
                )
            })
    }
}

/// `a/b/../c` → `a/c`, without touching the disk.
#[must_use]
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(name: &str, text: &str) -> Kustomization {
        Kustomization::read(Arc::new(SourceFile::new(name, text)))
    }

    #[test]
    fn generators_patches_and_affixes() {
        let base = k(
            "k/base/kustomization.yaml",
            "resources: [app.yaml]\nconfigMapGenerator:\n  - name: app-config\n    literals: [LOG_LEVEL=info]\nsecretGenerator:\n  - name: app-secrets\n    envs: [secrets.env]\n",
        );
        let prod = k(
            "k/overlays/prod/kustomization.yaml",
            "namePrefix: prod-\nnameSuffix: -v2\nresources:\n  - ../../base\npatches:\n  - path: replicas.yaml\n    target: { kind: Deployment }\npatchesStrategicMerge: [limits.yaml]\nconfigMapGenerator:\n  - name: extra\n    literals: [A=b]\n",
        );
        assert_eq!(
            base.generated,
            vec![
                ("ConfigMap", "app-config".to_string()),
                ("Secret", "app-secrets".to_string())
            ]
        );
        assert!(prod
            .generated
            .contains(&("ConfigMap", "prod-extra-v2".into())));
        assert_eq!(prod.resources, vec![PathBuf::from("k/base")]);
        assert_eq!(
            prod.patches,
            vec![
                PathBuf::from("k/overlays/prod/replicas.yaml"),
                PathBuf::from("k/overlays/prod/limits.yaml")
            ]
        );
        let all = vec![base, prod];
        assert!(all[1].lists(Path::new("k/base/app.yaml"), &all));
        assert_eq!(all[0].applied_patches(&all), Vec::<&Path>::new());
        assert_eq!(all[1].applied_patches(&all).len(), 2);
        assert!(!all[0].lists(Path::new("k/overlays/prod/replicas.yaml"), &all));
        assert_eq!(
            all[1].affixes_to(Path::new("k/base"), &all),
            Some(("prod-".into(), "-v2".into()))
        );
    }

    #[test]
    fn resource_cycles_end() {
        let a = k("a/kustomization.yaml", "resources: [../b]\n");
        let b = k("b/kustomization.yaml", "resources: [../a]\n");
        let all = vec![a, b];
        assert!(!all[0].lists(Path::new("c/x.yaml"), &all));
        assert_eq!(all[0].affixes_to(Path::new("c"), &all), None);
    }
}
