//! TF002 no-open-ingress.

use super::{address, resources};
use crate::parse::hcl::Block;
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;

rule! {
    /// ## What it does
    /// Flags security group ingress from `0.0.0.0/0` or `::/0` to SSH (22), RDP
    /// (3389) or all ports, in `aws_security_group` ingress blocks and standalone
    /// ingress rules.
    ///
    /// ## Why
    /// Management ports open to the internet are scanned within minutes of creation.
    ///
    /// ## Example
    /// ```hcl
    /// ingress { from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"] }
    /// ```
    ///
    /// ## Fix
    /// Restrict the CIDR to your network or a bastion, or use SSM Session Manager instead of SSH.
    ///
    /// Peers: checkov CKV_AWS_24, CKV_AWS_25, CKV_AWS_277; Trivy AVD-AWS-0107.
    Tf002 { id: "TF002", name: "no-open-ingress", severity: Error, production: true, peers: "checkov CKV_AWS_24, CKV_AWS_25, CKV_AWS_277" }
}

fn port(b: &Block, name: &str) -> Option<i64> {
    b.attr(name).and_then(|a| a.value.trim().parse().ok())
}

/// Why this ingress is dangerous, if it is.
fn open(b: &Block) -> Option<String> {
    let cidrs = [
        b.attr("cidr_blocks"),
        b.attr("ipv6_cidr_blocks"),
        b.attr("cidr_ipv4"),
        b.attr("cidr_ipv6"),
    ];
    let world = cidrs
        .iter()
        .flatten()
        .any(|a| a.value.contains("0.0.0.0/0") || a.value.contains("::/0"));
    if !world {
        return None;
    }
    let all_protocols = b
        .string("protocol")
        .is_some_and(|p| p == "-1" || p == "all");
    let (from, to) = (
        port(b, "from_port").unwrap_or(0),
        port(b, "to_port").unwrap_or(65535),
    );
    if all_protocols || (from <= 0 && to >= 65535) {
        return Some("all ports".into());
    }
    [22, 3389]
        .into_iter()
        .find(|p| from <= *p && *p <= to)
        .map(|p| format!("port {p}"))
}

impl Rule for Tf002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        for (f, sg) in resources(tree, "aws_security_group") {
            for ing in sg.children("ingress") {
                if let Some(what) = open(ing) {
                    out.add(
                        &Self::META,
                        f,
                        ing.span,
                        format!("{} opens {what} to the internet", address(sg)),
                        Some("restrict the source CIDR"),
                    );
                }
            }
        }
        for kind in [
            "aws_security_group_rule",
            "aws_vpc_security_group_ingress_rule",
        ] {
            for (f, r) in resources(tree, kind) {
                let ingress = kind.ends_with("ingress_rule") || r.string("type") == Some("ingress");
                if let Some(what) = open(r).filter(|_| ingress) {
                    out.add(
                        &Self::META,
                        f,
                        r.span,
                        format!("{} opens {what} to the internet", address(r)),
                        Some("restrict the source CIDR"),
                    );
                }
            }
        }
    }
}
