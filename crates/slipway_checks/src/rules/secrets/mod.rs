//! Secret rules and the detectors they share: secret-looking names, known token
//! formats, credentials in URLs. Reported values are always redacted.

pub mod identifiers;
pub mod sec001;
pub mod sec002;
pub mod sec003;

// The detectors live with the importers, which must never write what `check` flags;
// they are re-exported here for the rules.
pub use slipway_import::secrets::{
    entropy, find_tokens, find_url_credentials, is_reference, is_secret_name,
};

/// `abcd…` for a secret value.
#[must_use]
pub fn redact(value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    format!("{head}…")
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
