//! `deploy`, `rollback`, `status`, `drift` and `history`: call the engine's use cases,
//! show progress on stderr (human) or JSON lines on stdout (`--format json`), and pick
//! the exit code: 0 success, 1 deploy failed / drift found / refused, 2 usage or input.

use anyhow::Result;
use serde_json::json;
use slipway_diagnostics::{render_human, RenderOptions};
use slipway_engine::{DeployOptions, EngineEvent, Ops, OpsError, Outcome, Plan};
use std::fmt::Write as _;
use std::path::Path;

/// Opens the state store named by `--database-url`, `SLIPWAY_DATABASE_URL`, or the
/// SQLite default in the current folder.
pub fn open(url: Option<&str>) -> Result<Ops> {
    let url = url.map_or_else(slipway_engine::database_url, str::to_string);
    Ok(Ops::open(
        &url,
        Path::new("."),
        &slipway_engine::local_actor(),
    )?)
}

/// `2026-11-22T03:40:12Z` from Unix milliseconds.
pub fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Reports that only say what reconciliation did (status, drift): stderr, either format.
fn show_reconciled(e: &EngineEvent) {
    if e.kind == "reconcile" || (e.kind == "phase" && e.data["phase"] == "interrupted") {
        show_event(e, false);
    }
}

/// A live event: a JSON line on stdout, or a progress line on stderr.
pub fn show_event(e: &EngineEvent, as_json: bool) {
    if e.kind == slipway_engine::RELEASED {
        return;
    }
    if as_json {
        println!("{}", json!({ "type": "event", "event": e }));
        return;
    }
    let d = &e.data;
    match e.kind.as_str() {
        "phase" => {
            let err = d["error"]
                .as_str()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            eprintln!(
                "==> {} {}{err}",
                e.operation_id.as_deref().unwrap_or(""),
                d["phase"].as_str().unwrap_or("")
            );
        }
        "progress" => eprintln!(
            "    {:<12} {:<9} {}",
            d["service"].as_str().unwrap_or("-"),
            d["step"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or("")
        ),
        "reconcile" => eprintln!("    reconciled: {}", d["reconciled"].as_str().unwrap_or("")),
        _ => {}
    }
}

pub fn plan_text(plan: &Plan) -> String {
    let mut s = format!(
        "plan: {} to create, {} to change, {} to remove, {} unchanged\n",
        plan.create.len(),
        plan.change.len(),
        plan.remove.len(),
        plan.unchanged.len()
    );
    for c in &plan.create {
        let _ = writeln!(s, "  + {c}");
    }
    for c in &plan.change {
        let _ = writeln!(s, "  ~ {}", c.service);
        for f in &c.fields {
            let _ = writeln!(
                s,
                "      {}.{}: {} -> {}",
                f.category, f.field, f.observed, f.desired
            );
        }
    }
    for r in &plan.remove {
        let _ = writeln!(s, "  - {r}");
    }
    s
}

fn outcome_text(o: &Outcome) -> String {
    let mut s = String::new();
    if let Some(p) = &o.plan {
        s.push_str(&plan_text(p));
    }
    let _ = writeln!(
        s,
        "deployment {} ({}) operation {}: {}",
        o.deployment_id,
        o.target,
        o.operation_id,
        o.phase.as_str()
    );
    if o.up_to_date {
        let _ = writeln!(
            s,
            "already up to date: this release is serving and nothing drifted"
        );
    }
    if let Some(e) = &o.error {
        let _ = writeln!(s, "error: {e}");
    }
    if let Some(to) = &o.rolled_back_to {
        let _ = writeln!(s, "rolled back: deployment {to} is serving again");
    }
    if let Some(h) = &o.health {
        for svc in &h.services {
            let _ = writeln!(
                s,
                "  {:<12} {}/{} healthy ({})",
                svc.service, svc.healthy, svc.desired, svc.status
            );
        }
    }
    if let Some(out) = &o.engine_output {
        let _ = writeln!(
            s,
            "engine output (exit code {}):\n{out}",
            o.engine_exit_code.map_or("-".into(), |c| c.to_string())
        );
    }
    s
}

/// Prints an engine error and returns its exit code.
fn fail(e: &OpsError, as_json: bool, color: bool) -> u8 {
    let code = match e {
        OpsError::Runtime(_) | OpsError::Lost(_) => 1,
        _ => 2,
    };
    if let OpsError::Input(report) = e {
        if as_json {
            let mut v = slipway_diagnostics::render_json(&report.diagnostics, &report.sources);
            v["type"] = json!("error");
            println!("{v}");
        } else {
            eprint!(
                "{}",
                render_human(
                    &report.diagnostics,
                    &report.sources,
                    RenderOptions { color }
                )
            );
        }
        return code;
    }
    if as_json {
        println!(
            "{}",
            json!({ "type": "error", "error": e.to_string(), "hint": e.hint() })
        );
    } else {
        eprintln!("error: {e}");
        if let Some(h) = e.hint() {
            eprintln!("  hint: {h}");
        }
    }
    code
}

fn finish(result: Result<Outcome, OpsError>, as_json: bool, color: bool) -> u8 {
    match result {
        Ok(o) => print_outcome(&o, as_json),
        Err(e) => fail(&e, as_json, color),
    }
}

/// Prints a deploy's or rollback's result; its exit code.
pub fn print_outcome(o: &Outcome, as_json: bool) -> u8 {
    if as_json {
        println!(
            "{}",
            json!({ "type": "result", "schema_version": 1, "result": o })
        );
    } else {
        print!("{}", outcome_text(o));
    }
    o.exit_code()
}

pub fn deploy(url: Option<&str>, opts: &DeployOptions, as_json: bool, color: bool) -> Result<u8> {
    let state = open(url)?;
    Ok(finish(
        slipway_engine::deploy(&state, opts, &mut |e| show_event(e, as_json)),
        as_json,
        color,
    ))
}

pub fn rollback(
    url: Option<&str>,
    id: &str,
    apply: &slipway_engine::ApplyOptions,
    as_json: bool,
    color: bool,
) -> Result<u8> {
    let state = open(url)?;
    Ok(finish(
        slipway_engine::rollback(&state, id, apply, &mut |e| show_event(e, as_json)),
        as_json,
        color,
    ))
}

pub fn status(url: Option<&str>, id: Option<&str>, as_json: bool, color: bool) -> Result<u8> {
    let state = open(url)?;
    let st = match slipway_engine::status(&state, id, &mut show_reconciled) {
        Ok(s) => s,
        Err(e) => return Ok(fail(&e, as_json, color)),
    };
    print_status(&st, as_json)
}

/// Prints a status (from the engine here or from an agent).
pub fn print_status(st: &slipway_engine::Status, as_json: bool) -> Result<u8> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(st)?);
        return Ok(0);
    }
    let mut s = String::new();
    let d = &st.deployment;
    let _ = writeln!(
        s,
        "deployment  {} ({}, created {})",
        d.id,
        d.target,
        time(d.created_at)
    );
    match &st.operation {
        Some(op) => {
            let _ = writeln!(
                s,
                "operation   {} {} {} ({})",
                op.id,
                op.kind,
                op.phase.as_str(),
                time(op.updated_at)
            );
            if let Some(e) = &op.error {
                let _ = writeln!(s, "            error: {e}");
            }
            let _ = writeln!(
                s,
                "            allowed now: {}",
                op.allowed_actions.join(", ")
            );
        }
        None => {
            let _ = writeln!(s, "operation   none");
        }
    }
    let serving = match (&st.serving_deployment, st.serving) {
        (_, true) => "yes".to_string(),
        (Some(other), false) => format!("no (deployment {other} is serving)"),
        (None, false) => "no (nothing deployed on this target)".to_string(),
    };
    let _ = writeln!(s, "serving     {serving}");
    match (&st.health, &st.health_error) {
        (Some(h), _) => {
            let _ = writeln!(
                s,
                "health      {}",
                if h.healthy { "healthy" } else { "unhealthy" }
            );
            for svc in &h.services {
                let _ = writeln!(
                    s,
                    "            {:<12} {}/{} healthy, {} running ({})",
                    svc.service, svc.healthy, svc.desired, svc.running, svc.status
                );
            }
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "health      unknown: {e}");
        }
        (None, None) => {
            let _ = writeln!(s, "health      -");
        }
    }
    let when = st
        .sync
        .scanned_at
        .map(|t| format!(" (scanned {})", time(t)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "sync        {}{when}{}",
        st.sync.state,
        if st.sync.state == "unknown" {
            "; run `slipway drift`"
        } else {
            ""
        }
    );
    for f in &st.sync.findings {
        let _ = writeln!(
            s,
            "            {} {} {}: {} -> {}",
            f.category, f.subject, f.field, f.desired, f.observed
        );
    }
    if !st.recent_audit.is_empty() {
        let _ = writeln!(s, "audit");
        for r in &st.recent_audit {
            let _ = writeln!(
                s,
                "            #{} {} {} {}",
                r.seq,
                time(r.at),
                r.kind,
                r.action
            );
        }
    }
    print!("{s}");
    Ok(0)
}

pub fn drift(url: Option<&str>, id: Option<&str>, as_json: bool, color: bool) -> Result<u8> {
    let state = open(url)?;
    let report = match slipway_engine::drift(&state, id, &mut show_reconciled) {
        Ok(r) => r,
        Err(e) => return Ok(fail(&e, as_json, color)),
    };
    print_drift(&report, as_json)
}

/// Prints a drift report; 1 when anything drifted.
pub fn print_drift(report: &slipway_engine::DriftReport, as_json: bool) -> Result<u8> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else if report.in_sync {
        println!(
            "in sync: deployment {} matches the engine and the generated files",
            report.serving_deployment
        );
    } else {
        println!(
            "{} drift finding(s) against deployment {}:",
            report.findings.len(),
            report.serving_deployment
        );
        for f in &report.findings {
            println!(
                "  [{}] {} {}: desired {}, observed {}",
                f.category, f.subject, f.field, f.desired, f.observed
            );
            println!("      fix: {}", f.remediation);
        }
    }
    Ok(u8::from(!report.in_sync))
}

pub fn history(url: Option<&str>, id: Option<&str>, as_json: bool, color: bool) -> Result<u8> {
    let state = open(url)?;
    let h = match slipway_engine::history(&state, id) {
        Ok(h) => h,
        Err(e) => return Ok(fail(&e, as_json, color)),
    };
    print_history(&h, as_json)
}

/// Prints the audit log; 1 when its chain does not verify.
pub fn print_history(h: &slipway_engine::History, as_json: bool) -> Result<u8> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(h)?);
    } else {
        for r in &h.records {
            println!(
                "#{:<5} {} {:<8} {:<9} {:<20} {} {} {}",
                r.seq,
                time(r.at),
                r.kind,
                r.action,
                r.deployment_id,
                r.operation_id.as_deref().unwrap_or("-"),
                r.actor,
                r.detail
            );
        }
        match &h.chain_error {
            None => println!(
                "audit chain: {} record(s), every hash verified",
                h.records.len()
            ),
            Some(e) => println!("audit chain BROKEN: {e}"),
        }
    }
    Ok(u8::from(!h.chain_verified))
}

/// `slipway serve`: tokens from the file or SLIPWAY_AGENT_TOKENS, then the agent.
pub fn serve(mut cfg: slipway_agent::AgentConfig, tokens_file: Option<&Path>) -> Result<u8> {
    let text = match tokens_file {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("cannot read tokens file {}: {e}", p.display()))?,
        None => std::env::var("SLIPWAY_AGENT_TOKENS")
            .unwrap_or_default()
            .replace(';', "\n"),
    };
    cfg.tokens = slipway_agent::parse_tokens(&text).map_err(|e| anyhow::anyhow!("tokens: {e}"))?;
    slipway_agent::run(cfg)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_milliseconds_as_utc() {
        assert_eq!(super::time(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::time(1_795_318_812_000), "2026-11-22T03:40:12Z");
        assert_eq!(super::time(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
