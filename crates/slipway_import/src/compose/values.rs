//! Compose value syntaxes: short and long port and volume forms, durations, CPU and
//! memory units.

use slipway_model::{VolumeKind, VolumeMount};

/// A published port: container port, host port, host address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSpec {
    pub container: u16,
    pub host: Option<u16>,
    /// Further container ports of a range (`3000-3002`).
    pub more: Vec<u16>,
    /// The host address, when the input names one (`127.0.0.1:8080:80`).
    pub host_ip: Option<String>,
    pub udp: bool,
}

fn port_range(s: &str) -> Option<Vec<u16>> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b && a > 0 && b - a < 1000).then(|| (a..=b).collect())
}

/// Short syntax: `80`, `8080:80`, `127.0.0.1:8080:80`, `3000-3002:3000-3002`,
/// `[::1]:8080:80/tcp`, `53:53/udp`.
#[must_use]
pub fn parse_port(s: &str) -> Option<PortSpec> {
    let (s, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let s = s.trim();
    let (host_part, container) = match s.rfind(':') {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    let containers = port_range(container)?;
    let (ip, host) = match host_part {
        Some(h) => match h.rsplit_once(':') {
            Some((ip, port)) => (Some(ip.trim_matches(['[', ']'])), port),
            None => (None, h),
        },
        None => (None, ""),
    };
    let host = if host.is_empty() {
        None
    } else {
        Some(port_range(host)?[0])
    };
    Some(PortSpec {
        container: containers[0],
        host,
        more: containers[1..].to_vec(),
        host_ip: ip.filter(|i| !i.is_empty()).map(ToString::to_string),
        udp: proto.trim().eq_ignore_ascii_case("udp"),
    })
}

/// A compose duration (`1m30s`, `10s`, `500ms`, `1h`, `2.5s`) in milliseconds.
#[must_use]
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1_000.0,
            "ms" => 1.0,
            "us" | "\u{b5}s" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        total += num * factor;
        rest = &rest[unit_len..];
    }
    // Durations of a health check are far below 2^52 ms: the conversion is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(total.round() as u64)
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

    #[test]
    fn ports_volumes_units() {
        assert_eq!(
            parse_port("127.0.0.1:8080:80/tcp"),
            Some(PortSpec {
                container: 80,
                host: Some(8080),
                host_ip: Some("127.0.0.1".into()),
                ..PortSpec::default()
            })
        );
        assert_eq!(
            parse_port("80"),
            Some(PortSpec {
                container: 80,
                ..PortSpec::default()
            })
        );
        assert_eq!(parse_port("3000-3001:3000-3001").unwrap().more, vec![3001]);
        assert!(parse_port("53:53/udp").unwrap().udp);
        assert_eq!(
            parse_port("[::1]:8080:80").unwrap().host_ip.as_deref(),
            Some("::1")
        );
        assert_eq!(parse_port("8080:80").unwrap().host_ip, None);
        assert!(parse_port("x:80").is_none());
        assert_eq!(duration_ms("1m30s"), Some(90_000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("1.5s"), Some(1_500));
        assert_eq!(duration_ms("10"), None);
        assert_eq!(duration_ms("5x"), None);
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
