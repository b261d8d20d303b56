//! TF005 no-hardcoded-credentials.

use crate::parse::hcl::Block;
use crate::rules::secrets::is_secret_name;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::SourceFile;

rule! {
    /// ## What it does
    /// Flags credentials written as string literals in Terraform: provider
    /// `access_key`/`secret_key`/`token`, and any secret-named attribute (`password`,
    /// `master_password`, `*_token`, ...) given a literal instead of a variable,
    /// a data source or a secret manager reference.
    ///
    /// ## Why
    /// The value lands in git, in the plan output and in the state file.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_db_instance" "main" { password = "hunter2hunter2" }
    /// ```
    ///
    /// ## Fix
    /// `password = var.db_password` (a sensitive variable), or `manage_master_user_password = true`.
    ///
    /// Peers: checkov CKV_AWS_41, CKV_AWS_46 (which missed the RDS literal in our sample).
    Tf005 { id: "TF005", name: "no-hardcoded-credentials", severity: Error, production: true, peers: "checkov CKV_AWS_41, CKV_AWS_46" }
}

const CREDENTIALS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "password",
    "master_password",
    "client_secret",
    "api_key",
    "private_key",
];

fn walk(f: &SourceFile, b: &Block, out: &mut Findings) {
    for a in &b.attributes {
        let literal = a.value.trim_start().starts_with('"') && !a.value.contains("${");
        // Settings that merely contain a credential word (`http_tokens`) are not credentials.
        let named = CREDENTIALS.contains(&a.name.as_str())
            || (is_secret_name(&a.name) && !a.name.ends_with('s'));
        if literal && named && a.value.trim().len() > 2 {
            out.add(
                &Tf005::META,
                f,
                a.span,
                format!("`{}` is a literal credential", a.name),
                Some("use a sensitive variable or a secret manager reference"),
            );
        }
    }
    for c in &b.blocks {
        walk(f, c, out);
    }
}

impl Rule for Tf005 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (f, file) in tree.terraform() {
            for b in file.blocks.iter().filter(|b| b.kind != "variable") {
                walk(f, b, out);
            }
        }
    }
}
