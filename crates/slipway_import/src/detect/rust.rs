//! Rust: Cargo.toml, a single package or a workspace; the binary to run (`default-run`
//! first); the port from a literal address in the source, else Rocket's (Rocket.toml,
//! default 8000).

use super::{health_in, port_in, version_in, Detector, Folder};
use slipway_model::{BuildPlan, Language};
use toml::Table;

pub struct RustDetector;

/// A package that builds a binary: its folder (relative) and binary name.
struct Bin {
    dir: String,
    name: String,
}

fn bins_of(f: &Folder, dir: &str, manifest: &Table) -> Vec<Bin> {
    let Some(pkg) = manifest.get("package") else {
        return Vec::new();
    };
    let pkg_name = pkg
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("app")
        .to_string();
    let join = |p: &str| {
        if dir.is_empty() {
            p.to_string()
        } else {
            format!("{dir}/{p}")
        }
    };
    let mut out: Vec<Bin> = manifest
        .get("bin")
        .and_then(|b| b.as_array())
        .map(|arr| {
            arr.iter()
                .filter_map(|b| b.get("name")?.as_str())
                .map(|n| Bin {
                    dir: dir.to_string(),
                    name: n.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty() && f.has(&join("src/main.rs")) {
        out.push(Bin {
            dir: dir.to_string(),
            name: pkg_name,
        });
    }
    // `src/bin/<name>.rs` are binaries too (auto-discovered by cargo).
    if manifest.get("bin").is_none() {
        for file in f.list(&join("src/bin"), false) {
            if let Some(name) = file.strip_suffix(".rs") {
                out.push(Bin {
                    dir: dir.to_string(),
                    name: name.to_string(),
                });
            }
        }
    }
    out
}

/// The port Rocket listens on: Rocket.toml's `[release]`, `[default]` or `[global]`
/// `port`, else 8000.
fn rocket_port(f: &Folder, notes: &mut Vec<String>) -> u16 {
    let table: Option<Table> = f.read("Rocket.toml").and_then(|t| t.parse().ok());
    let from_toml = table.as_ref().and_then(|t| {
        ["release", "default", "global"].iter().find_map(|p| {
            let port = t.get(*p)?.get("port")?.as_integer()?;
            u16::try_from(port).ok()
        })
    });
    match from_toml {
        Some(p) => {
            notes.push(format!("port {p} from Rocket.toml"));
            p
        }
        None => 8000,
    }
}

/// Workspace member folders, with simple `dir/*` globs expanded.
fn members(f: &Folder, ws: &toml::Value) -> Vec<String> {
    let mut out = Vec::new();
    for m in ws
        .get("members")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str())
    {
        if let Some(parent) = m.strip_suffix("/*") {
            out.extend(
                f.list(parent, true)
                    .into_iter()
                    .map(|d| format!("{parent}/{d}"))
                    .filter(|d| f.has(&format!("{d}/Cargo.toml"))),
            );
        } else {
            out.push(m.trim_end_matches('/').to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Detector for RustDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let root: Table = f.read("Cargo.toml")?.parse().ok()?;
        let mut guessed = Vec::new();
        let member_dirs = root
            .get("workspace")
            .map(|ws| members(f, ws))
            .unwrap_or_default();
        let mut bins = bins_of(f, "", &root);
        let mut manifests = vec!["Cargo.toml".to_string()];
        for m in &member_dirs {
            if let Some(t) = f
                .read(&format!("{m}/Cargo.toml"))
                .and_then(|t| t.parse::<Table>().ok())
            {
                bins.extend(bins_of(f, m, &t));
                manifests.push(format!("{m}/Cargo.toml"));
            }
        }
        if f.has("Cargo.lock") {
            manifests.push("Cargo.lock".into());
        }
        manifests.sort();
        let folder_name = f
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if bins.is_empty() {
            guessed.push("entry".into());
            bins.push(Bin {
                dir: String::new(),
                name: folder_name.clone(),
            });
        }
        let default_run = root
            .get("package")
            .and_then(|p| p.get("default-run"))
            .and_then(|d| d.as_str());
        let bin = if bins.len() == 1 {
            &bins[0]
        } else if let Some(b) = default_run.and_then(|d| bins.iter().find(|b| b.name == d)) {
            b
        } else {
            guessed.push("entry".into());
            bins.iter()
                .find(|b| {
                    b.name == folder_name || b.name.ends_with("server") || b.name.ends_with("api")
                })
                .unwrap_or(&bins[0])
        };
        let rust_version = |t: &Table| -> Option<String> {
            t.get("package")
                .and_then(|p| p.get("rust-version"))
                .and_then(|v| v.as_str())
                .map(ToString::to_string)
        };
        let version = rust_version(&root)
            .or_else(|| {
                root.get("workspace")?
                    .get("package")?
                    .get("rust-version")?
                    .as_str()
                    .map(ToString::to_string)
            })
            .and_then(|v| version_in(&v, 2))
            .or_else(|| {
                let tc: Table = f.read("rust-toolchain.toml")?.parse().ok()?;
                version_in(tc.get("toolchain")?.get("channel")?.as_str()?, 2)
            })
            .unwrap_or_else(|| {
                guessed.push("version".into());
                "1.85".into()
            });
        let src_dir = if bin.dir.is_empty() {
            "src".to_string()
        } else {
            format!("{}/src", bin.dir)
        };
        let source: String = f
            .find(&src_dir, &[".rs"], 2, 40)
            .iter()
            .filter_map(|p| f.read(p))
            .collect::<Vec<_>>()
            .join("\n");
        let all_manifests: String = manifests.iter().filter_map(|m| f.read(m)).collect();
        let framework = ["axum", "actix-web", "rocket", "warp", "poem"]
            .iter()
            .find(|d| all_manifests.contains(&format!("\n{d} =")))
            .map(|d| (*d).to_string());
        let mut notes = Vec::new();
        let port = if framework.as_deref() == Some("rocket") {
            let p = rocket_port(f, &mut notes);
            notes.push("Rocket listens on 127.0.0.1 unless told otherwise: the image sets ROCKET_ADDRESS=0.0.0.0".into());
            p
        } else {
            port_in(&source).unwrap_or_else(|| {
                guessed.push("port".into());
                8080
            })
        };
        let health_path = health_in(&source).or_else(|| {
            guessed.push("health_path".into());
            Some("/health".into())
        });
        guessed.dedup();
        Some(BuildPlan {
            language: Language::Rust,
            framework,
            package_manager: "cargo".into(),
            version,
            manifests,
            dev_manifests: Vec::new(),
            start: vec![format!("/app/{}", bin.name)],
            dev_start: Some(vec![
                "cargo".into(),
                "run".into(),
                "--bin".into(),
                bin.name.clone(),
            ]),
            build: true,
            test: Some(if f.has("Cargo.lock") {
                vec!["cargo".into(), "test".into(), "--locked".into()]
            } else {
                vec!["cargo".into(), "test".into()]
            }),
            port: Some(port),
            health_path,
            entry: Some(bin.name.clone()),
            members: member_dirs,
            guessed,
            notes,
        })
    }
}
