//! Operations scripts for the Compose stack: `scripts/start.sh` (secrets, build, up,
//! wait for health) and `scripts/healthcheck.sh`. Bash with `set -euo pipefail`,
//! checked by shellcheck in the full test run.

use crate::compose::ComposeView;
use crate::{Emitted, Templates};

pub(crate) fn emit(view: &ComposeView<'_>, templates: &Templates, out: &mut Emitted) {
    let traces: Vec<String> = view.entries.iter().map(|e| e.id.clone()).collect();
    let scripts = [
        ("scripts/start.sh.j2", "scripts/start.sh", "Creates missing resource secrets, builds and starts the stack for one environment, waits for health"),
        ("scripts/healthcheck.sh.j2", "scripts/healthcheck.sh", "Waits until every container of the project reports healthy, with a timeout"),
    ];
    for (template, path, definition) in scripts {
        match templates.render(template, view) {
            Ok(text) => {
                out.files.add(path, text);
                let id = format!(
                    "artifact.scripts.{}",
                    path.trim_start_matches("scripts/").trim_end_matches(".sh")
                );
                out.files.artifact(
                    id,
                    "script",
                    traces.clone(),
                    definition.to_string(),
                    vec![path.to_string()],
                );
            }
            Err(d) => out.diagnostics.push(d),
        }
    }
}
