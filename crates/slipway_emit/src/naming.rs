//! Names derived from model names: environment variable prefixes, secret file names.

/// `cache-eu` -> `CACHE_EU`.
#[must_use]
pub fn env_prefix(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// `DATABASE_PASSWORD` -> `database_password` (a compose secret and file name).
#[must_use]
pub fn secret_file(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// Kubernetes CPU (`500m`, `1.5`) -> compose cpus (`0.5`, `1.5`).
#[must_use]
pub fn compose_cpus(cpu: &str) -> String {
    match cpu.strip_suffix('m').and_then(|m| m.parse::<u64>().ok()) {
        Some(milli) => {
            let whole = milli / 1000;
            let frac = milli % 1000;
            if frac == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
            }
        }
        None => cpu.to_string(),
    }
}

/// Kubernetes memory (`512Mi`, `1Gi`) -> compose memory (`512M`, `1G`; binary units).
#[must_use]
pub fn compose_memory(mem: &str) -> String {
    mem.strip_suffix('i')
        .map_or_else(|| mem.to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(compose_cpus("500m"), "0.5");
        assert_eq!(compose_cpus("1250m"), "1.25");
        assert_eq!(compose_cpus("2000m"), "2");
        assert_eq!(compose_cpus("1.5"), "1.5");
        assert_eq!(compose_memory("512Mi"), "512M");
        assert_eq!(env_prefix("cache-eu"), "CACHE_EU");
    }
}
