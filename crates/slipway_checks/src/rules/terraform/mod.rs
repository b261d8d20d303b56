//! Terraform rules (AWS), over every `.tf` file.

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

pub(crate) fn is_true(b: &Block, attr: &str) -> bool {
    b.attr(attr).is_some_and(|a| a.value.trim() == "true")
}
