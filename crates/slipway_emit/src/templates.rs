//! The template set: built-in templates embedded in the binary, any of which a user
//! may override with a file of the same relative name in a folder (`--templates DIR`).

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use slipway_diagnostics::Diagnostic;
use std::collections::BTreeMap;
use std::error::Error as _;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        /// Every built-in template's relative name.
        pub const TEMPLATE_NAMES: &[&str] = &[$($name),*];
        fn builtin(name: &str) -> Option<&'static str> {
            match name {
                $($name => Some(include_str!(concat!("../templates/", $name))),)*
                _ => None,
            }
        }
    };
}

builtin!(
    "docker/python.Dockerfile.j2",
    "docker/node.Dockerfile.j2",
    "docker/go.Dockerfile.j2",
    "docker/rust.Dockerfile.j2",
    "docker/java.Dockerfile.j2",
    "docker/gradle.Dockerfile.j2",
    "docker/dockerignore.j2",
    "compose/docker-compose.yaml.j2",
    "compose/docker-compose.dev.yaml.j2",
    "compose/docker-compose.prod.yaml.j2",
    "compose/env.example.j2",
    "compose/gitignore.j2",
    "scripts/start.sh.j2",
    "scripts/healthcheck.sh.j2",
    "kubernetes/object.yaml.j2",
    "kubernetes/README.md.j2",
    "monitoring/config.yaml.j2",
);

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template override folder {path} cannot be read")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Embedded templates plus an optional override folder.
pub struct Templates {
    env: Environment<'static>,
    overridden: Vec<String>,
}

impl Templates {
    /// The built-in set, with overrides from `dir` when given.
    ///
    /// # Errors
    /// When `dir` is given but cannot be read.
    pub fn new(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut overrides: BTreeMap<String, String> = BTreeMap::new();
        if let Some(dir) = dir {
            for name in TEMPLATE_NAMES {
                let path = dir.join(name);
                if path.is_file() {
                    let text = std::fs::read_to_string(&path).map_err(|source| {
                        TemplateError::Unreadable {
                            path: path.clone(),
                            source,
                        }
                    })?;
                    overrides.insert((*name).to_string(), text);
                }
            }
            if !dir.is_dir() {
                return Err(TemplateError::Unreadable {
                    path: dir.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
                });
            }
        }
        let overridden = overrides.keys().cloned().collect();
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("yaml", yaml_scalar);
        env.add_filter("json", json);
        env.add_filter("shq", shell_quote);
        env.add_filter("to_yaml", to_yaml);
        env.set_loader(move |name| {
            Ok(overrides
                .get(name)
                .cloned()
                .or_else(|| builtin(name).map(ToString::to_string)))
        });
        Ok(Self { env, overridden })
    }

    /// Names of the templates the user overrode.
    #[must_use]
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// Renders `name` with `ctx`; a template error becomes a diagnostic naming the
    /// template and its line.
    ///
    /// # Errors
    /// A `TPL001` diagnostic when the template is missing, malformed or fails.
    pub fn render(&self, name: &str, ctx: &impl serde::Serialize) -> Result<String, Diagnostic> {
        let origin = if self.overridden.iter().any(|o| o == name) {
            "overridden template"
        } else {
            "built-in template"
        };
        let fail = |e: minijinja::Error| {
            let mut detail = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                let _ = write!(detail, ": {s}");
                source = s.source();
            }
            Diagnostic::error("TPL001", format!("{origin} `{name}` failed to render"))
                .in_file(&format!("templates/{name}"))
                .found(format!(
                    "{detail}{}",
                    e.line()
                        .map(|l| format!(" (template line {l})"))
                        .unwrap_or_default()
                ))
                .help("fix the template, or remove the override to use the built-in one")
        };
        let tpl = self.env.get_template(name).map_err(fail)?;
        tpl.render(Value::from_serialize(ctx)).map_err(fail)
    }
}

/// A YAML scalar: plain when it cannot be misread, double-quoted otherwise.
fn yaml_scalar(v: &Value) -> String {
    let s = v
        .as_str()
        .map_or_else(|| v.to_string(), ToString::to_string);
    if v.as_str().is_none() && (v.is_number() || v.kind() == minijinja::value::ValueKind::Bool) {
        return s;
    }
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '.')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if safe {
        s
    } else {
        serde_json::to_string(&s).unwrap_or_default()
    }
}

/// A mapping or sequence as block YAML (the generated Kubernetes objects).
fn to_yaml(v: &Value) -> String {
    if let Some(doc) = v.downcast_object_ref::<JsonDoc>() {
        return crate::yaml_out::to_yaml(&doc.0, 0).trim_end().to_string();
    }
    let json = serde_json::to_value(v).unwrap_or_default();
    crate::yaml_out::to_yaml(&json, 0).trim_end().to_string()
}

/// A JSON document handed to a template as it is. Templates read it like any other
/// value (`object.metadata.name`, loops, filters), and `to_yaml` writes it straight
/// from the JSON instead of converting it to a template value and back (that round
/// trip was a fifth of the Kubernetes emitter's time).
#[derive(Debug)]
pub(crate) struct JsonDoc(pub serde_json::Value);

impl JsonDoc {
    pub(crate) fn value(doc: serde_json::Value) -> Value {
        Value::from_object(JsonDoc(doc))
    }
}

impl minijinja::value::Object for JsonDoc {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        match &self.0 {
            serde_json::Value::Array(_) => minijinja::value::ObjectRepr::Seq,
            _ => minijinja::value::ObjectRepr::Map,
        }
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        let child = match &self.0 {
            serde_json::Value::Object(m) => m.get(key.as_str()?)?,
            serde_json::Value::Array(a) => a.get(usize::try_from(key.as_i64()?).ok()?)?,
            _ => return None,
        };
        Some(Value::from_serialize(child))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        match &self.0 {
            serde_json::Value::Object(m) => minijinja::value::Enumerator::Values(
                m.keys().map(|k| Value::from(k.as_str())).collect(),
            ),
            serde_json::Value::Array(a) => minijinja::value::Enumerator::Seq(a.len()),
            _ => minijinja::value::Enumerator::Empty,
        }
    }
}

fn json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// POSIX shell single quoting.
fn shell_quote(v: &Value) -> String {
    let s = v
        .as_str()
        .map_or_else(|| v.to_string(), ToString::to_string);
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | ':' | '='))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(yaml_scalar(&Value::from("api")), "api");
        assert_eq!(yaml_scalar(&Value::from("yes")), "\"yes\"");
        assert_eq!(yaml_scalar(&Value::from("8000")), "\"8000\"");
        assert_eq!(yaml_scalar(&Value::from("a: b")), "\"a: b\"");
        assert_eq!(yaml_scalar(&Value::from(3)), "3");
        assert_eq!(shell_quote(&Value::from("it's")), r"'it'\''s'");
    }

    #[test]
    fn every_builtin_template_parses() {
        let t = Templates::new(None).unwrap();
        for name in TEMPLATE_NAMES {
            assert!(t.env.get_template(name).is_ok(), "{name}");
        }
    }
}
