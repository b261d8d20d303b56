//! SH001 strict-mode.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;

rule! {
    /// ## What it does
    /// Checks that a shell script turns on strict mode (`set -euo pipefail`, or the
    /// same options spelled separately) before its first command.
    ///
    /// ## Why
    /// Without `-e` a failed step is ignored and the script carries on; without `-u`
    /// a typo in a variable name expands to nothing (think `rm -rf "$PREFIX/"`);
    /// without `pipefail` a failing producer in a pipe goes unnoticed.
    ///
    /// ## Example
    /// ```sh
    /// #!/usr/bin/env bash
    /// cp build/* "$DEST"
    /// ```
    ///
    /// ## Fix
    /// Add `set -euo pipefail` after the shebang.
    ///
    /// Peers: ShellCheck has no single equivalent (it flags the consequences, e.g. SC2086).
    Sh001 { id: "SH001", name: "strict-mode", severity: Warning, production: false, peers: "shellcheck (consequences only)" }
}

impl Rule for Sh001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for file in tree.shell_scripts() {
            let text = &file.text;
            let sets: String = text
                .lines()
                .filter(|l| l.trim_start().starts_with("set "))
                .collect::<Vec<_>>()
                .join(" ");
            let has = |flag: char| {
                sets.split_whitespace()
                    .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains(flag))
            };
            let pipefail = sets.contains("pipefail");
            if !(has('e') && has('u') && pipefail) {
                let first = text.lines().next().map_or(0, str::len);
                out.add(
                    &Self::META,
                    file,
                    Span::new(0, first),
                    "the script does not set `-euo pipefail`",
                    Some("add `set -euo pipefail` after the shebang"),
                );
            }
        }
    }
}
