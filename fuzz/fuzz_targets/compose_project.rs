//! Fuzz target: a compose project of several files (`extends`, `include`, `.env`,
//! env files) given as one text: the main file, then each further file after a line
//! `#== <path>` (see `FileAccess::bundle`). Resolution must never panic or loop, and
//! every diagnostic span must lie in the file it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_diagnostics::SourceFile;
use slipway_import::compose::{import_compose, ComposeOptions, FileAccess};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (main, access) = FileAccess::bundle(text);
    let files = vec![Arc::new(SourceFile::new("compose.yaml", main.as_str()))];
    let opts = ComposeOptions {
        default_name: "fuzz".into(),
        access,
        ..Default::default()
    };
    let out = import_compose(&files, &opts);
    for d in out.diagnostics.iter() {
        let (Some(span), Some(file)) = (d.span, d.file.as_deref()) else {
            continue;
        };
        let text = if file == "compose.yaml" {
            main.as_str()
        } else {
            out.sources
                .iter()
                .find(|s| s.name == file)
                .map_or("", |s| s.text.as_str())
        };
        assert!(
            span.start <= span.end && span.end <= text.len(),
            "{file}: {span:?}"
        );
    }
    assert!(out.app.is_some() || out.diagnostics.has_errors());
});
