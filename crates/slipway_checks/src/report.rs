//! Output formats for check findings: JSON (`schema_version`, `findings`, `notes`),
//! SARIF 2.1.0 (one `ruleId` per rule, stable fingerprints, notes as tool
//! notifications), and GitHub workflow annotations (notes as `::notice`). Human
//! output is the shared diagnostics renderer, notes on stderr.

use crate::rules::{find, RULES};
use crate::CheckReport;
use serde_json::{json, Value};
use slipway_diagnostics::{Diagnostic, Severity, SourceMap};
use std::fmt::Write as _;

/// `(line, column, end_line, end_column)`, 1-based.
fn position(d: &Diagnostic, sources: &SourceMap) -> (usize, usize, usize, usize) {
    match (d.file.as_deref().and_then(|f| sources.get(f)), d.span) {
        (Some(src), Some(span)) => {
            let (l, c) = src.line_col(span.start);
            let (el, ec) = src.line_col(span.end);
            (l, c, el, ec)
        }
        _ => (1, 1, 1, 1),
    }
}

fn rule_name(id: &str) -> &'static str {
    find(id).map_or("", |r| r.meta().name)
}

/// One finding in the JSON report. Fields are in the order the report has always
/// printed them (alphabetical, as a JSON object map sorts them).
#[derive(serde::Serialize)]
struct JsonFinding<'a> {
    column: usize,
    end_column: usize,
    end_line: usize,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
    line: usize,
    message: &'a str,
    rule_id: &'a str,
    rule_name: &'static str,
    severity: &'static str,
}

/// The JSON report, borrowed from the findings: serialized directly, with no
/// intermediate JSON tree for thousands of findings.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    files_checked: usize,
    findings: Vec<JsonFinding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<&'a [String]>,
    schema_version: u32,
}

fn json_report<'a>(
    findings: &'a [Diagnostic],
    sources: &SourceMap,
    files_checked: usize,
    notes: Option<&'a [String]>,
) -> JsonReport<'a> {
    use rayon::prelude::*;
    let findings = findings
        .par_iter()
        .map(|d| {
            let (line, column, end_line, end_column) = position(d, sources);
            JsonFinding {
                column,
                end_column,
                end_line,
                file: d.file.as_deref().unwrap_or_default(),
                fix: d.help.as_deref(),
                line,
                message: &d.message,
                rule_id: &d.rule_id,
                rule_name: rule_name(&d.rule_id),
                severity: d.severity.as_str(),
            }
        })
        .collect();
    JsonReport {
        files_checked,
        findings,
        notes,
        schema_version: 1,
    }
}

#[must_use]
pub fn to_json(findings: &[Diagnostic], sources: &SourceMap, files_checked: usize) -> Value {
    serde_json::to_value(json_report(findings, sources, files_checked, None)).unwrap_or(Value::Null)
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A fingerprint that survives edits elsewhere in the file: rule, file, and the
/// text of the line (not its number).
fn fingerprint(d: &Diagnostic, sources: &SourceMap) -> String {
    let line_text = match (d.file.as_deref().and_then(|f| sources.get(f)), d.span) {
        (Some(src), Some(span)) => src
            .lines
            .line_text(&src.text, src.line_col(span.start).0)
            .trim()
            .to_string(),
        _ => String::new(),
    };
    // FNV-1a: small, stable across versions and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!(
        "{}\0{}\0{line_text}",
        d.rule_id,
        d.file.as_deref().unwrap_or("")
    )
    .bytes()
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[must_use]
pub fn to_sarif(findings: &[Diagnostic], sources: &SourceMap) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id,
                "name": m.name,
                "shortDescription": { "text": m.doc.lines().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).unwrap_or(m.name).trim() },
                "fullDescription": { "text": m.doc.trim() },
                "defaultConfiguration": { "level": sarif_level(m.severity) },
                "properties": { "peers": m.peers, "lifecycle": m.lifecycle },
            })
        })
        .collect();
    let index = |id: &str| RULES.iter().position(|r| r.meta().id == id);
    let results: Vec<Value> = findings
        .iter()
        .map(|d| {
            let (line, column, end_line, end_column) = position(d, sources);
            let mut r = json!({
                "ruleId": d.rule_id,
                "level": sarif_level(d.severity),
                "message": { "text": d.message },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": d.file.clone().unwrap_or_default() },
                    "region": { "startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column },
                } }],
                "partialFingerprints": { "slipway/v1": fingerprint(d, sources) },
            });
            if let Some(i) = index(&d.rule_id) {
                r["ruleIndex"] = json!(i);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "slipway", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://example.invalid/slipway", "rules": rules } },
            "results": results,
        }],
    })
}

/// GitHub workflow commands: `::error file=...,line=...::message`.
#[must_use]
pub fn to_github(findings: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in findings {
        let (line, column, end_line, end_column) = position(d, sources);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let esc = |s: &str| {
            s.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let prop = |s: &str| esc(s).replace(':', "%3A").replace(',', "%2C");
        let _ = writeln!(
            out,
            "::{level} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}",
            prop(d.file.as_deref().unwrap_or("")),
            prop(&format!("{} {}", d.rule_id, rule_name(&d.rule_id))),
            esc(&d.message)
        );
    }
    out
}

/// A whole run as JSON: `to_json` and the run's `notes`.
#[must_use]
pub fn report_json(r: &CheckReport) -> Value {
    serde_json::to_value(json_report(
        &r.findings,
        &r.sources,
        r.files_checked,
        Some(&r.notes),
    ))
    .unwrap_or(Value::Null)
}

/// `report_json` as the pretty-printed text `slipway check --format json` prints,
/// written straight from the findings.
#[must_use]
pub fn report_json_text(r: &CheckReport) -> String {
    let report = json_report(&r.findings, &r.sources, r.files_checked, Some(&r.notes));
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// A whole run as SARIF: `to_sarif`, and the notes as the invocation's tool
/// notifications (level `note`).
#[must_use]
pub fn report_sarif(r: &CheckReport) -> Value {
    let mut v = to_sarif(&r.findings, &r.sources);
    let notes: Vec<Value> = r
        .notes
        .iter()
        .map(|n| json!({ "level": "note", "message": { "text": n } }))
        .collect();
    v["runs"][0]["invocations"] = json!([{
        "executionSuccessful": r.problems.is_empty(),
        "toolExecutionNotifications": notes,
    }]);
    v
}

/// A whole run as GitHub workflow commands: a `::notice` per note, then the findings.
#[must_use]
pub fn report_github(r: &CheckReport) -> String {
    let mut out = String::new();
    for n in &r.notes {
        let esc = n
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        let _ = writeln!(out, "::notice title=slipway check::{esc}");
    }
    out + &to_github(&r.findings, &r.sources)
}
