//! Checks on single values (names, paths, units) and on the whole app (references,
//! `depends_on` cycles, host-port clashes).

use super::reader::{did_you_mean, Reader};
use crate::yaml::Node;
use slipway_model::App;
use std::collections::BTreeMap;

/// A name used as a folder, a DNS name and a compose service: a lowercase RFC 1123 label.
pub(crate) fn dns_name(r: &mut Reader<'_>, node: &Node, name: &str, what: &str) {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.contains('/')
        || name.contains('\\')
        || name.contains("..")
        || name.starts_with('.')
    {
        Some("could escape the output folder")
    } else if name.len() > 63 {
        Some("is longer than 63 characters")
    } else if name.chars().any(|c| c.is_ascii_uppercase()) {
        Some("has uppercase letters, which DNS names do not allow")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
    {
        Some("is not a DNS label")
    } else {
        None
    };
    if let Some(problem) = problem {
        let suggestion: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .to_string();
        let mut d = r
            .error("SPEC005", node, format!("{what} name `{name}` {problem}"))
            .expected(
                "lowercase letters, digits and `-`, starting with a letter, at most 63 characters",
            );
        if !suggestion.is_empty() && suggestion != name {
            d = d.help(format!("rename it, for example to `{suggestion}`"));
        }
        r.push(d);
    }
}

/// A service's `path`: relative, inside the project.
pub(crate) fn source_path(r: &mut Reader<'_>, node: &Node, path: &str) {
    let escapes = path.starts_with('/')
        || path.starts_with('\\')
        || path.chars().nth(1) == Some(':')
        || path.split(['/', '\\']).any(|part| part == "..");
    if path.is_empty() || escapes {
        let d = r
            .error(
                "SPEC005",
                node,
                format!("service path `{path}` must stay inside the spec's folder"),
            )
            .expected("a relative path such as `./api`")
            .help("move the service under the folder that holds slipway.yaml");
        r.push(d);
    }
}

pub(crate) fn image_ref(r: &mut Reader<'_>, node: &Node, image: &str) {
    let last = image.rsplit('/').next().unwrap_or(image);
    let tagged = image.contains("@sha256:") || last.contains(':');
    if !tagged || last.ends_with(":latest") || image.chars().any(char::is_whitespace) {
        let d = r
            .error(
                "SPEC009",
                node,
                format!("image `{image}` is not pinned to a version"),
            )
            .expected("an explicit tag or digest, such as `nginx:1.27.2` or `...@sha256:...`")
            .help("`latest` and untagged images change under you; pin a version");
        r.push(d);
    }
}

pub(crate) fn env_name(r: &mut Reader<'_>, node: &Node, name: &str) {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        let d = r
            .error(
                "SPEC005",
                node,
                format!("`{name}` is not a valid environment variable name"),
            )
            .expected("letters, digits and `_`, not starting with a digit");
        r.push(d);
    }
}

/// Values under `env` land in generated files; secrets must not.
pub(crate) fn no_plaintext_secret(r: &mut Reader<'_>, node: &Node, name: &str, value: &str) {
    let upper = name.to_ascii_uppercase();
    let secretish = crate::secrets::is_secret_name(name);
    let reference = value.is_empty() || value.starts_with("${") || upper.ends_with("_FILE");
    if secretish && !reference {
        let d = r
            .error(
                "SPEC015",
                node,
                format!("`{name}` looks like a secret but has a plain value"),
            )
            .expected("a secret name under `secrets:` (its value is read from a file at run time)")
            .help(format!(
                "move it: `secrets: [{name}]`, and remove it from `env`"
            ));
        r.push(d);
    }
}

pub(crate) fn cpu(r: &mut Reader<'_>, node: &Node, s: &str) {
    let ok = s.strip_suffix('m').map_or_else(
        || s.parse::<f64>().is_ok_and(|v| v > 0.0),
        |m| m.parse::<u64>().is_ok_and(|v| v > 0),
    );
    if !ok {
        let d = r
            .error("SPEC009", node, format!("`{s}` is not a CPU quantity"))
            .expected("millicores like `500m`, or cores like `1` or `0.5`");
        r.push(d);
    }
}

pub(crate) fn memory(r: &mut Reader<'_>, node: &Node, s: &str) {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let ok = digits.parse::<u64>().is_ok_and(|v| v > 0)
        && matches!(unit, "Ki" | "Mi" | "Gi" | "K" | "M" | "G");
    if !ok {
        let d = r
            .error("SPEC009", node, format!("`{s}` is not a memory quantity"))
            .expected("a size like `256Mi` or `1Gi`");
        r.push(d);
    }
}

pub(crate) fn http_path(r: &mut Reader<'_>, node: &Node, p: &str) -> bool {
    let ok = p.starts_with('/')
        && !p
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '"' || c == '\\');
    if !ok {
        let d = r
            .error("SPEC009", node, format!("`{p}` is not an HTTP path"))
            .expected("a path starting with `/`, such as `/health`");
        r.push(d);
    }
    ok
}

/// Cross-item checks, run after every item was read.
pub(crate) fn check_app(r: &mut Reader<'_>, app: &App, root: &Node) {
    let services = root.get("services");
    let resources = root.get("resources");
    let key_node = |group: Option<&Node>, name: &str| -> Option<Node> {
        group?
            .as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(name))
            .map(|(k, _)| k.clone())
    };
    for name in app.resources.keys() {
        if app.services.contains_key(name) {
            if let Some(k) = key_node(resources, name) {
                let d = r
                    .error(
                        "SPEC005",
                        &k,
                        format!("`{name}` is both a service and a resource"),
                    )
                    .help("give one of them another name; they share one network namespace");
                r.push(d);
            }
        }
    }
    let known: Vec<&str> = app
        .services
        .keys()
        .chain(app.resources.keys())
        .map(String::as_str)
        .collect();
    for svc in app.services.values() {
        let Some(deps) = services
            .and_then(|s| s.get(&svc.name))
            .and_then(|b| b.get("depends_on"))
            .and_then(Node::as_seq)
        else {
            continue;
        };
        for dep_node in deps {
            let Some(dep) = dep_node.as_str() else {
                continue;
            };
            if dep == svc.name {
                let d = r
                    .error(
                        "SPEC006",
                        dep_node,
                        format!("service `{dep}` depends on itself"),
                    )
                    .help("remove it from its own `depends_on`");
                r.push(d);
            } else if !known.contains(&dep) {
                let mut d = r
                    .error(
                        "SPEC006",
                        dep_node,
                        format!("`{}` depends on `{dep}`, which is not defined", svc.name),
                    )
                    .expected(format!("a service or resource: {}", known.join(", ")));
                if let Some(s) = did_you_mean(dep, known.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                } else {
                    d = d.help(format!("define `{dep}` under `services:` or `resources:`"));
                }
                r.push(d);
            }
        }
    }
    cycles(r, app, services);
    port_clashes(r, app, services);
}

fn cycles(r: &mut Reader<'_>, app: &App, services: Option<&Node>) {
    fn visit<'a>(
        app: &'a App,
        n: &'a str,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
        found: &mut Vec<Vec<&'a str>>,
    ) {
        state.insert(n, 1);
        path.push(n);
        if let Some(s) = app.services.get(n) {
            for d in &s.depends_on {
                match state.get(d.as_str()) {
                    Some(1) => {
                        let at = path.iter().position(|p| p == d).unwrap_or(0);
                        found.push(path[at..].to_vec());
                    }
                    None if app.services.contains_key(d) => visit(app, d, state, path, found),
                    _ => {}
                }
            }
        }
        path.pop();
        state.insert(n, 2);
    }
    // Depth-first search with colours; each cycle is reported once, at its first member.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut reported = Vec::new();
    for name in app.services.keys() {
        if !state.contains_key(name.as_str()) {
            visit(app, name, &mut state, &mut Vec::new(), &mut reported);
        }
    }
    for cycle in reported {
        let first = cycle[0];
        let Some(node) = services
            .and_then(|s| s.get(first))
            .and_then(|b| b.get("depends_on"))
        else {
            continue;
        };
        let mut chain: Vec<&str> = cycle.clone();
        chain.push(first);
        let d = r
            .error(
                "SPEC007",
                node,
                format!("`depends_on` cycle: {}", chain.join(" -> ")),
            )
            .help("services cannot wait for each other in a circle; remove one of these edges");
        r.push(d);
    }
}

fn port_clashes(r: &mut Reader<'_>, app: &App, services: Option<&Node>) {
    for env in &app.environments {
        let mut taken: BTreeMap<u16, &str> = BTreeMap::new();
        for svc in app.services.values().filter(|s| !s.internal) {
            let Some(first) = svc.host_port.or(svc.port) else {
                continue;
            };
            let count = svc.replicas.get(env).copied().unwrap_or(1).max(1);
            let last = u16::try_from(u32::from(first) + count - 1).unwrap_or(u16::MAX);
            for p in first..=last {
                if let Some(other) = taken.insert(p, &svc.name) {
                    let at = services
                        .and_then(|s| s.get(&svc.name))
                        .and_then(|b| b.get("host_port").or_else(|| b.get("port")));
                    if let Some(node) = at {
                        let d = r.error("SPEC008", node, format!("services `{other}` and `{}` both publish host port {p} in `{env}`", svc.name))
                            .help("set `host_port:` on one of them to a free port (replicas publish consecutive ports from it)".to_string());
                        r.push(d);
                    }
                    break;
                }
            }
        }
    }
}
