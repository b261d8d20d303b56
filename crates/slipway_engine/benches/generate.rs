//! `slipway generate` on synthetic specs of 1, 10, 100 and 1000 services: wall time
//! (median of several runs, writing a fresh tree each time) and peak memory (`VmHWM`
//! of a child process that runs one generation). Half the services are built from
//! source (a FastAPI folder each, so detection reads real files), half are prebuilt
//! images; every fourth depends on PostgreSQL, every fourth on Redis.
//!
//! Run: `cargo bench -p slipway_engine --bench generate`

// Kilobyte counts and milliseconds for display only.
#![allow(clippy::cast_precision_loss)]

use slipway_engine::{generate, GenerateOptions};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

fn write_project(dir: &Path, n: usize, targets: Option<&str>) {
    let mut spec = String::from("name: bench\nenvironments: [dev, staging, prod]\nservices:\n");
    for i in 0..n {
        let port = 10_000 + 3 * i;
        if i % 2 == 0 {
            let src = dir.join(format!("svc{i}"));
            std::fs::create_dir_all(&src).unwrap();
            std::fs::write(
                src.join("requirements.txt"),
                "fastapi==0.115.6\nuvicorn==0.34.0\n",
            )
            .unwrap();
            std::fs::write(src.join("main.py"), "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/health')\ndef h():\n    return {}\n").unwrap();
            let _ = writeln!(spec, "  svc{i}:\n    path: ./svc{i}\n    port: {port}");
        } else {
            let _ = writeln!(spec, "  svc{i}:\n    image: registry.example.com/svc{i}:1.0.{i}\n    port: {port}\n    health: /health");
        }
        let _ = writeln!(spec, "    env: {{ LOG_LEVEL: info, INDEX: {i} }}\n    replicas: {{ dev: 1, prod: 2 }}\n    resources: {{ cpu: 250m, memory: 256Mi }}");
        match i % 4 {
            0 => spec.push_str("    depends_on: [db]\n"),
            1 => spec.push_str("    depends_on: [cache]\n"),
            _ => {}
        }
    }
    spec.push_str(
        "resources:\n  db: { type: postgres, version: \"16\" }\n  cache: { type: redis }\n",
    );
    if let Some(t) = targets {
        let _ = writeln!(spec, "targets: [{t}]");
    }
    std::fs::write(dir.join("slipway.yaml"), spec).unwrap();
}

fn run_once(dir: &Path, dry_run: bool) -> Duration {
    let out = dir.join(format!("out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let opts = GenerateOptions {
        spec: dir.join("slipway.yaml"),
        out: Some(out),
        dry_run,
        ..Default::default()
    };
    let t = Instant::now();
    let report = generate(&opts).unwrap();
    let elapsed = t.elapsed();
    assert!(!report.has_errors(), "{:?}", report.diagnostics.first());
    elapsed
}

fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    if let Ok(dir) = std::env::var("SLIPWAY_BENCH_CHILD") {
        run_once(Path::new(&dir), false);
        println!("{}", peak_kib());
        return;
    }
    println!("| services | files | median (write) | min | max | median (--dry-run, no writes) | peak RSS |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in [1usize, 10, 100, 1000] {
        let dir = tempfile::tempdir().unwrap();
        write_project(dir.path(), n, None);
        run_once(dir.path(), false); // warm the page cache
        let runs = if n >= 1000 { 7 } else { 15 };
        let mut times: Vec<Duration> = (0..runs).map(|_| run_once(dir.path(), false)).collect();
        times.sort();
        let mut dry: Vec<Duration> = (0..runs).map(|_| run_once(dir.path(), true)).collect();
        dry.sort();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .env("SLIPWAY_BENCH_CHILD", dir.path())
            .output()
            .unwrap();
        let peak: u64 = String::from_utf8_lossy(&child.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        let files = n / 2 * 2 + 11;
        println!(
            "| {n} | ~{files} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB |",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            dry[dry.len() / 2].as_secs_f64() * 1e3,
            peak as f64 / 1024.0
        );
    }
    // What the monitoring target adds at 100 services (issue 12 allows 20 ms):
    // the same spec with and without it, alternating, in one run.
    let plain = tempfile::tempdir().unwrap();
    write_project(plain.path(), 100, Some("docker, compose, scripts"));
    let monitored = tempfile::tempdir().unwrap();
    write_project(
        monitored.path(),
        100,
        Some("docker, compose, scripts, monitoring"),
    );
    run_once(plain.path(), false);
    run_once(monitored.path(), false);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        a.push(run_once(plain.path(), false));
        b.push(run_once(monitored.path(), false));
    }
    a.sort();
    b.sort();
    let (ma, mb) = (
        a[a.len() / 2].as_secs_f64() * 1e3,
        b[b.len() / 2].as_secs_f64() * 1e3,
    );
    println!();
    println!("100 services, docker+compose+scripts: median {ma:.1} ms; with monitoring: median {mb:.1} ms; added {:.1} ms", mb - ma);
}
