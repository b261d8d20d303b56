//! Compose rules. Override files (layered over a base file in the same folder) are
//! partial by design: rules about what every service must have apply to base files.

pub mod cmp001;
pub mod cmp002;
pub mod cmp003;
pub mod cmp004;
pub mod cmp005;
pub mod cmp006;
pub mod cmp007;
pub mod cmp008;
pub mod cmp009;
pub mod cmp010;
pub mod spec;

use slipway_import::yaml::Node;

/// `(name key node, service body)` for every service.
pub(crate) fn services(root: &Node) -> Vec<(&Node, &Node)> {
    root.get("services")
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .map(|(k, v)| (k, v))
        .collect()
}

/// The key node of `key` inside a mapping, for pointing at it.
pub(crate) fn key_node<'a>(map: &'a Node, key: &str) -> Option<&'a Node> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_scalar() == Some(key))
        .map(|(k, _)| k)
}

/// Names declared under a top-level section (`volumes`, `secrets`, `networks`).
pub(crate) fn declared(root: &Node, section: &str) -> Vec<String> {
    root.get(section)
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string))
        .collect()
}
