//! Health gates: wait until every service runs its desired number of containers of the
//! release's image and each says healthy (or has no health check), with a deadline.
//! A container of the new image that exits, restarts or turns unhealthy fails the gate
//! at once instead of waiting out the deadline, and so does a guessed health path that
//! answers 404 (see `probe`).

use crate::desired::DesiredService;
use crate::observe::ObservedContainer;
use crate::{Progress, Runtime, RuntimeError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ServiceHealth {
    pub service: String,
    pub desired: u32,
    pub running: u32,
    pub healthy: u32,
    pub unhealthy: u32,
    pub starting: u32,
    /// `healthy`, `starting`, `degraded` or `down`.
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HealthReport {
    pub healthy: bool,
    pub services: Vec<ServiceHealth>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn is_current(s: &DesiredService, c: &ObservedContainer) -> bool {
    s.image_id.as_ref().is_none_or(|id| *id == c.image_id)
}

fn ready(s: &DesiredService, c: &ObservedContainer) -> bool {
    c.state == "running" && (!s.healthcheck || c.health.as_deref().is_none_or(|h| h == "healthy"))
}

/// Health of each desired service from what is observed now.
#[must_use]
pub fn summarize(
    desired: &BTreeMap<String, DesiredService>,
    observed: &[ObservedContainer],
) -> HealthReport {
    let mut services = Vec::new();
    for (name, s) in desired {
        let mine: Vec<&ObservedContainer> =
            observed.iter().filter(|c| &c.service == name).collect();
        let running = count(mine.iter().filter(|c| c.state == "running").count());
        let healthy = count(mine.iter().filter(|c| ready(s, c)).count());
        let unhealthy = count(
            mine.iter()
                .filter(|c| c.state == "running" && c.health.as_deref() == Some("unhealthy"))
                .count(),
        );
        let starting = count(
            mine.iter()
                .filter(|c| c.state == "running" && c.health.as_deref() == Some("starting"))
                .count(),
        );
        let status = if healthy >= s.replicas && unhealthy == 0 {
            "healthy"
        } else if healthy == 0 && starting == 0 {
            "down"
        } else if starting > 0 && unhealthy == 0 {
            "starting"
        } else {
            "degraded"
        };
        services.push(ServiceHealth {
            service: name.clone(),
            desired: s.replicas,
            running,
            healthy,
            unhealthy,
            starting,
            status: status.into(),
        });
    }
    HealthReport {
        healthy: services.iter().all(|s| s.status == "healthy"),
        services,
    }
}

/// A reason the gate has failed for good, if one is visible.
fn failed(s: &DesiredService, mine: &[&ObservedContainer]) -> Option<String> {
    mine.iter().filter(|c| is_current(s, c)).find_map(|c| {
        match (c.state.as_str(), c.health.as_deref()) {
            ("exited" | "dead", _) => Some(format!("{} exited with code {}", c.name, c.exit_code)),
            ("restarting", _) => Some(format!(
                "{} keeps restarting (last exit code {})",
                c.name, c.exit_code
            )),
            ("running", Some("unhealthy")) => Some(format!("{} reports unhealthy", c.name)),
            _ => None,
        }
    })
}

/// Waits for `services` (all desired ones when empty) to be ready on the release's image.
pub fn wait_healthy(
    rt: &dyn Runtime,
    project: &str,
    desired: &BTreeMap<String, DesiredService>,
    services: &[String],
    deadline: Duration,
    progress: &mut dyn FnMut(Progress),
) -> Result<HealthReport, RuntimeError> {
    wait_ready(rt, project, desired, services, deadline, progress, &|_| {
        true
    })
}

/// [`wait_healthy`] counting only the containers `counts` accepts (a start-first update
/// waits for its new containers while the old ones still run).
pub(crate) fn wait_ready(
    rt: &dyn Runtime,
    project: &str,
    desired: &BTreeMap<String, DesiredService>,
    services: &[String],
    deadline: Duration,
    progress: &mut dyn FnMut(Progress),
    counts: &dyn Fn(&ObservedContainer) -> bool,
) -> Result<HealthReport, RuntimeError> {
    let wanted: Vec<&DesiredService> = desired
        .values()
        .filter(|s| services.is_empty() || services.contains(&s.name))
        .collect();
    for s in &wanted {
        progress(Progress::new(
            Some(&s.name),
            "wait",
            format!("waiting for {} healthy replica(s)", s.replicas),
        ));
    }
    let until = Instant::now() + deadline;
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut answered: BTreeSet<String> = BTreeSet::new();
    loop {
        let observed = rt.observe(project)?;
        for s in &wanted {
            let mine: Vec<&ObservedContainer> = observed
                .iter()
                .filter(|c| c.service == s.name && counts(c))
                .collect();
            // A guessed health path that answers 404 fails now, not after the retries.
            if let Some(why) =
                crate::probe::preflight(s, &mine, &|c| is_current(s, c), &mut answered)
            {
                progress(Progress::new(Some(&s.name), "unhealthy", why.clone()));
                return Err(RuntimeError::Unhealthy(why));
            }
            if let Some(why) = failed(s, &mine) {
                progress(Progress::new(Some(&s.name), "unhealthy", why.clone()));
                return Err(RuntimeError::Unhealthy(format!(
                    "service `{}`: {why}",
                    s.name
                )));
            }
            let ready_now = mine
                .iter()
                .filter(|c| is_current(s, c) && ready(s, c))
                .count();
            if count(ready_now) >= s.replicas && done.insert(s.name.clone()) {
                progress(Progress::new(
                    Some(&s.name),
                    "healthy",
                    format!("{ready_now}/{} healthy", s.replicas),
                ));
            }
        }
        if wanted.iter().all(|s| done.contains(&s.name)) {
            return Ok(summarize(desired, &observed));
        }
        if Instant::now() >= until {
            let waiting: Vec<&str> = wanted
                .iter()
                .filter(|s| !done.contains(&s.name))
                .map(|s| s.name.as_str())
                .collect();
            return Err(RuntimeError::Unhealthy(format!(
                "not healthy within {} s: {}",
                deadline.as_secs(),
                waiting.join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
