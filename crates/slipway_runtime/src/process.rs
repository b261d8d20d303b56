//! Running an engine's CLI with a deadline. The child gets its own process group; when
//! the deadline passes the whole group (the CLI and anything it started) is killed, so
//! a hung engine call never outlives the operation that made it.

use crate::RuntimeError;
use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Process groups of engine commands running now, so a shutdown can cancel them.
static RUNNING: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Kills every engine command this process is running (each with its process group);
/// how many. For a shutdown whose drain deadline passed: the operations they served
/// are left for the next start to reconcile.
pub fn cancel_all() -> usize {
    let groups: Vec<u32> = RUNNING
        .lock()
        .map(|g| g.iter().copied().collect())
        .unwrap_or_default();
    for g in &groups {
        kill_group(*g);
    }
    groups.len()
}

/// Keeps a spawned group in `RUNNING` until it is dropped.
struct Registered(u32);
impl Registered {
    fn new(pgid: u32) -> Registered {
        if let Ok(mut g) = RUNNING.lock() {
            g.insert(pgid);
        }
        Registered(pgid)
    }
}
impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut g) = RUNNING.lock() {
            g.remove(&self.0);
        }
    }
}

/// What a finished command left behind.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion or until `timeout`; stdout and stderr are captured.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Output, RuntimeError> {
    let shown = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| RuntimeError::Spawn {
            command: shown.clone(),
            source,
        })?;
    let _registered = Registered::new(child.id());
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|source| RuntimeError::Spawn {
            command: shown.clone(),
            source,
        })? {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_t.join().unwrap_or_default();
            return Err(RuntimeError::Timeout {
                command: shown,
                seconds: timeout.as_secs(),
                stderr: tail(&stderr),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        code: status.code().unwrap_or(-1),
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    })
}

/// Like `run`, but a non-zero exit is an error carrying the tail of stderr.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<Output, RuntimeError> {
    let shown = describe(cmd);
    let out = run(cmd, timeout)?;
    if out.code == 0 {
        Ok(out)
    } else {
        Err(RuntimeError::Failed {
            command: shown,
            code: out.code,
            stderr: tail(&format!("{}{}", out.stdout, out.stderr)),
        })
    }
}

/// SIGKILL to every process in the group `pgid` (the child leads its own group).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last 40 lines (at most 8 KiB) of an engine's output, for error reports.
#[must_use]
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    let mut s = lines[start..].join("\n");
    if s.len() > 8192 {
        let mut cut = s.len() - 8192;
        while !s.is_char_boundary(cut) {
            cut += 1;
        }
        s = s[cut..].to_string();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_command_and_its_children_are_killed_at_the_deadline() {
        let marker = format!("slipway-hang-{}", std::process::id());
        let started = Instant::now();
        let err = run(
            Command::new("bash").args(["-c", &format!("sleep 300 & exec -a {marker} sleep 300")]),
            Duration::from_millis(500),
        )
        .unwrap_err();
        assert!(matches!(err, RuntimeError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(200));
        let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
        assert!(
            !String::from_utf8_lossy(&ps.stdout).contains(&marker),
            "the hung process survived"
        );
    }

    #[test]
    fn failures_carry_the_exit_code_and_stderr() {
        let err = run_ok(
            Command::new("bash").args(["-c", "echo boom >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap_err();
        match err {
            RuntimeError::Failed { code, stderr, .. } => {
                assert_eq!(code, 3);
                assert_eq!(stderr, "boom");
            }
            other => panic!("{other}"),
        }
    }
}
