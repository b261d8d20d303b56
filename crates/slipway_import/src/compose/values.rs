//! Compose value syntaxes: `${VAR:-default}` interpolation, `.env` files, short and
//! long port and volume forms, durations, CPU and memory units.

use slipway_model::{VolumeKind, VolumeMount};
use std::collections::BTreeMap;

/// Replaces `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
/// `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` and `$VAR`; `$$` is a literal `$`.
/// Returns the text and the names that were unset (and had no default).
///
/// # Errors
/// The message of a `:?` / `?` expansion whose variable is unset, or a malformed
/// expression.
pub fn interpolate(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
            let expr = &body[..end];
            out.push_str(&expand(expr, vars, &mut missing)?);
            rest = &body[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                let name = &after[..len];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => missing.push(name.to_string()),
                }
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok((out, missing))
}

fn expand(
    expr: &str,
    vars: &BTreeMap<String, String>,
    missing: &mut Vec<String>,
) -> Result<String, String> {
    let name_len = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let (name, op) = expr.split_at(name_len);
    if name.is_empty() {
        return Err(format!("`${{{expr}}}` has no variable name"));
    }
    let value = vars.get(name);
    let set = value.is_some();
    let non_empty = value.is_some_and(|v| !v.is_empty());
    let pick = |cond: bool, other: &str| -> String {
        if cond {
            value.cloned().unwrap_or_default()
        } else {
            other.to_string()
        }
    };
    Ok(match op {
        "" => {
            if !set {
                missing.push(name.to_string());
            }
            value.cloned().unwrap_or_default()
        }
        _ if op.starts_with(":-") => pick(non_empty, &op[2..]),
        _ if op.starts_with('-') => pick(set, &op[1..]),
        _ if op.starts_with(":?") || op.starts_with('?') => {
            let cond = if op.starts_with(':') { non_empty } else { set };
            if !cond {
                let msg = op.trim_start_matches(':').trim_start_matches('?');
                return Err(format!(
                    "variable `{name}` is required: {}",
                    if msg.is_empty() { "not set" } else { msg }
                ));
            }
            value.cloned().unwrap_or_default()
        }
        _ if op.starts_with(":+") => {
            if non_empty {
                op[2..].to_string()
            } else {
                String::new()
            }
        }
        _ if op.starts_with('+') => {
            if set {
                op[1..].to_string()
            } else {
                String::new()
            }
        }
        _ => return Err(format!("`${{{expr}}}` is not a supported expansion")),
    })
}

/// `KEY=value` lines of a `.env` / `env_file` (comments, blank lines, `export `,
/// and single or double quotes handled).
#[must_use]
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if (v.starts_with('"') && v.ends_with('"') && v.len() >= 2)
            || (v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2)
        {
            v[1..v.len() - 1].to_string()
        } else {
            v.split(" #").next().unwrap_or(v).trim().to_string()
        };
        out.insert(k.trim().to_string(), v);
    }
    out
}

/// A published port: container port, host port, host address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub container: u16,
    pub host: Option<u16>,
    /// Further container ports of a range (`3000-3002`).
    pub more: Vec<u16>,
}

fn port_range(s: &str) -> Option<Vec<u16>> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b && a > 0 && b - a < 1000).then(|| (a..=b).collect())
}

/// Short syntax: `80`, `8080:80`, `127.0.0.1:8080:80`, `3000-3002:3000-3002`,
/// `[::1]:8080:80/tcp`.
#[must_use]
pub fn parse_port(s: &str) -> Option<PortSpec> {
    let s = s.split('/').next()?.trim();
    let (host_part, container) = match s.rfind(':') {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    let containers = port_range(container)?;
    let host = host_part.and_then(|h| {
        let h = h.rsplit(':').next().unwrap_or(h);
        port_range(h).and_then(|r| r.first().copied())
    });
    Some(PortSpec {
        container: containers[0],
        host,
        more: containers[1..].to_vec(),
    })
}

/// Short syntax: `name:/path[:ro]`, `./dir:/path`, `/host:/path:ro`, `/path` (anonymous).
#[must_use]
pub fn parse_volume(s: &str, named: &dyn Fn(&str) -> bool) -> Option<VolumeMount> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => ("", *t, ""),
        [src, t] => (*src, *t, ""),
        [src, t, m] => (*src, *t, *m),
        _ => return None,
    };
    if !target.starts_with('/') {
        return None;
    }
    let kind = if source.is_empty() {
        VolumeKind::Tmpfs
    } else if source.starts_with(['.', '/', '~', '$'])
        || source.contains('/')
        || !named(source) && source.contains('.')
    {
        VolumeKind::Bind
    } else {
        VolumeKind::Named
    };
    Some(VolumeMount {
        kind,
        source: source.to_string(),
        target: target.to_string(),
        read_only: mode.split(',').any(|m| m == "ro"),
        size: None,
    })
}

/// Compose CPUs (`0.5`, `"1.25"`) -> Kubernetes (`500m`, `1250m`, `2`).
#[must_use]
pub fn cpus(s: &str) -> Option<String> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    let frac3: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
    let milli = whole.parse::<u64>().ok()? * 1000 + frac3.parse::<u64>().ok()?;
    if milli == 0 {
        return None;
    }
    Some(if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    })
}

/// Compose memory (`512m`, `1g`, `1.5G`, bytes) -> Kubernetes (`512Mi`, `1Gi`, `1536Mi`).
#[must_use]
pub fn memory(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.trim_end_matches('b');
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let factor: u128 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    let frac = &frac[..frac.len().min(6)];
    let scale = 10u128.pow(u32::try_from(frac.len()).ok()?);
    let digits: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let bytes = whole.parse::<u128>().ok()? * factor + digits * factor / scale;
    let mib = (bytes + (1 << 19)) >> 20;
    if mib == 0 {
        return None;
    }
    Some(if bytes.is_multiple_of(1 << 30) {
        format!("{}Gi", bytes >> 30)
    } else {
        format!("{mib}Mi")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([("A".into(), "1".into()), ("EMPTY".into(), String::new())])
    }

    #[test]
    fn interpolation_forms() {
        let v = vars();
        assert_eq!(interpolate("x${A}y$A$$B", &v).unwrap().0, "x1y1$B");
        assert_eq!(
            interpolate("${B:-d}${EMPTY:-e}${EMPTY-f}", &v).unwrap().0,
            "def".replace('f', "")
        );
        assert_eq!(interpolate("${A:+yes}${B:+no}", &v).unwrap().0, "yes");
        assert!(interpolate("${B:?must be set}", &v)
            .unwrap_err()
            .contains("must be set"));
        assert_eq!(interpolate("${B}", &v).unwrap().1, vec!["B".to_string()]);
        assert!(interpolate("${A", &v).is_err());
    }

    #[test]
    fn ports_volumes_units() {
        assert_eq!(
            parse_port("127.0.0.1:8080:80/tcp"),
            Some(PortSpec {
                container: 80,
                host: Some(8080),
                more: vec![]
            })
        );
        assert_eq!(
            parse_port("80"),
            Some(PortSpec {
                container: 80,
                host: None,
                more: vec![]
            })
        );
        assert_eq!(parse_port("3000-3001:3000-3001").unwrap().more, vec![3001]);
        let named = |n: &str| n == "data";
        assert_eq!(
            parse_volume("data:/var/lib:ro", &named).unwrap().kind,
            VolumeKind::Named
        );
        assert!(parse_volume("data:/var/lib:ro", &named).unwrap().read_only);
        assert_eq!(
            parse_volume("./src:/app", &named).unwrap().kind,
            VolumeKind::Bind
        );
        assert_eq!(
            parse_volume("/var/run/docker.sock:/var/run/docker.sock", &named)
                .unwrap()
                .kind,
            VolumeKind::Bind
        );
        assert_eq!(
            parse_volume("/cache", &named).unwrap().kind,
            VolumeKind::Tmpfs
        );
        assert_eq!(cpus("0.5").as_deref(), Some("500m"));
        assert_eq!(cpus("2").as_deref(), Some("2"));
        assert_eq!(memory("512M").as_deref(), Some("512Mi"));
        assert_eq!(memory("1g").as_deref(), Some("1Gi"));
        assert_eq!(memory("1.5G").as_deref(), Some("1536Mi"));
    }
}
