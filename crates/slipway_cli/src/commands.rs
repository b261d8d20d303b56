//! One function per subcommand: call the engine, print the result, pick the exit code.

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
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(if failed { 2 } else { 0 });
    }
    if !report.diagnostics.is_empty() {
        eprint!(
            "{}",
            render_human(
                &report.diagnostics,
                &report.sources,
                RenderOptions { color }
            )
        );
    }
    if failed {
        eprintln!("nothing was written");
        return Ok(2);
    }
    if let Some(diff) = &report.diff {
        print!("{diff}");
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
        eprint!("{out}");
    } else {
        print!("{out}");
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
    // A built-in name, or a user profile in YAML.
    let profile = if let Some(p) = slipway_checks::Profile::parse(profile) {
        p
    } else {
        let text = std::fs::read_to_string(profile).map_err(|e| anyhow::anyhow!("profile `{profile}` is neither a built-in name (default, production-guardrails) nor a readable file: {e}"))?;
        let file = std::sync::Arc::new(slipway_diagnostics::SourceFile::new(profile, text));
        match slipway_checks::Profile::load(&file) {
            Ok(p) => p,
            Err(errs) => {
                let mut map = slipway_diagnostics::SourceMap::default();
                map.add(file);
                eprint!("{}", render_human(&errs, &map, RenderOptions { color }));
                return Ok(2);
            }
        }
    };
    let report = slipway_checks::check_with(paths, &profile, deep);
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    let threshold = match fail_on {
        "info" => slipway_diagnostics::Severity::Info,
        "error" => slipway_diagnostics::Severity::Error,
        _ => slipway_diagnostics::Severity::Warning,
    };
    match format {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&slipway_checks::report::to_json(
                &report.findings,
                &report.sources,
                report.files_checked
            ))?
        ),
        "sarif" => println!(
            "{}",
            serde_json::to_string_pretty(&slipway_checks::report::to_sarif(
                &report.findings,
                &report.sources
            ))?
        ),
        "github" => print!(
            "{}",
            slipway_checks::report::to_github(&report.findings, &report.sources)
        ),
        _ => {
            if !report.findings.is_empty() {
                print!(
                    "{}",
                    render_human(&report.findings, &report.sources, RenderOptions { color })
                );
            }
            println!(
                "checked {} file(s): {} finding(s)",
                report.files_checked,
                report.findings.len()
            );
        }
    }
    if !report.problems.is_empty() {
        eprint!(
            "{}",
            render_human(&report.problems, &report.sources, RenderOptions { color })
        );
        return Ok(2);
    }
    Ok(u8::from(
        report.findings.iter().any(|f| f.severity >= threshold),
    ))
}

pub fn explain(rule: &str) -> u8 {
    let Some(r) = slipway_checks::rules::find(rule) else {
        eprintln!("error: no rule `{rule}`; `slipway rules` lists them");
        return 2;
    };
    let m = r.meta();
    println!(
        "{} {} ({}, {}{})\n",
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
    print!(
        "{}",
        m.doc
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!();
    0
}

pub fn rules(as_json: bool) -> Result<u8> {
    let all = slipway_checks::rules::RULES;
    if as_json {
        let items: Vec<_> = all
            .iter()
            .map(|r| {
                let m = r.meta();
                json!({ "id": m.id, "name": m.name, "severity": m.severity.as_str(), "production": m.production, "lifecycle": m.lifecycle, "peers": m.peers })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "schema_version": 1, "rules": items }))?
        );
        return Ok(0);
    }
    for r in all {
        let m = r.meta();
        println!(
            "{:<8} {:<28} {:<8} {}",
            m.id,
            m.name,
            m.severity.as_str(),
            if m.production { "P" } else { "" }
        );
    }
    Ok(0)
}
