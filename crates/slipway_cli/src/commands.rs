//! One function per subcommand: call the engine, print the result, pick the exit code.

use crate::printer;
use anyhow::Result;
use serde_json::json;
use slipway_diagnostics::{render_human, render_json, RenderOptions};
use slipway_engine::{FileStatus, GenerateOptions};
use std::fmt::Write as _;
use std::path::Path;

pub fn init(dir: &Path, force: bool) -> Result<u8> {
    let report = slipway_engine::init(dir, force)?;
    println!(
        "wrote {} with {} service(s):",
        report.path.display(),
        report.services.len()
    );
    for d in &report.services {
        println!(
            "  {:<16} {:<8} {}",
            d.name,
            d.plan.language.as_str(),
            d.path
        );
    }
    println!(
        "next: review the values marked `guessed`, then run `slipway generate {}`",
        report.path.display()
    );
    Ok(0)
}

pub fn detect(dir: &Path, as_json: bool) -> Result<u8> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a folder", dir.display());
    }
    let found = slipway_engine::discover(dir);
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "schema_version": 1, "services": found }))?
        );
        return Ok(if found.is_empty() { 2 } else { 0 });
    }
    if found.is_empty() {
        eprintln!("no service found under {}: no package.json, pyproject.toml, requirements.txt, go.mod, Cargo.toml or pom.xml", dir.display());
        return Ok(2);
    }
    let mut out = String::new();
    for d in &found {
        let p = &d.plan;
        let mark = |f: &str| {
            if p.guessed.iter().any(|g| g == f) {
                " (guessed)"
            } else {
                ""
            }
        };
        let _ = writeln!(out, "{} ({})", d.name, d.path);
        let _ = writeln!(
            out,
            "  language         {}{}",
            p.language.as_str(),
            p.framework
                .as_deref()
                .map(|f| format!(" / {f}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "  package manager  {}{}",
            p.package_manager,
            mark("package_manager")
        );
        let _ = writeln!(out, "  version          {}{}", p.version, mark("version"));
        if let Some(e) = p
            .entry
            .as_deref()
            .filter(|_| p.guessed.iter().any(|g| g == "entry"))
        {
            let _ = writeln!(out, "  entry            {e} (guessed)");
        }
        if p.start.is_empty() {
            let _ = writeln!(out, "  start            none found: set `command:`");
        } else {
            let _ = writeln!(
                out,
                "  start            {}{}",
                p.start.join(" "),
                mark("start")
            );
        }
        if let Some(port) = p.port {
            let _ = writeln!(out, "  port             {port}{}", mark("port"));
        }
        if let Some(h) = &p.health_path {
            let _ = writeln!(out, "  health           {h}{}", mark("health_path"));
        }
        if p.build {
            let _ = writeln!(out, "  build step       yes");
        }
        if let Some(t) = &p.test {
            let _ = writeln!(out, "  test             {}", t.join(" "));
        }
        for n in &p.notes {
            let _ = writeln!(out, "  note             {n}");
        }
    }
    print!("{out}");
    Ok(0)
}

pub fn generate(opts: &GenerateOptions, as_json: bool, color: bool) -> Result<u8> {
    let report = slipway_engine::generate(opts)?;
    let failed = report.has_errors();
    if as_json {
        let mut v = render_json(&report.diagnostics, &report.sources);
        v["ok"] = json!(!failed);
        v["build_id"] = json!(report.build_id);
        v["dry_run"] = json!(opts.dry_run);
        v["files"] = json!(report.changes);
        if let Some(d) = &report.diff {
            v["diff"] = json!(d);
        }
        printer::outln(&serde_json::to_string_pretty(&v)?)?;
        return Ok(if failed { 2 } else { 0 });
    }
    if !report.diagnostics.is_empty() {
        printer::err(&render_human(
            &report.diagnostics,
            &report.sources,
            RenderOptions { color },
        ));
    }
    if failed {
        printer::err("nothing was written\n");
        return Ok(2);
    }
    if let Some(diff) = &report.diff {
        printer::out(diff)?;
    }
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| report.out_dir.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| report.out_dir.clone());
    let verb = if opts.dry_run {
        "would write"
    } else {
        "generated"
    };
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut out = format!("{verb} {} (build {})\n", shown.display(), report.build_id);
    for c in &report.changes {
        *counts.entry(c.status.as_str()).or_default() += 1;
        if c.status != FileStatus::Unchanged || !opts.dry_run {
            let _ = writeln!(out, "  {:<11} {}", c.status.as_str(), c.path);
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        out,
        "{} files: {}",
        report.changes.len(),
        summary.join(", ")
    );
    if opts.dry_run {
        printer::err(&out);
    } else {
        printer::out(&out)?;
    }
    Ok(0)
}

pub fn check(
    paths: &[std::path::PathBuf],
    profile: &str,
    format: &str,
    fail_on: &str,
    deep: bool,
    color: bool,
) -> Result<u8> {
    let profile = match check_profile(profile, color)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let report = slipway_checks::check_with(paths, &profile, deep);
    for note in &report.notes {
        printer::err(&format!("note: {note}\n"));
    }
    let threshold = match fail_on {
        "info" => slipway_diagnostics::Severity::Info,
        "error" => slipway_diagnostics::Severity::Error,
        _ => slipway_diagnostics::Severity::Warning,
    };
    let document = match format {
        "json" => slipway_checks::report::report_json_text(&report),
        "sarif" => {
            serde_json::to_string_pretty(&slipway_checks::report::report_sarif(&report))? + "\n"
        }
        "github" => slipway_checks::report::report_github(&report),
        _ => {
            let mut text = String::new();
            if !report.findings.is_empty() {
                text = render_human(&report.findings, &report.sources, RenderOptions { color });
            }
            let _ = writeln!(
                text,
                "checked {} file(s): {} finding(s)",
                report.files_checked,
                report.findings.len()
            );
            text
        }
    };
    printer::out(&document)?;
    if !report.problems.is_empty() {
        printer::err(&render_human(
            &report.problems,
            &report.sources,
            RenderOptions { color },
        ));
        return Ok(2);
    }
    Ok(u8::from(
        report.findings.iter().any(|f| f.severity >= threshold),
    ))
}

/// The policy profile `--profile` names: a built-in one, or a profile file in YAML.
/// `Err(code)` when the file's problems were printed.
fn check_profile(name: &str, color: bool) -> Result<Result<slipway_checks::Profile, u8>> {
    if let Some(p) = slipway_checks::Profile::parse(name) {
        return Ok(Ok(p));
    }
    let path = Path::new(name);
    if !path.is_file() {
        let names = slipway_checks::Profile::NAMES;
        let hint = slipway_import::spec::did_you_mean(name, names.iter().copied())
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        anyhow::bail!(
            "unknown policy profile `{name}`{hint}: the built-in ones are {}, or give the path of a profile file in YAML",
            names.join(", ")
        );
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("profile file `{name}` cannot be read: {e}"))?;
    let file = std::sync::Arc::new(slipway_diagnostics::SourceFile::new(name, text));
    Ok(match slipway_checks::Profile::load(&file) {
        Ok(p) => Ok(p),
        Err(errs) => {
            let mut map = slipway_diagnostics::SourceMap::default();
            map.add(file);
            printer::err(&render_human(&errs, &map, RenderOptions { color }));
            Err(2)
        }
    })
}

/// A rule's documentation, or a registered code's (SPEC, SCORE, L10, GEN, TPL).
pub fn explain(rule: &str) -> Result<u8> {
    let (mut text, doc) = if let Some(r) = slipway_checks::rules::find(rule) {
        let m = r.meta();
        let head = format!(
            "{} {} ({}, {}{})\n\n",
            m.id,
            m.name,
            m.severity.as_str(),
            m.lifecycle,
            if m.production {
                ", error under production-guardrails"
            } else {
                ""
            }
        );
        (head, m.doc)
    } else if let Some(c) = slipway_diagnostics::code(rule) {
        let head = format!(
            "{} {} ({}, {})\n\n",
            c.id,
            c.name,
            c.severity.as_str(),
            c.lifecycle
        );
        (head, c.doc)
    } else {
        let ids: Vec<&str> = slipway_checks::rules::RULES
            .iter()
            .map(|r| r.meta().id)
            .chain(slipway_diagnostics::CODES.iter().map(|c| c.id))
            .collect();
        let hint = nearest_id(rule, &ids)
            .map(|id| format!(" (did you mean `{id}`?)"))
            .unwrap_or_default();
        printer::err(&format!(
            "error: no rule `{rule}`{hint}; `slipway rules --all` lists every rule and code\n"
        ));
        return Ok(2);
    };
    for l in doc.lines() {
        text.push_str(l.strip_prefix(' ').unwrap_or(l));
        text.push('\n');
    }
    printer::out(&text)?;
    Ok(0)
}

/// The id `word` most likely meant: the same number in its family, or in the family
/// whose prefix is nearest (`spec9` and `SEPC009` mean SPEC009), else an id of that
/// family one digit away. `None` when nothing is that close.
fn nearest_id<'a>(word: &str, ids: &[&'a str]) -> Option<&'a str> {
    let split = |s: &str| {
        let at = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        (s[..at].to_ascii_uppercase(), s[at..].to_string())
    };
    let (prefix, digits) = split(word);
    let mut families: Vec<String> = ids.iter().map(|id| split(id).0).collect();
    families.dedup();
    let family = if families.contains(&prefix) {
        prefix
    } else {
        slipway_import::spec::did_you_mean(&prefix, families.iter().map(String::as_str))?
            .to_string()
    };
    let number = digits.parse::<u32>().ok()?;
    let in_family = || {
        ids.iter()
            .copied()
            .filter(|id| split(id).0 == family)
            .map(|id| (id, split(id).1))
    };
    let one_digit_away = |d: &str| {
        d.len() == digits.len()
            && d.chars()
                .zip(digits.chars())
                .filter(|(a, b)| a != b)
                .count()
                == 1
    };
    in_family()
        .find(|(_, d)| d.parse::<u32>().ok() == Some(number))
        .or_else(|| in_family().find(|(_, d)| one_digit_away(d)))
        .map(|(id, _)| id)
}

/// The rule list; with `all`, the registered codes too.
pub fn rules(as_json: bool, all: bool) -> Result<u8> {
    let rules = slipway_checks::rules::RULES;
    let codes = if all { slipway_diagnostics::CODES } else { &[] };
    if as_json {
        let items: Vec<_> = rules
            .iter()
            .map(|r| {
                let m = r.meta();
                json!({ "id": m.id, "name": m.name, "severity": m.severity.as_str(), "production": m.production, "lifecycle": m.lifecycle, "peers": m.peers })
            })
            .collect();
        let mut doc = json!({ "schema_version": 1, "rules": items });
        if all {
            doc["codes"] = codes
                .iter()
                .map(|c| json!({ "id": c.id, "name": c.name, "severity": c.severity.as_str(), "lifecycle": c.lifecycle }))
                .collect();
        }
        printer::outln(&serde_json::to_string_pretty(&doc)?)?;
        return Ok(0);
    }
    let mut text = String::new();
    for r in rules {
        let m = r.meta();
        let _ = writeln!(
            text,
            "{:<8} {:<28} {:<8} {}",
            m.id,
            m.name,
            m.severity.as_str(),
            if m.production { "P" } else { "" }
        );
    }
    for c in codes {
        let _ = writeln!(text, "{:<8} {:<28} {}", c.id, c.name, c.severity.as_str());
    }
    printer::out(&text)?;
    Ok(0)
}
