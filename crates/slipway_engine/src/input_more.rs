//! The Score and level-10 importers, behind the same interface as the others.

use crate::input::InputKind;
use slipway_diagnostics::{Diagnostics, SourceFile};
use slipway_model::App;
use std::path::Path;
use std::sync::Arc;

pub(crate) fn load(
    kind: InputKind,
    files: &[Arc<SourceFile>],
    base_dir: &Path,
) -> (Option<App>, Diagnostics) {
    let _ = base_dir;
    if kind == InputKind::Score {
        let out = slipway_import::score::import_score(files);
        (out.app, out.diagnostics)
    } else {
        let out = slipway_import::level10::import_level10(&files[0]);
        (out.app, out.diagnostics)
    }
}
