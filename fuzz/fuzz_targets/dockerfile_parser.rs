//! Fuzz target: any bytes as a Dockerfile, parsed and checked by every rule. Nothing
//! may panic, and every span must lie inside the text on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_diagnostics::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("Dockerfile", text);
    let df = slipway_checks::parse::dockerfile::parse(&file);
    for i in &df.instructions {
        assert!(i.span.start <= i.span.end && i.span.end <= text.len());
        assert!(text.is_char_boundary(i.span.start) && text.is_char_boundary(i.span.end));
        assert!(i.keyword_span.end <= i.span.end.max(i.keyword_span.end) && i.keyword_span.end <= text.len());
    }
    let _ = slipway_checks::check_text("Dockerfile", text);
});
