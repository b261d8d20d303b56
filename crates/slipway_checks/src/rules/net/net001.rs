//! NET001 service-hosts-resolve.

use crate::rules::compose::services;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// Checks that connection settings point at services that exist: in a compose
    /// file, every `scheme://host` URL and every `*_HOST` value in a service's
    /// `environment` whose host is a bare name must name a service of that file; in
    /// Kubernetes, the same values in ConfigMaps must name a Service among the files
    /// checked. Hosts with dots (external names), `localhost` and IPs are left alone.
    ///
    /// ## Why
    /// A renamed service leaves its clients pointing at a name nothing answers to;
    /// the failure shows up as connection errors at run time, far from the cause.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: web:1.0, environment: { API_URL: "http://backend:8000" } }
    ///   api: { image: api:1.0 }
    /// ```
    ///
    /// ## Fix
    /// Point the setting at the service's name (`http://api:8000`), or rename the service.
    ///
    /// Peers: none (kube-score service-targets-pod checks Service selectors, not clients).
    Net001 { id: "NET001", name: "service-hosts-resolve", severity: Error, production: true, peers: "none" }
}

/// The bare host a setting points at, if it is one (`http://api:8000/x` -> `api`).
fn bare_host(key: &str, value: &str) -> Option<String> {
    let host = if let Some(i) = value.find("://") {
        let rest = &value[i + 3..];
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let after_at = authority.rsplit('@').next().unwrap_or(authority);
        after_at.split(':').next().unwrap_or("").to_string()
    } else if key.to_ascii_uppercase().ends_with("_HOST") {
        value.split(':').next().unwrap_or("").to_string()
    } else {
        return None;
    };
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !host.chars().all(|c| c.is_ascii_digit());
    (plain && host != "localhost" && !host.contains('$')).then_some(host)
}

fn pairs(env: &Node) -> Vec<(String, String, &Node)> {
    let mut out: Vec<(String, String, &Node)> = env
        .as_map()
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((k.as_scalar()?.to_string(), v.as_scalar()?.to_string(), v)))
        .collect();
    for item in env.as_seq().unwrap_or(&[]) {
        if let Some((k, v)) = item.as_scalar().and_then(|s| s.split_once('=')) {
            out.push((k.to_string(), v.to_string(), item));
        }
    }
    out
}

impl Rule for Net001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.base_compose_files() {
            let names: Vec<&str> = services(root)
                .iter()
                .filter_map(|(k, _)| k.as_scalar())
                .collect();
            for (k, body) in services(root) {
                let Some(env) = body.get("environment") else {
                    continue;
                };
                for (key, value, node) in pairs(env) {
                    if let Some(host) =
                        bare_host(&key, &value).filter(|h| !names.contains(&h.as_str()))
                    {
                        let me = k.as_scalar().unwrap_or("");
                        out.add(
                            &Self::META,
                            file,
                            node.span,
                            format!(
                                "`{key}` of `{me}` points at `{host}`, which is not a service here"
                            ),
                            Some("point it at an existing service, or define that service"),
                        );
                    }
                }
            }
        }
        let service_names: Vec<&str> = tree
            .objects()
            .filter(|(_, o)| o.get("kind").and_then(Node::as_scalar) == Some("Service"))
            .filter_map(|(_, o)| {
                o.get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_scalar)
            })
            .collect();
        if service_names.is_empty() {
            return;
        }
        for (file, obj) in tree.objects() {
            if obj.get("kind").and_then(Node::as_scalar) != Some("ConfigMap") {
                continue;
            }
            for (k, v) in obj.get("data").and_then(Node::as_map).unwrap_or(&[]) {
                let (Some(key), Some(value)) = (k.as_scalar(), v.as_scalar()) else {
                    continue;
                };
                if let Some(host) =
                    bare_host(key, value).filter(|h| !service_names.contains(&h.as_str()))
                {
                    let span: Span = v.span;
                    out.add(
                        &Self::META,
                        file,
                        span,
                        format!(
                            "`{key}` points at `{host}`, which is not a Service in these files"
                        ),
                        Some("point it at an existing Service, or create it"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bare_host;

    #[test]
    fn hosts() {
        assert_eq!(
            bare_host("API_URL", "http://api:8000/x").as_deref(),
            Some("api")
        );
        assert_eq!(
            bare_host("DB_URL", "postgres://u:p@db:5432/x").as_deref(),
            Some("db")
        );
        assert_eq!(bare_host("DB_HOST", "db").as_deref(), Some("db"));
        assert_eq!(bare_host("DB_HOST", "db.example.internal"), None);
        assert_eq!(bare_host("URL", "http://localhost:3000"), None);
        assert_eq!(bare_host("URL", "http://10.0.0.1:80"), None);
        assert_eq!(bare_host("LOG_LEVEL", "info"), None);
    }
}
