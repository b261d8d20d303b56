//! Go: go.mod (or a lone `main.go`); the main package at the root, else under
//! `cmd/<name>`, as nixpacks builds it; the port from a literal listen address in
//! the source, else Gin's default (8080).

use super::{health_in, port_in, version_in, Detector, Folder};
use slipway_model::{BuildPlan, Language};

pub struct GoDetector;

/// Web frameworks, by module path, and the port each listens on when the code
/// gives none (`r.Run()`); `None` where the address is required.
const FRAMEWORKS: &[(&str, &str, Option<u16>)] = &[
    ("github.com/gin-gonic/gin", "gin", Some(8080)),
    ("github.com/labstack/echo", "echo", None),
    ("github.com/gofiber/fiber", "fiber", None),
    ("github.com/go-chi/chi", "chi", None),
];

/// The package to build: `.` (root), `./cmd/<name>`, or `main.go` outside a module.
fn entry(f: &Folder, module: bool, module_tail: &str, guessed: &mut Vec<String>) -> String {
    let is_main = |dir: &str| {
        f.find(dir, &[".go"], 0, 200).iter().any(|file| {
            f.read(file)
                .is_some_and(|t| t.lines().any(|l| l.trim() == "package main"))
        })
    };
    if !module {
        return "main.go".into();
    }
    if is_main("") {
        return ".".into();
    }
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
    match cmds.as_slice() {
        [] => {
            guessed.push("entry".into());
            ".".into()
        }
        [one] => format!("./cmd/{one}"),
        _ => {
            guessed.push("entry".into());
            let pick = cmds
                .iter()
                .find(|c| {
                    *c == module_tail
                        || **c == folder_name
                        || c.as_str() == "server"
                        || c.as_str() == "api"
                })
                .unwrap_or(&cmds[0]);
            format!("./cmd/{pick}")
        }
    }
}

impl Detector for GoDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let gomod = f.read("go.mod");
        if gomod.is_none() && !f.is_file("main.go") {
            return None;
        }
        let gomod_text = gomod.clone().unwrap_or_default();
        let mut guessed = Vec::new();
        let mut notes = Vec::new();
        let module = gomod_text
            .lines()
            .find_map(|l| l.trim().strip_prefix("module "))
            .map(|m| m.trim().to_string())
            .unwrap_or_default();
        let version = gomod_text
            .lines()
            .find_map(|l| l.trim().strip_prefix("go ").and_then(|v| version_in(v, 2)))
            .unwrap_or_else(|| {
                guessed.push("version".into());
                "1.23".into()
            });
        let folder_name = f
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let module_tail = module
            .rsplit('/')
            .next()
            .filter(|t| !t.is_empty())
            .unwrap_or(if folder_name.is_empty() {
                "app"
            } else {
                &folder_name
            })
            .to_string();
        let entry = entry(f, gomod.is_some(), &module_tail, &mut guessed);
        if gomod.is_none() {
            notes.push(
                "no go.mod: builds main.go on its own (standard library imports only)".into(),
            );
        }
        let binary = if entry.starts_with("./cmd/") {
            entry.rsplit('/').next().unwrap_or("app").to_string()
        } else {
            module_tail.clone()
        };
        let dir = entry.trim_start_matches("./");
        let source: String = f
            .find(
                if dir == "." || dir == "main.go" {
                    ""
                } else {
                    dir
                },
                &[".go"],
                1,
                50,
            )
            .iter()
            .filter_map(|p| f.read(p))
            .collect::<Vec<_>>()
            .join("\n");
        let fw = FRAMEWORKS
            .iter()
            .find(|(m, _, _)| gomod_text.contains(m) || source.contains(&format!("\"{m}")));
        let port = port_in(&source)
            .or_else(|| fw.and_then(|(_, _, p)| *p))
            .unwrap_or_else(|| {
                guessed.push("port".into());
                8080
            });
        let health_path = health_in(&source).or_else(|| {
            guessed.push("health_path".into());
            Some("/health".into())
        });
        let mut manifests = Vec::new();
        if gomod.is_some() {
            manifests.push("go.mod".to_string());
        }
        if f.has("go.sum") {
            manifests.push("go.sum".into());
        }
        let has_tests = !f.find("", &["_test.go"], 3, 1).is_empty();
        Some(BuildPlan {
            language: Language::Go,
            framework: fw.map(|(_, name, _)| (*name).to_string()),
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
            notes,
        })
    }
}
