//! YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`), applied as go-yaml (Docker
//! Compose's parser), PyYAML and ruamel apply them: the keys written in the mapping
//! win over merged ones, and among merged mappings the earlier one wins. Merged
//! entries keep their spans, so a finding on a merged key points at where the key is
//! written (the anchored mapping). A mapping that names a key twice is refused, as
//! those parsers refuse it.
//!
//! Pure tree work on [`Node`]s; the parser calls it as each mapping closes.

use super::{Node, Value};
use slipway_diagnostics::Span;
use std::collections::HashSet;

/// Why a mapping cannot be built.
pub(super) struct MergeError {
    pub span: Span,
    pub message: String,
    pub help: &'static str,
}

fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::Scalar { text, plain: true } if text == "<<")
}

/// The identity of a key for "is it already there": the scalar's text (`"a"` and `a`
/// are the same key). Collection keys have none and never collide.
fn identity(key: &Node) -> Option<&str> {
    match &key.value {
        Value::Scalar { text, .. } if !key.is_null() => Some(text),
        Value::Scalar { .. } => Some("~"),
        _ => None,
    }
}

/// The mappings a merge key's value names, in order.
fn sources(value: &Node) -> Result<Vec<&[(Node, Node)]>, MergeError> {
    let refuse = |node: &Node| MergeError {
        span: node.span,
        message: format!(
            "a merge key (`<<`) takes a mapping or a list of mappings; found {}",
            node.kind_name()
        ),
        help: "write `<<: *anchor` or `<<: [*a, *b]`, where each anchor names a mapping",
    };
    match &value.value {
        Value::Map(entries) => Ok(vec![entries.as_slice()]),
        Value::Seq(items) => items
            .iter()
            .map(|i| i.as_map().ok_or_else(|| refuse(i)))
            .collect(),
        Value::Scalar { .. } => Err(refuse(value)),
    }
}

/// Applies the merge keys of one mapping and refuses repeated keys.
pub(super) fn resolve(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, MergeError> {
    let mut explicit: HashSet<&str> = HashSet::new();
    for (k, _) in entries.iter().filter(|(k, _)| !is_merge_key(k)) {
        if let Some(id) = identity(k) {
            if !explicit.insert(id) {
                return Err(MergeError {
                    span: k.span,
                    message: format!("the key `{id}` appears twice in this mapping"),
                    help: "remove one of them: YAML parsers, Docker Compose's included, refuse a repeated key",
                });
            }
        }
    }
    if !entries.iter().any(|(k, _)| is_merge_key(k)) {
        return Ok(entries);
    }
    let mut taken: HashSet<String> = explicit.iter().map(ToString::to_string).collect();
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if !is_merge_key(&k) {
            out.push((k, v));
            continue;
        }
        for source in sources(&v)? {
            for (mk, mv) in source {
                if identity(mk).is_none_or(|id| taken.insert(id.to_string())) {
                    out.push((mk.clone(), mv.clone()));
                }
            }
        }
    }
    Ok(out)
}
