//! DKR006 no-sudo-or-tls-bypass.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Flags `sudo` in `RUN`, and flags downloads or package installs that switch off
    /// verification: `curl -k`/`--insecure`, `wget --no-check-certificate`,
    /// `--allow-unauthenticated`, `pip --trusted-host`, `npm config set strict-ssl false`.
    ///
    /// ## Why
    /// Builds already run as root, so `sudo` only adds an unpredictable layer.
    /// Skipping TLS or signature checks lets anyone on the path swap what you install.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN curl -k https://example.com/install.sh | sh
    /// ```
    ///
    /// ## Fix
    /// Drop `sudo`, and keep verification on: install the CA certificates you need instead.
    ///
    /// Peers: hadolint DL3004; checkov CKV2_DOCKER_1, CKV2_DOCKER_2, CKV2_DOCKER_3, CKV2_DOCKER_8.
    Dkr006 { id: "DKR006", name: "no-sudo-or-tls-bypass", severity: Error, production: true, peers: "hadolint DL3004; checkov CKV2_DOCKER_1/2/3/8" }
}

const BYPASS: &[&str] = &[
    "--insecure",
    "--no-check-certificate",
    "--allow-unauthenticated",
    "--trusted-host",
    "strict-ssl false",
    "--force-yes",
    "GIT_SSL_NO_VERIFY",
    "PYTHONHTTPSVERIFY=0",
    "NODE_TLS_REJECT_UNAUTHORIZED=0",
];

impl Rule for Dkr006 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            for ins in df
                .instructions
                .iter()
                .filter(|i| i.keyword == "RUN" || i.keyword == "ENV")
            {
                let words: Vec<&str> = ins.args.split_whitespace().collect();
                if ins.keyword == "RUN" && words.contains(&"sudo") {
                    out.add(
                        &Self::META,
                        file,
                        ins.span,
                        "`sudo` in RUN",
                        Some("remove `sudo`; build steps already run as root"),
                    );
                }
                let curl_k = words.windows(2).any(|w| w[0] == "curl" && w[1] == "-k")
                    || (words.contains(&"curl")
                        && words.iter().any(|w| {
                            w.starts_with('-')
                                && !w.starts_with("--")
                                && w.contains('k')
                                && w.len() <= 6
                        }));
                if let Some(flag) = BYPASS
                    .iter()
                    .find(|b| ins.args.contains(*b))
                    .copied()
                    .or(curl_k.then_some("curl -k"))
                {
                    out.add(
                        &Self::META,
                        file,
                        ins.span,
                        format!("`{flag}` switches off verification of what is downloaded"),
                        Some("keep TLS and signature checks on"),
                    );
                }
            }
        }
    }
}
