//! Names that reach an engine or a file, checked against the engine's own grammar
//! before anything is written or run: Compose project names, deployment ids and image
//! references. Compose lowercases a project name it is given, so `ProbeBase` would
//! drive the containers of `probebase`: slipway refuses the name instead of
//! normalizing it behind the lease's back.

use crate::OpsError;

/// Compose's project-name grammar: `[a-z0-9][a-z0-9_-]*`, kept to 63 characters (a
/// DNS label, so the name also works as a Kubernetes namespace).
pub fn project(name: &str) -> Result<(), OpsError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        return Ok(());
    }
    let suggestion: String = name
        .to_ascii_lowercase()
        .bytes()
        .filter(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_')
        .skip_while(|b| !b.is_ascii_alphanumeric())
        .take(63)
        .map(char::from)
        .collect();
    Err(OpsError::InvalidName {
        what: "project",
        value: shown(name),
        expected: format!(
            "lowercase letters, digits, `-` and `_`, starting with a letter or digit, at most 63 characters{}",
            if suggestion.is_empty() { String::new() } else { format!(" (for example `{suggestion}`)") }
        ),
    })
}

/// Deployment ids: letters, digits, `-`, `_` and `.`, not starting with `.` or `-`,
/// at most 128.
pub fn deployment_id(id: &str) -> Result<(), OpsError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(OpsError::InvalidName {
            what: "deployment id",
            value: shown(id),
            expected: "letters, digits, `-`, `_` and `.`, starting with a letter, digit or `_`, at most 128 characters".into(),
        })
    }
}

/// An image reference as Docker parses it: `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`.
pub fn image_reference(r: &str) -> Result<(), OpsError> {
    if image_ok(r) {
        Ok(())
    } else {
        Err(OpsError::InvalidName {
            what: "image reference",
            value: shown(r),
            expected: "[HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST] with a lowercase name, at most 255 characters (for example mirror.local:5000/python:3.12-slim)".into(),
        })
    }
}

fn image_ok(r: &str) -> bool {
    if r.is_empty() || r.len() > 255 {
        return false;
    }
    let (rest, digest) = match r.split_once('@') {
        Some((a, d)) => (a, Some(d)),
        None => (r, None),
    };
    if let Some(d) = digest {
        let Some((alg, hex)) = d.split_once(':') else {
            return false;
        };
        let alg_ok = alg.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && alg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-_".contains(&b));
        if !alg_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
    }
    // The tag is after the last `:` that follows the last `/`.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let tag_ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !tag_ok {
            return false;
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            if !host_ok(first) {
                return false;
            }
            parts.remove(0);
        }
    }
    !parts.is_empty() && parts.iter().all(|p| component_ok(p))
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !(b[i].is_ascii_lowercase() || b[i].is_ascii_digit()) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

fn host_ok(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (h, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The value as shown in an error: control characters escaped, long values cut.
fn shown(v: &str) -> String {
    let escaped: String = v.chars().flat_map(char::escape_debug).collect();
    if escaped.chars().count() > 80 {
        format!(
            "{}… ({} characters)",
            escaped.chars().take(80).collect::<String>(),
            v.chars().count()
        )
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_follow_compose() {
        for ok in ["shop", "hello123", "a-b_c", "0app"] {
            assert!(project(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ProbeBase",
            "--version",
            "../x",
            "a\0b",
            "",
            "-a",
            "_a",
            "a b",
            "a.b",
            "é",
        ] {
            assert!(project(bad).is_err(), "{bad:?}");
        }
        assert!(project(&"a".repeat(10_000)).is_err());
        let e = project("ProbeBase").unwrap_err().to_string();
        assert!(e.contains("probebase"), "{e}");
    }

    #[test]
    fn image_references_follow_docker() {
        for ok in [
            "python:3.11-slim-bookworm",
            "slipway-local/python:3.11",
            "mirror.local:5000/library/python:3.12",
            "localhost/app",
            "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "app:v1@sha256:0123456789abcdef0123456789abcdef",
            "a__b/c-d--e.f",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "python:3.11\nUSER root",
            "Python:3.11",
            "python:",
            ":tag",
            "a b",
            "app@sha256:xyz",
            "/app",
            "app/",
            "host:99999999/app",
            "app:-tag",
            "",
        ] {
            assert!(image_reference(bad).is_err(), "{bad:?}");
        }
        assert!(image_reference(&format!("a{}", "b".repeat(300))).is_err());
    }

    #[test]
    fn deployment_ids() {
        assert!(deployment_id("shop-1").is_ok());
        assert!(deployment_id("d-0fdcc546f0c24737").is_ok());
        for bad in ["", ".x", "-x", "a/b", "a\nb", &"x".repeat(129)] {
            assert!(deployment_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shown_values_are_escaped_and_cut() {
        assert_eq!(shown("a\0b"), "a\\0b");
        assert!(shown(&"x".repeat(500)).contains("500 characters"));
    }
}
