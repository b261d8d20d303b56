//! Go: go.mod; the main package at the root or under `cmd/<name>`.

use super::{health_in, port_in, version_in, Detector, Folder};
use slipway_model::{BuildPlan, Language};

pub struct GoDetector;

impl Detector for GoDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let gomod = f.read("go.mod")?;
        let mut guessed = Vec::new();
        let module = gomod
            .lines()
            .find_map(|l| l.trim().strip_prefix("module "))
            .map(|m| m.trim().to_string())
            .unwrap_or_default();
        let version = gomod
            .lines()
            .find_map(|l| l.trim().strip_prefix("go ").and_then(|v| version_in(v, 2)))
            .unwrap_or_else(|| {
                guessed.push("version".into());
                "1.23".into()
            });
        let is_main = |dir: &str| {
            f.find(dir, &[".go"], 0, 200).iter().any(|file| {
                f.read(file)
                    .is_some_and(|t| t.lines().any(|l| l.trim() == "package main"))
            })
        };
        let cmds: Vec<String> = f
            .list("cmd", true)
            .into_iter()
            .filter(|c| is_main(&format!("cmd/{c}")))
            .collect();
        let folder_name = f
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let module_tail = module.rsplit('/').next().unwrap_or("app").to_string();
        let entry = if cmds.len() == 1 {
            format!("./cmd/{}", cmds[0])
        } else if !cmds.is_empty() {
            let pick = cmds
                .iter()
                .find(|c| {
                    **c == module_tail
                        || **c == folder_name
                        || c.as_str() == "server"
                        || c.as_str() == "api"
                })
                .unwrap_or(&cmds[0]);
            guessed.push("entry".into());
            format!("./cmd/{pick}")
        } else if is_main("") {
            ".".into()
        } else {
            guessed.push("entry".into());
            ".".into()
        };
        let binary = if entry == "." {
            module_tail.clone()
        } else {
            entry.rsplit('/').next().unwrap_or("app").to_string()
        };
        let dir = entry.trim_start_matches("./");
        let source: String = f
            .find(if dir == "." { "" } else { dir }, &[".go"], 1, 50)
            .iter()
            .filter_map(|p| f.read(p))
            .collect::<Vec<_>>()
            .join("\n");
        let port = port_in(&source).unwrap_or_else(|| {
            guessed.push("port".into());
            8080
        });
        let health_path = health_in(&source).or_else(|| {
            guessed.push("health_path".into());
            Some("/health".into())
        });
        let mut manifests = vec!["go.mod".to_string()];
        if f.has("go.sum") {
            manifests.push("go.sum".into());
        }
        let framework = [
            "gin-gonic/gin",
            "labstack/echo",
            "gofiber/fiber",
            "go-chi/chi",
        ]
        .iter()
        .find(|d| gomod.contains(*d))
        .map(|d| d.split('/').nth(1).unwrap_or(d).to_string());
        let has_tests = !f.find("", &["_test.go"], 3, 1).is_empty();
        Some(BuildPlan {
            language: Language::Go,
            framework,
            package_manager: "go".into(),
            version,
            manifests,
            dev_manifests: Vec::new(),
            start: vec![format!("/app/{binary}")],
            dev_start: Some(vec!["go".into(), "run".into(), entry.clone()]),
            build: true,
            test: has_tests.then(|| vec!["go".into(), "test".into(), "./...".into()]),
            port: Some(port),
            health_path,
            entry: Some(entry),
            members: Vec::new(),
            guessed,
        })
    }
}
