//! Re-parsing rendered files before they are kept, so a template bug is reported as a
//! diagnostic naming the template and the line, not written to disk.

use slipway_diagnostics::Diagnostic;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

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

/// One open mapping or sequence while walking the event stream.
struct Frame {
    is_map: bool,
    /// The current key of a mapping, once read.
    key: Option<String>,
    /// A mapping has read a key and waits for its value.
    awaiting_value: bool,
}

/// Collects, from the event stream of a compose file, each entry under the top-level
/// `services:` and whether it has a `healthcheck` key. No tree is built.
#[derive(Default)]
struct ComposeServices {
    stack: Vec<Frame>,
    services: Vec<(String, bool)>,
}

impl ComposeServices {
    /// Inside the value of the root mapping's `services` key.
    fn in_services(&self) -> bool {
        self.stack.len() >= 2 && self.stack[0].key.as_deref() == Some("services")
    }

    /// A value (scalar or collection) was read in the current frame.
    fn took_value(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            top.awaiting_value = false;
        }
    }
}

impl MarkedEventReceiver for ComposeServices {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        match ev {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                if self.stack.len() == 2 && is_map && self.in_services() {
                    if let Some(name) = self.stack[1].key.clone() {
                        self.services.push((name, false));
                    }
                }
                self.stack.push(Frame {
                    is_map,
                    key: None,
                    awaiting_value: false,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.took_value();
            }
            Event::Scalar(text, ..) => {
                let depth = self.stack.len();
                let in_services = self.in_services();
                let Some(top) = self.stack.last_mut() else {
                    return;
                };
                if top.is_map && !top.awaiting_value {
                    if depth == 3 && in_services && text == "healthcheck" {
                        if let Some(last) = self.services.last_mut() {
                            last.1 = true;
                        }
                    }
                    top.key = Some(text);
                    top.awaiting_value = true;
                } else {
                    top.awaiting_value = false;
                }
            }
            Event::Alias(_) => self.took_value(),
            _ => {}
        }
    }
}

/// Runs the YAML parser over `text` without building a tree.
fn parse_events(
    text: &str,
    receiver: &mut impl MarkedEventReceiver,
) -> Result<(), yaml_rust2::ScanError> {
    let mut parser = Parser::new_from_str(text);
    parser.load(receiver, true)
}

struct Ignore;

impl MarkedEventReceiver for Ignore {
    fn on_event(&mut self, _ev: Event, _mark: Marker) {}
}

/// The text is one or more well-formed YAML documents.
pub fn yaml(text: &str, template: &str, path: &str) -> Result<(), Diagnostic> {
    parse_events(text, &mut Ignore).map_err(|e| {
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

/// Services declared in a compose file, in order, and whether each has a healthcheck.
#[must_use]
pub fn compose_services(text: &str) -> Option<Vec<(String, bool)>> {
    let mut r = ComposeServices::default();
    parse_events(text, &mut r).ok()?;
    Some(r.services)
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
        let c = "services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, x]}\n  b: {image: y, environment: {healthcheck: 1}}\n  c:\n    ports: [\"1:1\"]\n    healthcheck:\n      test: [CMD]\nvolumes:\n  d: {}\n";
        assert_eq!(
            compose_services(c).unwrap(),
            vec![
                ("a".to_string(), true),
                ("b".to_string(), false),
                ("c".to_string(), true)
            ]
        );
    }

    #[test]
    fn finds_compose_services_and_their_healthchecks() {
        let c = "services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, x]}\n  b: {image: y, environment: {healthcheck: 1}}\n  c:\n    ports: [\"1:1\"]\n    healthcheck:\n      test: [CMD]\nvolumes:\n  d: {}\n";
        let found = compose_services(c).unwrap();
        let want = vec![
            ("a".to_string(), true),
            ("b".to_string(), false),
            ("c".to_string(), true),
        ];
        assert_eq!(found, want);
        assert_eq!(
            compose_services("x: {services: {a: {}}}\n").unwrap(),
            Vec::new()
        );
    }
}
