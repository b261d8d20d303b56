//! Which base image each language and resource uses, after the registry mirror map,
//! and the digest-pinning check.

use slipway_diagnostics::Diagnostic;
use slipway_model::{App, BuildPlan, Language};

/// Build and runtime images for a plan, as written before mirroring.
#[must_use]
pub fn language_images(plan: &BuildPlan) -> (String, String) {
    let v = &plan.version;
    match plan.language {
        Language::Python => (
            format!("python:{v}-slim-bookworm"),
            format!("python:{v}-slim-bookworm"),
        ),
        Language::Node => (
            format!("node:{v}-bookworm-slim"),
            format!("node:{v}-bookworm-slim"),
        ),
        Language::Go => (
            format!("golang:{v}-bookworm"),
            "debian:bookworm-slim".into(),
        ),
        Language::Rust => (
            format!("rust:{v}-slim-bookworm"),
            "debian:bookworm-slim".into(),
        ),
        Language::Java if plan.package_manager == "gradle" => (
            format!("gradle:8-jdk{v}"),
            format!("eclipse-temurin:{v}-jre"),
        ),
        Language::Java => (
            format!("maven:3.9-eclipse-temurin-{v}"),
            format!("eclipse-temurin:{v}-jre"),
        ),
    }
}

/// The image to use for `reference`; with `pin_digests`, a mirror entry carrying a
/// digest is required, else an error says which entry to add.
pub fn resolve(app: &App, reference: &str, item: &str, problems: &mut Vec<Diagnostic>) -> String {
    let image = app.image(reference);
    if app.pin_digests && !image.contains("@sha256:") {
        problems.push(
            Diagnostic::error("SPEC013", format!("`pin_digests` is on but `{reference}` (used by {item}) has no digest"))
                .in_file(&app.trace.file)
                .expected(format!("an `images:` entry mapping `{reference}` to a reference ending in `@sha256:<digest>`"))
                .help(format!("add `images: {{ \"{reference}\": \"{image}@sha256:...\" }}` (see `docker buildx imagetools inspect {image}`)")),
        );
    }
    image
}
