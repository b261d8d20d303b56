//! Fuzz target: any bytes as a `.env` file, read with and without caller variables.
//! The parser must never panic, every span must lie in the text on character
//! boundaries, and a value is never longer than its expansion allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slipway_import::compose::parse_dotenv;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for outer in [
        &(|_: &str| None) as &dyn Fn(&str) -> Option<String>,
        &|k: &str| k.len().is_multiple_of(2).then(|| format!("v-{k}")),
    ] {
        let parsed = parse_dotenv(text, outer);
        let inside = |s: slipway_diagnostics::Span| {
            s.start <= s.end
                && s.end <= text.len()
                && text.is_char_boundary(s.start)
                && text.is_char_boundary(s.end)
        };
        for e in &parsed.entries {
            assert!(inside(e.key_span) && inside(e.value_span));
            assert!(!e.key.is_empty());
        }
        for (s, _) in &parsed.errors {
            assert!(inside(*s));
        }
        for (_, s) in &parsed.unset {
            assert!(inside(*s));
        }
    }
});
