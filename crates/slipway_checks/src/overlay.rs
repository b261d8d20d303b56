//! K8S021's half that needs no kubectl: the findings on what a kustomization
//! renders, folded back onto the files they come from. A rendered object is traced
//! to its source object (same kind; its name with the overlays' `namePrefix` and
//! `nameSuffix` taken off), a finding the source file already carries is dropped,
//! and the rest are located in the source, at the same place in the object where it
//! exists (in the patch that sets it, when one does). Only what cannot be traced
//! stays at the kustomization. `deep` runs kubectl and calls `fold`.

use crate::kustomize::Kustomization;
use crate::rules::kubernetes::object_id;
use crate::tree::Tree;
use slipway_diagnostics::{Diagnostic, SourceFile, Span};
use slipway_import::yaml::{self, Budget, Node, Value};
use std::path::Path;
use std::sync::Arc;

/// One step from an object to a place in it.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    /// A list item: its index, and its `name` when it has one (containers, ports,
    /// volumes are matched by name: a patch may add items before them).
    Item(usize, Option<String>),
}

/// The steps from `node` to the deepest node whose span holds `at`.
fn path_to(node: &Node, at: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut cur = node;
    loop {
        let next = match &cur.value {
            Value::Map(entries) => entries.iter().find_map(|(k, v)| {
                let inside = |s: Span| s.start <= at && at < s.end.max(s.start + 1);
                (inside(k.span) || inside(v.span))
                    .then(|| (Step::Key(k.as_scalar().unwrap_or("").to_string()), v))
            }),
            Value::Seq(items) => items.iter().enumerate().find_map(|(i, v)| {
                (v.span.start <= at && at < v.span.end.max(v.span.start + 1)).then(|| {
                    let name = v.get("name").and_then(Node::as_scalar).map(str::to_string);
                    (Step::Item(i, name), v)
                })
            }),
            Value::Scalar { .. } => None,
        };
        match next {
            Some((step, child)) => {
                steps.push(step);
                cur = child;
            }
            None => return steps,
        }
    }
}

/// Follows `steps` from `node` as far as they go: `(the node reached, steps taken)`.
fn follow<'n>(node: &'n Node, steps: &[Step]) -> (&'n Node, usize) {
    let mut cur = node;
    for (depth, step) in steps.iter().enumerate() {
        let next = match step {
            Step::Key(k) => cur.get(k),
            Step::Item(i, Some(name)) => cur
                .as_seq()
                .and_then(|s| {
                    s.iter()
                        .find(|x| x.get("name").and_then(Node::as_scalar) == Some(name))
                })
                .or_else(|| cur.as_seq().and_then(|s| s.get(*i))),
            Step::Item(i, None) => cur.as_seq().and_then(|s| s.get(*i)),
        };
        match next {
            Some(n) => cur = n,
            None => return (cur, depth),
        }
    }
    (cur, steps.len())
}

fn kind_of(o: &Node) -> &str {
    o.get("kind").and_then(Node::as_scalar).unwrap_or("")
}

fn name_of(o: &Node) -> &str {
    o.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_scalar)
        .unwrap_or("")
}

/// Where a rendered object comes from: its source object, and patches of it.
struct Origin<'t> {
    file: &'t Arc<SourceFile>,
    object: &'t Node,
    patches: Vec<(&'t Arc<SourceFile>, &'t Node)>,
}

/// The source object `rendered` (built by `k`) comes from, if it can be traced.
fn trace<'t>(tree: &'t Tree, k: &Kustomization, rendered: &Node) -> Option<Origin<'t>> {
    let (kind, name) = (kind_of(rendered), name_of(rendered));
    let all = &tree.kustomizations;
    let matches = |f: &SourceFile, o: &Node| {
        if kind_of(o) != kind {
            return false;
        }
        let source = name_of(o);
        // The kustomization that lists the file directly gives the affixes in between.
        let shown = Path::new(&f.name);
        let (prefix, suffix) = all
            .iter()
            .filter(|d| d.resources.iter().any(|r| r == shown))
            .find_map(|d| k.affixes_to(&d.dir, all))
            .unwrap_or_default();
        format!("{prefix}{source}{suffix}") == name
    };
    let (file, object) = tree
        .objects()
        .filter(|(f, _)| !tree.is_patch(f) && k.lists(Path::new(&f.name), all))
        .find(|(f, o)| matches(f, o))?;
    // Only the patches this build applies (an overlay beside it patches the same
    // object for another environment).
    let applied = k.applied_patches(all);
    let patches = tree
        .objects()
        .filter(|(f, o)| {
            applied.contains(&Path::new(&f.name))
                && kind_of(o) == kind
                && name_of(o) == name_of(object)
        })
        .collect();
    Some(Origin {
        file,
        object,
        patches,
    })
}

/// The finding's place in the source: the deepest match of `steps`, in a patch when
/// a patch holds the whole path (the patch set it), else in the source object.
fn locate<'t>(origin: &Origin<'t>, steps: &[Step]) -> (&'t Arc<SourceFile>, Span) {
    for (f, p) in &origin.patches {
        let (node, depth) = follow(p, steps);
        if depth == steps.len() && !steps.is_empty() {
            return (f, node.span);
        }
    }
    let (node, _) = follow(origin.object, steps);
    (origin.file, node.span)
}

/// K8S021 findings for kustomization `k`, given what it rendered and the findings
/// the source files already carry.
pub fn fold(
    tree: &Tree,
    k: &Kustomization,
    rendered: &str,
    carried: &[Diagnostic],
    is_base: bool,
) -> Vec<Diagnostic> {
    let file = SourceFile::new("rendered.yaml", rendered);
    let objects = yaml::parse(&file, Budget::default()).unwrap_or_default();
    let dir = k.dir.display().to_string();
    let dir = if dir.is_empty() { ".".to_string() } else { dir };
    let first_line = Span::new(0, k.file.text.find('\n').unwrap_or(k.file.text.len()));
    let mut out = Vec::new();
    for d in crate::check_text("rendered.yaml", rendered) {
        // K8S019 (a namespace) is the overlay's business; a base gets its
        // namespace from the overlay that builds on it.
        if !d.rule_id.starts_with("K8S")
            || d.rule_id == "K8S019"
            || (is_base && d.rule_id == "K8S017")
        {
            continue;
        }
        let at = d.span.map_or(0, |s| s.start);
        let rendered_obj = objects
            .iter()
            .find(|o| o.span.start <= at && at < o.span.end.max(o.span.start + 1));
        let origin = rendered_obj.and_then(|o| trace(tree, k, o).map(|origin| (o, origin)));
        let Some((obj, origin)) = origin else {
            out.push(
                Diagnostic::new(
                    "K8S021",
                    d.severity,
                    format!("`{dir}` renders a {} finding: {}", d.rule_id, d.message),
                )
                .at(&k.file.name, first_line),
            );
            continue;
        };
        // The message as the source object would have it.
        let message = d
            .message
            .replace(&object_id(obj), &object_id(origin.object));
        if carried.iter().any(|c| {
            c.rule_id == d.rule_id
                && c.file.as_deref() == Some(origin.file.name.as_str())
                && c.message == message
        }) {
            continue;
        }
        let steps = path_to(obj, at);
        let (file, span) = locate(&origin, &steps);
        out.push(
            Diagnostic::new(
                "K8S021",
                d.severity,
                format!("`{dir}` renders a {} finding: {message}", d.rule_id),
            )
            .at(&file.name, span)
            .help(format!("built by {}", k.file.name)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        let tree = Tree::load(&[dir.path().to_path_buf()]);
        (dir, tree)
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector: { matchLabels: { app: api } }\n  template:\n    metadata: { labels: { app: api } }\n    spec:\n      containers:\n        - name: api\n          image: example/api:1.2.0\n";

    #[test]
    fn paths_are_followed_by_name_through_lists() {
        let f = SourceFile::new("a.yaml", DEPLOY);
        let docs = yaml::parse(&f, Budget::default()).unwrap();
        let at = DEPLOY.find("example/api").unwrap();
        let steps = path_to(&docs[0], at);
        assert_eq!(steps.last(), Some(&Step::Key("image".into())), "{steps:?}");
        assert!(steps.contains(&Step::Item(0, Some("api".into()))));
        let (node, depth) = follow(&docs[0], &steps);
        assert_eq!(
            (depth, node.as_scalar()),
            (steps.len(), Some("example/api:1.2.0"))
        );
    }

    #[test]
    fn only_findings_the_sources_lack_are_reported_in_the_source() {
        let (dir, tree) = tree(&[
            ("base/kustomization.yaml", "resources: [deploy.yaml]\n"),
            ("base/deploy.yaml", DEPLOY),
            (
                "overlays/prod/kustomization.yaml",
                "namePrefix: prod-\nresources: [../../base]\npatches: [{ path: replicas.yaml }]\n",
            ),
            (
                "overlays/staging/kustomization.yaml",
                "resources: [../../base]\npatches: [{ path: image.yaml }]\n",
            ),
            (
                "overlays/staging/image.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: example/api:latest\n",
            ),
            (
                "overlays/prod/replicas.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  replicas: 1\n",
            ),
        ]);
        let carried = crate::check(
            &[dir.path().to_path_buf()],
            &crate::Profile::default_profile(),
        )
        .findings;
        assert!(!carried.is_empty());
        let prod = tree
            .kustomizations
            .iter()
            .find(|k| k.dir.ends_with("prod"))
            .unwrap();
        // What `kubectl kustomize overlays/prod` prints for these files.
        let rendered = DEPLOY.replace(
            "name: api\nspec:\n",
            "name: prod-api\nspec:\n  replicas: 1\n",
        );
        let found = fold(&tree, prod, &rendered, &carried, false);
        // The base already carries every finding of its Deployment: none is repeated.
        assert_eq!(found, Vec::new(), "{found:#?}");
        // A finding only the rendered object has is located in its source.
        let rendered = rendered.replace("image: example/api:1.2.0", "image: example/api:latest");
        let found = fold(&tree, prod, &rendered, &carried, false);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        // Not in staging's patch, which sets the same image for another build.
        assert_eq!(f.file.as_deref(), Some("base/deploy.yaml"));
        assert!(
            f.message.starts_with(
                "`overlays/prod` renders a K8S003 finding: image `example/api:latest`"
            ),
            "{}",
            f.message
        );
        let span = f.span.unwrap();
        assert_eq!(&DEPLOY[span.start..span.end], "example/api:1.2.0");
        // An object that cannot be traced stays at the kustomization.
        let stray = rendered.replace("prod-api", "elsewhere");
        let found = fold(&tree, prod, &stray, &carried, false);
        assert!(found
            .iter()
            .all(|f| f.file.as_deref() == Some("overlays/prod/kustomization.yaml")));
    }
}
