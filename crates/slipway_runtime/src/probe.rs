//! The preflight of a guessed health path. When detection guessed a service's HTTP
//! health path (`/health`) and the user did not confirm it, the gate asks the running
//! container for that path itself, from inside it (`docker exec`, with whatever HTTP
//! client the image has: python3, node, bash's `/dev/tcp`, wget or curl). A 404 fails
//! the gate at once, naming the path, the service and what to set (the engine adds
//! the container's last log lines to the failure, as for every failed gate):
//! otherwise the health check would only turn unhealthy after its retries, and the
//! 404 would be visible only in `docker inspect`.

use crate::desired::{DesiredService, GuessedHealth};
use crate::observe::ObservedContainer;
use crate::process;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

const EXEC_TIMEOUT: Duration = Duration::from_secs(10);

/// A path that can go into the probe's shell script as it is.
fn safe_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c))
}

/// A shell script printing the HTTP status of `GET path` on the container's own
/// loopback, with the first client the image has; it prints nothing (and exits
/// non-zero) while nothing answers.
fn script(g: &GuessedHealth) -> String {
    let (port, path) = (g.port, &g.path);
    let url = format!("http://127.0.0.1:{port}{path}");
    [
        format!("if command -v python3 >/dev/null 2>&1; then exec python3 -c \"import http.client as h; c = h.HTTPConnection('127.0.0.1', {port}, timeout=5); c.request('GET', '{path}'); print(c.getresponse().status)\""),
        format!("elif command -v node >/dev/null 2>&1; then exec node -e \"require('http').get('{url}', r => {{ console.log(r.statusCode); process.exit(0) }}).on('error', () => process.exit(1))\""),
        format!("elif command -v bash >/dev/null 2>&1; then exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port} && printf \"GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n\" >&3 && head -n 1 <&3'"),
        format!("elif command -v wget >/dev/null 2>&1; then wget -S -O /dev/null '{url}' 2>&1 | grep 'HTTP/' | head -n 1"),
        format!("elif command -v curl >/dev/null 2>&1; then exec curl -s -o /dev/null -w '%{{http_code}}' '{url}'"),
        "fi".to_string(),
    ]
    .join("\n")
}

/// The HTTP status in a probe's output: the first word of exactly three digits,
/// 100-599 (`404`, or `HTTP/1.0 404 Not Found`).
pub(crate) fn status_in(output: &str) -> Option<u16> {
    output
        .split_whitespace()
        .filter(|w| w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|w| w.parse::<u16>().ok())
        .find(|s| (100..600).contains(s))
}

/// `GET path` inside `container`: the status, or `None` while nothing answers.
fn ask(container: &str, g: &GuessedHealth) -> Option<u16> {
    let out = process::run(
        Command::new("docker").args(["exec", container, "sh", "-c", &script(g)]),
        EXEC_TIMEOUT,
    )
    .ok()?;
    status_in(&out.stdout)
}

/// For a service whose health path was guessed: once one of its running containers
/// (of the release's image) answers the path, it is recorded in `answered` and not
/// asked again; a 404 is the gate's failure, returned as its message.
pub(crate) fn preflight(
    s: &DesiredService,
    mine: &[&ObservedContainer],
    current: &dyn Fn(&ObservedContainer) -> bool,
    answered: &mut BTreeSet<String>,
) -> Option<String> {
    let g = s.guessed_health.as_ref()?;
    if answered.contains(&s.name) || !safe_path(&g.path) {
        return None;
    }
    let c = mine.iter().find(|c| c.state == "running" && current(c))?;
    if ask(&c.name, g)? == 404 {
        return Some(format!(
            "GET {} answered 404 in service {}; set `health:` on the service to a path it answers (slipway guessed {} because none was found in its source)",
            g.path, s.name, g.path
        ));
    }
    answered.insert(s.name.clone());
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_from_every_client() {
        assert_eq!(status_in("404\n"), Some(404));
        assert_eq!(status_in("HTTP/1.0 404 Not Found\r\n"), Some(404));
        assert_eq!(status_in("  HTTP/1.1 200 OK"), Some(200));
        assert_eq!(
            status_in("Traceback ... ConnectionRefusedError: [Errno 111]"),
            None
        );
        assert_eq!(status_in(""), None);
    }

    #[test]
    fn only_plain_paths_are_probed() {
        assert!(safe_path("/health"));
        assert!(safe_path("/actuator/health"));
        assert!(!safe_path("/h'; rm -rf /"));
        assert!(!safe_path("health"));
    }

    #[test]
    fn the_script_asks_the_guessed_path_on_the_port() {
        let s = script(&GuessedHealth {
            path: "/health".into(),
            port: 3000,
        });
        assert!(s.contains("c.request('GET', '/health')") && s.contains("127.0.0.1', 3000"));
        assert!(s.contains("http://127.0.0.1:3000/health"));
    }
}
