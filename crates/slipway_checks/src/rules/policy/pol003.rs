//! POL003 required-labels.

use crate::rules::kubernetes::{object_id, pods};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// When the profile lists `required_labels`, checks that every Kubernetes workload
    /// and its pod template carry each of them, and that taggable Terraform resources
    /// (instances, buckets, databases, volumes, networks, load balancers, services)
    /// carry them as `tags`.
    ///
    /// ## Why
    /// Ownership and cost-allocation labels are how an organisation finds who runs a
    /// workload and who pays for it; a missing label is an orphan.
    ///
    /// ## Example
    /// ```yaml
    /// # profile: required_labels: [team]
    /// metadata: { name: api, labels: { app: api } }
    /// ```
    ///
    /// ## Fix
    /// Add the labels to the workload and its pod template.
    ///
    /// Peers: kube-score / Polaris custom checks; checkov custom policies.
    Pol003 { id: "POL003", name: "required-labels", severity: Error, production: false, peers: "Polaris custom checks; checkov custom policies" }
}

/// AWS resource types that take `tags` and are worth attributing.
const TAGGABLE: &[&str] = &[
    "aws_instance",
    "aws_s3_bucket",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_ebs_volume",
    "aws_vpc",
    "aws_subnet",
    "aws_security_group",
    "aws_lb",
    "aws_ecs_service",
    "aws_ecs_cluster",
    "aws_eks_cluster",
    "aws_elasticache_cluster",
    "aws_lambda_function",
    "aws_dynamodb_table",
    "aws_sqs_queue",
    "aws_sns_topic",
];

impl Rule for Pol003 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        if tree.policy.required_labels.is_empty() {
            return;
        }
        for (file, obj, _, patch) in pods(tree) {
            if patch {
                continue;
            }
            let has = |labels: Option<&Node>, l: &str| labels.and_then(|m| m.get(l)).is_some();
            let meta_labels = obj.get("metadata").and_then(|m| m.get("labels"));
            let tpl_labels = obj
                .get("spec")
                .and_then(|s| s.get("template"))
                .and_then(|t| t.get("metadata"))
                .and_then(|m| m.get("labels"));
            let pod_kind = obj.get("kind").and_then(Node::as_scalar) == Some("Pod");
            let missing: Vec<&str> = tree
                .policy
                .required_labels
                .iter()
                .filter(|l| !has(meta_labels, l) || (!pod_kind && !has(tpl_labels, l)))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                let span = obj.get("metadata").map_or(obj.span, |m| m.span);
                out.add(
                    &Self::META,
                    file,
                    span,
                    format!(
                        "{} lacks required label(s): {}",
                        object_id(obj),
                        missing.join(", ")
                    ),
                    Some("add them to metadata.labels and the pod template's labels"),
                );
            }
        }
        for (f, file) in tree.terraform() {
            for b in file.blocks.iter().filter(|b| {
                b.kind == "resource"
                    && b.labels
                        .first()
                        .is_some_and(|t| TAGGABLE.contains(&t.as_str()))
            }) {
                let tags = b.attr("tags").map_or("", |a| a.value.as_str());
                let missing: Vec<&str> = tree
                    .policy
                    .required_labels
                    .iter()
                    .filter(|l| !tags.contains(l.as_str()))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    let span = b.attr("tags").map_or(b.span, |a| a.span);
                    out.add(
                        &Self::META,
                        f,
                        span,
                        format!(
                            "{} lacks required tag(s): {}",
                            b.labels.join("."),
                            missing.join(", ")
                        ),
                        Some("add them to `tags` (or to the provider's default_tags)"),
                    );
                }
            }
        }
    }
}
