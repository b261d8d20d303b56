//! DKR009 exec-form-and-pipefail.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that `CMD` and `ENTRYPOINT` use the exec (JSON) form, and that a `RUN`
    /// with a pipe follows a `SHELL` that sets `-o pipefail`.
    ///
    /// ## Why
    /// In shell form the process is a child of `/bin/sh`, which does not forward
    /// SIGTERM: containers are killed after the grace period instead of shutting down.
    /// Without pipefail, `curl ... | sh` succeeds even when the download failed.
    ///
    /// ## Example
    /// ```dockerfile
    /// CMD node server.js
    /// RUN curl -fsSL https://example.com/x | tar -xz
    /// ```
    ///
    /// ## Fix
    /// `CMD ["node", "server.js"]`, and `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before piped RUNs.
    ///
    /// Peers: hadolint DL3025, DL4006.
    Dkr009 { id: "DKR009", name: "exec-form-and-pipefail", severity: Warning, production: false, peers: "hadolint DL3025, DL4006" }
}

impl Rule for Dkr009 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            let mut pipefail = false;
            for ins in &df.instructions {
                match ins.keyword.as_str() {
                    "FROM" => pipefail = false,
                    "SHELL" => pipefail = ins.args.contains("pipefail"),
                    "CMD" | "ENTRYPOINT" if !ins.args.trim_start().starts_with('[') => {
                        out.add(
                            &Self::META,
                            file,
                            ins.span,
                            format!("`{}` in shell form does not receive signals", ins.keyword),
                            Some("use the exec form: [\"program\", \"arg\"]"),
                        );
                    }
                    "RUN"
                        if !pipefail
                            && ins.args.split("||").any(|p| p.contains('|'))
                            && !ins.args.contains("set -o pipefail") =>
                    {
                        out.add(&Self::META, file, ins.span, "a pipe in RUN without `pipefail` hides failures", Some("add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before it"));
                    }
                    _ => {}
                }
            }
        }
    }
}
