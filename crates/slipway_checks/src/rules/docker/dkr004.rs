//! DKR004 copy-not-add.

use crate::parse::dockerfile::Dockerfile;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Flags `ADD` used for local files and folders.
    ///
    /// ## Why
    /// `ADD` also fetches URLs and unpacks archives, so a harmless-looking line can
    /// download or extract more than intended. `COPY` does only what it says.
    ///
    /// ## Example
    /// ```dockerfile
    /// ADD . /app
    /// ```
    ///
    /// ## Fix
    /// `COPY . /app`. Keep `ADD` only for a remote URL with `--checksum`, or a local archive to unpack.
    ///
    /// Peers: hadolint DL3020; checkov CKV_DOCKER_4; Trivy DS005.
    Dkr004 { id: "DKR004", name: "copy-not-add", severity: Warning, production: true, peers: "hadolint DL3020; checkov CKV_DOCKER_4" }
}

const ARCHIVES: &[&str] = &[".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".txz"];

impl Rule for Dkr004 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            for ins in df.instructions.iter().filter(|i| i.keyword == "ADD") {
                let words: Vec<&str> = Dockerfile::without_flags(&ins.args)
                    .split_whitespace()
                    .collect();
                let sources = &words[..words.len().saturating_sub(1)];
                let remote_or_archive = !sources.is_empty()
                    && sources
                        .iter()
                        .all(|s| s.contains("://") || ARCHIVES.iter().any(|a| s.ends_with(a)));
                if !remote_or_archive {
                    out.add(
                        &Self::META,
                        file,
                        ins.keyword_span,
                        "`ADD` copies local files; use `COPY`",
                        Some("replace `ADD` with `COPY`"),
                    );
                }
            }
        }
    }
}
