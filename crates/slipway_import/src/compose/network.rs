//! Compose networks: the top-level declarations (kept: name, `external`, `internal`;
//! driver settings reported) and the networks a service joins (aliases and fixed
//! addresses reported).

use super::Ctx;
use crate::yaml::Node;
use slipway_model::{Network, Trace};
use std::collections::BTreeMap;

fn trace(ctx: &Ctx<'_>, node: &Node) -> Trace {
    let (line, column) = ctx.file.line_col(node.span.start);
    Trace {
        file: ctx.file.name.clone(),
        line,
        column,
        item: None,
    }
}

/// Top-level `networks:`.
pub(crate) fn declarations(ctx: &mut Ctx<'_>, node: &Node) -> BTreeMap<String, Network> {
    let mut out = BTreeMap::new();
    for (k, v) in node.as_map().unwrap_or(&[]) {
        let Some(name) = k.as_scalar() else { continue };
        let mut net = Network {
            trace: trace(ctx, k),
            ..Network::default()
        };
        for (sk, sv) in v.as_map().unwrap_or(&[]) {
            match sk.as_scalar().unwrap_or("") {
                "external" => {
                    let real = sv
                        .get("name")
                        .and_then(|n| ctx.value(n))
                        .or_else(|| v.get("name").and_then(|n| ctx.value(n)))
                        .unwrap_or_else(|| name.to_string());
                    if sv.as_bool() != Some(false) {
                        net.external = Some(real);
                    }
                }
                "internal" => net.internal = sv.as_bool() == Some(true),
                "name" => {}
                "driver" if matches!(sv.as_scalar(), Some("bridge" | "overlay" | "default")) => {}
                other => {
                    let d = ctx.info(
                        "SPEC123",
                        sk,
                        format!("network `{name}`: `{other}` is not carried; the network gets the engine's defaults"),
                    );
                    ctx.diags.push(d);
                }
            }
        }
        out.insert(name.to_string(), net);
    }
    out
}

/// A service's `networks:` (a list, or a mapping with per-network settings).
pub(crate) fn joined(ctx: &mut Ctx<'_>, node: &Node, service: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(items) = node.as_seq() {
        out.extend(items.iter().filter_map(|i| ctx.value(i)));
        return out;
    }
    for (k, v) in node.as_map().unwrap_or(&[]) {
        let Some(name) = k.as_scalar() else { continue };
        out.push(name.to_string());
        for (sk, _) in v.as_map().unwrap_or(&[]) {
            let key = sk.as_scalar().unwrap_or("");
            let d = if key == "aliases" {
                ctx.warn(
                    "SPEC123",
                    sk,
                    format!("service `{service}`: aliases on network `{name}` are not carried; other services reach it by `{service}` only"),
                )
                .help("make the other services use the service name, or rename the service to the alias")
            } else {
                ctx.warn(
                    "SPEC123",
                    sk,
                    format!("service `{service}`: `{key}` on network `{name}` is not carried; addresses are assigned by the engine"),
                )
            };
            ctx.diags.push(d);
        }
    }
    out
}
