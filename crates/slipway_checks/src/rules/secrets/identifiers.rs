//! What SEC002 must not take for a secret: structured identifiers. Two tests, one
//! by position and one by shape.
//!
//! - Position: in parsed YAML, values under keys that name things (`apiVersion`,
//!   `kind`, `name`, `namespace`, `secretName`, `image`, `uses`, ...), label and
//!   selector values, and a workflow's `inputs.<name>.default`. A `secretName` is the
//!   name of a Secret, not its content.
//! - Shape: a value made of words and numbers joined by `/ . - _ : @`, such as
//!   `networking.istio.io/v1alpha3` or
//!   `projects/123/locations/global/workloadIdentityPools/gh/providers/gh`. A random
//!   token has atoms no word looks like (`Zx9Qm2Lp8Rt4`).
//!
//! Known token formats (SEC001) and secret-named keys are still reported wherever
//! they are; these tests only stop the entropy guess on identifiers.

use crate::tree::{File, Kind};
use slipway_import::yaml::{Node, Value};
use std::collections::BTreeSet;

/// Keys whose value names or locates something.
const NAMING_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "name",
    "namespace",
    "generateName",
    "serviceAccountName",
    "serviceName",
    "secretName",
    "credentialName",
    "claimName",
    "storageClassName",
    "priorityClassName",
    "ingressClassName",
    "runtimeClassName",
    "schedulerName",
    "image",
    "host",
    "hostname",
    "subdomain",
    "uses",
    "runs-on",
    "container_name",
    "workload_identity_provider",
    "service_account",
];

/// Keys whose map values are labels (identifiers by definition).
const LABEL_MAPS: &[&str] = &["labels", "matchLabels", "selector", "nodeSelector"];

/// Keys whose list items are host or gateway names.
const NAME_LISTS: &[&str] = &["hosts", "gateways"];

/// The 1-based lines of `file` holding a value at a naming position.
#[must_use]
pub fn naming_lines(file: &File) -> BTreeSet<usize> {
    let mut spans = Vec::new();
    match &file.kind {
        Kind::Kubernetes { docs } => {
            for d in docs {
                walk(d, &mut spans);
            }
        }
        Kind::Workflow { root } => {
            walk(root, &mut spans);
            workflow_input_defaults(root, &mut spans);
        }
        Kind::Compose { root, .. } | Kind::Monitoring { root, .. } => walk(root, &mut spans),
        _ => {}
    }
    spans
        .into_iter()
        .map(|at| file.source.line_col(at).0)
        .collect()
}

fn scalar_starts(node: &Node, out: &mut Vec<usize>) {
    match &node.value {
        Value::Scalar { .. } => out.push(node.span.start),
        Value::Seq(items) => items.iter().for_each(|i| scalar_starts(i, out)),
        Value::Map(entries) => entries
            .iter()
            .filter(|(_, v)| matches!(v.value, Value::Scalar { .. }))
            .for_each(|(_, v)| out.push(v.span.start)),
    }
}

fn walk(node: &Node, out: &mut Vec<usize>) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let key = k.as_scalar().unwrap_or("");
                if matches!(v.value, Value::Scalar { .. }) && NAMING_KEYS.contains(&key) {
                    out.push(v.span.start);
                } else if LABEL_MAPS.contains(&key) && v.as_map().is_some()
                    || NAME_LISTS.contains(&key) && v.as_seq().is_some()
                {
                    scalar_starts(v, out);
                }
                walk(v, out);
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| walk(i, out)),
        Value::Scalar { .. } => {}
    }
}

/// `on.<event>.inputs.<input>.default`: a default a caller may override, shown in
/// the Actions UI; a real token there is still caught by SEC001's formats.
fn workflow_input_defaults(root: &Node, out: &mut Vec<usize>) {
    let Some(on) = root.get("on").and_then(Node::as_map) else {
        return;
    };
    for (_, event) in on {
        for (_, input) in event.get("inputs").and_then(Node::as_map).unwrap_or(&[]) {
            if let Some(d) = input.get("default") {
                out.push(d.span.start);
            }
        }
    }
}

/// Whether one separator-free part of a value reads as a word, a number, a
/// version or a short hash (`workloadIdentityPools`, `v1alpha3`, `arm64`, `4core`,
/// `7c1f9ab`), not as a random run of mixed case and digits.
fn word_like(atom: &str) -> bool {
    let b = atom.as_bytes();
    if b.is_empty() || b.iter().all(u8::is_ascii_digit) {
        return true;
    }
    if b.len() <= 12
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'a'..=b'f'))
    {
        return true;
    }
    if b.len() <= 8
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return true;
    }
    // Runs: a new one starts at every letter/digit change and at every lower->upper
    // change (`workload|Identity|Pools`, `v|1|alpha|3`).
    let mut runs: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    for i in 1..b.len() {
        let (p, c) = (b[i - 1], b[i]);
        if p.is_ascii_digit() != c.is_ascii_digit()
            || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
        {
            runs.push(&b[start..i]);
            start = i;
        }
    }
    runs.push(&b[start..]);
    // Words are lowercase, UPPERCASE or Capitalized, and mostly longer than two
    // letters; random tokens are made of one- and two-letter chunks.
    let letter_run_ok = |r: &&[u8]| {
        r[0].is_ascii_digit()
            || r.iter().all(u8::is_ascii_lowercase)
            || r.iter().all(u8::is_ascii_uppercase)
            || (r[0].is_ascii_uppercase() && r[1..].iter().all(u8::is_ascii_lowercase))
    };
    let letters: Vec<usize> = runs
        .iter()
        .filter(|r| !r[0].is_ascii_digit())
        .map(|r| r.len())
        .collect();
    let wordy = letters.len() < 2 || letters.iter().sum::<usize>() >= 3 * letters.len();
    let digit_runs = runs.len() - letters.len();
    (wordy || is_version(atom))
        && runs.iter().all(letter_run_ok)
        && digit_runs <= 2
        && runs.len() <= 6
}

/// `v1`, `v2beta1`, `v1alpha3`: a Kubernetes-style API version.
fn is_version(atom: &str) -> bool {
    let Some(rest) = atom.strip_prefix('v') else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest
        .strip_prefix("alpha")
        .or_else(|| rest.strip_prefix("beta"))
        .unwrap_or(rest);
    rest.chars().all(|c| c.is_ascii_digit()) && atom.len() > 1
}

/// Whether `value` is an identifier built from words and numbers (see the module
/// doc). Single tokens and anything base64-like (`+`, `=`) are not.
#[must_use]
pub fn is_structured_identifier(value: &str) -> bool {
    const SEPARATORS: &[char] = &['/', '.', '-', '_', ':', '@'];
    value.contains(SEPARATORS)
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SEPARATORS.contains(&c))
        && value.split(SEPARATORS).all(word_like)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_told_from_tokens() {
        for id in [
            "networking.istio.io/v1alpha3",
            "projects/123456789/locations/global/workloadIdentityPools/github-pool/providers/github-provider",
            "projects/my-project-4242/serviceAccounts/deployer@my-project-4242.iam.gserviceaccount.com",
            "ubuntu-22.04-arm64-4core",
            "ghcr.io/acme/payments-api:2024.11.3-7c1f9ab",
            "123e4567-e89b-12d3-a456-426614174000",
            "arn:aws:iam::123456789012:role/GitHubActionsDeployRole",
            "cert-manager.io/v1",
            "policy/v1beta1",
            "serviceID-primary",
        ] {
            assert!(is_structured_identifier(id), "{id}");
        }
        for secret in [
            "Zx9Qm2Lp8Rt4Vw7Ny3Kb6Hc1Jd5Fg0Ss",
            "rk_4eC39HqLyjWDarjtT1zdp7dc",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "dGhpcyBpcyBhIHNlY3JldA==",
            "xoxb-2201-Xy7Qk9Lm3Np5Rs8Tv2Wz4",
            "AbC123-xYz789-QwE456-RtY012",
        ] {
            assert!(!is_structured_identifier(secret), "{secret}");
        }
    }
}
