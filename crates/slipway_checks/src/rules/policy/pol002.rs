//! POL002 cost-budget.

use crate::rules::kubernetes::{containers, object_id, pods};
use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::Tree;
use slipway_import::yaml::Node;

rule! {
    /// ## What it does
    /// When the profile sets `max_monthly_cost`, estimates the monthly cost of the
    /// Kubernetes workloads from their CPU and memory requests times their replicas,
    /// priced with the profile's `prices` (per core-month and per GiB-month), and
    /// reports when the total exceeds the budget, naming the most expensive workloads.
    ///
    /// ## Why
    /// Requests are what the cluster reserves and what you pay for; a budget checked
    /// at review time is cheaper than one discovered on the invoice.
    ///
    /// ## Example
    /// ```yaml
    /// # profile: max_monthly_cost: 100
    /// replicas: 10
    /// resources: { requests: { cpu: "2", memory: 4Gi } }
    /// ```
    ///
    /// ## Fix
    /// Lower the requests or replicas, or raise the budget in the profile deliberately.
    ///
    /// Peers: none of the scanners; Infracost prices Terraform, not Kubernetes requests.
    Pol002 { id: "POL002", name: "cost-budget", severity: Error, production: false, peers: "none (Infracost for Terraform)" }
}

/// CPU cores of a quantity (`250m`, `1`, `0.5`).
pub(crate) fn cores(q: &str) -> f64 {
    q.strip_suffix('m').map_or_else(
        || q.parse().unwrap_or(0.0),
        |m| m.parse::<f64>().unwrap_or(0.0) / 1000.0,
    )
}

/// GiB of a memory quantity (`128Mi`, `1Gi`, `512M`, bytes).
pub(crate) fn gib(q: &str) -> f64 {
    let units: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    let (num, factor) = units
        .iter()
        .find_map(|(u, f)| q.strip_suffix(u).map(|n| (n, *f)))
        .unwrap_or((q, 1.0));
    num.parse::<f64>().unwrap_or(0.0) * factor / 1_073_741_824.0
}

// Replica counts and quantities are small; f64 holds them exactly enough for a price.
#[allow(clippy::cast_precision_loss)]
impl Rule for Pol002 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let Some(budget) = tree.policy.max_monthly_cost else {
            return;
        };
        let mut costs: Vec<(
            f64,
            String,
            &std::sync::Arc<slipway_diagnostics::SourceFile>,
            &Node,
        )> = Vec::new();
        for (file, obj, pod, patch) in pods(tree) {
            if patch {
                continue;
            }
            let replicas = obj
                .get("spec")
                .and_then(|s| s.get("replicas"))
                .and_then(Node::as_u64)
                .unwrap_or(1) as f64;
            let per_pod: f64 = containers(pod)
                .iter()
                .filter(|(_, init)| !init)
                .map(|(c, _)| {
                    let req = c.get("resources").and_then(|r| r.get("requests"));
                    let cpu = req
                        .and_then(|r| r.get("cpu"))
                        .and_then(Node::as_scalar)
                        .map_or(0.0, cores);
                    let mem = req
                        .and_then(|r| r.get("memory"))
                        .and_then(Node::as_scalar)
                        .map_or(0.0, gib);
                    cpu * tree.policy.cpu_core_month + mem * tree.policy.memory_gib_month
                })
                .sum();
            costs.push((replicas * per_pod, object_id(obj), file, obj));
        }
        let total: f64 = costs.iter().map(|c| c.0).sum();
        if total <= budget {
            return;
        }
        costs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<String> = costs
            .iter()
            .take(3)
            .map(|(c, id, _, _)| format!("{id} {c:.0}"))
            .collect();
        if let Some((_, _, file, obj)) = costs.first() {
            let span = obj.get("kind").map_or(obj.span, |k| k.span);
            out.add(&Self::META, file, span, format!("estimated monthly cost {total:.0} exceeds the budget of {budget:.0} (largest: {})", top.join(", ")), Some("lower requests or replicas, or raise max_monthly_cost in the profile"));
        }
    }
}
