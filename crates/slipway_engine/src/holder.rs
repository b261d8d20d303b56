//! Who holds a lease: this process, named by host, boot id, pid and the process's start
//! time (so a reused pid is not mistaken for the holder), and whether a recorded holder
//! is still alive. Also the clock and the ids operations get.

use slipway_store::Lease;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub boot_id: String,
    pub pid: u32,
    pub start: String,
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Field 22 of `/proc/PID/stat`: start time in clock ticks since boot.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

impl Holder {
    #[must_use]
    pub fn current() -> Holder {
        let pid = std::process::id();
        Holder {
            host: read_trimmed("/proc/sys/kernel/hostname"),
            boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
            pid,
            start: start_time(pid).unwrap_or_default(),
        }
    }

    /// `host/boot/pid/start`, as stored with operations and leases.
    #[must_use]
    pub fn id(&self) -> String {
        format!("{}/{}/{}/{}", self.host, self.boot_id, self.pid, self.start)
    }

    /// Whether the holder recorded as `id` still runs. On this host (same boot) the
    /// process table answers; elsewhere only an unexpired lease in its name does.
    #[must_use]
    pub fn is_alive(&self, id: &str, lease: Option<&Lease>, now: i64) -> bool {
        let parts: Vec<&str> = id.split('/').collect();
        let [host, boot, pid, start] = parts.as_slice() else {
            return false;
        };
        if *host == self.host {
            if *boot != self.boot_id {
                return false;
            }
            return pid
                .parse::<u32>()
                .ok()
                .and_then(start_time)
                .is_some_and(|s| s == *start);
        }
        lease.is_some_and(|l| l.holder == id && l.expires_at > now)
    }
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `n` random bytes as hex, from the kernel's generator.
pub fn random_hex(n: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// `PREFIX-<time>-<random>`: sortable by creation, unique across processes.
#[must_use]
pub fn new_id(prefix: &str) -> String {
    // Without /dev/urandom the pid and the clock's nanoseconds still separate processes.
    let random = random_hex(6).unwrap_or_else(|_| {
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{n:08x}{:04x}", std::process::id() % 65536)
    });
    format!("{prefix}-{:011x}-{random}", now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_or_rebooted_one_is_not() {
        let me = Holder::current();
        assert!(me.is_alive(&me.id(), None, 0));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = Holder { pid, ..me.clone() };
        assert!(!me.is_alive(&dead.id(), None, 0));
        let rebooted = Holder {
            boot_id: "other".into(),
            ..me.clone()
        };
        assert!(!me.is_alive(&rebooted.id(), None, 0));
        let remote = Holder {
            host: "elsewhere".into(),
            ..me.clone()
        }
        .id();
        let lease = Lease {
            target: "t".into(),
            holder: remote.clone(),
            boot_id: String::new(),
            pid: 1,
            operation_id: "op".into(),
            deployment_id: "d".into(),
            acquired_at: 0,
            expires_at: 100,
        };
        assert!(me.is_alive(&remote, Some(&lease), 50));
        assert!(
            !me.is_alive(&remote, Some(&lease), 150),
            "an expired lease means the remote holder is gone"
        );
    }

    #[test]
    fn ids_are_unique_and_sort_by_time() {
        let a = new_id("op");
        let b = new_id("op");
        assert_ne!(a, b);
        assert!(a.starts_with("op-"));
    }
}
