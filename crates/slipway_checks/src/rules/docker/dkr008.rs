//! DKR008 no-secrets-in-env-or-arg.

use crate::rules::secrets::is_secret_name;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Flags `ENV` and `ARG` whose names look like secrets (`*_PASSWORD`, `*_TOKEN`,
    /// `*_SECRET`, `API_KEY`, ...) when they are given a value or declared as build
    /// arguments.
    ///
    /// ## Why
    /// Both are stored in the image's history and metadata: anyone who can pull the
    /// image can read them with `docker history` or `docker inspect`.
    ///
    /// ## Example
    /// ```dockerfile
    /// ENV DATABASE_PASSWORD=hunter2
    /// ARG NPM_TOKEN
    /// ```
    ///
    /// ## Fix
    /// Pass secrets at run time (files under `/run/secrets/`), or to a single build step with `RUN --mount=type=secret`.
    ///
    /// Peers: hadolint DL3064 (not in every version); checkov CKV_SECRET_2.
    Dkr008 { id: "DKR008", name: "no-secrets-in-env-or-arg", severity: Error, production: true, peers: "checkov CKV_SECRET_2" }
}

impl Rule for Dkr008 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            for ins in df
                .instructions
                .iter()
                .filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
            {
                for word in ins.args.split_whitespace() {
                    let (name, value) = word.split_once('=').unwrap_or((word, ""));
                    let value = value.trim_matches(['"', '\'']);
                    let reference = name.to_ascii_uppercase().ends_with("_FILE")
                        || value.starts_with("/run/secrets");
                    if is_secret_name(name)
                        && !reference
                        && (ins.keyword == "ARG" || !value.is_empty())
                    {
                        out.add(
                            &Self::META,
                            file,
                            ins.span,
                            format!(
                                "`{} {name}` puts a secret into the image's metadata",
                                ins.keyword
                            ),
                            Some("pass it at run time as a file, or use `RUN --mount=type=secret`"),
                        );
                    }
                }
            }
        }
    }
}
