//! What counts as a secret: secret-looking variable names, known token formats,
//! credentials in URLs and long high-entropy tokens. One definition for the spec
//! reader, the importers and `slipway check` (its SEC/CMP rules re-export these), so
//! what `check` flags is what an import never writes.

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

/// Name parts that mean a password when they are one part of a longer name
/// (`RABBITMQ_DEFAULT_PASS`, `MYSQL_PWD`; not `PWD` alone, the working directory).
const SECRET_PARTS: &[&str] = &["PASS", "PWD", "PASSPHRASE"];

/// A variable name that holds a secret (`DB_PASSWORD`, `apiKey`,
/// `RABBITMQ_DEFAULT_PASS`), not a reference to one (`DB_PASSWORD_FILE`).
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    let squashed = upper.replace('_', "");
    if upper.ends_with("_FILE") {
        return false;
    }
    let parts: Vec<&str> = upper.split('_').filter(|p| !p.is_empty()).collect();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
        || squashed.contains("APIKEY")
        || (parts.len() > 1 && parts.iter().any(|p| SECRET_PARTS.contains(p)))
}

/// Whether a value is a reference rather than a literal (`${VAR}`, a secret file).
#[must_use]
pub fn is_reference(value: &str) -> bool {
    value.is_empty()
        || value.starts_with("${")
        || value.starts_with('$')
        || value.starts_with("/run/secrets")
        || value.starts_with('<')
}

/// Known token formats: (name, prefix, minimum length of the rest).
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

/// Shannon entropy in bits per character (the importer's scrubber and SEC002 both
/// measure with it). Values are far shorter than 2^52 bytes, so the float
/// conversions are exact.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A long random-looking single token: 20+ characters of letters, digits and
/// `_-+/=`, both letters and digits, at least 4 bits of entropy per character, and
/// not pure hex (digests and ids are hex).
#[must_use]
pub fn is_high_entropy_token(value: &str) -> bool {
    let token = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '='));
    let letters = value.chars().any(|c| c.is_ascii_alphabetic());
    let digits = value.chars().any(|c| c.is_ascii_digit());
    let hex = value.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    token
        && value.len() >= 20
        && letters
        && digits
        && !hex
        && !value.starts_with('/')
        && entropy(value) >= 4.0
}

/// Why a value must not be written to a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The variable's name says it holds a secret.
    Name,
    /// A known token format (the format's name).
    Token(&'static str),
    /// A URL carrying a password.
    UrlPassword,
    /// A long high-entropy token.
    Entropy,
}

impl SecretKind {
    /// How the user is told why, in a sentence's middle.
    #[must_use]
    pub fn reason(self) -> String {
        match self {
            SecretKind::Name => "its name says it is a secret".into(),
            SecretKind::Token(kind) => format!("it is a {kind}"),
            SecretKind::UrlPassword => "it is a URL carrying a password".into(),
            SecretKind::Entropy => "it is a long random-looking token".into(),
        }
    }
}

/// Whether `value` (of variable `name`, when it has one) is a secret. References
/// (`${VAR}`, `/run/secrets/...`) and `*_FILE` variables are not.
#[must_use]
pub fn secret_kind(name: Option<&str>, value: &str) -> Option<SecretKind> {
    if is_reference(value) || name.is_some_and(|n| n.to_ascii_uppercase().ends_with("_FILE")) {
        return None;
    }
    if let Some((_, _, kind)) = find_tokens(value).first() {
        return Some(SecretKind::Token(kind));
    }
    if !find_url_credentials(value).is_empty() {
        return Some(SecretKind::UrlPassword);
    }
    if name.is_some_and(is_secret_name) {
        return Some(SecretKind::Name);
    }
    is_high_entropy_token(value).then_some(SecretKind::Entropy)
}

/// Command-line options whose argument is a secret (`--password X`,
/// `--requirepass=X`, `-pX` is not recognised: too ambiguous).
#[must_use]
pub fn is_secret_option(arg: &str) -> bool {
    let Some(name) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
        return false;
    };
    let upper = name.to_ascii_uppercase().replace('-', "_");
    name.len() > 1
        && (is_secret_name(&upper)
            || matches!(
                upper.as_str(),
                "PASS" | "REQUIREPASS" | "MASTERAUTH" | "AUTH" | "PWD"
            ))
}

/// A secret value that is an ordinary word (`postgres`, `example`, `admin`): it is
/// still never written where it is the secret, but other places that contain the same
/// word are not rewritten (a warning says so instead).
#[must_use]
pub fn is_common_word(value: &str) -> bool {
    value.chars().count() < 5
        || (value.chars().all(|c| c.is_ascii_lowercase()) && value.len() <= 12)
        || COMMON.contains(&value.to_ascii_lowercase().as_str())
}

const COMMON: &[&str] = &[
    "password",
    "secret",
    "changeme",
    "example",
    "admin",
    "root",
    "guest",
    "postgres",
    "mysql",
    "redis",
    "rabbitmq",
    "mongo",
    "mongodb",
    "default",
    "letmein",
    "123456",
    "12345678",
    "password1",
    "admin123",
    "test1234",
    "qwerty",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(
            is_secret_name("DB_PASSWORD")
                && is_secret_name("apiKey")
                && is_secret_name("stripe-api-key")
                && is_secret_name("RABBITMQ_DEFAULT_PASS")
                && is_secret_name("MYSQL_PWD")
        );
        assert!(
            !is_secret_name("DB_PASSWORD_FILE")
                && !is_secret_name("LOG_LEVEL")
                && !is_secret_name("PWD")
                && !is_secret_name("BYPASS_CACHE")
                && !is_secret_name("COMPASS_URL")
        );
    }

    #[test]
    fn values() {
        let t = "key: AKIAIOSFODNN7EXAMPLE\nx: ghp_0123456789abcdef0123456789abcdef0123\n";
        let kinds: Vec<&str> = find_tokens(t).iter().map(|f| f.2).collect();
        assert_eq!(kinds, vec!["AWS access key id", "GitHub token"]);
        assert_eq!(
            find_url_credentials("postgres://app:s3cret@db:5432/x").len(),
            1
        );
        assert!(find_url_credentials("postgres://app:${PW}@db/x").is_empty());
        assert!(find_url_credentials("https://example.com/a@b").is_empty());
        assert_eq!(
            secret_kind(Some("GH"), "ghp_0123456789abcdef0123456789abcdef0123"),
            Some(SecretKind::Token("GitHub token"))
        );
        assert_eq!(
            secret_kind(Some("X"), "Zx9Qm2Lp8Rt4Vw7Ny3Kb6Hc1Jd5Fg0Ss"),
            Some(SecretKind::Entropy)
        );
        assert_eq!(secret_kind(Some("DB_PASSWORD"), "${DB_PASSWORD}"), None);
        assert_eq!(
            secret_kind(Some("DB_PASSWORD_FILE"), "/run/secrets/db"),
            None
        );
        for not_secret in [
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "http://api:8000/",
            "/usr/share/nginx/html/index.html",
            "-Xmx512m -XX:+UseG1GC",
            "jdbc:mysql://db:3306/example?useSSL=false",
            "production",
        ] {
            assert_eq!(secret_kind(Some("VALUE"), not_secret), None, "{not_secret}");
        }
    }

    #[test]
    fn options_and_common_words() {
        for o in [
            "--password",
            "--requirepass",
            "-password",
            "--api-key",
            "--db-pass",
        ] {
            assert!(is_secret_option(o), "{o}");
        }
        for o in ["--port", "-p", "--bind", "--passthrough", "password"] {
            assert!(!is_secret_option(o), "{o}");
        }
        assert!(is_common_word("postgres") && is_common_word("example") && is_common_word("abc"));
        assert!(!is_common_word("db-57xsl") && !is_common_word("S3cr3t-Pl4nted"));
    }
}
