//! What counts as a secret-looking variable name. One definition for the spec
//! reader, the importers and `slipway check`, so they agree.

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "ACCESS_KEY",
];

/// A variable name that holds a secret (`DB_PASSWORD`, `apiKey`), not a reference to
/// one (`DB_PASSWORD_FILE`).
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    let squashed = upper.replace('_', "");
    !upper.ends_with("_FILE")
        && (SECRET_WORDS.iter().any(|w| upper.contains(w)) || squashed.contains("APIKEY"))
}

#[cfg(test)]
mod tests {
    use super::is_secret_name;

    #[test]
    fn names() {
        assert!(
            is_secret_name("DB_PASSWORD")
                && is_secret_name("apiKey")
                && is_secret_name("stripe-api-key")
        );
        assert!(!is_secret_name("DB_PASSWORD_FILE") && !is_secret_name("LOG_LEVEL"));
    }
}
