//! OpenTelemetry spans `infra.generate`, `infra.plan`, `infra.apply` and
//! `infra.drift-scan`, exported as OTLP/HTTP JSON (`POST {endpoint}/v1/traces`) when
//! an endpoint is configured (`--otlp-endpoint http://HOST:PORT`); without one,
//! nothing is recorded. Export runs on its own thread in batches, so a slow or absent
//! collector never slows a request; spans that cannot be sent are dropped.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A finished span.
#[derive(Debug, Clone)]
pub struct Span {
    pub name: &'static str,
    pub start_ns: u128,
    pub end_ns: u128,
    pub ok: bool,
    pub attributes: Vec<(&'static str, String)>,
}

#[derive(Default)]
pub struct Tracer {
    tx: Option<Mutex<Sender<Span>>>,
}

#[must_use]
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_err()
    {
        let n = now_ns().to_le_bytes();
        for (i, x) in b.iter_mut().enumerate() {
            *x = n[i % n.len()];
        }
    }
    b.iter().fold(String::new(), |mut s, x| {
        use std::fmt::Write as _;
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// The OTLP/HTTP JSON body for a batch.
#[must_use]
pub fn otlp_body(spans: &[Span]) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|s| {
            json!({
                "traceId": random_hex(16),
                "spanId": random_hex(8),
                "name": s.name,
                "kind": 2,
                "startTimeUnixNano": s.start_ns.to_string(),
                "endTimeUnixNano": s.end_ns.to_string(),
                "attributes": s.attributes.iter().map(|(k, v)| json!({ "key": k, "value": { "stringValue": v } })).collect::<Vec<_>>(),
                "status": { "code": if s.ok { 1 } else { 2 } },
            })
        })
        .collect();
    json!({ "resourceSpans": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "slipway-agent" } }] },
        "scopeSpans": [{ "scope": { "name": "slipway", "version": env!("CARGO_PKG_VERSION") }, "spans": spans }],
    }] })
}

fn post(addr: &str, body: &Value) -> std::io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let text = body.to_string();
    write!(s, "POST /v1/traces HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}", text.len())?;
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    Ok(())
}

fn export(addr: &str, rx: &Receiver<Span>) {
    let mut batch = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(s) => {
                batch.push(s);
                if batch.len() < 64 {
                    continue;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                if !batch.is_empty() {
                    let _ = post(addr, &otlp_body(&batch));
                }
                return;
            }
        }
        if !batch.is_empty() {
            let _ = post(addr, &otlp_body(&batch));
            batch.clear();
        }
    }
}

impl Tracer {
    /// Exports to `endpoint` (`http://HOST:PORT`), or records nothing when `None`.
    pub fn new(endpoint: Option<&str>) -> Result<Tracer, String> {
        let Some(url) = endpoint else {
            return Ok(Tracer::default());
        };
        let addr = url
            .strip_prefix("http://")
            .map(|a| a.trim_end_matches('/').to_string())
            .filter(|a| !a.is_empty() && !a.contains('/'))
            .ok_or_else(|| format!("--otlp-endpoint `{url}` is not http://HOST:PORT"))?;
        let (tx, rx) = channel();
        std::thread::spawn(move || export(&addr, &rx));
        Ok(Tracer {
            tx: Some(Mutex::new(tx)),
        })
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    pub fn record(&self, span: Span) {
        if let Some(tx) = &self.tx {
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(span);
            }
        }
    }

    /// Records `name` from `start_ns` to now.
    pub fn span(
        &self,
        name: &'static str,
        start_ns: u128,
        ok: bool,
        attributes: Vec<(&'static str, String)>,
    ) {
        if self.enabled() {
            self.record(Span {
                name,
                start_ns,
                end_ns: now_ns(),
                ok,
                attributes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_otlp_json() {
        let body = otlp_body(&[Span {
            name: "infra.apply",
            start_ns: 1,
            end_ns: 2,
            ok: false,
            attributes: vec![("deployment_id", "d1".into())],
        }]);
        let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["name"], "infra.apply");
        assert_eq!(span["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(span["spanId"].as_str().unwrap().len(), 16);
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["attributes"][0]["value"]["stringValue"], "d1");
        assert!(Tracer::new(Some("grpc://x")).is_err());
        assert!(!Tracer::new(None).unwrap().enabled());
    }
}
