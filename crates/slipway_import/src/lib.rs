//! Importers: inputs -> the app model. `spec` reads the native `slipway.yaml`,
//! `detect` inspects a source folder, `yaml` is the span-keeping YAML reader they share.
//! Every problem is collected as a Diagnostic; none of this writes files.

pub mod compose;
pub mod detect;
pub mod level10;
pub mod score;
pub mod secrets;
pub mod spec;
pub mod yaml;
