//! Which services others reach by name (through `depends_on`, or their name as a
//! host in an environment value or a command), and, for one that declares no port,
//! the port it listens on: the official image's known port, else a guess from how
//! others address it (`db:5432`), reported as a guess. Kubernetes needs the port to
//! give the service a Service object.

use slipway_model::Service;

/// Ports of official images (Docker Hub library images).
const KNOWN_PORTS: &[(&str, u16)] = &[
    ("postgres", 5432),
    ("redis", 6379),
    ("mysql", 3306),
    ("mariadb", 3306),
    ("mongo", 27017),
    ("rabbitmq", 5672),
    ("nats", 4222),
    ("nginx", 80),
];

/// The known port of an official image reference (`postgres:16`,
/// `docker.io/library/redis@sha256:...`); `None` for other images.
#[must_use]
pub fn known_port(image: &str) -> Option<u16> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let mut parts: Vec<&str> = no_digest.split('/').collect();
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        parts.remove(0);
    }
    if parts.len() == 2 && parts[0] == "library" {
        parts.remove(0);
    }
    if parts.len() != 1 {
        return None;
    }
    let repo = parts[0].split(':').next().unwrap_or("");
    KNOWN_PORTS
        .iter()
        .find(|(n, _)| *n == repo)
        .map(|(_, p)| *p)
}

/// Where `name` appears as a host in `text`: the port that follows it (`name:5432`),
/// or 0 when it appears without one. `None`: it does not appear as a host.
fn host_reference(text: &str, name: &str) -> Option<u16> {
    let mut found = None;
    for (i, _) in text.match_indices(name) {
        let before = text[..i].chars().next_back();
        let after = &text[i + name.len()..];
        let starts =
            before.is_none_or(|c| matches!(c, '/' | '@' | '=' | ' ' | '"' | '\'' | ',' | ':'));
        let next = after.chars().next();
        let ends = next.is_none_or(|c| matches!(c, ':' | '/' | ' ' | '"' | '\'' | ',' | '?'));
        if !(starts && ends) {
            continue;
        }
        let port = after
            .strip_prefix(':')
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|p| p.parse::<u16>().ok());
        match port {
            Some(p) => return Some(p),
            None => found = Some(0),
        }
    }
    found
}

/// How `target` is reached by the other services: (who, through what, port seen).
#[must_use]
pub(crate) fn reached_by<'a>(
    services: impl Iterator<Item = &'a Service>,
    target: &str,
    original: &str,
) -> Vec<(String, String, Option<u16>)> {
    let mut out = Vec::new();
    for s in services.filter(|s| s.name != target) {
        let texts = s
            .env
            .iter()
            .map(|(k, v)| (format!("`{k}`"), v.as_str()))
            .chain(
                s.command
                    .iter()
                    .flatten()
                    .map(|c| ("its command".to_string(), c.as_str())),
            )
            .chain(
                s.entrypoint
                    .iter()
                    .flatten()
                    .map(|c| ("its entrypoint".to_string(), c.as_str())),
            );
        let mut hit = None;
        for (what, text) in texts {
            let r = host_reference(text, original).or_else(|| {
                (original != target)
                    .then(|| host_reference(text, target))
                    .flatten()
            });
            if let Some(port) = r {
                hit = Some((what, (port > 0).then_some(port)));
                if port > 0 {
                    break;
                }
            }
        }
        if let Some((what, port)) = hit {
            out.push((s.name.clone(), what, port));
        } else if s.depends_on.iter().any(|d| d == target) {
            out.push((s.name.clone(), "`depends_on`".into(), None));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_images() {
        assert_eq!(known_port("postgres:16"), Some(5432));
        assert_eq!(known_port("docker.io/library/redis@sha256:abc"), Some(6379));
        assert_eq!(known_port("library/nginx"), Some(80));
        assert_eq!(known_port("bitnami/postgresql:16"), None);
        assert_eq!(known_port("example/postgres"), None);
        assert_eq!(known_port("localhost:5000/mysql:8"), Some(3306));
    }

    #[test]
    fn host_references() {
        assert_eq!(host_reference("postgres://u:p@db:5432/x", "db"), Some(5432));
        assert_eq!(host_reference("redis://cache", "cache"), Some(0));
        assert_eq!(host_reference("db", "db"), Some(0));
        assert_eq!(host_reference("mydb:5432", "db"), None);
        assert_eq!(host_reference("/var/lib/db.sock", "db"), None);
        assert_eq!(host_reference("--host=api --port=8000", "api"), Some(0));
    }
}
