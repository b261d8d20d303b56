//! Fuzz target: any bytes as a Score workload file. The importer must never panic,
//! and every diagnostic span must lie in its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_diagnostics::SourceFile;
use slipway_import::score::import_score;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let files = vec![Arc::new(SourceFile::new("score.yaml", text))];
    let out = import_score(&files);
    for d in out.diagnostics.iter() {
        if let Some(s) = d.span {
            assert!(s.start <= s.end && s.end <= text.len());
        }
    }
});
