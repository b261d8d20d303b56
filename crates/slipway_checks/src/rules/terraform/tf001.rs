//! TF001 s3-not-public.

use super::{address, resources};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Flags S3 buckets with a public ACL (`public-read`, `public-read-write`), public
    /// access blocks that leave any of their four settings off, and buckets that no
    /// public access block covers.
    ///
    /// ## Why
    /// Public buckets are the most common way data leaks from AWS; the access block is
    /// the switch that keeps a mistaken ACL or policy from exposing them.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_s3_bucket_acl" "logs" { bucket = aws_s3_bucket.logs.id, acl = "public-read" }
    /// ```
    ///
    /// ## Fix
    /// `acl = "private"` and an `aws_s3_bucket_public_access_block` with all four settings `true`.
    ///
    /// Peers: checkov CKV_AWS_20, CKV_AWS_57, CKV2_AWS_6, CKV_AWS_53.
    Tf001 { id: "TF001", name: "s3-not-public", severity: Error, production: true, peers: "checkov CKV_AWS_20, CKV_AWS_57, CKV2_AWS_6, CKV_AWS_53" }
}

impl Rule for Tf001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for kind in ["aws_s3_bucket", "aws_s3_bucket_acl"] {
            for (f, b) in resources(tree, kind) {
                if let Some(a) = b.attr("acl").filter(|a| a.value.contains("public-read")) {
                    out.add(
                        &Self::META,
                        f,
                        a.span,
                        format!("{} has a public ACL ({})", address(b), a.value.trim()),
                        Some("use acl = \"private\""),
                    );
                }
            }
        }
        let blocks: Vec<_> = resources(tree, "aws_s3_bucket_public_access_block").collect();
        for (f, b) in &blocks {
            for setting in [
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            ] {
                if b.attr(setting).is_none_or(|a| a.value.trim() != "true") {
                    let span = b.attr(setting).map_or(b.span, |a| a.span);
                    out.add(
                        &Self::META,
                        f,
                        span,
                        format!("{} does not set {setting} = true", address(b)),
                        Some("set all four settings to true"),
                    );
                }
            }
        }
        for (f, b) in resources(tree, "aws_s3_bucket") {
            let name = b.labels.get(1).cloned().unwrap_or_default();
            let covered = blocks.iter().any(|(_, p)| {
                p.attr("bucket")
                    .is_some_and(|a| a.value.contains(&format!("aws_s3_bucket.{name}")))
            });
            if !covered {
                out.add(
                    &Self::META,
                    f,
                    b.span,
                    format!("{} has no public access block", address(b)),
                    Some("add an aws_s3_bucket_public_access_block for it"),
                );
            }
        }
    }
}
