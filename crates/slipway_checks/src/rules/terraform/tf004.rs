//! TF004 ec2-imdsv2-and-encrypted-disks.

use super::{address, is_true, resources};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Checks that EC2 instances require IMDSv2 (`metadata_options { http_tokens =
    /// "required" }`) and encrypt their root volume, and that EBS volumes are encrypted.
    ///
    /// ## Why
    /// IMDSv1 answers any request from the instance, so one SSRF bug hands out its
    /// credentials; unencrypted volumes leak through snapshots.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_instance" "web" { ami = "ami-123", instance_type = "t3.micro" }
    /// ```
    ///
    /// ## Fix
    /// `metadata_options { http_tokens = "required" }` and `root_block_device { encrypted = true }`.
    ///
    /// Peers: checkov CKV_AWS_79, CKV_AWS_8, CKV_AWS_3; Trivy AVD-AWS-0028.
    Tf004 { id: "TF004", name: "ec2-imdsv2-and-encrypted-disks", severity: Error, production: true, peers: "checkov CKV_AWS_79, CKV_AWS_8, CKV_AWS_3" }
}

impl Rule for Tf004 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (f, vm) in resources(tree, "aws_instance") {
            let imds = vm
                .children("metadata_options")
                .any(|m| m.string("http_tokens") == Some("required"));
            if !imds {
                out.add(
                    &Self::META,
                    f,
                    vm.span,
                    format!("{} does not require IMDSv2", address(vm)),
                    Some("add metadata_options { http_tokens = \"required\" }"),
                );
            }
            if !vm
                .children("root_block_device")
                .any(|r| is_true(r, "encrypted"))
            {
                out.add(
                    &Self::META,
                    f,
                    vm.span,
                    format!("{} does not encrypt its root volume", address(vm)),
                    Some("add root_block_device { encrypted = true }"),
                );
            }
        }
        for (f, v) in resources(tree, "aws_ebs_volume") {
            if !is_true(v, "encrypted") {
                out.add(
                    &Self::META,
                    f,
                    v.span,
                    format!("{} is not encrypted", address(v)),
                    Some("set encrypted = true"),
                );
            }
        }
    }
}
