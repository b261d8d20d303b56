//! DKR005 absolute-workdir.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that `WORKDIR` is an absolute path and that `RUN` does not `cd`.
    ///
    /// ## Why
    /// A relative `WORKDIR` depends on whatever the base image set. A `cd` in `RUN`
    /// lasts only for that one instruction, which surprises the next reader.
    ///
    /// ## Example
    /// ```dockerfile
    /// WORKDIR app
    /// RUN cd /src && make
    /// ```
    ///
    /// ## Fix
    /// `WORKDIR /app`, then run commands from there.
    ///
    /// Peers: hadolint DL3000, DL3003; checkov CKV_DOCKER_10.
    Dkr005 { id: "DKR005", name: "absolute-workdir", severity: Warning, production: false, peers: "hadolint DL3000, DL3003; checkov CKV_DOCKER_10" }
}

impl Rule for Dkr005 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            for ins in &df.instructions {
                let a = ins.args.trim().trim_matches('"');
                if ins.keyword == "WORKDIR"
                    && !(a.starts_with('/') || a.starts_with('$') || a.chars().nth(1) == Some(':'))
                {
                    out.add(
                        &Self::META,
                        file,
                        ins.span,
                        format!("`WORKDIR {a}` is relative"),
                        Some("use an absolute path"),
                    );
                }
                if ins.keyword == "RUN" {
                    let cd = a.starts_with("cd ") || a.contains("&& cd ") || a.contains("; cd ");
                    if cd {
                        out.add(
                            &Self::META,
                            file,
                            ins.span,
                            "`cd` inside RUN only lasts for this instruction",
                            Some("set `WORKDIR` instead"),
                        );
                    }
                }
            }
        }
    }
}
