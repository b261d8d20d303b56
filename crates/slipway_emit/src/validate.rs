//! Re-parsing rendered files before they are kept, so a template bug is reported as a
//! diagnostic naming the template and the line, not written to disk.

use slipway_diagnostics::Diagnostic;
use yaml_rust2::YamlLoader;

const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

fn bad(template: &str, path: &str, line: usize, text: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        "TPL002",
        format!("template `{template}` produced an invalid {what} for `{path}`"),
    )
    .in_file(&format!("templates/{template}"))
    .found(format!("rendered line {line}: {text}"))
    .help("fix the template (or remove your override); nothing was written")
}

/// Every logical line starts with a known instruction and the first is `FROM` (after
/// `ARG`s); exec-form arrays are valid JSON.
pub fn dockerfile(text: &str, template: &str, path: &str) -> Result<(), Diagnostic> {
    let mut continued = false;
    let mut seen_from = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let was_continued = continued;
        continued = line.ends_with('\\');
        if was_continued || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or("");
        let upper = word.to_ascii_uppercase();
        if !INSTRUCTIONS.contains(&upper.as_str()) {
            return Err(bad(template, path, i + 1, raw, "Dockerfile instruction"));
        }
        if upper == "FROM" {
            seen_from = true;
        } else if !seen_from && upper != "ARG" {
            return Err(bad(
                template,
                path,
                i + 1,
                raw,
                "Dockerfile (an instruction before FROM)",
            ));
        }
        let rest = line[word.len()..].trim();
        if matches!(upper.as_str(), "CMD" | "ENTRYPOINT")
            && rest.starts_with('[')
            && serde_json::from_str::<Vec<String>>(rest).is_err()
        {
            return Err(bad(template, path, i + 1, raw, "exec-form array"));
        }
    }
    if seen_from {
        Ok(())
    } else {
        Err(bad(
            template,
            path,
            1,
            text.lines().next().unwrap_or(""),
            "Dockerfile (no FROM)",
        ))
    }
}

/// The text is one or more well-formed YAML documents.
pub fn yaml(text: &str, template: &str, path: &str) -> Result<(), Diagnostic> {
    YamlLoader::load_from_str(text).map(|_| ()).map_err(|e| {
        let line = e.marker().line();
        let shown = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
        bad(
            template,
            path,
            line,
            shown,
            &format!("YAML document ({})", e.info()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_broken_output() {
        assert!(dockerfile("FROM a AS b\nRUN x \\\n  && y\nCMD [\"a\"]\n", "t", "p").is_ok());
        assert!(dockerfile("FROM a\nCMD [\"a\",]\n", "t", "p").is_err());
        assert!(dockerfile("RUN x\n", "t", "p").is_err());
        assert!(dockerfile("FROM a\nFOO x\n", "t", "p").is_err());
        assert!(yaml("a: [1\n", "t", "p").is_err());
        assert!(yaml("a: 1\n", "t", "p").is_ok());
    }
}
