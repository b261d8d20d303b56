//! DKR003 healthcheck-present.

use super::final_stage;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that the final stage of a service image declares a `HEALTHCHECK`
    /// (and not `HEALTHCHECK NONE`).
    ///
    /// ## Why
    /// Without one, Docker and Compose call a container healthy as soon as its process
    /// starts, so `depends_on: service_healthy` and rolling updates wait for nothing.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// CMD ["uvicorn", "main:app"]
    /// ```
    ///
    /// ## Fix
    /// Add a check that needs no extra tools, e.g.
    /// `HEALTHCHECK CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]`.
    ///
    /// Peers: hadolint DL3057 (off by default); checkov CKV_DOCKER_2; Trivy DS026.
    Dkr003 { id: "DKR003", name: "healthcheck-present", severity: Warning, production: false, peers: "hadolint DL3057; checkov CKV_DOCKER_2" }
}

impl Rule for Dkr003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            let Some(last) = final_stage(df) else {
                continue;
            };
            let hc = df
                .stage_instructions(last)
                .filter(|i| i.keyword == "HEALTHCHECK")
                .last();
            match hc {
                None => {
                    let from = &df.instructions[df.stages[last].from];
                    out.add(
                        &Self::META,
                        file,
                        from.span,
                        "the final stage has no HEALTHCHECK",
                        Some("add a HEALTHCHECK on the service's health endpoint"),
                    );
                }
                Some(h) if h.args.trim().eq_ignore_ascii_case("none") => {
                    out.add(
                        &Self::META,
                        file,
                        h.span,
                        "`HEALTHCHECK NONE` disables the health check",
                        Some("declare a real health check"),
                    );
                }
                Some(_) => {}
            }
        }
    }
}
