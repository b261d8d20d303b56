//! DKR010 multi-stage-integrity.

use crate::parse::dockerfile::Dockerfile;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that stage names are unique, and that `COPY --from` names a stage
    /// defined earlier (or an image reference).
    ///
    /// ## Why
    /// A duplicate stage name or a `--from` that names a later or missing stage
    /// silently copies from an image pulled from a registry instead.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.22 AS build
    /// FROM debian:bookworm-slim AS build
    /// COPY --from=builder /out/app /app
    /// ```
    ///
    /// ## Fix
    /// Give every stage its own name, and copy from a stage defined above.
    ///
    /// Peers: hadolint DL3022, DL3023, DL3024; checkov CKV_DOCKER_11.
    Dkr010 { id: "DKR010", name: "multi-stage-integrity", severity: Error, production: true, peers: "hadolint DL3022, DL3023, DL3024; checkov CKV_DOCKER_11" }
}

impl Rule for Dkr010 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, df) in tree.dockerfiles() {
            let mut seen: Vec<String> = Vec::new();
            for (index, stage) in df.stages.iter().enumerate() {
                if let Some(name) = &stage.name {
                    let lower = name.to_ascii_lowercase();
                    if seen.contains(&lower) {
                        out.add(
                            &Self::META,
                            file,
                            df.instructions[stage.from].span,
                            format!("stage name `{name}` is used twice"),
                            Some("give every stage its own name"),
                        );
                    }
                    seen.push(lower);
                }
                for ins in df.stage_instructions(index).filter(|i| i.keyword == "COPY") {
                    let Some((_, from)) = Dockerfile::flags(&ins.args)
                        .into_iter()
                        .find(|(k, _)| *k == "from")
                    else {
                        continue;
                    };
                    let earlier = df.stages[..index].iter().any(|s| {
                        s.name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(from))
                    });
                    let by_index = from.parse::<usize>().is_ok_and(|n| n < index);
                    let image = from.contains(':') || from.contains('/') || from.contains('$');
                    if !(earlier || by_index || image) {
                        let msg = if stage.name.as_deref() == Some(from) {
                            format!("`COPY --from={from}` copies from its own stage")
                        } else {
                            format!("`COPY --from={from}` names no earlier stage")
                        };
                        out.add(
                            &Self::META,
                            file,
                            ins.span,
                            msg,
                            Some("copy from a stage defined above this one"),
                        );
                    }
                }
            }
        }
    }
}
