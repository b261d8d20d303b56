//! The legacy Compose file format (version 1: services at the top level, no
//! `services:` key). Docker Compose v2 no longer reads it and neither does the Compose
//! Specification, so slipway refuses it too, but says why and what to change instead
//! of "no service to convert".

use crate::yaml::Node;
use slipway_diagnostics::Diagnostic;

/// The top-level keys of the Compose Specification.
const TOP_KEYS: &[&str] = &[
    "version", "name", "include", "services", "models", "networks", "volumes", "secrets",
    "configs", "jobs",
];

/// The refusal for a file in the legacy format, at its first top-level service.
pub(super) fn refuse(file: &str, root: &Node) -> Option<Diagnostic> {
    if root.get("services").is_some() {
        return None;
    }
    let services: Vec<(&Node, &str)> = root
        .as_map()?
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_scalar()?;
            let looks_like_service = v.get("image").is_some() || v.get("build").is_some();
            (looks_like_service && !TOP_KEYS.contains(&name) && !name.starts_with("x-"))
                .then_some((k, name))
        })
        .collect();
    let (first, _) = services.first()?;
    let names: Vec<String> = services.iter().map(|(_, n)| format!("`{n}`")).collect();
    Some(
        Diagnostic::error(
            "SPEC100",
            format!(
                "this is the legacy Compose file format (version 1): {} {} at the top level, which Docker Compose no longer reads",
                names.join(", "),
                if names.len() == 1 { "is a service" } else { "are services" },
            ),
        )
        .at(file, first.span)
        .help("add a `services:` line at the top and indent every service under it by two spaces; remove `version:` (or `docker-compose convert` from Compose v1 does it)"),
    )
}

#[cfg(test)]
mod tests {
    use crate::compose::{import_compose, ComposeOptions};
    use slipway_diagnostics::SourceFile;
    use std::sync::Arc;

    fn import(text: &str) -> crate::compose::ComposeOutcome {
        import_compose(
            &[Arc::new(SourceFile::new("docker-compose.yml", text))],
            &ComposeOptions {
                default_name: "legacy".into(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn legacy_format_is_refused_with_what_to_change() {
        let text = "web:\n  image: nginx:1.27\n  links: [db]\ndb:\n  image: postgres:16\n";
        let out = import(text);
        assert!(out.app.is_none());
        let errors: Vec<_> = out
            .diagnostics
            .iter()
            .filter(|d| d.rule_id == "SPEC100")
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let d = errors[0];
        assert!(
            d.message.contains("legacy Compose file format"),
            "{}",
            d.message
        );
        assert!(
            d.message.contains("`web`, `db` are services"),
            "{}",
            d.message
        );
        assert!(d.help.as_deref().unwrap_or("").contains("`services:`"));
        let s = d.span.unwrap();
        assert_eq!(&text[s.start..s.end], "web");
        assert!(!out
            .diagnostics
            .iter()
            .any(|d| d.message.contains("no service to convert")));
    }

    #[test]
    fn a_file_without_services_is_not_called_legacy() {
        let out = import("volumes:\n  data: {}\n");
        assert!(out
            .diagnostics
            .iter()
            .any(|d| d.message.contains("no service to convert")));
        assert!(!out.diagnostics.iter().any(|d| d.message.contains("legacy")));
    }
}
