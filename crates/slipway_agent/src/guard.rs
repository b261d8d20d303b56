//! The checks every request passes before its route, against callers that are not
//! who they seem: the URI length (414), the `Host` header against the addresses and
//! names this agent answers for (DNS rebinding: a page on `evil.example` whose name
//! is re-pointed at 127.0.0.1 still sends `Host: evil.example`), and the `Origin`
//! header against the agent's own origin (a cross-site page, a sandboxed frame).
//! Mutating calls also need a JSON body ([`require_json`]): a browser sends
//! `text/plain` and form bodies cross-site without a CORS preflight, but never
//! `application/json`. Must not depend on the routes.

use crate::problem::Problem;
use crate::AgentConfig;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use std::net::IpAddr;

/// Longest path and query answered (bytes); longer is 414. Beyond 64 KiB hyper
/// itself refuses the request line, with an empty 414, before any route.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Middleware: 414, 421 or 403 before the route runs.
pub(crate) fn admit(cfg: &AgentConfig, uri: &Uri, headers: &HeaderMap) -> Result<(), Problem> {
    let len = uri.path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        return Err(Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "The URI is too long",
            format!("{len} bytes of path and query; at most {MAX_URI_BYTES}"),
        ));
    }
    // A request without `Host` is not from a browser (they always send one), so it
    // cannot be a rebinding attack. In absolute form the URI's authority is the host.
    let host = match uri.authority() {
        Some(a) => Some(a.as_str()),
        None => headers
            .get(header::HOST)
            .map(|v| v.to_str().unwrap_or("\u{fffd}")),
    };
    if let Some(h) = host {
        if !host_allowed(cfg, h) {
            return Err(Problem::new(
                StatusCode::MISDIRECTED_REQUEST,
                "forbidden_host",
                "Not a name of this agent",
                format!(
                    "Host `{h}` is not an address this agent listens on; start it with --allowed-host NAME to answer for a name"
                ),
            ));
        }
    }
    if let Some(o) = headers.get(header::ORIGIN) {
        let origin = o.to_str().unwrap_or("\u{fffd}");
        if !origin_allowed(cfg, origin, host) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "Cross-origin request",
                format!("Origin `{origin}` is not this agent's own origin; call it from its own page or without a browser"),
            ));
        }
    }
    Ok(())
}

/// A body is JSON when its media type (parameters aside) is `application/json`;
/// anything else is 415.
pub fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let essence = given.and_then(|t| t.split(';').next()).map(str::trim);
    if essence.is_some_and(|e| e.eq_ignore_ascii_case("application/json")) {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "The body is not JSON",
        match given {
            Some(t) => {
                format!("Content-Type `{t}`: send the body as `Content-Type: application/json`")
            }
            None => "no Content-Type: send the body as `Content-Type: application/json`".into(),
        },
    ))
}

/// The host of an authority (`name`, `name:port`, `1.2.3.4:port`, `[::1]:port`),
/// lowercased, without a trailing dot, IPv6 in brackets; and its port.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let a = authority.trim();
    let (host, port) = if a.starts_with('[') {
        let end = a.find(']')?;
        (&a[..=end], a[end + 1..].strip_prefix(':'))
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None if a.ends_with(']') || !a.contains(']') => None,
        None => return None,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.is_empty()
        || host.contains(['/', '@', '?', '#', ' '])
        || (host.contains(':') && !host.starts_with('['))
    {
        return None;
    }
    Some((host, port))
}

fn ip_of(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// Whether `authority` names this agent. The port is not compared: behind a port
/// mapping or a proxy it differs from the listen port, and rebinding changes the
/// name, not the port.
///
/// - Listening on loopback: `localhost`, loopback addresses, configured names.
/// - Listening on one other address: that address and configured names.
/// - Listening on every address (0.0.0.0, `::`): any IP address, `localhost` and
///   configured names. The host's addresses are many and can change, and an IP
///   address cannot be rebound (a page at `http://10.0.0.5/` is the agent's own
///   origin), so only DNS names must be configured. Tokens are mandatory there, so
///   a name left out is a refusal to fix, never a hole.
fn host_allowed(cfg: &AgentConfig, authority: &str) -> bool {
    let Some((host, _)) = split_authority(authority) else {
        return false;
    };
    if cfg
        .allowed_hosts
        .iter()
        .any(|n| split_authority(n).is_some_and(|(name, _)| name == host))
    {
        return true;
    }
    let ip = ip_of(&host);
    let listen = cfg.listen.ip();
    if listen.is_unspecified() {
        return ip.is_some() || host == "localhost";
    }
    if ip == Some(listen) {
        return true;
    }
    listen.is_loopback() && (host == "localhost" || ip.is_some_and(|i| i.is_loopback()))
}

/// Whether `origin` is the agent's own: `http://` or `https://` and the request's
/// own `Host` (ports compared, the scheme's default filled in), or without a
/// `Host`, a name of this agent. `null` (sandboxed frames, `file:` pages) is not.
fn origin_allowed(cfg: &AgentConfig, origin: &str, host: Option<&str>) -> bool {
    let Some((scheme, authority)) = origin.trim().split_once("://") else {
        return false;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return false,
    };
    let Some((o_host, o_port)) = split_authority(authority) else {
        return false;
    };
    match host {
        Some(h) => split_authority(h).is_some_and(|(h_host, h_port)| {
            h_host == o_host && h_port.unwrap_or(default) == o_port.unwrap_or(default)
        }),
        None => host_allowed(cfg, authority),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(listen: &str, allowed: &[&str]) -> AgentConfig {
        let mut c = AgentConfig::new(listen.parse().unwrap(), "/tmp/x".into(), String::new());
        c.allowed_hosts = allowed.iter().map(ToString::to_string).collect();
        c
    }

    #[test]
    fn authorities_split_into_host_and_port() {
        let s = |a: &str| split_authority(a);
        assert_eq!(s("LocalHost.:7878"), Some(("localhost".into(), Some(7878))));
        assert_eq!(s("[::1]:80"), Some(("[::1]".into(), Some(80))));
        assert_eq!(s("[::1]"), Some(("[::1]".into(), None)));
        assert_eq!(s("127.0.0.1"), Some(("127.0.0.1".into(), None)));
        for bad in ["", ":80", "a:b", "[::1", "::1", "a/b", "u@h", "[::1]x"] {
            assert_eq!(s(bad), None, "{bad}");
        }
    }

    #[test]
    fn hosts_by_listen_address() {
        let local = cfg("127.0.0.1:7878", &["agent.internal"]);
        for ok in [
            "127.0.0.1",
            "127.0.0.1:7878",
            "localhost:9",
            "[::1]:7878",
            "Agent.Internal:443",
        ] {
            assert!(host_allowed(&local, ok), "{ok}");
        }
        for no in [
            "evil.example",
            "evil.example:7878",
            "10.0.0.5",
            "localhost.evil.example",
            "",
        ] {
            assert!(!host_allowed(&local, no), "{no}");
        }
        let one = cfg("10.0.0.5:7878", &[]);
        assert!(host_allowed(&one, "10.0.0.5:7878"));
        assert!(!host_allowed(&one, "10.0.0.6"));
        assert!(!host_allowed(&one, "localhost"));
        let all = cfg("0.0.0.0:7878", &["agent.example.com"]);
        for ok in [
            "10.1.2.3:8080",
            "[fd00::1]",
            "localhost",
            "agent.example.com",
        ] {
            assert!(host_allowed(&all, ok), "{ok}");
        }
        assert!(!host_allowed(&all, "evil.example"));
    }

    #[test]
    fn origins_must_be_the_agents_own() {
        let c = cfg("127.0.0.1:7878", &[]);
        let h = Some("127.0.0.1:7878");
        assert!(origin_allowed(&c, "http://127.0.0.1:7878", h));
        assert!(!origin_allowed(&c, "http://127.0.0.1:3000", h));
        assert!(!origin_allowed(&c, "http://localhost:7878", h));
        assert!(!origin_allowed(&c, "null", h));
        assert!(!origin_allowed(&c, "file://", h));
        assert!(origin_allowed(&c, "http://localhost", Some("localhost:80")));
        assert!(origin_allowed(&c, "https://localhost", Some("localhost")));
        assert!(origin_allowed(&c, "http://localhost:7878", None));
        assert!(!origin_allowed(&c, "http://evil.example", None));
    }

    #[test]
    fn bodies_must_be_json() {
        let mut h = HeaderMap::new();
        assert!(require_json(&h).is_err());
        for ok in ["application/json", "Application/JSON; charset=utf-8"] {
            h.insert(header::CONTENT_TYPE, ok.parse().unwrap());
            assert!(require_json(&h).is_ok(), "{ok}");
        }
        for no in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonp",
            "multipart/form-data; boundary=x",
        ] {
            h.insert(header::CONTENT_TYPE, no.parse().unwrap());
            assert_eq!(
                require_json(&h).unwrap_err().status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{no}"
            );
        }
    }
}
