//! Score placeholders: `${metadata.name}`, `${metadata.annotations.KEY}`,
//! `${resources.NAME.KEY}`; `$${...}` is a literal `${...}`.

use slipway_model::ResourceKind;
use std::collections::BTreeMap;

/// What each resource name of a workload provides.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub workload: String,
    pub annotations: BTreeMap<String, String>,
    /// Score resource name -> (kind, model resource name, database/user name).
    pub resources: BTreeMap<String, (ResourceKind, String, String)>,
    /// Score resource name -> volume name.
    pub volumes: BTreeMap<String, String>,
    pub environment: Vec<String>,
    pub dns: BTreeMap<String, String>,
}

pub(crate) enum Resolved {
    Plain(String),
    /// The value would contain a secret output (a password or a connection string
    /// with one, or a value from the deploy environment).
    Secret,
    /// The placeholder names nothing the workload provides.
    Unknown(String),
}

fn output(o: &Outputs, path: &str) -> Result<Option<String>, ()> {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["metadata", "name"] => Ok(Some(o.workload.clone())),
        ["metadata", "annotations", key] => o.annotations.get(*key).cloned().map(Some).ok_or(()),
        ["resources", name] if o.volumes.contains_key(*name) => Ok(o.volumes.get(*name).cloned()),
        ["resources", name, _] if o.environment.iter().any(|e| e == name) => Ok(None),
        ["resources", name, "host"] if o.dns.contains_key(*name) => Ok(o.dns.get(*name).cloned()),
        ["resources", name, key] => {
            let (kind, host, user) = o.resources.get(*name).ok_or(())?;
            let port = kind.port().to_string();
            let value = match *key {
                "host" => host.clone(),
                "port" => port,
                "name" | "database" | "username" | "user" | "vhost" => user.clone(),
                "password" | "connection" | "uri" | "url" => return Ok(None),
                _ => return Err(()),
            };
            Ok(Some(value))
        }
        _ => Err(()),
    }
}

/// Resolves every placeholder in `text`.
pub(crate) fn resolve(text: &str, o: &Outputs) -> Resolved {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body.find('}') else {
            return Resolved::Unknown(text.to_string());
        };
        match output(o, &body[..end]) {
            Ok(Some(v)) => out.push_str(&v),
            Ok(None) => return Resolved::Secret,
            Err(()) => return Resolved::Unknown(body[..end].to_string()),
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Resolved::Plain(out)
}
