//! Bearer tokens: each has a name (what the audit log records, never the token), a
//! scope (`read` or `deploy`, which includes read) and a secret. They come from a file
//! or an environment variable, one per line: `NAME SCOPE SECRET`. Secrets are compared
//! in constant time, through their sha256, against every configured token. Without
//! configured tokens reads are open and mutating calls need the local deploy token
//! (local_token.rs).

use crate::problem::Problem;
use crate::AgentConfig;
use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Deploy,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub name: String,
    pub scope: Scope,
    digest: [u8; 32],
}

impl Token {
    /// A token from its secret (kept only as its sha256).
    pub fn new(name: &str, scope: Scope, secret: &str) -> Token {
        Token {
            name: name.to_string(),
            scope,
            digest: digest(secret),
        }
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Equal without an early exit: the time taken does not depend on where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses `NAME SCOPE SECRET` lines (`#` comments and blank lines skipped).
pub fn parse_tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [name, scope, secret] = parts.as_slice() else {
            return Err(format!("line {}: expected `NAME SCOPE SECRET`", n + 1));
        };
        let scope = match *scope {
            "read" => Scope::Read,
            "deploy" => Scope::Deploy,
            other => {
                return Err(format!(
                    "line {}: scope `{other}` is not `read` or `deploy`",
                    n + 1
                ))
            }
        };
        if secret.len() < 16 {
            return Err(format!(
                "line {}: the secret of `{name}` is shorter than 16 characters",
                n + 1
            ));
        }
        out.push(Token::new(name, scope, secret));
    }
    Ok(out)
}

/// The token's name when the request carries a valid one with `need` scope. The
/// scheme is case-insensitive (`bearer` works too, RFC 9110 §11.1). Without configured
/// tokens (allowed only on loopback) every caller may read as `local`, and nobody
/// may deploy: mutating calls check the local deploy token instead (see
/// [`deploy_tokens`]).
pub fn authorize(tokens: &[Token], headers: &HeaderMap, need: Scope) -> Result<String, Problem> {
    if tokens.is_empty() {
        if need == Scope::Read {
            return Ok("local".into());
        }
        return Err(Problem::unauthorized(
            "this agent has no deploy token: start it with --tokens-file or SLIPWAY_AGENT_TOKENS",
            false,
        ));
    }
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| Problem::unauthorized("send `Authorization: Bearer TOKEN`", false))?;
    let d = digest(given);
    // Compare against every token so timing does not tell which one matched.
    let mut found: Option<&Token> = None;
    for t in tokens {
        if same(&t.digest, &d) {
            found = Some(t);
        }
    }
    let t = found.ok_or_else(|| Problem::unauthorized("the token is not valid", true))?;
    if t.scope < need {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            format!("token `{}` has read scope; this call needs deploy", t.name),
        ));
    }
    Ok(t.name.clone())
}

/// The name of a deploy-scope token for a mutating call: one of the configured
/// tokens, else the local deploy token `serve` wrote to `<data_dir>/local-token`
/// (named `local`).
pub fn authorize_deploy(cfg: &AgentConfig, headers: &HeaderMap) -> Result<String, Problem> {
    let Some(local) = cfg.local_token.as_ref().filter(|_| cfg.tokens.is_empty()) else {
        return authorize(&cfg.tokens, headers, Scope::Deploy);
    };
    authorize(std::slice::from_ref(local), headers, Scope::Deploy).map_err(|p| {
        let file = cfg.data_dir.join(crate::LOCAL_TOKEN_FILE);
        let hint = format!(
            "without configured tokens this agent is read-only; send the token in {}",
            file.display()
        );
        p.with("hint", serde_json::json!(hint))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_scopes_and_refusals() {
        let tokens = parse_tokens(
            "# ci\nci deploy 0123456789abcdef0123\nviewer read fedcba9876543210fedc\n",
        )
        .unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(
            authorize(&tokens, &h, Scope::Read).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        h.insert(
            "authorization",
            "Bearer fedcba9876543210fedc".parse().unwrap(),
        );
        assert_eq!(authorize(&tokens, &h, Scope::Read).unwrap(), "viewer");
        assert_eq!(
            authorize(&tokens, &h, Scope::Deploy).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        h.insert(
            "authorization",
            "Bearer 0123456789abcdef0123".parse().unwrap(),
        );
        assert_eq!(authorize(&tokens, &h, Scope::Deploy).unwrap(), "ci");
        h.insert(
            "authorization",
            "Bearer 0123456789abcdef0124".parse().unwrap(),
        );
        assert_eq!(
            authorize(&tokens, &h, Scope::Read).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        // Tokenless: everyone reads, nobody deploys.
        assert_eq!(authorize(&[], &h, Scope::Read).unwrap(), "local");
        assert_eq!(
            authorize(&[], &h, Scope::Deploy).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert!(parse_tokens("x deploy short").is_err());
        assert!(parse_tokens("x admin 0123456789abcdef0123").is_err());
    }
}
