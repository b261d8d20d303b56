//! DKR007 apt-hygiene.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks how Debian packages are installed: `apt-get` rather than `apt`, `-y`,
    /// `--no-install-recommends`, `update` and `install` in one `RUN`, and the
    /// package lists removed in the same layer.
    ///
    /// ## Why
    /// `apt` has no stable CLI for scripts; a separate `update` layer goes stale in
    /// the cache; recommends and leftover lists make the image bigger.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt update
    /// RUN apt install curl
    /// ```
    ///
    /// ## Fix
    /// `RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*`
    ///
    /// Peers: hadolint DL3027, DL3014, DL3015, DL3009; checkov CKV_DOCKER_9, CKV_DOCKER_5.
    Dkr007 { id: "DKR007", name: "apt-hygiene", severity: Warning, production: false, peers: "hadolint DL3027, DL3014, DL3015, DL3009; checkov CKV_DOCKER_9, CKV_DOCKER_5" }
}

impl Rule for Dkr007 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            for ins in df.instructions.iter().filter(|i| i.keyword == "RUN") {
                let a = &ins.args;
                let words: Vec<&str> = a.split_whitespace().collect();
                let mut problems = Vec::new();
                if words
                    .windows(2)
                    .any(|w| w[0] == "apt" && matches!(w[1], "install" | "update" | "upgrade"))
                {
                    problems.push("use `apt-get`, not `apt`");
                }
                let installs = a.contains("apt-get install") || a.contains("apt install");
                if installs {
                    if !words
                        .iter()
                        .any(|w| *w == "-y" || *w == "--yes" || *w == "-qy" || *w == "-yq")
                    {
                        problems.push("add `-y`");
                    }
                    if !a.contains("--no-install-recommends") {
                        problems.push("add `--no-install-recommends`");
                    }
                    if !a.contains("rm -rf /var/lib/apt/lists") {
                        problems.push("remove `/var/lib/apt/lists/*` in the same RUN");
                    }
                }
                if (a.contains("apt-get update") || a.contains("apt update")) && !installs {
                    problems.push("run `update` and `install` in the same RUN");
                }
                if !problems.is_empty() {
                    out.add(&Self::META, file, ins.span, format!("package install: {}", problems.join("; ")), Some("apt-get update && apt-get install -y --no-install-recommends ... && rm -rf /var/lib/apt/lists/*"));
                }
            }
        }
    }
}
