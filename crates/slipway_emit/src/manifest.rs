//! The traceability manifest `level-11.manifest.yaml`: one item per artifact with its
//! traces back to the model (and the spec position), its files with sha256, a status;
//! counts; and the invariants checked over the generated files. Its hashes are also
//! how the engine recognises files edited by hand since the last run.

use crate::{EmitRequest, Emitted, GENERATOR};
use sha2::{Digest, Sha256};
use slipway_diagnostics::Diagnostic;
use slipway_model::App;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use yaml_rust2::YamlLoader;

pub const MANIFEST_PATH: &str = "level-11.manifest.yaml";

#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

struct Invariant {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// Service names declared in the generated base compose file.
fn compose_services(files: &BTreeMap<String, String>) -> Option<BTreeMap<String, bool>> {
    let text = files.get("compose/docker-compose.yaml")?;
    Some(
        crate::validate::compose_services(text)?
            .into_iter()
            .collect(),
    )
}

/// What an artifact kind is in the manifest's vocabulary: definition type, platform,
/// and the role it plays for the items it traces to.
fn classify(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "dockerfile" => ("container", "docker", "containerizes"),
        "compose-base" | "compose-override" => ("compose", "docker-compose", "orchestrates"),
        "script" => ("script", "shell", "operates"),
        "kustomize-base" | "kustomize-overlay" | "kubernetes" => {
            ("kubernetes", "kubernetes", "orchestrates")
        }
        _ => ("config", "docker-compose", "configures"),
    }
}

fn invariants(app: &App, out: &Emitted) -> Vec<Invariant> {
    let mut inv = Vec::new();
    let declared = compose_services(&out.files.files);
    if let Some(declared) = &declared {
        let missing: Vec<&str> = app
            .services
            .keys()
            .filter(|s| !declared.contains_key(*s))
            .map(String::as_str)
            .collect();
        inv.push(Invariant {
            name: "every-service-has-a-container",
            ok: missing.is_empty(),
            detail: if missing.is_empty() {
                format!(
                    "{} of {} services have a container in compose/docker-compose.yaml",
                    app.services.len(),
                    app.services.len()
                )
            } else {
                format!("no container for: {}", missing.join(", "))
            },
        });
        let unchecked: Vec<&str> = declared
            .iter()
            .filter(|(_, h)| !**h)
            .map(|(n, _)| n.as_str())
            .collect();
        inv.push(Invariant {
            name: "every-container-has-a-healthcheck",
            ok: unchecked.is_empty(),
            detail: if unchecked.is_empty() {
                format!(
                    "{} of {} containers define a healthcheck",
                    declared.len(),
                    declared.len()
                )
            } else {
                format!(
                    "no healthcheck for: {} (give them `health:` in the spec)",
                    unchecked.join(", ")
                )
            },
        });
    }
    let docker = app.targets.iter().any(|t| t == "docker" || t == "compose");
    if docker {
        let built = app.services.values().filter(|s| s.plan().is_some()).count();
        let images = app
            .services
            .keys()
            .filter(|s| {
                out.files
                    .files
                    .contains_key(&format!("docker/{s}/Dockerfile"))
            })
            .count();
        inv.push(Invariant {
            name: "every-built-service-has-a-dockerfile",
            ok: images == built,
            detail: format!("{images} of {built} services built from source have a Dockerfile"),
        });
    }
    inv
}

pub(crate) fn emit(app: &App, req: &EmitRequest, out: &mut Emitted) {
    let inv = invariants(app, out);
    for i in inv.iter().filter(|i| !i.ok) {
        let d = if i.name == "every-container-has-a-healthcheck" {
            Diagnostic::warning(
                "GEN002",
                format!("invariant `{}` does not hold: {}", i.name, i.detail),
            )
        } else {
            Diagnostic::error(
                "GEN001",
                format!("invariant `{}` does not hold: {}", i.name, i.detail),
            )
        };
        out.diagnostics.push(d.in_file(&req.source));
    }
    let traces: BTreeMap<String, String> = app
        .services
        .values()
        .map(|s| (s.id(), (s.trace.location(), s.trace.item.clone())))
        .chain(
            app.resources
                .values()
                .map(|r| (r.id(), (r.trace.location(), r.trace.item.clone()))),
        )
        .map(|(id, (at, item))| {
            (
                id,
                format!(
                    "at: {}{}",
                    q(&at),
                    item.map(|i| format!("\n        level10: {}", q(&i)))
                        .unwrap_or_default()
                ),
            )
        })
        .collect();
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Generated by slipway: every artifact, what it traces back to, and its content hash."
    );
    let _ = writeln!(y, "schema_version: 1");
    let _ = writeln!(y, "generator: {}", q(GENERATOR));
    let _ = writeln!(y, "build_id: {}", q(&req.build_id));
    let _ = writeln!(y, "application: {}", q(&app.name));
    let _ = writeln!(y, "source: {}", q(&req.source));
    if let Some(env) = &req.environment {
        let _ = writeln!(y, "environment: {}", q(env));
    }
    let _ = writeln!(y, "items:");
    let mut artifacts = out.files.artifacts.clone();
    artifacts.sort_by(|a, b| a.id.cmp(&b.id));
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &artifacts {
        let (def_type, platform, role) = classify(&a.kind);
        *by_type.entry(def_type).or_default() += 1;
        let _ = writeln!(y, "  - id: {}", q(&a.id));
        let _ = writeln!(y, "    kind: {}", q(&a.kind));
        let _ = writeln!(y, "    traces:");
        for t in &a.traces {
            let _ = writeln!(y, "      - ref: {}\n        role: {role}", q(t));
            if let Some(rest) = traces.get(t) {
                let _ = writeln!(y, "        {rest}");
            }
        }
        let _ = writeln!(y, "    definition:\n      type: {def_type}\n      platform: {platform}\n      summary: {}", q(&a.definition));
        let _ = writeln!(y, "    artifacts:");
        for p in &a.paths {
            let hash = out
                .files
                .files
                .get(p)
                .map(|t| sha256_hex(t.as_bytes()))
                .unwrap_or_default();
            let _ = writeln!(y, "      - path: {}\n        sha256: {}", q(p), q(&hash));
        }
        let _ = writeln!(y, "    status: generated");
    }
    let _ = writeln!(y, "counts:");
    let _ = writeln!(y, "  artifacts: {}", artifacts.len());
    let _ = writeln!(y, "  by_type:");
    for (t, n) in &by_type {
        let _ = writeln!(y, "    {t}: {n}");
    }
    let _ = writeln!(y, "  files: {}", out.files.files.len() + 1);
    let _ = writeln!(y, "  services: {}", app.services.len());
    let _ = writeln!(y, "  resources: {}", app.resources.len());
    let _ = writeln!(y, "validation:");
    for i in &inv {
        let _ = writeln!(
            y,
            "  - invariant: {}\n    status: {}\n    detail: {}",
            i.name,
            if i.ok { "pass" } else { "fail" },
            q(&i.detail)
        );
    }
    out.files.add(MANIFEST_PATH, y);
}

/// Path -> sha256 recorded in a manifest's text (empty when unreadable).
#[must_use]
pub fn manifest_hashes(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(docs) = YamlLoader::load_from_str(text) else {
        return out;
    };
    let Some(items) = docs.first().and_then(|d| d["items"].as_vec()) else {
        return out;
    };
    for item in items {
        for a in item["artifacts"].as_vec().map_or(&[][..], Vec::as_slice) {
            if let (Some(p), Some(h)) = (a["path"].as_str(), a["sha256"].as_str()) {
                out.insert(p.to_string(), h.to_string());
            }
        }
    }
    out
}
