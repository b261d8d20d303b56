//! The Docker Engine API over its unix socket, for inspection: list and inspect
//! containers, services and tasks, inspect and tag images, and stop and remove the
//! containers a start-first update replaces. A small HTTP/1.0 client
//! (one request per connection, no chunked replies) keeps the dependency set light.

use crate::RuntimeError;
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The engine's API; `DOCKER_HOST=unix:///path` is honoured.
#[derive(Debug, Clone)]
pub struct DockerApi {
    socket: String,
    timeout: Duration,
}

impl Default for DockerApi {
    fn default() -> Self {
        let socket = std::env::var("DOCKER_HOST")
            .ok()
            .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
            .unwrap_or_else(|| "/var/run/docker.sock".into());
        DockerApi {
            socket,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Percent-encodes a query value.
#[must_use]
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Percent-encodes an image reference for a path, keeping `/`, `:` and `@` (the
/// engine's router takes the rest of the path as the name).
fn encode_path(s: &str) -> String {
    s.split('/')
        .map(|part| {
            part.split(':')
                .map(|p| p.split('@').map(encode).collect::<Vec<_>>().join("@"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn api_err(path: &str, message: String) -> RuntimeError {
    RuntimeError::Api {
        path: path.to_string(),
        message,
    }
}

impl DockerApi {
    /// GET returning JSON; a 404 is `Ok(None)`.
    pub fn get(&self, path: &str) -> Result<Option<Value>, RuntimeError> {
        let (status, body) = self.request("GET", path)?;
        match status {
            200 => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| api_err(path, format!("the engine's reply is not JSON: {e}"))),
            404 => Ok(None),
            s => Err(api_err(
                path,
                format!("HTTP {s}: {}", String::from_utf8_lossy(&body).trim()),
            )),
        }
    }

    /// POST without a body; any 2xx is success.
    pub fn post(&self, path: &str) -> Result<(), RuntimeError> {
        self.call("POST", path)
    }

    /// DELETE; any 2xx is success.
    pub fn delete(&self, path: &str) -> Result<(), RuntimeError> {
        self.call("DELETE", path)
    }

    fn call(&self, method: &str, path: &str) -> Result<(), RuntimeError> {
        let (status, body) = self.request(method, path)?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(api_err(
                path,
                format!("HTTP {status}: {}", String::from_utf8_lossy(&body).trim()),
            ))
        }
    }

    fn request(&self, method: &str, path: &str) -> Result<(u16, Vec<u8>), RuntimeError> {
        let io = |e: std::io::Error| {
            api_err(
                path,
                format!("cannot talk to the Docker Engine at {}: {e}", self.socket),
            )
        };
        let mut s = UnixStream::connect(&self.socket).map_err(io)?;
        s.set_read_timeout(Some(self.timeout)).map_err(io)?;
        s.set_write_timeout(Some(self.timeout)).map_err(io)?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Length: 0\r\n\r\n"
        )
        .map_err(io)?;
        let mut raw = Vec::new();
        s.take(64 * 1024 * 1024).read_to_end(&mut raw).map_err(io)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| api_err(path, "the engine's reply has no header end".into()))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| api_err(path, format!("bad status line: {head}")))?;
        Ok((status, raw[split + 4..].to_vec()))
    }

    /// Containers (running or not) carrying `label` (`key=value`).
    pub fn containers_labelled(&self, label: &str) -> Result<Vec<Value>, RuntimeError> {
        let filters = format!("{{\"label\":[\"{label}\"]}}");
        let list = self
            .get(&format!(
                "/containers/json?all=1&filters={}",
                encode(&filters)
            ))?
            .unwrap_or(Value::Null);
        let mut out = Vec::new();
        for c in list.as_array().into_iter().flatten() {
            if let Some(id) = c["Id"].as_str() {
                if let Some(full) = self.get(&format!("/containers/{id}/json"))? {
                    out.push(full);
                }
            }
        }
        Ok(out)
    }

    /// The image's id (`sha256:…`), or `None` when the engine does not have it.
    pub fn image_id(&self, name: &str) -> Result<Option<String>, RuntimeError> {
        Ok(self
            .get(&format!("/images/{}/json", encode_path(name)))?
            .and_then(|v| v["Id"].as_str().map(str::to_string)))
    }

    /// Tags image `name` as `repo:tag`.
    pub fn tag(&self, name: &str, repo: &str, tag: &str) -> Result<(), RuntimeError> {
        self.post(&format!(
            "/images/{}/tag?repo={}&tag={}",
            encode_path(name),
            encode(repo),
            encode(tag)
        ))
    }

    /// Whether this engine answers at all.
    #[must_use]
    pub fn ping(&self) -> bool {
        self.request("GET", "/_ping").is_ok_and(|(s, _)| s == 200)
    }
}
