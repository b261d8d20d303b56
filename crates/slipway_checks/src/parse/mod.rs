//! Parsers that keep positions. YAML comes from `slipway_import::yaml`.

pub mod dockerfile;
pub mod hcl;
