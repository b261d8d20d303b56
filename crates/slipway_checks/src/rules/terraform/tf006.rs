//! TF006 versions-and-typed-variables.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_diagnostics::Span;

rule! {
    /// ## What it does
    /// Checks that the Terraform configuration pins `required_version` and a version
    /// constraint for every required provider, and that every variable has a `type`.
    ///
    /// ## Why
    /// Without them, a new Terraform or provider release changes what `apply` does
    /// without any change in the repository; untyped variables accept anything.
    ///
    /// ## Example
    /// ```hcl
    /// variable "instance_count" {}
    /// ```
    ///
    /// ## Fix
    /// `terraform { required_version = ">= 1.6" required_providers { aws = { source = "hashicorp/aws", version = "~> 5.0" } } }` and `type = number`.
    ///
    /// Peers: tflint terraform_required_version, terraform_required_providers, terraform_typed_variables.
    Tf006 { id: "TF006", name: "versions-and-typed-variables", severity: Warning, production: false, peers: "tflint terraform_required_version, terraform_required_providers, terraform_typed_variables" }
}

impl Rule for Tf006 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let files: Vec<_> = tree.terraform().collect();
        let Some((first, _)) = files.first() else {
            return;
        };
        let settings: Vec<_> = files
            .iter()
            .flat_map(|(f, b)| b.children("terraform").map(move |t| (*f, t)))
            .collect();
        if !settings
            .iter()
            .any(|(_, t)| t.attr("required_version").is_some())
        {
            out.add(
                &Self::META,
                first,
                Span::new(0, first.text.find('\n').unwrap_or(0)),
                "no `required_version` in any terraform block",
                Some("add terraform { required_version = \">= 1.6\" }"),
            );
        }
        for (f, t) in &settings {
            for rp in t.children("required_providers") {
                for a in &rp.attributes {
                    if !a.value.contains("version") {
                        out.add(
                            &Self::META,
                            f,
                            a.span,
                            format!("provider `{}` has no version constraint", a.name),
                            Some("add version = \"~> X.Y\""),
                        );
                    }
                }
            }
        }
        for (f, b) in &files {
            for v in b.children("variable") {
                if v.attr("type").is_none() {
                    out.add(
                        &Self::META,
                        f,
                        v.span,
                        format!(
                            "variable `{}` has no type",
                            v.labels.first().map_or("", String::as_str)
                        ),
                        Some("add `type = string` (or the right type)"),
                    );
                }
            }
        }
    }
}
