//! Secret rules and the detectors they share: secret-looking names, known token
//! formats, credentials in URLs. Reported values are always redacted.

pub mod identifiers;
pub mod sec001;
pub mod sec002;
pub mod sec003;

pub use slipway_import::secrets::is_secret_name;

/// Whether a value is a reference rather than a literal (`${VAR}`, a secret file).
#[must_use]
pub fn is_reference(value: &str) -> bool {
    value.is_empty()
        || value.starts_with("${")
        || value.starts_with('$')
        || value.starts_with("/run/secrets")
        || value.starts_with('<')
}

/// `abcd…` for a secret value.
#[must_use]
pub fn redact(value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    format!("{head}…")
}

/// Known token formats: (name, prefix, minimum length of the rest, allowed chars).
const TOKENS: &[(&str, &str, usize)] = &[
    ("AWS access key id", "AKIA", 16),
    ("AWS access key id", "ASIA", 16),
    ("GitHub token", "ghp_", 36),
    ("GitHub token", "gho_", 36),
    ("GitHub token", "ghs_", 36),
    ("GitHub fine-grained token", "github_pat_", 40),
    ("Slack token", "xoxb-", 20),
    ("Slack token", "xoxp-", 20),
    ("Stripe live key", "sk_live_", 20),
    ("Google API key", "AIza", 35),
];

/// Every known-format token in `text`: (byte offset, length, kind).
#[must_use]
pub fn find_tokens(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    for (kind, prefix, min) in TOKENS {
        for (i, _) in text.match_indices(prefix) {
            let before_ok = i == 0 || !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
            let rest = &text[i + prefix.len()..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            let upper_only = prefix.starts_with("AKIA") || prefix.starts_with("ASIA");
            let ok_chars = !upper_only
                || rest[..len]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if before_ok && len >= *min && ok_chars {
                out.push((i, prefix.len() + len, *kind));
            }
        }
    }
    for (i, _) in text.match_indices("-----BEGIN ") {
        let line_end = text[i..].find('\n').map_or(text.len(), |e| i + e);
        if text[i..line_end].contains("PRIVATE KEY-----") {
            out.push((i, line_end - i, "private key"));
        }
    }
    out.sort_unstable();
    out
}

/// `scheme://user:password@host` in `text`: (offset of the password, its length).
#[must_use]
pub fn find_url_credentials(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("://") {
        let rest = &text[i + 3..];
        let end = rest
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '`' | ')' | ']' | '}' | ',')
            })
            .unwrap_or(rest.len());
        let auth_part = &rest[..end];
        let Some(at) = auth_part.rfind('@') else {
            continue;
        };
        let Some(colon) = auth_part[..at].find(':') else {
            continue;
        };
        let password = &auth_part[colon + 1..at];
        if !password.is_empty() && !is_reference(password) && !password.starts_with('%') {
            out.push((i + 3 + colon + 1, password.len()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detectors() {
        assert!(
            is_secret_name("DB_PASSWORD")
                && is_secret_name("apiKey")
                && !is_secret_name("DB_PASSWORD_FILE")
                && !is_secret_name("LOG_LEVEL")
        );
        let t = "key: AKIAIOSFODNN7EXAMPLE\nx: ghp_0123456789abcdef0123456789abcdef0123\n";
        let kinds: Vec<&str> = find_tokens(t).iter().map(|f| f.2).collect();
        assert_eq!(kinds, vec!["AWS access key id", "GitHub token"]);
        assert_eq!(
            find_url_credentials("postgres://app:s3cret@db:5432/x").len(),
            1
        );
        assert!(find_url_credentials("postgres://app:${PW}@db/x").is_empty());
        assert!(find_url_credentials("https://example.com/a@b").is_empty());
    }
}
