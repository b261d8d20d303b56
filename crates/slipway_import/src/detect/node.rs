//! Node.js and TypeScript: npm, pnpm, yarn or bun from the lockfile (or the
//! `packageManager` field); the framework from the dependencies; a build step when a
//! `build` script exists; the start command, port and source file from
//! [`node_start`](super::node_start).

use super::node_start::{self, NodeApp};
use super::{health_in, port_in, version_in, Detector, Folder};
use serde_json::Value;
use slipway_model::{BuildPlan, Language};

pub struct NodeDetector;

const NPM_NO_TEST: &str = "echo \"Error: no test specified\" && exit 1";

/// Dependency -> framework, first match wins: meta-frameworks before the servers and
/// build tools they are built on (`vite` last: only a single-page app has nothing else).
const FRAMEWORKS: &[(&str, &str)] = &[
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("@remix-run/serve", "remix"),
    ("@remix-run/node", "remix"),
    ("@react-router/serve", "react-router"),
    ("@sveltejs/kit", "sveltekit"),
    ("@nestjs/core", "nest"),
    ("fastify", "fastify"),
    ("express", "express"),
    ("koa", "koa"),
    ("hono", "hono"),
    ("vite", "vite"),
];

/// Frameworks that serve pages: `/` answers when the app is up.
const PAGE_FRAMEWORKS: &[&str] = &["next", "nuxt", "remix", "react-router", "sveltekit", "vite"];

/// The package manager and its lockfile: the lockfile decides, then `packageManager`.
fn package_manager(
    f: &Folder,
    pkg: &Value,
    guessed: &mut Vec<String>,
) -> (&'static str, Option<&'static str>) {
    for (pm, lock) in [
        ("bun", "bun.lockb"),
        ("bun", "bun.lock"),
        ("pnpm", "pnpm-lock.yaml"),
        ("yarn", "yarn.lock"),
        ("npm", "package-lock.json"),
    ] {
        if f.is_file(lock) {
            return (pm, Some(lock));
        }
    }
    let declared = pkg
        .get("packageManager")
        .and_then(Value::as_str)
        .and_then(|s| s.split('@').next());
    match declared {
        Some("pnpm") => ("pnpm", None),
        Some("yarn") => ("yarn", None),
        Some("bun") => ("bun", None),
        Some("npm") => ("npm", None),
        _ => {
            guessed.push("package_manager".into());
            ("npm", None)
        }
    }
}

fn framework_of(app: &NodeApp<'_>) -> Option<&'static str> {
    FRAMEWORKS
        .iter()
        .find(|(dep, name)| app.dep(dep) && (*name != "vite" || app.f.is_file("index.html")))
        .map(|(_, name)| *name)
}

impl Detector for NodeDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let pkg: Value = serde_json::from_str(&f.read("package.json")?).ok()?;
        let mut guessed = Vec::new();
        let mut notes = Vec::new();
        let (pm, lock) = package_manager(f, &pkg, &mut guessed);
        let mut manifests = vec!["package.json".to_string()];
        manifests.extend(lock.map(ToString::to_string));
        if f.has(".npmrc") {
            manifests.push(".npmrc".into());
        }
        manifests.sort();
        let version = pkg
            .get("engines")
            .and_then(|e| e.get("node"))
            .and_then(Value::as_str)
            .and_then(|c| version_in(c, 1))
            .or_else(|| f.read(".nvmrc").and_then(|t| version_in(t.trim(), 1)))
            .or_else(|| {
                f.read(".node-version")
                    .and_then(|t| version_in(t.trim(), 1))
            })
            .unwrap_or_else(|| {
                guessed.push("version".into());
                "20".into()
            });
        let mut app = NodeApp {
            f,
            pkg: &pkg,
            pm,
            framework: None,
        };
        app.framework = framework_of(&app);
        let started = node_start::start(&app, &mut notes);
        let framework = app.framework.filter(|_| !started.unknown_framework);
        if started.guessed {
            guessed.push("start".into());
        }
        let source = started.source.as_deref().and_then(|s| f.read(s));
        let port = started
            .port
            .or_else(|| source.as_deref().and_then(port_in))
            .or(started.default_port)
            .unwrap_or_else(|| {
                guessed.push("port".into());
                3000
            });
        // Routes often live beside the entry file: the rest of `src/` is read too.
        let routes = || -> Option<String> {
            f.find("src", &[".ts", ".js", ".mjs"], 2, 40)
                .iter()
                .find_map(|p| f.read(p).as_deref().and_then(health_in))
        };
        let health_path = source
            .as_deref()
            .and_then(health_in)
            .or_else(routes)
            .or_else(|| {
                guessed.push("health_path".into());
                Some(
                    if framework.is_some_and(|fw| PAGE_FRAMEWORKS.contains(&fw)) {
                        "/".into()
                    } else {
                        "/health".into()
                    },
                )
            });
        let dev_start = ["dev", "start:dev"]
            .into_iter()
            .find(|s| app.script(s).is_some())
            .map(|s| vec![pm.to_string(), "run".into(), s.into()]);
        let test = app
            .script("test")
            .filter(|t| t.trim() != NPM_NO_TEST)
            .map(|_| {
                // `bun test` is bun's own runner, not the package's script.
                if pm == "bun" {
                    vec!["bun".into(), "run".into(), "test".into()]
                } else {
                    vec![pm.to_string(), "test".into()]
                }
            });
        Some(BuildPlan {
            language: Language::Node,
            framework: framework.map(ToString::to_string),
            package_manager: pm.into(),
            version,
            manifests,
            dev_manifests: Vec::new(),
            start: started.argv,
            dev_start,
            build: app.build(),
            test,
            port: Some(port),
            health_path,
            entry: None,
            members: node_start::workspace_members(&app),
            guessed,
            notes,
        })
    }
}
