//! Fuzz target: any bytes as a compose file (and the same bytes as an override).
//! The importer must never panic, and every diagnostic span must lie in its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_diagnostics::SourceFile;
use slipway_import::compose::{import_compose, ComposeOptions};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let files = vec![Arc::new(SourceFile::new("compose.yaml", text))];
    let opts = ComposeOptions { default_name: "fuzz".into(), ..Default::default() };
    let out = import_compose(&files, &opts);
    for d in out.diagnostics.iter() {
        if let Some(s) = d.span {
            assert!(s.start <= s.end && s.end <= text.len());
        }
    }
});
