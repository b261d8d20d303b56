//! Fuzz target: any bytes as a slipway.yaml. The reader must never panic, and every
//! diagnostic it returns must point inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_diagnostics::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("fuzz.yaml", text);
    let outcome = slipway_import::spec::parse_spec(&file);
    for d in outcome.diagnostics.iter() {
        if let Some(span) = d.span {
            assert!(span.start <= span.end && span.end <= text.len(), "span {span:?} outside input of {} bytes", text.len());
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
});
