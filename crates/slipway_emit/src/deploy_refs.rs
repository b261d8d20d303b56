//! Variables filled in at deploy time (`App::deploy_vars`): secrets moved out of
//! commands and build args, and variables the input left unset. In the model's text
//! their `${NAME}` is a reference, not text:
//! - compose keeps `${NAME}` for its own interpolation (from `.env`), and escapes every
//!   other `$`;
//! - Kubernetes turns it into `$(NAME)` in a container's command and args, where the
//!   container has `NAME` (from the Secret), and runs a health command that holds one
//!   through `sh`, which reads the variable when the probe runs (probes get no `$(...)`
//!   expansion).

use slipway_model::{App, Service};

/// The deploy variable whose `${NAME}` starts `s`, if any: (name, length).
fn reference<'a>(app: &App, s: &'a str) -> Option<(&'a str, usize)> {
    let body = s.strip_prefix("${")?;
    let end = body.find('}')?;
    let name = &body[..end];
    app.deploy_vars
        .iter()
        .any(|v| v == name)
        .then_some((name, end + 3))
}

/// Splits `s` into literal text and references: `(text, is_reference_name)`.
fn parts<'a>(app: &App, s: &'a str) -> Vec<(&'a str, bool)> {
    let mut out = Vec::new();
    let mut last = 0;
    let mut i = 0;
    while let Some(off) = s[i..].find('$') {
        let at = i + off;
        if let Some((name, len)) = reference(app, &s[at..]) {
            if last < at {
                out.push((&s[last..at], false));
            }
            out.push((name, true));
            last = at + len;
            i = last;
        } else {
            i = at + 1;
        }
    }
    if last < s.len() {
        out.push((&s[last..], false));
    }
    out
}

/// Text for a compose file: `$` escaped as `$$`, except deploy references.
#[must_use]
pub(crate) fn compose(app: &App, s: &str) -> String {
    parts(app, s)
        .into_iter()
        .map(|(t, r)| {
            if r {
                format!("${{{t}}}")
            } else {
                t.replace('$', "$$")
            }
        })
        .collect()
}

fn in_container(svc: &Service, name: &str) -> bool {
    svc.secret_env.iter().any(|s| s == name)
}

/// A command or args for Kubernetes: references to the container's own variables
/// become `$(NAME)`.
#[must_use]
pub(crate) fn kubernetes_args(app: &App, svc: &Service, argv: &[String]) -> Vec<String> {
    argv.iter()
        .map(|a| {
            parts(app, a)
                .into_iter()
                .map(|(t, r)| {
                    if r && in_container(svc, t) {
                        format!("$({t})")
                    } else if r {
                        format!("${{{t}}}")
                    } else {
                        t.to_string()
                    }
                })
                .collect()
        })
        .collect()
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A health command for a Kubernetes exec probe: one that refers to the container's
/// variables runs through `sh`, which reads them when the probe runs.
#[must_use]
pub(crate) fn kubernetes_probe(app: &App, svc: &Service, argv: &[String]) -> Vec<String> {
    let refers = argv.iter().any(|a| {
        parts(app, a)
            .iter()
            .any(|(t, r)| *r && in_container(svc, t))
    });
    if !refers {
        return argv.to_vec();
    }
    if argv.len() >= 3
        && matches!(argv[0].as_str(), "sh" | "bash" | "/bin/sh" | "/bin/bash")
        && argv[1] == "-c"
    {
        // A shell script already: the shell expands `${NAME}` from the environment.
        return argv.to_vec();
    }
    let line = argv
        .iter()
        .map(|a| {
            parts(app, a)
                .into_iter()
                .map(|(t, r)| {
                    if r && in_container(svc, t) {
                        format!("\"${{{t}}}\"")
                    } else {
                        sh_quote(t)
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    vec!["sh".into(), "-c".into(), format!("exec {line}")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> (App, Service) {
        let app = App {
            deploy_vars: vec!["PW".into(), "TAG".into()],
            ..App::default()
        };
        let svc = Service {
            secret_env: vec!["PW".into()],
            ..Service::default()
        };
        (app, svc)
    }

    #[test]
    fn compose_keeps_only_deploy_references() {
        let (app, _) = app();
        assert_eq!(
            compose(&app, "a $HOME ${PW} ${OTHER} $$ ${TAG}"),
            "a $$HOME ${PW} $${OTHER} $$$$ ${TAG}"
        );
    }

    #[test]
    fn kubernetes_uses_the_containers_variables() {
        let (app, svc) = app();
        assert_eq!(
            kubernetes_args(
                &app,
                &svc,
                &["--requirepass".into(), "${PW}".into(), "x:${TAG}".into()]
            ),
            vec!["--requirepass", "$(PW)", "x:${TAG}"]
        );
        assert_eq!(
            kubernetes_probe(
                &app,
                &svc,
                &[
                    "redis-cli".into(),
                    "-a".into(),
                    "${PW}".into(),
                    "it's".into()
                ]
            ),
            vec!["sh", "-c", "exec 'redis-cli' '-a' \"${PW}\" 'it'\\''s'"]
        );
        let shell = vec![
            "sh".to_string(),
            "-c".into(),
            "redis-cli -a \"${PW}\" ping".into(),
        ];
        assert_eq!(kubernetes_probe(&app, &svc, &shell), shell);
        let plain = vec!["pg_isready".to_string()];
        assert_eq!(kubernetes_probe(&app, &svc, &plain), plain);
    }
}
