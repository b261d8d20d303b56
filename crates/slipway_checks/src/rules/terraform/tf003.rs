//! TF003 rds-private-encrypted-protected.

use super::{address, is_true, resources};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that RDS instances are not publicly accessible, encrypt their storage
    /// and have deletion protection on.
    ///
    /// ## Why
    /// A public database is one leaked password from a breach; unencrypted storage
    /// leaks through snapshots; without deletion protection one `terraform destroy`
    /// loses production data.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_db_instance" "main" { publicly_accessible = true }
    /// ```
    ///
    /// ## Fix
    /// `publicly_accessible = false`, `storage_encrypted = true`, `deletion_protection = true`.
    ///
    /// Peers: checkov CKV_AWS_17, CKV_AWS_16, CKV_AWS_293.
    Tf003 { id: "TF003", name: "rds-private-encrypted-protected", severity: Error, production: true, peers: "checkov CKV_AWS_17, CKV_AWS_16, CKV_AWS_293" }
}

impl Rule for Tf003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (f, db) in resources(tree, "aws_db_instance") {
            if let Some(a) = db
                .attr("publicly_accessible")
                .filter(|_| is_true(db, "publicly_accessible"))
            {
                out.add(
                    &Self::META,
                    f,
                    a.span,
                    format!("{} is publicly accessible", address(db)),
                    Some("set publicly_accessible = false"),
                );
            }
            for (attr, what) in [
                ("storage_encrypted", "does not encrypt its storage"),
                ("deletion_protection", "has no deletion protection"),
            ] {
                if !is_true(db, attr) {
                    let span = db.attr(attr).map_or(db.span, |a| a.span);
                    out.add(
                        &Self::META,
                        f,
                        span,
                        format!("{} {what}", address(db)),
                        Some("set it to true"),
                    );
                }
            }
        }
    }
}
