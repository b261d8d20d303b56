//! Terraform rules (AWS), over every `.tf` file, and the note that says which
//! providers' resources no rule reads.

pub mod tf001;
pub mod tf002;
pub mod tf003;
pub mod tf004;
pub mod tf005;
pub mod tf006;

use crate::parse::hcl::Block;
use crate::tree::Tree;
use slipway_diagnostics::SourceFile;
use std::sync::Arc;

/// Every `resource "<kind>" "<name>"` of the tree, with its file.
pub(crate) fn resources<'a>(
    tree: &'a Tree,
    kind: &'a str,
) -> impl Iterator<Item = (&'a Arc<SourceFile>, &'a Block)> + 'a {
    tree.terraform().flat_map(move |(f, file)| {
        file.blocks
            .iter()
            .filter(move |b| {
                b.kind == "resource" && b.labels.first().map(String::as_str) == Some(kind)
            })
            .map(move |b| (f, b))
    })
}

/// `type.name` of a resource block.
pub(crate) fn address(b: &Block) -> String {
    b.labels.join(".")
}

/// Providers whose resource types some rule reads: TF001–TF004 and POL003 read AWS
/// types. (TF005 and SEC002 scan every resource of every provider for secrets.)
const COVERED_PROVIDERS: &[&str] = &["aws"];

/// Providers of local helpers (random strings, files, timers), which hold no
/// infrastructure a rule could judge.
const UTILITY_PROVIDERS: &[&str] = &[
    "archive",
    "cloudinit",
    "external",
    "local",
    "null",
    "random",
    "terraform",
    "time",
    "tls",
];

/// One note per provider whose resources no rule reads, so "0 findings" on a
/// Google Cloud or Azure tree is not taken for a clean bill of health.
pub fn uncovered(tree: &Tree) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (_, file) in tree.terraform() {
        for b in file.blocks.iter().filter(|b| b.kind == "resource") {
            let Some((provider, _)) = b.labels.first().and_then(|t| t.split_once('_')) else {
                continue;
            };
            if !COVERED_PROVIDERS.contains(&provider) && !UTILITY_PROVIDERS.contains(&provider) {
                *counts.entry(provider).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|(p, n)| {
            format!(
                "no rule covers {p}_*: {n} resource{} not checked beyond the secret scan",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

pub(crate) fn is_true(b: &Block, attr: &str) -> bool {
    b.attr(attr).is_some_and(|a| a.value.trim() == "true")
}
