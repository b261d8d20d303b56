//! Secrets outside `environment`: in a command, entrypoint or health check (a known
//! secret value as a whole token, the argument of a secret option such as
//! `--password X`, a known token format, a password in a URL) and inside other
//! environment values. Each becomes a `${VAR}` reference that the deploy fills in
//! (compose from `.env`, Kubernetes from the Secret); the value is never written.
//!
//! Only whole tokens are replaced, never substrings: `/healthchecks/postgres.sh`
//! stays when the password is `postgres`. A secret that is a common word is not
//! replaced anywhere else; a warning says where it also appears.

use super::service::{At, ComposeService, HealthSetting};
use crate::secrets::{find_tokens, find_url_credentials, is_common_word, is_secret_option};
use slipway_diagnostics::{Diagnostic, Diagnostics};
use slipway_model::Health;

/// Token boundaries inside an argument or a shell script.
fn is_boundary(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\'' | '"' | '=' | ';' | ',' | '|' | '&' | '(' | ')' | '<' | '>' | '`'
        )
}

/// Byte ranges of the tokens of `s`.
fn tokens(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (is_boundary(c), start) {
            (true, Some(st)) => {
                out.push((st, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

/// The state of one service's scrubbing.
struct Scrubber<'a> {
    label: &'a str,
    /// Known secret values: (variable, value).
    known: Vec<(String, String)>,
    /// Variables introduced or referenced, to add to the service's secret variables.
    used: Vec<String>,
    /// What was found, for the report: (why, variable).
    found: Vec<(String, String)>,
    /// Common-word secrets seen as tokens: variables.
    common: Vec<String>,
    pending_option: Option<String>,
}

impl Scrubber<'_> {
    /// The variable for `value`: a known one, or a new `<SERVICE>_<WHAT>`.
    fn var_for(&mut self, value: &str, what: &str) -> String {
        if let Some((k, _)) = self.known.iter().find(|(_, v)| v == value) {
            return k.clone();
        }
        let base = format!("{}_{}", self.label, what)
            .to_ascii_uppercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>();
        let mut name = base.clone();
        let mut n = 2;
        while self.known.iter().any(|(k, _)| *k == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.known.push((name.clone(), value.to_string()));
        name
    }

    fn use_var(&mut self, var: &str, why: String) {
        if !self.used.iter().any(|u| u == var) {
            self.used.push(var.to_string());
        }
        self.found.push((why, var.to_string()));
    }

    /// One argument or script with its secret tokens replaced.
    fn text(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for (a, b) in tokens(s) {
            let t = &s[a..b];
            if let Some(rep) = self.token(t) {
                out.push_str(&s[last..a]);
                out.push_str(&rep);
                last = b;
            }
        }
        out.push_str(&s[last..]);
        out
    }

    /// The replacement for one token, if it holds a secret.
    fn token(&mut self, t: &str) -> Option<String> {
        if t.starts_with("${") && t.ends_with('}') {
            self.pending_option = None;
            return None;
        }
        if let Some(option) = self.pending_option.take() {
            // `--password "$(cat /run/secrets/x)"`, `--password $PW`: read at run time.
            if crate::secrets::is_reference(t) || t.starts_with('/') {
                return None;
            }
            let var = self.var_for(t, &option);
            self.use_var(&var, format!("the argument of `--{option}`"));
            return Some(format!("${{{var}}}"));
        }
        if let Some((var, value)) = self.known.iter().find(|(_, v)| v == t).cloned() {
            if is_common_word(&value) {
                if !self.common.contains(&var) {
                    self.common.push(var);
                }
                return None;
            }
            self.use_var(&var, format!("the value of `{var}`"));
            return Some(format!("${{{var}}}"));
        }
        if let Some(rest) = t.strip_prefix("-p") {
            if let Some((var, _)) = self
                .known
                .iter()
                .find(|(_, v)| v == rest && !is_common_word(v))
                .cloned()
            {
                self.use_var(&var, format!("the value of `{var}`"));
                return Some(format!("-p${{{var}}}"));
            }
        }
        if let Some((0, len, kind)) = find_tokens(t).first().copied() {
            if len == t.len() {
                let var = self.var_for(t, "token");
                self.use_var(&var, format!("a {kind}"));
                return Some(format!("${{{var}}}"));
            }
        }
        if let Some((at, len)) = find_url_credentials(t).first().copied() {
            let var = self.var_for(&t[at..at + len], "url_password");
            self.use_var(&var, "a password in a URL".into());
            return Some(format!("{}${{{var}}}{}", &t[..at], &t[at + len..]));
        }
        if is_secret_option(t) {
            let name = t.trim_start_matches('-').to_string();
            self.pending_option = Some(name);
        }
        None
    }

    fn argv(&mut self, argv: &[String]) -> Vec<String> {
        self.pending_option = None;
        let out = argv.iter().map(|a| self.text(a)).collect();
        self.pending_option = None;
        out
    }
}

fn at(svc: &ComposeService, key: &str) -> At {
    svc.keys.get(key).cloned().unwrap_or_else(|| svc.at.clone())
}

/// Replaces secrets in `svc` (compose name `name`, model name `label`); `global` are
/// secret values of `.env` files.
pub(crate) fn scrub(
    svc: &mut ComposeService,
    name: &str,
    label: &str,
    global: &[(String, String, String)],
    diags: &mut Diagnostics,
) {
    let mut known = svc.secret_values.clone();
    for (k, v, _) in global {
        if !known.iter().any(|(_, kv)| kv == v) {
            known.push((k.clone(), v.clone()));
        }
    }
    known.retain(|(_, v)| !v.is_empty());
    let mut s = Scrubber {
        label,
        known,
        used: Vec::new(),
        found: Vec::new(),
        common: Vec::new(),
        pending_option: None,
    };
    let mut fields: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    if let Some(c) = svc.command.take() {
        let new = s.argv(&c);
        fields.push(("command", std::mem::take(&mut s.found)));
        svc.command = Some(new);
    }
    if let Some(c) = svc.entrypoint.take() {
        let new = s.argv(&c);
        fields.push(("entrypoint", std::mem::take(&mut s.found)));
        svc.entrypoint = Some(new);
    }
    if let Some(HealthSetting::Test(Health::Command { command })) = &svc.health {
        let new = s.argv(command);
        fields.push(("healthcheck", std::mem::take(&mut s.found)));
        svc.health = Some(HealthSetting::Test(Health::Command { command: new }));
    }
    for (field, found) in fields {
        let (file, span) = at(svc, field);
        for (why, var) in found {
            diags.push(
                Diagnostic::warning("CMP009", format!("service `{name}`: the {field} held a secret ({why}); it now reads `${{{var}}}`, filled in at deploy time, and the value is not carried over"))
                    .at(&file, span)
                    .help(format!("set `{var}` in compose's `.env` (and in the Kubernetes Secret under `{}`)", var.to_ascii_lowercase().replace('_', "-"))),
            );
        }
    }
    environment_values(svc, name, &mut s, diags);
    for var in &s.common {
        let (file, span) = at(svc, "environment");
        diags.push(
            Diagnostic::warning("CMP009", format!("service `{name}`: the secret `{var}` is a common word that also appears in its command, health check or environment; those places are left as written"))
                .at(&file, span)
                .help(format!("if a place means the secret, write `${{{var}}}` there; better, give `{var}` a random value")),
        );
    }
    for var in s.used {
        if !svc.secret_env.contains(&var) {
            svc.secret_env.push(var.clone());
        }
        svc.deploy_refs.push(var);
    }
    for (k, v) in s.known {
        if !svc.secret_values.iter().any(|(sk, _)| *sk == k) {
            svc.secret_values.push((k, v));
        }
    }
}

/// An environment value that contains a known secret value as a whole token becomes a
/// secret reference itself (the variable is then set from `.env` / the Secret).
fn environment_values(
    svc: &mut ComposeService,
    name: &str,
    s: &mut Scrubber<'_>,
    diags: &mut Diagnostics,
) {
    if s.known.is_empty() {
        return;
    }
    let keys: Vec<String> = svc.env.keys().cloned().collect();
    for k in keys {
        let v = &svc.env[&k];
        let hit = tokens(v).iter().find_map(|(a, b)| {
            let t = &v[*a..*b];
            s.known.iter().find(|(kk, kv)| kv == t && *kk != k).cloned()
        });
        let Some((var, value)) = hit else { continue };
        if is_common_word(&value) {
            if !s.common.contains(&var) {
                s.common.push(var);
            }
            continue;
        }
        svc.env.remove(&k);
        svc.secret_env.push(k.clone());
        let (file, span) = at(svc, "environment");
        diags.push(
            Diagnostic::warning("CMP009", format!("service `{name}`: `{k}` contains the value of the secret `{var}`; it becomes a secret reference and its value is not carried over"))
                .at(&file, span)
                .help(format!("set `{k}` in compose's `.env` and the Kubernetes Secret, or build it at run time from `${{{var}}}`")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber(known: &[(&str, &str)]) -> Scrubber<'static> {
        Scrubber {
            label: "cache",
            known: known
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            used: Vec::new(),
            found: Vec::new(),
            common: Vec::new(),
            pending_option: None,
        }
    }

    #[test]
    fn whole_tokens_only() {
        let mut s = scrubber(&[("PG_PASSWORD", "postgres"), ("API_SECRET", "S3cr3t-Val")]);
        let out = s.argv(&[
            "/healthchecks/postgres.sh".into(),
            "postgres".into(),
            "x-S3cr3t-Val".into(),
            "--key=S3cr3t-Val".into(),
        ]);
        assert_eq!(
            out,
            vec![
                "/healthchecks/postgres.sh",
                "postgres",
                "x-S3cr3t-Val",
                "--key=${API_SECRET}"
            ]
        );
        assert_eq!(s.common, vec!["PG_PASSWORD".to_string()]);
    }

    #[test]
    fn options_tokens_urls_in_exec_and_shell_forms() {
        let mut s = scrubber(&[]);
        let out = s.argv(&[
            "redis-server".into(),
            "--requirepass".into(),
            "hunter22".into(),
        ]);
        assert_eq!(out[2], "${CACHE_REQUIREPASS}");
        let out = s.argv(&[
            "sh".into(),
            "-c".into(),
            "mysql --password='hunter22' && curl -H ghp_0123456789abcdef0123456789abcdef0123 http://u:pw1@db/x".into(),
        ]);
        assert_eq!(
            out[2],
            "mysql --password='${CACHE_REQUIREPASS}' && curl -H ${CACHE_TOKEN} http://u:${CACHE_URL_PASSWORD}@db/x"
        );
        let out = s.argv(&[
            "--password".into(),
            "${FROM_ENV}".into(),
            "--port".into(),
            "6379".into(),
        ]);
        assert_eq!(out, vec!["--password", "${FROM_ENV}", "--port", "6379"]);
        let out = s.argv(&["mysql".into(), "-phunter22".into()]);
        assert_eq!(out[1], "-p${CACHE_REQUIREPASS}");
        let runtime = "mysqladmin ping --password=\"$(cat /run/secrets/db-password)\" --silent";
        let out = s.argv(&["sh".into(), "-c".into(), runtime.into()]);
        assert_eq!(out[2], runtime, "a value read at run time is not a secret");
        let out = s.argv(&[
            "--password".into(),
            "$PW".into(),
            "--token".into(),
            "/run/secrets/t".into(),
        ]);
        assert_eq!(out, vec!["--password", "$PW", "--token", "/run/secrets/t"]);
    }
}
