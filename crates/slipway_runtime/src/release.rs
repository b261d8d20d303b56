//! Making a release: the engine's own `compose config` resolves the generated files
//! (overrides merged, paths absolute, variables substituted), `compose build` builds
//! what is built from source, and every image is pinned by id (built ones get an
//! immutable `slipway-<id>` tag) so a later rollback runs exactly these bytes.

use crate::compose::ComposeCli;
use crate::docker_api::DockerApi;
use crate::process::run_ok;
use crate::{yaml_json, Progress, RuntimeError};
use serde_json::{Map, Value};
use std::path::Path;
use std::time::Duration;

pub struct ReleaseInput<'a> {
    /// The folder holding the compose files.
    pub compose_dir: &'a Path,
    /// Compose files, relative to `compose_dir`, in merge order.
    pub files: &'a [String],
    pub project: &'a str,
    pub timeout: Duration,
}

/// JSON with every object's keys sorted: the same release is the same bytes.
#[must_use]
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect::<Map<_, _>>(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string_pretty(&sorted(v)).unwrap_or_default()
}

/// `repo/name:tag` -> `repo/name` (a registry port is not a tag).
fn repository(image: &str) -> &str {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].find([':', '@']) {
        Some(i) => &image[..name_start + i],
        None => image,
    }
}

/// Resolves, builds and pins; returns the release document.
pub fn prepare_release(
    cli: &ComposeCli,
    api: &DockerApi,
    input: &ReleaseInput<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Value, RuntimeError> {
    let resolved = run_ok(
        cli.command(input.project, input.compose_dir, input.files)
            .arg("config"),
        input.timeout,
    )?;
    let mut doc = yaml_json::parse(&resolved.stdout).map_err(|e| {
        RuntimeError::Engine(format!(
            "`compose config` printed YAML slipway cannot read: {e}"
        ))
    })?;
    let Some(services) = doc.get("services").and_then(Value::as_object).cloned() else {
        return Err(RuntimeError::Engine(
            "the compose files declare no services".into(),
        ));
    };
    let built: Vec<&String> = services
        .iter()
        .filter(|(_, s)| s.get("build").is_some())
        .map(|(n, _)| n)
        .collect();
    if !built.is_empty() {
        for name in &built {
            progress(Progress::new(Some(name), "build", "building the image"));
        }
        run_ok(
            cli.command(input.project, input.compose_dir, input.files)
                .env("DOCKER_BUILDKIT", "1")
                .env("COMPOSE_DOCKER_CLI_BUILD", "1")
                .arg("build"),
            input.timeout,
        )?;
    }
    let mut pinned = Map::new();
    for (name, s) in &services {
        let image = s["image"].as_str().unwrap_or_default().to_string();
        if image.is_empty() {
            return Err(RuntimeError::Engine(format!(
                "service `{name}` names no image"
            )));
        }
        let id = api.image_id(&image)?.ok_or_else(|| {
            RuntimeError::Engine(format!(
                "image `{image}` (service `{name}`) is not on this engine; pull it first, or map it to a local image with --image-map"
            ))
        })?;
        let svc = doc["services"][name.as_str()]
            .as_object_mut()
            .ok_or_else(|| RuntimeError::Engine(format!("service `{name}` is not a mapping")))?;
        if svc.remove("build").is_some() {
            let repo = repository(&image).to_string();
            let tag = format!(
                "slipway-{}",
                id.trim_start_matches("sha256:")
                    .get(..12)
                    .unwrap_or("unknown")
            );
            api.tag(&image, &repo, &tag)?;
            svc.insert("image".into(), Value::String(format!("{repo}:{tag}")));
        }
        pinned.insert(name.clone(), Value::String(id));
    }
    if let Some(top) = doc.as_object_mut() {
        // Compose v2 prints the project name; the project is given on the command line.
        top.remove("name");
        top.insert(
            "x-slipway".into(),
            serde_json::json!({ "project": input.project, "images": pinned }),
        );
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    #[test]
    fn repository_strips_the_tag_but_not_a_registry_port() {
        assert_eq!(super::repository("shop/api:local"), "shop/api");
        assert_eq!(
            super::repository("mirror.local:5000/shop/api:1"),
            "mirror.local:5000/shop/api"
        );
        assert_eq!(super::repository("redis"), "redis");
        assert_eq!(super::repository("redis@sha256:ab"), "redis");
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": {"z": 1, "a": [ {"y": 1, "x": 2} ]}, "a": 0});
        assert_eq!(
            super::canonical_json(&v).replace([' ', '\n'], ""),
            r#"{"a":0,"b":{"a":[{"x":2,"y":1}],"z":1}}"#
        );
    }
}
