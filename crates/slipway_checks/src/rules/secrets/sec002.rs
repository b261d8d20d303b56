//! SEC002 assigned-or-high-entropy-secret.

use crate::rules::secrets::identifiers::{is_structured_identifier, naming_lines};
use crate::rules::secrets::{entropy, is_reference, is_secret_name, redact};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;

rule! {
    /// ## What it does
    /// Scans every checked file, line by line, for a secret-named key assigned a
    /// literal (`API_KEY=...`, `password: ...`, `"token": "..."`) and for long
    /// high-entropy tokens assigned to any key. Values that are references
    /// (`${VAR}`, `/run/secrets/...`), placeholders (`changeme`, `example`, `<...>`),
    /// digests and checksums (pure hex) are allowed. So are structured identifiers:
    /// values at naming positions of YAML (`apiVersion`, `kind`, `name`, `secretName`,
    /// `image`, labels, a workflow's `inputs.*.default`) and values made of words and
    /// numbers joined by `/ . - _ : @` (`networking.istio.io/v1alpha3`,
    /// `projects/123/locations/global/workloadIdentityPools/...`).
    ///
    /// ## Why
    /// Secrets hide in shell scripts, ConfigMaps and arguments as well as in the
    /// places the structured rules look (CMP009, K8S016, DKR008); this catches the rest.
    ///
    /// ## Example
    /// ```sh
    /// export STRIPE_SECRET="rk_4eC39HqLyjWDarjtT1zdp7dc"
    /// ```
    ///
    /// ## Fix
    /// Read it at run time from a secret file or a secret manager; revoke what was committed.
    ///
    /// Peers: gitleaks generic-api-key; checkov CKV_SECRET_6, CKV_SECRET_19.
    Sec002 { id: "SEC002", name: "assigned-or-high-entropy-secret", severity: Error, production: true, peers: "gitleaks generic-api-key; checkov CKV_SECRET_6, CKV_SECRET_19" }
}

const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change-me",
    "example",
    "password",
    "secret",
    "placeholder",
    "dummy",
    "redacted",
    "xxxxxx",
    "******",
    "todo",
    "none",
    "null",
    "true",
    "false",
];

/// `(key, value, value offset in line)` of an assignment on a line, if any.
fn assignment(line: &str) -> Option<(&str, &str, usize)> {
    let t = line
        .trim_start()
        .trim_start_matches("export ")
        .trim_start_matches("- ");
    let sep = t.find([':', '='])?;
    let key = t[..sep].trim().trim_matches(['"', '\'']);
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return None;
    }
    let raw = t[sep + 1..].trim();
    let value = raw.trim_end_matches(',').trim_matches(['"', '\'']);
    let offset = line.len() - t.len()
        + sep
        + 1
        + (t[sep + 1..].len() - t[sep + 1..].trim_start().len())
        + usize::from(raw.starts_with(['"', '\'']));
    Some((key, value, offset))
}

fn suspicious(key: &str, value: &str) -> bool {
    // Secrets are single tokens: flow lists, commands and paths are not.
    let token = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '.' | '~'));
    if value.len() < 8 || !token || is_reference(value) || value.starts_with('/') {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    // Digests, checksums and cloud ids (`ami-0123abcd`, `sg-...`) are hex, not secrets.
    let id_tail = lower
        .split_once('-')
        .filter(|(p, _)| p.len() <= 8 && p.chars().all(|c| c.is_ascii_lowercase()))
        .map_or(lower.as_str(), |(_, t)| t);
    if PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || value.starts_with('<')
        || id_tail.chars().all(|c| c.is_ascii_hexdigit())
    {
        return false;
    }
    let mixed =
        value.chars().any(|c| c.is_ascii_digit()) && value.chars().any(|c| c.is_ascii_alphabetic());
    // A plain lowercase word (`required`, `enabled`) is a setting, not a secret.
    let word = value.chars().all(|c| c.is_ascii_lowercase()) && value.len() < 16;
    (is_secret_name(key) && !word)
        || (value.len() >= 20 && mixed && entropy(value) >= 4.0 && !is_structured_identifier(value))
}

impl Rule for Sec002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for f in &tree.files {
            let naming = naming_lines(f);
            let mut offset = 0;
            for (n, line) in f.source.text.split_inclusive('\n').enumerate() {
                let body = line.trim_end_matches(['\n', '\r']);
                if !body.trim_start().starts_with('#') && !naming.contains(&(n + 1)) {
                    if let Some((key, value, at)) = assignment(body) {
                        if suspicious(key, value) {
                            let start = offset + at;
                            out.add(
                                &Self::META,
                                &f.source,
                                Span::new(start, (start + value.len()).min(offset + body.len())),
                                format!(
                                    "`{key}` is assigned what looks like a secret (`{}`)",
                                    redact(value)
                                ),
                                Some(
                                    "read it at run time from a secret; revoke the committed value",
                                ),
                            );
                        }
                    }
                }
                offset += line.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_and_entropy() {
        assert!(suspicious("STRIPE_SECRET", "rk_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(suspicious("value", "Zx9Qm2Lp8Rt4Vw7Ny3Kb6Hc1Jd5Fg0Ss"));
        assert!(!suspicious("DB_PASSWORD", "${DB_PASSWORD}"));
        assert!(!suspicious("DB_PASSWORD", "changeme123"));
        assert!(!suspicious(
            "digest",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        ));
        assert!(!suspicious("LOG_LEVEL", "info"));
        assert!(!suspicious("http_tokens", "required"));
        assert!(!suspicious("ami", "ami-0123456789abcdef0"));
        let (k, v, at) = assignment("  export API_TOKEN=\"abcdefgh123\"").unwrap();
        assert_eq!((k, v), ("API_TOKEN", "abcdefgh123"));
        assert_eq!(&"  export API_TOKEN=\"abcdefgh123\""[at..at + v.len()], v);
    }
}
