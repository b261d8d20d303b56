//! Import + emit Kubernetes for all 39 awesome-compose samples in one process:
//! reading each compose file, the compose importer, and the Kubernetes emitter
//! (kustomize base and three overlays, re-parsed), all in memory. Reports the total
//! wall time (median of 21 runs) and the peak RSS of a child doing one pass.
//!
//! Run: `cargo bench -p slipway_engine --bench corpus`

// Kilobyte counts and milliseconds for display only.
#![allow(clippy::cast_precision_loss)]

use slipway_diagnostics::SourceFile;
use slipway_emit::{emit, EmitRequest, Templates};
use slipway_import::compose::{import_compose, ComposeOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn samples() -> Vec<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/awesome-compose");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let d = e.ok()?.path();
            ["compose.yaml", "compose.yml"]
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
        })
        .collect();
    out.sort();
    out
}

/// One pass over the corpus; returns (converted samples, objects' bytes).
fn pass(files: &[PathBuf], templates: &Templates) -> (usize, usize) {
    let (mut converted, mut bytes) = (0, 0);
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let src = vec![Arc::new(SourceFile::new(
            f.to_string_lossy().into_owned(),
            text,
        ))];
        let name = f
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = import_compose(
            &src,
            &ComposeOptions {
                default_name: name,
                ..Default::default()
            },
        );
        let Some(mut app) = out.app else { continue };
        app.targets = vec!["kubernetes".into()];
        let req = EmitRequest {
            source: "compose.yaml".into(),
            build_id: "bench".into(),
            ..Default::default()
        };
        let emitted = emit(&app, &req, templates);
        converted += 1;
        bytes += emitted.files.files.values().map(String::len).sum::<usize>();
    }
    (converted, bytes)
}

fn main() {
    let files = samples();
    let templates = Templates::new(None).unwrap();
    if std::env::var_os("SLIPWAY_BENCH_CHILD").is_some() {
        pass(&files, &templates);
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .map(|v| v.trim().trim_end_matches("kB").trim().to_string())
            .unwrap_or_default();
        println!("{kib}");
        return;
    }
    let (converted, bytes) = pass(&files, &templates);
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let t = Instant::now();
            pass(&files, &templates);
            t.elapsed()
        })
        .collect();
    times.sort();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("SLIPWAY_BENCH_CHILD", "1")
        .output()
        .unwrap();
    let peak: f64 = String::from_utf8_lossy(&child.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    println!(
        "samples: {} (converted {converted}), Kubernetes output: {:.1} KiB",
        files.len(),
        bytes as f64 / 1024.0
    );
    println!(
        "whole corpus: median {:.1} ms, min {:.1} ms, max {:.1} ms; peak RSS {:.1} MiB",
        times[10].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[20].as_secs_f64() * 1e3,
        peak / 1024.0
    );
}
