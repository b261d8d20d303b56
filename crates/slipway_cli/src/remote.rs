//! `--agent URL`: `deploy`, `rollback`, `status`, `drift` and `history` through a remote agent,
//! with the same output and exit codes as on this machine. Plain HTTP (`http://`),
//! one request per connection; the token comes from `--token`, `SLIPWAY_AGENT_TOKEN`,
//! or for an agent on loopback, the local deploy token in `.slipway/agent/local-token`.

use crate::operate::{print_drift, print_history, print_outcome, print_status, show_event};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use slipway_engine::{DeployOptions, EngineEvent, Outcome};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The token a tokenless agent on this machine wrote into its data dir (the default
/// one, `.slipway/agent`), for an agent on a loopback address.
fn local_token(addr: &str) -> Option<String> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return None;
    }
    let file = std::path::Path::new(".slipway/agent").join(slipway_agent::LOCAL_TOKEN_FILE);
    let token = std::fs::read_to_string(file).ok()?.trim().to_string();
    (!token.is_empty()).then_some(token)
}

pub struct Remote {
    addr: String,
    token: Option<String>,
}

impl Remote {
    pub fn new(url: &str, token: Option<String>) -> Result<Remote> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("--agent `{url}`: only http://HOST:PORT is supported (put TLS in front of the agent with a proxy)");
        };
        let addr = rest.trim_end_matches('/').to_string();
        if addr.is_empty() || addr.contains('/') {
            bail!("--agent `{url}` is not http://HOST:PORT");
        }
        let token = token
            .or_else(|| std::env::var("SLIPWAY_AGENT_TOKEN").ok())
            .or_else(|| local_token(&addr));
        Ok(Remote { addr, token })
    }

    /// One exchange: status and the JSON body (a problem document on errors).
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let mut s = TcpStream::connect(&self.addr)
            .with_context(|| format!("cannot reach the agent at {}", self.addr))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let body = body.map(ToString::to_string).unwrap_or_default();
        let auth = self
            .token
            .as_ref()
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(s, "{method} {path} HTTP/1.0\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", self.addr, body.len())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .context("the agent's reply has no body")?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .context("the agent's reply has no status")?;
        let v = serde_json::from_str(body).unwrap_or_else(|_| json!({ "detail": body }));
        Ok((status, v))
    }

    fn ok(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        as_json: bool,
    ) -> Result<Result<Value, u8>> {
        let (status, v) = self.call(method, path, body)?;
        if (200..300).contains(&status) {
            return Ok(Ok(v));
        }
        if as_json {
            println!(
                "{}",
                json!({ "type": "error", "status": status, "problem": v })
            );
        } else {
            eprintln!(
                "error: the agent answered {status} {}: {}",
                v["code"].as_str().unwrap_or(""),
                v["detail"].as_str().unwrap_or("")
            );
            if let Some(errors) = v["errors"].as_array() {
                for e in errors {
                    eprintln!(
                        "  {}:{}:{} {} {}",
                        e["file"].as_str().unwrap_or(""),
                        e["line"],
                        e["column"],
                        e["rule_id"].as_str().unwrap_or(""),
                        e["message"].as_str().unwrap_or("")
                    );
                }
            }
            if let Some(l) = v["logs_ref"].as_str() {
                eprintln!("  engine output: GET /logs/{l}");
            }
        }
        // Conflicts and engine failures are "deploy failed"; the rest is input.
        Ok(Err(if status == 409 || status >= 500 { 1 } else { 2 }))
    }
}

pub fn deploy(r: &Remote, opts: &DeployOptions, as_json: bool) -> Result<u8> {
    let spec = std::fs::canonicalize(&opts.spec)
        .with_context(|| format!("cannot read {}", opts.spec.display()))?;
    let image_map: serde_json::Map<String, Value> = opts
        .image_map
        .iter()
        .map(|(a, b)| (a.clone(), json!(b)))
        .collect();
    let mut params = json!({ "image_map": image_map });
    if let Some(p) = &opts.project {
        params["project"] = json!(p);
    }
    if let Some(o) = &opts.out {
        params["out"] = json!(std::path::absolute(o)?.display().to_string());
    }
    let mut gen = json!({ "environment": opts.environment, "template_spec": spec.display().to_string(), "runtime": opts.runtime, "parameters": params });
    if let Some(id) = &opts.deployment_id {
        gen["deployment_id"] = json!(id);
    }
    let generated = match r.ok("POST", "/generate", Some(&gen), as_json)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let id = generated["deployment_id"]
        .as_str()
        .context("the agent returned no deployment_id")?
        .to_string();
    let mut req = json!({ "deployment_id": id, "plan_only": opts.plan_only });
    if opts.rolling {
        req["strategy"] = json!("rolling");
    }
    let accepted = match r.ok("POST", "/deploy", Some(&req), as_json)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let op = operation_id(&accepted)?;
    if opts.plan_only || accepted["replayed"] == true {
        if as_json {
            println!(
                "{}",
                json!({ "type": "result", "schema_version": 1, "result": accepted })
            );
        } else {
            if let Ok(plan) =
                serde_json::from_value::<slipway_engine::Plan>(accepted["plan"].clone())
            {
                print!("{}", crate::operate::plan_text(&plan));
            }
            println!(
                "deployment {id} operation {op}: {}",
                accepted["phase"].as_str().unwrap_or("")
            );
        }
        return Ok(0);
    }
    follow(r, &id, &op, as_json)
}

/// The operation id of a 202 (or a replayed 200).
fn operation_id(accepted: &Value) -> Result<String> {
    Ok(accepted["operation_id"]
        .as_str()
        .context("the agent returned no operation_id")?
        .to_string())
}

/// `rollback ID` through the agent (its engine and health timeouts apply).
pub fn rollback(r: &Remote, id: &str, as_json: bool) -> Result<u8> {
    let accepted = match r.ok(
        "POST",
        "/rollback",
        Some(&json!({ "deployment_id": id })),
        as_json,
    )? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let op = operation_id(&accepted)?;
    follow(r, id, &op, as_json)
}

/// How long `follow` waits for an operation to end before it gives up.
const FOLLOW_DEADLINE: Duration = Duration::from_secs(3600);

/// Shows operation `op`'s events from the agent's stream until its result; the
/// result's exit code. When a poll brings no result, `/status` is asked: an operation
/// that ended without a result on the stream (dropped, or settled by another agent)
/// is reported from there, and `FOLLOW_DEADLINE` bounds the wait.
fn follow(r: &Remote, id: &str, op: &str, as_json: bool) -> Result<u8> {
    let started = std::time::Instant::now();
    let mut after = 0u64;
    let mut ended_without_result = 0;
    loop {
        let wait = if ended_without_result > 0 {
            "2s"
        } else {
            "25s"
        };
        let v = match r.ok(
            "GET",
            &format!("/events?after={after}&wait={wait}&deployment_id={id}"),
            None,
            as_json,
        )? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        for e in v["events"].as_array().into_iter().flatten() {
            if e["data"]["operation_id"].as_str() != Some(op) {
                continue;
            }
            if e["kind"] == "result" {
                let outcome: Outcome = serde_json::from_value(e["data"]["data"].clone())
                    .context("the agent's result is not an outcome")?;
                return Ok(print_outcome(&outcome, as_json));
            }
            let ev = EngineEvent {
                seq: e["seq"].as_i64().unwrap_or(0),
                at: e["at"].as_i64().unwrap_or(0),
                deployment_id: id.to_string(),
                operation_id: Some(op.to_string()),
                kind: e["kind"].as_str().unwrap_or("").to_string(),
                data: e["data"]["data"].clone(),
            };
            show_event(&ev, as_json);
        }
        after = v["next_after"].as_u64().unwrap_or(after);
        if let Some(code) = settled_by_status(r, id, op, as_json, &mut ended_without_result)? {
            return Ok(code);
        }
        if started.elapsed() > FOLLOW_DEADLINE {
            bail!(
                "operation {op} did not end within {} s; `slipway status {id} --agent URL` shows where it is",
                FOLLOW_DEADLINE.as_secs()
            );
        }
    }
}

/// After a poll without the result: when `/status` says the operation is over, wait
/// one more short poll for its result, then report it from the status.
fn settled_by_status(
    r: &Remote,
    id: &str,
    op: &str,
    as_json: bool,
    ended_without_result: &mut u32,
) -> Result<Option<u8>> {
    let (code, v) = r.call("GET", &format!("/status/{id}"), None)?;
    if code != 200 {
        return Ok(None);
    }
    let operation = &v["operation"];
    let phase = operation["phase"].as_str().unwrap_or("");
    let terminal = matches!(phase, "succeeded" | "failed" | "rolled_back" | "planned");
    if operation["id"].as_str() != Some(op) || !terminal {
        // Ours is not the latest any more, or still runs: keep following.
        return Ok(None);
    }
    *ended_without_result += 1;
    if *ended_without_result < 2 {
        return Ok(None);
    }
    let error = operation["error"].as_str().map(str::to_string);
    if as_json {
        println!(
            "{}",
            json!({ "type": "result", "schema_version": 1, "result": { "deployment_id": id, "operation_id": op, "phase": phase, "error": error, "from": "status" } })
        );
    } else {
        println!(
            "deployment {id} operation {op}: {phase} (from /status: the stream carried no result)"
        );
        if let Some(e) = &error {
            eprintln!("error: {e}");
        }
    }
    Ok(Some(u8::from(!matches!(phase, "succeeded" | "planned"))))
}

pub fn status(r: &Remote, id: Option<&str>, as_json: bool) -> Result<u8> {
    let id = id.context("with --agent, name the deployment: slipway status ID --agent URL")?;
    match r.ok("GET", &format!("/status/{id}"), None, as_json)? {
        Ok(v) => print_status(
            &serde_json::from_value(v).context("the agent's status does not parse")?,
            as_json,
        ),
        Err(code) => Ok(code),
    }
}

pub fn drift(r: &Remote, id: Option<&str>, as_json: bool) -> Result<u8> {
    let id = id.context("with --agent, name the deployment: slipway drift ID --agent URL")?;
    match r.ok(
        "POST",
        "/drift-scan",
        Some(&json!({ "deployment_id": id })),
        as_json,
    )? {
        Ok(v) => print_drift(
            &serde_json::from_value(v).context("the agent's drift report does not parse")?,
            as_json,
        ),
        Err(code) => Ok(code),
    }
}

/// Reads the whole log (the chain is verified over all of it), then keeps `id`'s.
pub fn history(r: &Remote, id: Option<&str>, as_json: bool) -> Result<u8> {
    let mut all: Vec<slipway_engine::AuditRecord> = Vec::new();
    let mut after = 0;
    loop {
        let v = match r.ok(
            "GET",
            &format!("/audit?after={after}&limit=1000"),
            None,
            as_json,
        )? {
            Ok(v) => v,
            Err(code) => return Ok(code),
        };
        let page: Vec<slipway_engine::AuditRecord> =
            serde_json::from_value(v["records"].clone())
                .context("the agent's audit records do not parse")?;
        all.extend(page);
        match v["next_cursor"].as_i64() {
            Some(c) => after = c,
            None => break,
        }
    }
    let verified = slipway_engine::verify_chain(&all);
    let h = slipway_engine::History {
        schema_version: 1,
        deployment_id: id.map(str::to_string),
        chain_verified: verified.is_ok(),
        chain_error: verified.err(),
        records: all
            .into_iter()
            .filter(|r| id.is_none_or(|d| r.deployment_id == d))
            .collect(),
    };
    print_history(&h, as_json)
}
