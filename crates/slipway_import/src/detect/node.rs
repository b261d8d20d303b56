//! Node.js and TypeScript: npm, pnpm or yarn from the lockfile; a build step when a
//! `build` script exists; the `start` script (run directly when it is `node FILE`).

use super::{health_in, port_in, version_in, Detector, Folder};
use serde_json::Value;
use slipway_model::{BuildPlan, Language};

pub struct NodeDetector;

const NPM_NO_TEST: &str = "echo \"Error: no test specified\" && exit 1";

impl Detector for NodeDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let pkg: Value = serde_json::from_str(&f.read("package.json")?).ok()?;
        let mut guessed = Vec::new();
        let (pm, lock) = if f.has("pnpm-lock.yaml") {
            ("pnpm", Some("pnpm-lock.yaml"))
        } else if f.has("yarn.lock") {
            ("yarn", Some("yarn.lock"))
        } else if f.has("package-lock.json") {
            ("npm", Some("package-lock.json"))
        } else {
            guessed.push("package_manager".into());
            ("npm", None)
        };
        let mut manifests = vec!["package.json".to_string()];
        manifests.extend(lock.map(ToString::to_string));
        if f.has(".npmrc") {
            manifests.push(".npmrc".into());
        }
        manifests.sort();
        let script = |name: &str| {
            pkg.get("scripts")?
                .get(name)?
                .as_str()
                .map(ToString::to_string)
        };
        let dep = |name: &str| {
            ["dependencies", "devDependencies"]
                .iter()
                .any(|k| pkg.get(k).and_then(|d| d.get(name)).is_some())
        };

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
        let framework = [
            ("next", "next"),
            ("@nestjs/core", "nest"),
            ("fastify", "fastify"),
            ("express", "express"),
            ("koa", "koa"),
        ]
        .iter()
        .find(|(d, _)| dep(d))
        .map(|(_, name)| (*name).to_string());
        let build = script("build").is_some();

        let main = pkg
            .get("main")
            .and_then(Value::as_str)
            .map(|m| m.trim_start_matches("./").to_string());
        let start = if let Some(s) = script("start") {
            direct_node(&s).unwrap_or_else(|| vec![pm.to_string(), "run".into(), "start".into()])
        } else {
            guessed.push("start".into());
            let file = main
                .clone()
                .or_else(|| {
                    f.first(&["server.js", "index.js", "app.js", "src/index.js"])
                        .map(ToString::to_string)
                })
                .unwrap_or_else(|| "index.js".into());
            vec!["node".into(), file]
        };
        let dev_start = script("dev").map(|_| vec![pm.to_string(), "run".into(), "dev".into()]);
        let entry_file = start
            .get(1)
            .filter(|_| start[0] == "node")
            .cloned()
            .or(main);
        let source = entry_file.as_deref().and_then(|e| f.read(e)).or_else(|| {
            f.first(&[
                "server.js",
                "index.js",
                "app.js",
                "src/index.ts",
                "src/main.ts",
                "src/server.ts",
                "src/index.js",
            ])
            .and_then(|e| f.read(e))
        });
        let port = source.as_deref().and_then(port_in).unwrap_or_else(|| {
            guessed.push("port".into());
            3000
        });
        let health_path = source.as_deref().and_then(health_in).or_else(|| {
            guessed.push("health_path".into());
            Some(if framework.as_deref() == Some("next") {
                "/".into()
            } else {
                "/health".into()
            })
        });
        let test = script("test")
            .filter(|t| t.trim() != NPM_NO_TEST)
            .map(|_| vec![pm.to_string(), "test".into()]);
        Some(BuildPlan {
            language: Language::Node,
            framework,
            package_manager: pm.into(),
            version,
            manifests,
            dev_manifests: Vec::new(),
            start,
            dev_start,
            build,
            test,
            port: Some(port),
            health_path,
            entry: None,
            members: Vec::new(),
            guessed,
        })
    }
}

/// `node server.js --flag` as argv, so the process is PID 1 and gets signals; `None`
/// when the script needs a shell (`&&`, env assignments, other programs).
fn direct_node(script: &str) -> Option<Vec<String>> {
    if script.contains(['&', '|', ';', '$', '>', '<', '=', '`']) {
        return None;
    }
    let parts: Vec<String> = script.split_whitespace().map(ToString::to_string).collect();
    match parts.first().map(String::as_str) {
        Some("node") if parts.len() >= 2 => Some(parts),
        Some("next") => Some(
            [
                vec!["node_modules/.bin/next".to_string()],
                parts[1..].to_vec(),
            ]
            .concat(),
        ),
        _ => None,
    }
}
