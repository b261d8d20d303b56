//! The level-10 application manifest -> `App`. Each item that describes a runnable
//! unit (kind `service`, `api`, `web`, `worker`, `runnable`, `entrypoint`) becomes a
//! service, each data item (`database`, `cache`, `queue` with an `engine`) a backing
//! resource; every trace carries the item's id, so `level-11.manifest.yaml` leads
//! back to level-10 ids. Other items are reported as not deployable and skipped.
//!
//! ```yaml
//! level: 10
//! application: shop
//! items:
//!   - id: level-10.bootstrap.api
//!     kind: service
//!     name: api
//!     definition: { path: ./api, port: 8000, health: /health, depends_on: [level-10.data.db] }
//!   - id: level-10.data.db
//!     kind: database
//!     definition: { engine: postgres, version: "16" }
//! ```

use crate::yaml::{self, Budget, Node};
use slipway_diagnostics::{Diagnostic, Diagnostics, SourceFile};
use slipway_model::{App, Health, Resource, ResourceKind, Service, ServiceSource, Trace};

pub struct Level10Outcome {
    pub app: Option<App>,
    pub diagnostics: Diagnostics,
}

const RUNNABLE: &[&str] = &["service", "api", "web", "worker", "runnable", "entrypoint"];
const DATA: &[&str] = &["database", "cache", "queue", "broker"];

struct Item<'n> {
    id: String,
    name: String,
    node: &'n Node,
}

/// Reads a level-10 manifest.
#[must_use]
pub fn import_level10(file: &SourceFile) -> Level10Outcome {
    let mut diags = Diagnostics::new();
    let docs = match yaml::parse(file, Budget::default()) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return Level10Outcome {
                app: None,
                diagnostics: diags,
            };
        }
    };
    let Some(root) = docs.first().filter(|r| r.as_map().is_some()) else {
        diags.push(
            Diagnostic::error("L10001", "a level-10 manifest is a mapping with `items:`")
                .in_file(&file.name),
        );
        return Level10Outcome {
            app: None,
            diagnostics: diags,
        };
    };
    let trace = |node: &Node, id: &str| {
        let (line, column) = file.line_col(node.span.start);
        Trace {
            file: file.name.clone(),
            line,
            column,
            item: Some(id.to_string()),
        }
    };
    let name = root
        .get("application")
        .or_else(|| root.get("name"))
        .and_then(Node::as_scalar)
        .unwrap_or("app");
    let mut app = App {
        name: crate::detect::service_name(name),
        environments: crate::spec::DEFAULT_ENVIRONMENTS
            .iter()
            .map(ToString::to_string)
            .collect(),
        targets: vec![
            "docker".into(),
            "compose".into(),
            "scripts".into(),
            "kubernetes".into(),
        ],
        trace: trace(root, "level-10"),
        ..App::default()
    };
    let items: Vec<Item> = root
        .get("items")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| {
            let id = n.get("id").and_then(Node::as_scalar)?.to_string();
            let name = n.get("name").and_then(Node::as_scalar).map_or_else(
                || id.rsplit('.').next().unwrap_or(&id).to_string(),
                ToString::to_string,
            );
            Some(Item {
                id,
                name: crate::detect::service_name(&name),
                node: n,
            })
        })
        .collect();
    let by_ref = |r: &str| {
        items
            .iter()
            .find(|i| i.id == r || i.name == r)
            .map(|i| i.name.clone())
    };
    for item in &items {
        let kind = item
            .node
            .get("kind")
            .and_then(Node::as_scalar)
            .unwrap_or("");
        let def = item.node.get("definition");
        let get = |k: &str| def.and_then(|d| d.get(k));
        if RUNNABLE.contains(&kind) {
            let source = match (
                get("path").and_then(Node::as_scalar),
                get("image").and_then(Node::as_scalar),
            ) {
                (Some(p), _) => ServiceSource::Build {
                    path: p.to_string(),
                    plan: None,
                },
                (None, Some(i)) => ServiceSource::Image {
                    image: i.to_string(),
                },
                (None, None) => {
                    diags.push(Diagnostic::error("L10002", format!("item `{}` is runnable but has neither `definition.path` nor `definition.image`", item.id)).at(&file.name, item.node.span));
                    continue;
                }
            };
            let mut depends_on = Vec::new();
            for d in get("depends_on").and_then(Node::as_seq).unwrap_or(&[]) {
                let r = d.as_scalar().unwrap_or("");
                match by_ref(r) {
                    Some(n) => depends_on.push(n),
                    None => diags.push(
                        Diagnostic::error(
                            "L10003",
                            format!(
                                "item `{}` depends on `{r}`, which is not an item of this manifest",
                                item.id
                            ),
                        )
                        .at(&file.name, d.span),
                    ),
                }
            }
            let health = get("health").and_then(Node::as_str).map(|p| Health::Http {
                path: p.to_string(),
            });
            let env = get("env")
                .and_then(Node::as_map)
                .unwrap_or(&[])
                .iter()
                .filter_map(|(k, v)| Some((k.as_scalar()?.to_string(), v.as_scalar()?.to_string())))
                .collect();
            let secrets = get("secrets")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|s| s.as_scalar().map(ToString::to_string))
                .collect();
            let svc = Service {
                name: item.name.clone(),
                source,
                port: get("port")
                    .and_then(Node::as_u64)
                    .and_then(|p| u16::try_from(p).ok()),
                health,
                env,
                secrets,
                depends_on,
                trace: trace(item.node, &item.id),
                ..Service::default()
            };
            app.services.insert(item.name.clone(), svc);
        } else if DATA.contains(&kind) {
            let engine = get("engine").and_then(Node::as_scalar).unwrap_or("");
            let Some(rk) = ResourceKind::ALL.into_iter().find(|k| {
                k.as_str() == engine || (engine == "postgresql" && *k == ResourceKind::Postgres)
            }) else {
                diags.push(Diagnostic::error("L10004", format!("item `{}` ({kind}) has engine `{engine}`, which slipway cannot provide", item.id)).at(&file.name, item.node.span).expected("postgres, redis, nats, mysql, mongodb or amqp"));
                continue;
            };
            let version = get("version")
                .and_then(Node::as_scalar)
                .map_or_else(|| rk.default_version().to_string(), ToString::to_string);
            app.resources.insert(
                item.name.clone(),
                Resource {
                    name: item.name.clone(),
                    kind: rk,
                    version,
                    external: None,
                    storage: None,
                    trace: trace(item.node, &item.id),
                },
            );
        } else {
            diags.push(
                Diagnostic::new(
                    "L10005",
                    slipway_diagnostics::Severity::Info,
                    format!(
                        "item `{}` (kind `{kind}`) is not deployable; skipped",
                        item.id
                    ),
                )
                .at(&file.name, item.node.span),
            );
        }
    }
    if app.services.is_empty() && !diags.has_errors() {
        diags.push(
            Diagnostic::error("L10001", "the manifest has no runnable item")
                .in_file(&file.name)
                .help(format!("give an item a kind among {}", RUNNABLE.join(", "))),
        );
    }
    let ok = !diags.has_errors();
    Level10Outcome {
        app: ok.then_some(app),
        diagnostics: diags,
    }
}
